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


def toc_chapters(root):
    """[(lecture file, [section files])] of the toc's chapters part, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    part = next(p for p in toc["parts"] if p.get("caption") == "Chapters")
    return [(entry["file"], [s["file"] for s in entry.get("sections", [])])
            for entry in part["chapters"]]


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

    need(f"book/{chapter}/lecture.md", "lecture")
    if need(f"book/{chapter}/_glossary.md", "glossary fragment"):
        if f"```{{include}} {chapter}/_glossary.md" not in (root / "book/glossary.md").read_text():
            missing.append(f"glossary include of {chapter}/_glossary.md in book/glossary.md")
    if (f"book/{chapter}/lecture", [f"book/{chapter}/exercises"]) not in toc_chapters(root):
        missing.append(f"toc entry book/{chapter}/lecture with its exercises section")
    need(f"solutions/{chapter}.py", "reference module")
    need(f"autograder/checks/{chapter}.py", "check module")
    need(f"samples/answers/{chapter}.py", "sample answers")
    need(f"tests/solutions/test_{chapter}.py", "reference tests")
    need(f"tests/autograder/test_checks_{chapter}.py", "check tests")
    if need(f"source/{chapter}/exercises.ipynb", "nbgrader source notebook"):
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
    for student in ("sample-correct", "sample-untouched", "sample-partial", "sample-tamper"):
        need(f"samples/submitted/{student}/{chapter}/exercises.ipynb", "sample submission")
    return missing


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_has_every_piece(chapter):
    assert missing_pieces(ROOT, chapter) == []


def test_the_toc_and_the_glossary_follow_course_order():
    assert [lecture for lecture, _ in toc_chapters(ROOT)] == \
        [f"book/{chapter}/lecture" for chapter in CHAPTERS]
    glossary = (ROOT / "book/glossary.md").read_text()
    includes = re.findall(r"```\{include\} (\w+)/_glossary\.md", glossary)
    assert includes == CHAPTERS


def test_the_sample_answers_are_an_importable_package():
    for chapter in CHAPTERS:
        module = importlib.import_module(f"samples.answers.{chapter}")
        assert set(module.EXPECTED_SCORES) == set(module.SAMPLES)


@pytest.fixture
def course_copy(tmp_path):
    """The files the checklist reads, copied so that a test can take a piece away."""
    for name in ("_toc.yml", "book", "source", "solutions", "autograder", "samples", "tests"):
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


def test_the_checklist_fails_when_a_setup_cell_differs(course_copy):
    path = course_copy / "source/stability/exercises.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "setup":
            cell["source"] = "".join(cell["source"]) + "\nimport scipy\n"
    path.write_text(json.dumps(notebook))
    assert any("setup cell" in m for m in missing_pieces(course_copy, "stability"))
