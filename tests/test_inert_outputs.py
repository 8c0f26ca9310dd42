"""No student script runs on the grading pages: a correct submission that adds script in every
form a notebook allows is graded 10, and its autograded notebook, its feedback and the
formgrader's view of it (a real Jupyter server) hold no script or event handler of the student's,
while the course's cells render as written. A 96 KB code cell is shown unhighlighted."""

import base64
import copy
import csv
import json
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from html import unescape
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell
from nbgrader.api import Gradebook
from nbgrader.server_extensions.formgrader import handlers as formgrader_handlers
from traitlets.config import Config

from autograder.grading.highlight import HighlightUnlessLarge
from autograder.grading.offline_math import inline_script
from autograder.grading.preprocessors import InertOutputs
from autograder.sandbox import bwrap
from tests.course import copy_course, nbgrader, nbgrader_env

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "stability"
CORRECT = ROOT / "samples/submitted/sample-correct" / CHAPTER / "exercises.ipynb"
needs_bwrap = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")

MARKER = "XSS-"     # in every payload; it may show as text, never inside a script or an attribute
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
SVG = ("<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('XSS-svg')\">"
       "<script>alert('XSS-svg-script')</script></svg>")
# One display output per kind a page could run or render as markup, and a PNG that must stay.
BUNDLES = [
    {"text/html": "<b>bold</b><script>alert('XSS-html')</script>"
                  "<img src=x onerror=\"alert('XSS-html-img')\">", "text/plain": "<HTML object>"},
    {"application/javascript": "alert('XSS-js')"},
    {"image/svg+xml": SVG},
    {"text/markdown": "<script>alert('XSS-markdown')</script> [x](javascript:alert('XSS-mdlink'))"},
    {"text/latex": r"$\href{javascript:alert('XSS-latex')}{x}$"},
    {"application/vnd.jupyter.widget-view+json":
        {"model_id": "XSS-widget", "version_major": 2, "version_minor": 0},
     "text/plain": "IntSlider(value=0)"},
    {"application/x-unknown": "<script>alert('XSS-unknown')</script>"},
    {"image/png": PNG},
]
STREAM = "<script>alert('XSS-stream')</script> printed text\n"
RESULT = "<script>alert('XSS-result')</script>"
MARKDOWN = """### Student notes

Math stays: $e^{x_j}$, and so does text.

<script>alert('XSS-md-script')</script>

<img src="x" onerror="alert('XSS-md-onerror')"> <a href="#" onclick="alert('XSS-md-onclick')">a</a>

[click me](javascript:alert('XSS-md-link')) and `[x](javascript:alert('XSS-codespan'))`

<iframe src="javascript:alert('XSS-md-iframe')"></iframe>

```mermaid
<img src=x onerror="alert('XSS-mermaid')">
```

![svg](attachment:evil.svg) ![dot](attachment:dot.png)
"""
LARGE = ".a" * 48_000      # 96 KB: IPython's lexer takes about 96 s on it


def attack_cells():
    """Cells that put script into the pages every way a notebook can, with the outputs the
    student's kernel would have saved (grading clears them and runs the code again)."""
    code = "from IPython.display import HTML, display\n"
    code += "".join(f"display({bundle!r}, raw=True)\n" for bundle in BUNDLES)
    code += f"print({STREAM[:-1]!r})\nHTML({RESULT!r})\n"
    outputs = [new_output("display_data", data=bundle) for bundle in BUNDLES]
    outputs += [new_output("stream", name="stdout", text=STREAM),
                new_output("execute_result", execution_count=1,
                           data={"text/html": RESULT, "text/plain": "<HTML object>"})]
    cell = new_code_cell(code, outputs=outputs, execution_count=1)
    notes = new_markdown_cell(MARKDOWN, attachments={
        "evil.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()},
        "dot.png": {"image/png": PNG}})
    raw = new_raw_cell("<script>alert('XSS-raw')</script>", metadata={"raw_mimetype": "text/html"})
    return [cell, notes, raw]


def attacker_notebook():
    nb = nbformat.read(CORRECT, as_version=4)
    # A course cell edited by the student: grading puts the course's text back.
    nb.cells[0].source += "\n\n<script>alert('XSS-task-edit')</script>"
    nb.cells.extend([*attack_cells(), new_code_cell(LARGE)])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0, "XSS-state": 1}}
    return nb


def submit(course, student, nb):
    folder = course / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "exercises.ipynb")
    return folder / "exercises.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course with a plain correct submission and the attacker's graded, a third one's
    notebook as if graded before InertOutputs existed (the attack's outputs stored as they
    came), and feedback for the three."""
    course = copy_course(tmp_path_factory.mktemp("inert") / "course")
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    for student in ("plain", "earlier"):
        submit(course, student, nbformat.read(CORRECT, as_version=4))
    submitted = submit(course, "attacker", attacker_notebook())
    nbgrader(course, "autograde", CHAPTER, "--force")
    earlier = course / "autograded" / "earlier" / CHAPTER / "exercises.ipynb"
    nb = nbformat.read(earlier, as_version=4)
    nb.cells.extend(attack_cells())
    nbformat.write(nb, earlier)
    start = time.perf_counter()
    nbgrader(course, "generate_feedback", CHAPTER, "--force")
    feedback_s = time.perf_counter() - start
    print(f"\ngenerate_feedback, 3 notebooks (one with a 96 KB cell): {feedback_s:.1f} s")
    return {"course": course, "submitted": submitted, "feedback_s": feedback_s}


def page_of(course, kind, student):
    if kind == "feedback":
        return (course / "feedback" / student / CHAPTER / "exercises.html").read_text()
    return formgrader_pages(course)[student]


_formgrader = {}


def formgrader_pages(course):
    """The formgrader's page of each submission, from a real Jupyter server in the course."""
    if course not in _formgrader:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            ids = {student: gb.find_submission_notebook("exercises", CHAPTER, student).id
                   for student in ("plain", "attacker", "earlier")}
        with JupyterServer(course) as get:
            _formgrader[course] = {student: get(f"formgrader/submissions/{sid}/")
                                   for student, sid in ids.items()}
    return _formgrader[course]


class JupyterServer:
    """`with JupyterServer(course) as get:` get(path) -> the page's HTML, as the instructor."""

    def __init__(self, course):
        self.course, self.token = course, secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def __enter__(self):
        home = self.course.parent / "jupyter"
        env = dict(nbgrader_env(), JUPYTER_CONFIG_DIR=str(home / "config"),
                   JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "run"))
        self.log = open(self.course.parent / "jupyter.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.course}", "--allow-root"],
            cwd=self.course, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("api/status")
                return self.get
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    pytest.fail("the Jupyter server did not start:\n"
                                + (self.course.parent / "jupyter.log").read_text()[-3000:])
                time.sleep(0.3)

    def get(self, path):
        url = f"http://127.0.0.1:{self.port}/{path}?token={self.token}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode()

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def unprotected_page(notebook, kind):
    """The page nbgrader's own configuration renders of `notebook` (the "before")."""
    config = Config()
    config.HTMLExporter.template_name = "formgrade" if kind == "formgrader" else "feedback"
    config.HTMLExporter.extra_template_basedirs = [formgrader_handlers.template_path]
    # Where GenerateFeedback finds the CSS its template inlines.
    config.HTMLExporter.extra_template_paths = [
        str(Path(formgrader_handlers.static_path, "node_modules/bootstrap/dist/css"))]
    resources = {"base_url": "", "index": 0, "total": 1, "submission_id": "x",
                 "notebook_id": "exercises", "assignment_id": CHAPTER,
                 "nbgrader": {"notebook": "exercises", "score": 10, "max_score": 10,
                              "late_penalty": 0}}
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:       # what GetGrades adds for the feedback template
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.score = cell.metadata.nbgrader.points
    html, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    return html


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "poster")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)     # http://, https://, //


def active_content(page):
    """What of a page could run or pull in code: each kind, counted."""
    soup = BeautifulSoup(page, "html.parser")
    elements = soup.find_all(True)
    urls = [re.sub(r"[\x00-\x20]+", "", unescape(str(value))).lower()
            for element in elements for name, value in element.attrs.items()
            if name.lower() in URL_ATTRIBUTES]
    return {
        "script": len(soup.find_all("script")),
        "on* attribute": sum(name.lower().startswith("on")
                             for element in elements for name in element.attrs),
        "script URL": sum(url.startswith(("javascript:", "vbscript:", "data:text/html",
                                          "data:image/svg")) for url in urls),
        "frame, object, svg, form": len(soup.find_all(
            ["iframe", "frame", "object", "embed", "svg", "math", "form", "base", "meta"])),
    }


def external_urls(page):
    """URLs a page would fetch or link to on another host: in attributes, and CSS url()/@import.
    (Text is not looked at: a URL a student printed is shown escaped, as text.)"""
    soup = BeautifulSoup(page, "html.parser")
    urls = [unescape(str(value)).strip() for element in soup.find_all(True)
            for name, value in element.attrs.items() if name.lower() in URL_ATTRIBUTES]
    for style in soup.find_all("style"):
        urls += re.findall(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", style.get_text())
    return [url for url in urls if EXTERNAL.match(url)]


def student_code_in(page):
    """Payloads found inside a script element or an attribute (not merely shown as text)."""
    soup = BeautifulSoup(page, "html.parser")
    found = [script.get_text()[:80] for script in soup.find_all("script")
             if MARKER in script.get_text()]
    found += [f"{element.name} {name}={value!s:.80}" for element in soup.find_all(True)
              for name, value in element.attrs.items() if MARKER in str(value)]
    return found


@pytest.mark.slow
@needs_bwrap
def test_the_attacking_submission_still_scores_10(graded):
    course = graded["course"]
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"plain": 10.0, "attacker": 10.0, "earlier": 10.0}


@pytest.mark.slow
@needs_bwrap
def test_the_autograded_notebook_keeps_only_text_and_images(graded):
    path = graded["course"] / "autograded" / "attacker" / CHAPTER / "exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    mimes = {mime for cell in nb.cells if cell.cell_type == "code"
             for output in cell.outputs for mime in output.get("data", {})}
    assert mimes <= {"text/plain", "image/png", "image/jpeg"}, mimes
    notes = "\n".join(output.data["text/plain"] for cell in nb.cells if cell.cell_type == "code"
                      for output in cell.outputs if "output removed" in
                      output.get("data", {}).get("text/plain", ""))
    for kind in ("HTML", "JavaScript", "SVG", "Markdown", "LaTeX", "widget",
                 "'application/x-unknown'"):
        assert kind in notes, (kind, notes)
    assert PNG in json.dumps(nb)                # the student's own PNG is kept
    assert "XSS-task-edit" not in nb.cells[0].source
    assert "widgets" not in nb.metadata
    assert not any(cell.cell_type == "raw" for cell in nb.cells)
    student_markdown = [cell for cell in nb.cells if cell.cell_type == "markdown"
                        and "nbgrader" not in cell.metadata]
    assert len(student_markdown) == 2           # the notes, and the raw cell shown as text
    for cell in student_markdown:
        assert cell.source.startswith("<div>") and "\n" not in cell.source
        assert "attachments" not in cell


@pytest.mark.slow
@needs_bwrap
@pytest.mark.filterwarnings("ignore:Your element with mimetype")   # nbgrader's, on x-unknown
@pytest.mark.parametrize("kind", ["feedback", "formgrader"])
def test_no_student_script_on_the_page(graded, kind):
    course = graded["course"]
    page, baseline = page_of(course, kind, "attacker"), page_of(course, kind, "plain")
    before = unprotected_page(graded["submitted"], kind)
    print(f"\n{kind}: active content, nbgrader's own configuration on the submission: "
          f"{active_content(before)}; the plain submission: {active_content(baseline)}; "
          f"the attacker's: {active_content(page)}")
    # The check can fail: without InertOutputs the same notebook puts script on the page.
    assert active_content(before)["script"] > active_content(baseline)["script"]
    assert student_code_in(before)
    assert active_content(page) == active_content(baseline)
    assert student_code_in(page) == []
    assert_shown_inert(page)
    assert "<script>alert('XSS-md-script')</script>" in BeautifulSoup(page, "html.parser").text


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("kind", ["feedback", "formgrader"])
def test_a_notebook_graded_before_is_shown_inert_too(graded, kind):
    course = graded["course"]
    page, baseline = page_of(course, kind, "earlier"), page_of(course, kind, "plain")
    assert active_content(page) == active_content(baseline)
    assert student_code_in(page) == []
    assert_shown_inert(page)


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("kind", ["feedback", "formgrader"])
def test_no_external_url_and_the_course_mathjax(graded, kind):
    """Math with no network on both pages (the formgrader's from the real server): the course's
    inlined MathJax 3, not nbgrader's CDN MathJax 2.7.7, and no URL to another host at all."""
    course = graded["course"]
    for student in ("plain", "attacker"):
        page = page_of(course, kind, student)
        assert external_urls(page) == [], (student, external_urls(page))
        assert inline_script() in page and "cdnjs.cloudflare.com" not in page
    before = unprotected_page(graded["submitted"], kind)
    assert "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js" \
        "?config=TeX-AMS_CHTML-full,Safe" in external_urls(before)


def assert_shown_inert(page):
    """The removal notes are on the page, the student's text and PNG are shown."""
    text = BeautifulSoup(page, "html.parser").get_text()
    for shown in ("HTML output removed", "JavaScript output removed", "widget output removed",
                  "Student markup made inert here", "Raw cell from the student",
                  "<script>alert('XSS-stream')</script> printed text", "Math stays: $e^{x_j}$"):
        assert shown in text, shown
    assert f'src="data:image/png;base64,{PNG}"' in page


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("kind", ["feedback", "formgrader"])
def test_the_course_cells_render_as_written(graded, kind):
    page = page_of(graded["course"], kind, "attacker")
    for rendered in (r"$$\operatorname{LSE}(\vec{z}) = \log \sum_{j} e^{z_j}$$",
                     "1. <code>log_sum_exp(z)</code> (2 points)",
                     "<strong>How this notebook is graded.</strong>",
                     "logits anywhere between $-10^4$"):
        assert rendered in page, rendered
    assert page.count("highlight hl-ipython3") >= 9      # the course's code cells, highlighted
    assert '<span class="k">def</span>' in page


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("kind", ["feedback", "formgrader"])
def test_a_96_kb_cell_is_shown_plain(graded, kind):
    page = page_of(graded["course"], kind, "attacker")
    assert f"<pre>{LARGE}\n</pre>" in page
    assert graded["feedback_s"] < 30      # a sanity bound: 96 s for this cell alone before


def test_a_second_pass_changes_nothing():
    """Feedback runs InertOutputs again on what grading stored: it must find nothing to do."""
    once, _ = InertOutputs().preprocess(attacker_notebook(), {})
    twice, _ = InertOutputs().preprocess(copy.deepcopy(once), {})
    assert twice == once
    assert any("output removed" in json.dumps(cell.get("outputs", [])) for cell in once.cells)


def test_highlighting_stops_at_the_page_budget():
    highlight = HighlightUnlessLarge()      # a new one per page, as nbconvert makes them
    cell = "def f():\n    return 1\n" * 400            # 9.2 KB: under max_chars (10,000)
    pages = [highlight(cell) for _ in range(7)]
    assert ['<span class="k">def</span>' in page for page in pages] == [True] * 5 + [False] * 2
    assert "<pre>def f():" in pages[5]
    assert '<span class="k">def</span>' in HighlightUnlessLarge()(cell)
