"""The built website: every chapter there, lectures executed, student versions only, no CDN."""

import re
from pathlib import Path

import pytest
import yaml

from autograder.checks import CHAPTERS
from tests.leaks import leaks_in, secrets_of

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.fail("the site is not built: run `make site` (or `make test`, which builds it)")
    return HTML


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))
    for part in toc["parts"]:
        walk(part["chapters"])
    return files


def test_chapters_are_in_course_order_in_the_toc():
    chapters = [f.split("/")[1] for f in toc_files() if f.endswith("/lecture")]
    assert chapters == CHAPTERS


def test_every_toc_page_is_built(site):
    for file in toc_files():
        assert (site / f"{file}.html").is_file(), file


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_page_is_the_student_version(site, chapter):
    html = (site / "book" / chapter / "exercises.html").read_text()
    assert "YOUR CODE HERE" in html and "NotImplementedError" in html
    download = site / "_sources" / "book" / chapter / "exercises.ipynb"
    assert download.is_file() and "YOUR CODE HERE" in download.read_text()


def test_no_solution_or_hidden_test_anywhere_on_the_site(site):
    # A lecture teaches in the open what an exercise then asks for (the digit classifier is
    # built on the softmax page by design), so lines a lecture shows are not secrets; every
    # other solution or hidden-test line, and every nbgrader marker, must be absent.
    lectures = "".join((ROOT / "book" / ch / "lecture.md").read_text() for ch in CHAPTERS)
    secrets = [line for chapter in CHAPTERS
               for line in secrets_of(ROOT / "source" / chapter / "exercises.ipynb")
               if line not in lectures]
    assert secrets
    assert leaks_in([site], secrets) == []


def test_lectures_are_executed_without_stderr_or_errors(site):
    for chapter in CHAPTERS:
        html = (site / "book" / chapter / "lecture.html").read_text()
        assert "cell_output" in html, f"{chapter}: the lecture has no outputs"
        assert "output stderr" not in html, f"{chapter}: stderr on the page"
        assert "output traceback" not in html and "output error" not in html, chapter
        assert "TF_ENABLE_ONEDNN_OPTS=0`" not in html and "oneDNN custom operations" not in html


def held_out_accuracies(chapter):
    html = (HTML / "book" / chapter / "lecture.html").read_text()
    return {name: float(value) for name, value in
            re.findall(r"Held-out accuracy \(([^)]+)\): (\d+\.\d\d)%", html)}


def test_softmax_digit_classifier_reaches_95_percent(site):
    accuracies = held_out_accuracies("softmax")
    assert accuracies.get("digit classifier", 0) >= 95.0, accuracies


def test_logistic_regression_reaches_98_percent_both_ways(site):
    accuracies = held_out_accuracies("logistic_regression")
    assert accuracies.get("gradient descent by hand", 0) >= 98.0, accuracies
    assert accuracies.get("Keras logistic regression", 0) >= 98.0, accuracies


def test_mathjax_is_served_by_the_site(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in site.rglob("*.html"):
        html = page.read_text()
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
        remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        assert remote == [], (page, remote)
        styles = re.findall(r'<link[^>]*href="(https?:[^"]+)"', html)
        assert [s for s in styles if "stylesheet" in s or s.endswith(".css")] == [], page


def test_pages_have_figures(site):
    for chapter in CHAPTERS:
        html = (site / "book" / chapter / "lecture.html").read_text()
        assert len(re.findall(r"<img[^>]+src=\"[^\"]+\.png\"", html)) >= 2, chapter


def test_glossary_has_english_and_chinese_terms(site):
    html = (site / "book" / "glossary.html").read_text()
    assert "softmax" in html.lower() and "中文" in html
