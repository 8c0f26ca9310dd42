"""The chapter checklist: `autograder.checks.CHAPTERS` is the one registry of the course, and every
chapter it names has every piece, in every place, in course order."""

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from autograder.checks import CHAPTERS, chapter_checks

ROOT = Path(__file__).resolve().parents[1]

# Every file a chapter adds, `<chapter>` standing for its name (CONTRIBUTING.md lists them all).
CHAPTER_FILES = {
    "book/<chapter>/lecture.md": "lecture",
    "book/<chapter>/_glossary.md": "glossary fragment",
    "source/<chapter>/exercises.ipynb": "nbgrader source notebook",
    "solutions/<chapter>.py": "reference module",
    "autograder/checks/<chapter>.py": "check module",
    "samples/answers/<chapter>.py": "sample answers",
    "tests/solutions/test_<chapter>.py": "reference tests",
    "tests/autograder/test_checks_<chapter>.py": "check tests",
}
SAMPLE_STUDENTS = ("sample-correct", "sample-untouched", "sample-partial", "sample-tamper")
SAMPLE_SUBMISSION = "samples/submitted/<student>/<chapter>/exercises.ipynb"
# Every shared file a chapter is written into: the registry, the book's table of contents,
# glossary and introduction, and the README's list of chapters.
CHAPTER_EDITS = ("autograder/checks/__init__.py", "_toc.yml", "book/glossary.md", "book/intro.md",
                 "README.md")
# The code every chapter shares: a chapter never edits it, so it never names one.
SHARED_CODE = ("autograder/sandboxed", "autograder/grading")


def toc_chapters(root):
    """[(lecture file, [section files])] of the toc's chapters part, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    part = next(p for p in toc["parts"] if p.get("caption") == "Chapters")
    return [(entry["file"], [s["file"] for s in entry.get("sections", [])])
            for entry in part["chapters"]]


def lecture_title(root, chapter):
    """The chapter's title, written in one place: its lecture's first heading."""
    lecture = (root / f"book/{chapter}/lecture.md").read_text(encoding="utf-8")
    return next(line[2:].strip() for line in lecture.splitlines() if line.startswith("# "))


def readme_chapters(root):
    """[(chapter, title)] of the README's list of chapters, in its order."""
    text = (root / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^- `(\w+)`: (.+)$", text, flags=re.MULTILINE)


def intro_chapters(root):
    """The chapters the book's introduction lists under "What you will learn", in its order
    (each item links to the lecture, whose heading the site shows as the link's text)."""
    text = (root / "book/intro.md").read_text(encoding="utf-8")
    section = text.split("## What you will learn", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \{doc\}`(\w+)/lecture`", section, flags=re.MULTILINE)


def helper_modules(root, chapter):
    """The modules of autograder/checks/ the chapter's check module imports besides the check
    API and the other chapters: its helpers (e.g. functions the child loads as companions)."""
    source = (root / f"autograder/checks/{chapter}.py").read_text(encoding="utf-8")
    names = re.findall(r"^(?:from|import) autograder\.checks\.(\w+)", source, flags=re.MULTILINE)
    names += [name for group in re.findall(r"^from autograder\.checks import ([\w, ]+)$", source,
                                           flags=re.MULTILINE) for name in group.split(", ")]
    return sorted(set(names) - {"base", "keras_models", *CHAPTERS})


def setup_cell(notebook):
    return next("".join(c["source"]) for c in notebook["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == "setup")


def missing_pieces(root, chapter):
    """What of `chapter` is missing under `root`: an empty list when the chapter is complete."""
    missing = []

    def need(path, what):
        if not (root / path).is_file():
            missing.append(f"{what}: {path}")
            return False
        return True

    found = {template: need(template.replace("<chapter>", chapter), what)
             for template, what in CHAPTER_FILES.items()}
    if found["book/<chapter>/_glossary.md"]:
        if f"```{{include}} {chapter}/_glossary.md" not in (root / "book/glossary.md").read_text():
            missing.append(f"glossary include of {chapter}/_glossary.md in book/glossary.md")
    if (f"book/{chapter}/lecture", [f"book/{chapter}/exercises"]) not in toc_chapters(root):
        missing.append(f"toc entry book/{chapter}/lecture with its exercises section")
    if found["book/<chapter>/lecture.md"] and \
            (chapter, lecture_title(root, chapter)) not in readme_chapters(root):
        missing.append(f"README.md's list of chapters: - `{chapter}`: "
                       f"{lecture_title(root, chapter)}")
    if chapter not in intro_chapters(root):
        missing.append(f"book/intro.md's list of chapters: - {{doc}}`{chapter}/lecture`: ...")
    if found["autograder/checks/<chapter>.py"]:
        for helper in helper_modules(root, chapter):
            need(f"autograder/checks/{helper}.py", "helper module")
    if found["source/<chapter>/exercises.ipynb"]:
        notebook = json.loads((root / f"source/{chapter}/exercises.ipynb").read_text())
        graded = [c["metadata"]["nbgrader"] for c in notebook["cells"]
                  if c["metadata"].get("nbgrader", {}).get("grade")
                  or c["metadata"].get("nbgrader", {}).get("solution")]
        solutions = [m["grade_id"] for m in graded if m.get("solution")]
        tests = [m["grade_id"] for m in graded if m.get("grade") and not m.get("solution")]
        names = [check.name for check in chapter_checks(chapter)]
        if solutions != names:
            missing.append(f"one solution cell per check, in order: {names}, found {solutions}")
        if tests != [f"test_{name}" for name in names]:
            missing.append(f"one test cell per check, in order, found {tests}")
        if sum(m.get("points", 0) for m in graded) != 10:
            missing.append("10 points in all")
        reference = json.loads((root / f"source/{CHAPTERS[0]}/exercises.ipynb").read_text())
        if setup_cell(notebook) != setup_cell(reference):
            missing.append(f"the same setup cell as {CHAPTERS[0]}")
    for student in SAMPLE_STUDENTS:
        need(SAMPLE_SUBMISSION.replace("<student>", student).replace("<chapter>", chapter),
             "sample submission")
    return missing


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_has_every_piece(chapter):
    assert missing_pieces(ROOT, chapter) == []


def test_the_toc_the_glossary_and_the_chapter_lists_follow_course_order():
    assert [lecture for lecture, _ in toc_chapters(ROOT)] == \
        [f"book/{chapter}/lecture" for chapter in CHAPTERS]
    glossary = (ROOT / "book/glossary.md").read_text()
    includes = re.findall(r"```\{include\} (\w+)/_glossary\.md", glossary)
    assert includes == CHAPTERS
    assert readme_chapters(ROOT) == [(chapter, lecture_title(ROOT, chapter))
                                     for chapter in CHAPTERS]
    assert intro_chapters(ROOT) == CHAPTERS


def test_contributing_names_every_file_a_chapter_touches():
    """CONTRIBUTING.md is the new chapter's checklist: every file above is in it."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for path in [*CHAPTER_FILES, SAMPLE_SUBMISSION, *CHAPTER_EDITS]:
        assert f"`{path}`" in text, path


def chapter_references(text, chapter):
    """Where `text` names `chapter` as a chapter: its modules or files, or "the <chapter>
    chapter". (The bare word is no reference: softmax is an activation as well as a chapter.)"""
    name = re.escape(chapter)
    pattern = (rf"\b(?:checks|solutions|answers)\.{name}\b|/{name}/"
               rf"|(?<![\w-]){name}\.(?:py|ipynb)\b"
               rf"|(?<![\w-]){name}(?:'s)? chapter\b|\bchapter `?{name}\b")
    return [match.group(0) for match in re.finditer(pattern, text)]


@pytest.mark.parametrize("line, chapter", [
    ("    # Gradients of the adam chapter's costs: minimize(grad_fn, ...) calls one", "adam"),
    ("# Graph programs: a class (the backprop chapter's `Value`) is graded", "backprop"),
    ("from autograder.checks.softmax import CHECKS", "softmax"),
    ("SOURCE = ROOT / 'source/multilabel/exercises.ipynb'", "multilabel"),
])
def test_a_chapter_reference_is_found(line, chapter):
    assert chapter_references(line, chapter)


@pytest.mark.parametrize("line, chapter", [
    ('PROBABILITY_OUTPUTS = ("sigmoid", "softmax")', "softmax"),
    ("# sigmoid of pre-activations that grow with the input saturates there", "activations"),
    ("(see the numerical-stability chapter)", "stability"),
])
def test_a_word_that_is_also_a_chapter_is_no_reference(line, chapter):
    assert chapter_references(line, chapter) == []


def test_no_chapter_is_named_in_the_code_every_chapter_shares():
    """A new chapter adds files and edits the registry; it never edits the code that runs
    inside the sandbox (autograder/sandboxed/) or grades notebooks (autograder/grading/): a
    chapter's own helpers live beside its checks, in autograder/checks/."""
    found = []
    for folder in SHARED_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {reference}" for chapter in CHAPTERS
                      for reference in chapter_references(text, chapter)]
    assert found == []


def test_the_sample_answers_are_an_importable_package():
    for chapter in CHAPTERS:
        module = importlib.import_module(f"samples.answers.{chapter}")
        assert set(module.EXPECTED_SCORES) == set(module.SAMPLES)


@pytest.fixture
def course_copy(tmp_path):
    """The files the checklist reads, copied so that a test can take a piece away."""
    for name in ("_toc.yml", "README.md", "book", "source", "solutions", "autograder", "samples",
                 "tests"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("piece", ["tests/autograder/test_checks_softmax.py",
                                   "book/softmax/_glossary.md",
                                   "source/softmax/exercises.ipynb"])
def test_the_checklist_fails_when_a_piece_is_removed(course_copy, piece):
    assert missing_pieces(course_copy, "softmax") == []
    (course_copy / piece).unlink()
    assert missing_pieces(course_copy, "softmax") != []


@pytest.mark.parametrize("listing, line", [
    ("README.md", "- `softmax`: Multiclass Classification with Softmax\n"),
    ("book/intro.md", "- {doc}`softmax/lecture`: turning"),
])
def test_the_checklist_fails_when_a_chapter_list_leaves_it_out(course_copy, listing, line):
    path = course_copy / listing
    text = path.read_text(encoding="utf-8")
    assert line in text
    path.write_text(text.replace(line, line.replace("softmax", "soft_max", 1)), encoding="utf-8")
    assert any(listing in m for m in missing_pieces(course_copy, "softmax"))


def test_the_checklist_fails_when_a_setup_cell_differs(course_copy):
    path = course_copy / "source/stability/exercises.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "setup":
            cell["source"] = "".join(cell["source"]) + "\nimport scipy\n"
    path.write_text(json.dumps(notebook))
    assert any("setup cell" in m for m in missing_pieces(course_copy, "stability"))
