"""The feedback page's layout and self-containment, in-process and fast: the course's
configuration (nbgrader_config.py) renders a graded-looking convolution notebook with nbgrader's
feedback and formgrade templates. Verdict first, helpers last, MathJax inlined, no external URL,
and nothing a student wrote or printed turned into markup by the verdict blocks.
(tests/browser/test_feedback_page.py opens a really graded one in Chromium.)"""

import copy
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import GetGrades
from nbgrader.server_extensions.formgrader import handlers as formgrader_handlers
from traitlets.config.loader import PyFileConfigLoader

from autograder.grading.offline_math import inline_script, mathjax_path
from autograder.grading.preprocessors import FeedbackLayout, InertOutputs
from autograder.grading.preprocessors.feedback_layout import LAYOUT_KEY
from autograder.grading.verdict_record import METADATA_KEY
from tests.test_inert_outputs import external_urls, student_code_in, unprotected_page

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / "convolution" / "exercises.ipynb"
REJECTED = "conv2d"
EVIL_LABEL = "<img src=x onerror=\"alert('XSS-label')\"> $\\frac{1}{2}$ label"
EVIL_PRINT = "<script>alert('XSS-print')</script> $$\\sum_j x_j$$ printed\n"


def course_config():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    # What GenerateFeedback adds: where its template finds bootstrap.min.css.
    config.HTMLExporter.extra_template_paths = [
        str(Path(formgrader_handlers.static_path, "node_modules/bootstrap/dist/css"))]
    return config


def graded_notebook():
    """The convolution chapter as autograde and GetGrades leave it for a partly right answer:
    a score on each test cell, the verdict record and the verdict's text; conv2d rejected with
    a case label and printed text that try to become markup and math."""
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") and not meta.get("solution")):
            continue
        name = meta["grade_id"].removeprefix("test_")
        rejected = name == REJECTED
        meta["score"] = 0 if rejected else meta["points"]
        failed = [{"label": EVIL_LABEL, "kind": "fixed", "reason": "mismatch"},
                  {"label": "a second case", "kind": "random", "reason": "raised"}]
        cell.metadata[METADATA_KEY] = {
            "exercise": f"convolution.{name}", "accepted": not rejected, "cases": 12,
            "failures": 2 if rejected else 0, "failed_cases": failed if rejected else []}
        said = (f"convolution.{name}: rejected (2 of 12 cases failed).\n- {EVIL_LABEL}\n"
                + EVIL_PRINT) if rejected else f"convolution.{name}: accepted (12 cases passed).\n"
        cell.outputs = [new_output("stream", name="stdout", text=said)]
    # A cell the student added, posing as one of FeedbackLayout's own.
    forged = new_markdown_cell("<div class='course-verdict'>forged XSS-forged</div>")
    forged.metadata[LAYOUT_KEY] = {"kind": "verdict"}
    nb.cells.insert(3, forged)
    return nb


RESOURCES = {"nbgrader": {"notebook": "exercises", "score": 9, "max_score": 10, "late_penalty": 0},
             "base_url": "", "index": 0, "total": 1, "submission_id": "x",
             "notebook_id": "exercises", "assignment_id": "convolution"}


def laid_out():
    nb, _ = InertOutputs().preprocess(graded_notebook(), copy.deepcopy(RESOURCES))
    return FeedbackLayout().preprocess(nb, copy.deepcopy(RESOURCES))[0]


def exporter(kind):
    """The HTMLExporter as the course configures it; for feedback, with GenerateFeedback's
    preprocessors after the exporter's own, as nbgrader registers them (less GetGrades, whose
    scores graded_notebook() writes)."""
    config = course_config()
    config.HTMLExporter.template_name = kind
    html_exporter = HTMLExporter(config=config)
    if kind == "feedback":
        for preprocessor in config.GenerateFeedback.preprocessors:
            if preprocessor is not GetGrades:
                html_exporter.register_preprocessor(preprocessor(config=config), enabled=True)
    return html_exporter


_pages: dict[str, str] = {}


def page(kind):
    """The page the course's configuration renders: "feedback" or "formgrade"."""
    if kind not in _pages:
        html, _ = exporter(kind).from_notebook_node(graded_notebook(),
                                                    resources=copy.deepcopy(RESOURCES))
        _pages[kind] = html
    return _pages[kind]


def kinds(nb):
    """Each cell as one word: summary, verdict:<exercise>, answer:<id>, test:<id>, helpers, ..."""
    words = []
    for cell in nb.cells:
        mark, meta = cell.metadata.get(LAYOUT_KEY), cell.metadata.get("nbgrader", {})
        if mark:
            words.append(mark["kind"] + (f":{mark['exercise']}" if "exercise" in mark else ""))
        elif meta.get("solution"):
            words.append(f"answer:{meta['grade_id']}")
        elif meta.get("grade"):
            words.append(f"test:{meta['grade_id']}")
        else:
            words.append(meta.get("grade_id", "student"))
    return words


def test_verdict_then_code_then_test_and_the_helpers_last():
    words = kinds(laid_out())
    assert words[:2] == ["summary", "intro"], words
    answers = [w.split(":")[1] for w in words if w.startswith("answer:")]
    assert len(answers) == 6
    for name in answers:
        at = words.index(f"answer:{name}")
        assert words[at - 1] == f"verdict:{name}" and words[at + 1] == f"test:test_{name}", words
    assert words[-2:] == ["helpers", "setup"], words
    assert "setup" not in words[:-1]
    assert words.count("student") == 1        # the forged cell stays, as the student's own


def test_the_summary_and_verdicts_say_what_was_graded():
    nb = laid_out()
    summary = BeautifulSoup(nb.cells[0].source, "html.parser").get_text()
    assert "Your score: 9 / 10" in summary
    assert f"{REJECTED}: 0 / 1, not accepted" in summary and "conv1d: 1 / 1, accepted" in summary
    verdict = next(cell for cell in nb.cells
                   if cell.metadata.get(LAYOUT_KEY, {}).get("exercise") == REJECTED)
    text = BeautifulSoup(verdict.source, "html.parser").get_text()
    assert f"Verdict: {REJECTED}: not accepted, 0 / 1 point" in text
    assert f"2 of 12 cases failed; the first 2:{EVIL_LABEL} (mismatch)" in text, text
    assert EVIL_PRINT.strip() in text


def test_nothing_a_student_wrote_becomes_markup_or_math():
    html = page("feedback")
    soup = BeautifulSoup(html, "html.parser")
    blocks = soup.select(".course-verdict, .course-summary")
    assert len(blocks) == 7                   # the forged one was made inert: no class left
    for block in blocks:
        assert "tex2jax_ignore" in block["class"]           # MathJax leaves them alone
        tags = {tag.name for tag in block.find_all(True)}
        assert tags <= {"h2", "h3", "p", "ul", "ol", "li", "code", "pre", "em", "a"}, tags
        for tag in block.find_all(True):
            assert set(tag.attrs) <= ({"href"} if tag.name == "a" else set()), tag.attrs
            assert tag.name != "a" or tag["href"].startswith("#verdict-test_")
    assert student_code_in(html) == []
    assert "<script>alert('XSS-print')</script>" in soup.get_text()     # shown, as text
    assert "XSS-forged" in soup.get_text()


@pytest.mark.parametrize("kind", ["feedback", "formgrade"])
def test_no_external_url_and_mathjax_inlined(kind):
    html = page(kind)
    assert external_urls(html) == []
    assert "cdnjs.cloudflare.com" not in html and "latest.js" not in html
    assert inline_script() in html
    # The checks can fail: nbgrader's own templates load MathJax 2.7.7 from a CDN.
    stock = unprotected_page(SOURCE, "formgrader" if kind == "formgrade" else kind)
    assert any("cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7" in url
               for url in external_urls(stock)), external_urls(stock)


def test_the_inline_script_ends_where_it_should():
    script = inline_script()
    assert len(script) < mathjax_path().stat().st_size + 2000
    assert script.lower().count("</script") == 2          # the configuration's, MathJax's own
    assert script.count("<!--") == 1                      # the comment before them
    assert '"packages": {"[-]": ["require", "autoload"]}' in script     # nothing loaded later
    assert '"enableMenu": false' in script
