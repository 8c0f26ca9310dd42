"""A student's feedback page, opened as a student opens it: the file itself in Chromium, with no
network. Real grading (nbgrader autograde, then generate_feedback) of sample-partial's
convolution chapter: formulas in the task text ($$...$$, $k$, $n$), accepted and rejected
exercises. The same checks on nbgrader's stock feedback page of that notebook must fail."""

import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grading.offline_math import inline_script
from autograder.sandbox import bwrap
from tests.course import copy_course, nbgrader
from tests.test_inert_outputs import JupyterServer, unprotected_page

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")]

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "convolution"
STUDENT = "sample-partial"
MAX_BYTES = 3 * 1024 ** 2
REJECTED = "conv2d"             # an exercise sample-partial gets wrong in this chapter

# After MathJax has finished: what a reader sees of the page and where things are.
PAGE_STATE = """async () => {
  const mathjax = window.MathJax;
  const started = !!(mathjax && mathjax.startup && mathjax.startup.promise);
  if (started) await mathjax.startup.promise;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const text = [];
  while (walker.nextNode()) text.push(walker.currentNode.nodeValue);
  return {started, text: text.join(''),
          typeset: document.querySelectorAll('mjx-container').length,
          // a TeX error, or an undefined macro (shown as its name in red)
          errors: document.querySelectorAll('mjx-merror, [data-mjx-error], ' +
                                            '[data-mml-node="mtext"][fill="red"]').length};
}"""
RAW_TEX = re.compile(r"\$\$|\\frac|\\sum|\\text\{|\$[^$\s][^$\n]{0,200}?[^$\s\\]\$|\$[^$\s]\$")


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    """sample-partial's convolution chapter graded and its feedback generated, in a course copy;
    and nbgrader's stock feedback page of the same graded notebook, for the "before"."""
    course = copy_course(tmp_path_factory.mktemp("feedback") / "course")
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    shutil.copytree(ROOT / "samples/submitted" / STUDENT / CHAPTER,
                    course / "submitted" / STUDENT / CHAPTER)
    nbgrader(course, "autograde", CHAPTER, "--force")
    nbgrader(course, "generate_feedback", CHAPTER, "--force")
    page = course / "feedback" / STUDENT / CHAPTER / "exercises.html"
    graded = course / "autograded" / STUDENT / CHAPTER / "exercises.ipynb"
    stock = page.parent.parent / "stock.html"
    stock.write_text(unprotected_page(graded, "feedback"))
    return {"page": page, "stock": stock, "notebook": nbformat.read(graded, as_version=4),
            "course": course}


def problems_of(new_context, path, screenshots=None):
    """What a student opening `path` with no network would notice, and the page's size.

    (Not conftest's new_context: it lets 127.0.0.1 through and refuses file: URLs, where
    this page must reach nothing but its own file.)"""
    context = new_context()
    url = path.resolve().as_uri()
    asked, errors = [], []

    def outside(route):            # every request but the file itself: logged and refused
        asked.append(route.request.url)
        route.abort()

    context.route(lambda address: address != url, outside)
    context.on("weberror", lambda error: errors.append(f"uncaught {error.error}"))
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url != url and request.url not in asked
            and not request.url.startswith("data:") and asked.append(request.url))
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    state = page.evaluate(PAGE_STATE)
    page.wait_for_load_state("networkidle")
    seconds = time.perf_counter() - start
    problems = [f"request outside the file: {address}" for address in dict.fromkeys(asked)]
    problems += [f"console error: {error[:200]}" for error in errors
                 if not any(address in error for address in asked)]   # a refused request's
    if not state["started"]:
        problems.append("MathJax did not start")
    raw = sorted({match.group(0)[:60] for match in RAW_TEX.finditer(state["text"])})
    if raw:
        problems.append(f"raw TeX in the text: {raw}")
    if not state["typeset"]:
        problems.append("no typeset math (mjx-container)")
    if state["errors"]:
        problems.append(f"{state['errors']} TeX errors or undefined macros")
    size = path.stat().st_size
    if size > MAX_BYTES:
        problems.append(f"the page is {size} bytes (over {MAX_BYTES})")
    if screenshots:
        page.screenshot(path=screenshots / f"feedback-{path.stem}.png")
        verdict = page.query_selector(f"#verdict-test_{REJECTED}")
        if verdict:
            verdict.scroll_into_view_if_needed()
            page.screenshot(path=screenshots / f"feedback-{path.stem}-{REJECTED}.png")
    print(f"\n{path.name}: {size} bytes, {state['typeset']} formulas typeset, "
          f"opened and typeset in {seconds:.1f} s; problems: {problems}")
    return problems, page


def test_the_feedback_page_typesets_its_math_offline(feedback, new_context, screenshots):
    problems, page = problems_of(new_context, feedback["page"], screenshots)
    assert problems == []
    # In document order: the summary, then per exercise its verdict, the student's code, the
    # test code; the shared helpers (`TestFailure`, `expect_close`) after every exercise.
    cells = {cell.metadata.nbgrader.grade_id: cell for cell in feedback["notebook"].cells
             if "nbgrader" in cell.metadata}
    first_line = {name: cells[name].source.strip().split("\n")[0]
                  for name in (REJECTED, f"test_{REJECTED}", "setup")}
    order = page.evaluate("""([name, lines]) => {
      const all = Array.from(document.querySelectorAll('*'));
      const at = el => el ? all.indexOf(el) : -1;
      const code = line => Array.from(document.querySelectorAll('.input_area'))
          .find(el => el.textContent.includes(line));
      const verdicts = Array.from(document.querySelectorAll('.course-verdict'));
      return {summary: at(document.querySelector('.course-summary')),
              verdict: at(document.querySelector('#verdict-test_' + name)),
              code: at(code(lines[name])), test: at(code(lines['test_' + name])),
              helpers: at(code(lines.setup)), lastVerdict: at(verdicts[verdicts.length - 1]),
              lastTest: at(code(lines.last))};
    }""", [REJECTED, {**first_line, "last": last_test_line(feedback["notebook"])}])
    assert -1 not in order.values(), order
    assert order["summary"] < order["verdict"] < order["code"] < order["test"], order
    assert order["helpers"] > order["lastTest"] > order["lastVerdict"], order
    verdict = page.inner_text(f"#verdict-test_{REJECTED}")
    assert "not accepted, 0 / 1 point" in verdict and "cases failed" in verdict, verdict
    record = next(cell.metadata.autograder for cell in feedback["notebook"].cells
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == f"test_{REJECTED}")
    assert record["failed_cases"][0]["label"] in verdict


def last_test_line(nb):
    tests = [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    return tests[-1].source.strip().split("\n")[0]


def test_the_same_checks_fail_on_nbgraders_stock_page(feedback, new_context):
    problems, _ = problems_of(new_context, feedback["stock"])
    assert any("cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7" in p for p in problems), problems
    assert "MathJax did not start" in problems, problems
    assert any(p.startswith("raw TeX in the text") and "$$" in p for p in problems), problems


# TeX a student's Markdown may hold (InertOutputs keeps $...$ on the pages): what would add a
# link, a class or a style, load an extension or a font; and what the course's text uses.
STUDENT_TEX = (r"<p>$\href{javascript:alert('XSS-href')}{y}$ $\class{evil}{z}$"
               r" $\style{color:red}{s}$ $\require{html}$ $\unicode{x263a}$ $\boldsymbol{x}$</p>"
               r"<p>$\operatorname{LSE}(\vec{z}) = \log \sum_j e^{z_j}$ $\lfloor x \rfloor$</p>")


def test_the_inlined_mathjax_loads_nothing_and_links_nothing(new_context, tmp_path):
    path = tmp_path / "math.html"
    path.write_text(f"<html><head>{inline_script()}</head><body>{STUDENT_TEX}</body></html>")
    context = new_context()
    url, asked = path.as_uri(), []
    context.route(lambda address: address != url,
                  lambda route: (asked.append(route.request.url), route.abort()))
    page = context.new_page()
    page.goto(url)
    state = page.evaluate("""async () => {
      await MathJax.startup.promise;
      return {typeset: document.querySelectorAll('mjx-container').length,
              links: document.querySelectorAll('a, [href^="javascript"], .evil, [style*="red"]')
                  .length,
              undefined: document.querySelectorAll('[data-mml-node="mtext"][fill="red"]').length};
    }""")
    assert asked == []
    assert state == {"typeset": 8, "links": 0, "undefined": 6}, state


def test_the_formgrader_view_typesets_offline(feedback, new_context):
    """The instructor's view of the same submission, from a real Jupyter server: the course's
    inlined MathJax typesets it with nothing fetched off the machine, and nbgrader's own script
    (which waits for MathJax 2's startup signal) runs without an error."""
    course = feedback["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook("exercises", CHAPTER, STUDENT).id
    server = JupyterServer(course)
    with server:
        context = new_context()
        outside, errors = [], []
        context.route(lambda address: urlsplit(address).hostname != "127.0.0.1",
                      lambda route: (outside.append(route.request.url), route.abort()))
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://127.0.0.1:{server.port}/formgrader/submissions/{submission}/"
                  f"?token={server.token}")
        page.wait_for_load_state("networkidle")
        state = page.evaluate("""async () => {
          await MathJax.startup.promise;
          await new Promise(resolve => setTimeout(resolve, 200));   // formgrade.js's listener
          return {typeset: document.querySelectorAll('mjx-container').length,
                  signalled: MathJax.loaded === true,
                  scores: document.querySelectorAll('input.score').length};
        }""")
    assert outside == [] and errors == [], (outside, errors)
    assert state == {"typeset": 30, "signalled": True, "scores": 6}, state
