"""The built website as a reader sees it in Chromium: every page, its math, figures and links."""

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

from tests.leaks import MARKERS, leaks_in, secrets_of

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
# The chapter the mutation tests break a copy of: it has math, figures and an exercise page.
MUTATED = "softmax"

# Console errors a reader never sees, each with why it is harmless. Anything else fails.
HARMLESS_CONSOLE_ERRORS = [
    # pydata-sphinx-theme on a first visit: no light/dark choice is stored yet, so it picks auto.
    "Got invalid theme mode: . Resetting to auto.",
    # Jupyter Book 1.x puts sphinx-thebe's inline config on every page twice; the second
    # `const` throws. Thebe is off (launch_buttons.thebe: false), so nothing reads it.
    "uncaught Identifier 'THEBE_JS_URL' has already been declared",
]
# The site has no favicon, so Chromium asks the server root for /favicon.ico and gets a 404.
HARMLESS_MISSING = ["favicon.ico"]


def toc():
    """(root, [(file, is_chapter)] in course order) from _toc.yml: what the navigation lists."""
    data = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = []

    def walk(items, top):
        for item in items:
            entries.append((item["file"], top))
            walk(item.get("sections", []), False)
    for part in data["parts"]:
        walk(part["chapters"], True)
    return data["root"], entries


ROOT_PAGE, NAV = toc()
PAGES = [ROOT_PAGE] + [file for file, _ in NAV]
LECTURES = [file for file in PAGES if file.endswith("/lecture")]
EXERCISES = [file for file in PAGES if file.endswith("/exercises")]


def source_of(file):
    """The repository file a page is built from (book/x/lecture.md, book/x/exercises.ipynb)."""
    for suffix in (".md", ".ipynb"):
        if (ROOT / f"{file}{suffix}").is_file():
            return ROOT / f"{file}{suffix}"
    return None


def source_has_math(file):
    """Whether the page's source writes math ($...$, $$...$$, a LaTeX environment) in its prose."""
    path = source_of(file)
    if path is None:
        return False
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(), flags=re.S)
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)   # code blocks and cells
    text = re.sub(r"`[^`\n]*`", "", text)                              # inline code
    return bool(re.search(r"\$\$|\$[^$\s][^$\n]*\$|\\begin\{|\{math\}", text))


def lecture_title(file):
    source = source_of(file).read_text()
    return re.search(r"^# (.+)$", source, re.M).group(1)


# --- the checks: each returns a list of problems, so the mutation tests can call them too ---

def nav_problems(page, base):
    """The left navigation lists every page of _toc.yml (but the root) in course order."""
    links = page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference",
        """links => links.map(a => ({href: a.href.split('#')[0],
                                     top: a.closest('li').classList.contains('toctree-l1'),
                                     visible: a.checkVisibility()}))""")
    got = [link["href"] for link in links]
    expected = [f"{base}{file}.html" for file, _ in NAV]
    problems = []
    missing = [url for url in expected if url not in got]
    if missing:
        problems.append(f"navigation lacks {missing}")
    elif got != expected:
        problems.append(f"navigation out of course order: {got}, expected {expected}")
    hidden = [link["href"] for link in links if link["top"] and not link["visible"]]
    if hidden:
        problems.append(f"chapters hidden in the navigation: {hidden}")
    home = page.eval_on_selector("a.navbar-brand", "a => a.href.split('#')[0]") \
        if page.query_selector("a.navbar-brand") else None
    if home != f"{base}{ROOT_PAGE}.html":
        problems.append(f"the site title links to {home}, not the home page {ROOT_PAGE}")
    return problems


TYPESET_STATE = """async () => {
  const mathjax = window.MathJax;
  const scripts = Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s));
  const article = document.querySelector('article') || document.body;
  const marked = article.querySelectorAll('.math').length;   // math Sphinx left for MathJax
  if (!(mathjax && mathjax.startup && mathjax.startup.promise))
    return {started: false, scripts, marked};
  await mathjax.startup.promise;
  // Raw TeX left in the prose; code blocks may legitimately show dollars and backslashes.
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: node =>
      node.parentElement.closest('pre, code, script, style, textarea, mjx-container')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const text = [];
  while (walker.nextNode()) text.push(walker.currentNode.nodeValue);
  const untypeset = Array.from(article.querySelectorAll('.math'))
      .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60));
  return {started: true, scripts, text: text.join(''), untypeset,
          typeset: article.querySelectorAll('mjx-container').length};
}"""
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|"
                     r"\$[^$\s][^$\n]{0,200}?[^$\s\\]\$|\$[^$\s]\$")


def math_problems(page, base, expects_math):
    """Every math expression typeset by MathJax, served by the site itself; no raw TeX left."""
    state = page.evaluate(TYPESET_STATE)
    problems = [f"MathJax script served from elsewhere: {src}"
                for src in state["scripts"] if not src.startswith(base)]
    if not state["started"]:
        if expects_math or state["marked"]:
            problems.append(f"MathJax did not start (scripts: {state['scripts']})")
        return problems
    raw = sorted(set(m.group(0)[:60] for m in RAW_TEX.finditer(state["text"])))
    if raw:
        problems.append(f"raw TeX in the text: {raw}")
    if state["untypeset"]:
        problems.append(f"math not typeset: {state['untypeset']}")
    if expects_math and not state["typeset"]:
        problems.append("no typeset math (mjx-container) on a page whose source has math")
    return problems


IMAGES = """async () => {
  const images = Array.from(document.querySelectorAll('img'));
  images.forEach(img => img.loading = 'eager');   // a lazy image below the fold counts too
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth,
                             height: img.naturalHeight}));
}"""


def image_problems(page):
    """Every <img> loaded, with a non-zero natural size."""
    return [f"image not loaded: {img['src']}" for img in page.evaluate(IMAGES)
            if not (img["width"] and img["height"])]


def log_problems(log, base):
    """No request leaving 127.0.0.1, no failed request, no console error but the harmless."""
    problems = [f"request leaves 127.0.0.1 (aborted): {url}" for url in log.external]
    problems += [f"HTTP {error}" for error in log.http_errors
                 if not any(error.endswith(f"{base}{name}") for name in HARMLESS_MISSING)]
    for text, url in log.console_errors:
        if text in HARMLESS_CONSOLE_ERRORS:
            continue
        if url in [f"{base}{name}" for name in HARMLESS_MISSING] and "404" in text:
            continue
        problems.append(f"console error: {text} ({url})")
    return problems


def page_problems(offline_context, base, file, screenshots=None):
    """Everything a reader of one page would notice: missing chapters, math, figures, errors."""
    context, log = offline_context()
    page = context.new_page()
    response = page.goto(f"{base}{file}.html")
    if not response.ok:
        return [f"{file}.html: HTTP {response.status} (is the site built from this _toc.yml?)"]
    problems = nav_problems(page, base)
    problems += math_problems(page, base, source_has_math(file))
    problems += image_problems(page)
    page.wait_for_load_state("networkidle")     # fonts and figures MathJax or scrolling asked for
    problems += log_problems(log, base)
    if screenshots:
        page.screenshot(path=screenshots / f"site-{file.replace('/', '-')}.png")
    return problems


def exercise_problems(offline_context, base, file, tmp_path):
    """The exercise page and its .ipynb download are the student version: no solution, no tests."""
    chapter = file.split("/")[1]
    source = ROOT / "source" / chapter / "exercises.ipynb"
    if not source.is_file():
        return [f"{file}: no source notebook {source.relative_to(ROOT)} to check it against"]
    secrets = secrets_of(source)
    context, log = offline_context()
    page = context.new_page()
    page.goto(f"{base}{file}.html")
    text = page.inner_text("article")
    problems = [] if "YOUR CODE HERE" in text else [f"{file}: no `YOUR CODE HERE` on the page"]
    problems += [f"{file}: the page shows {line!r}" for line in MARKERS + tuple(secrets)
                 if line in text]

    # The theme's download button, as a student uses it: open the menu, pick .ipynb.
    page.click(".dropdown-download-buttons button.dropdown-toggle")
    link = page.locator(".dropdown-download-buttons a", has_text=".ipynb")
    link.wait_for(state="visible")
    with page.expect_download() as download:
        link.click()
    notebook = tmp_path / f"{chapter}-download.ipynb"
    download.value.save_as(notebook)
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as error:   # noqa: BLE001 - any reason it is not a notebook is the problem
        return problems + [f"{file}: the download is not a valid notebook: {error}"]
    if not any("YOUR CODE HERE" in cell.source for cell in nb.cells):
        problems.append(f"{file}: the downloaded notebook has no `YOUR CODE HERE`")
    if grade_ids(nb.cells) != grade_ids(json.loads(source.read_text())["cells"]):
        problems.append(f"{file}: the download's nbgrader cells {grade_ids(nb.cells)} are not "
                        f"those of {source.relative_to(ROOT)}: another chapter's notebook?")
    problems += [f"{file}: the download leaks {what!r}"
                 for _, what in leaks_in([notebook], secrets)]
    return problems + log_problems(log, base)


def grade_ids(cells):
    return [cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in cells
            if cell["metadata"].get("nbgrader", {}).get("grade_id")]


def search_problems(offline_context, base, lecture, word):
    """The search page, asked for a word of the lecture's title, lists a link to the lecture."""
    context, log = offline_context()
    page = context.new_page()
    page.goto(f"{base}search.html?q={word}")
    page.wait_for_function("""() => /Search finished|did not match/.test(
        document.querySelector('#search-results .search-summary')?.innerText || '')""")
    found = {href.split("#")[0] for href in page.eval_on_selector_all(
        "#search-results ul.search a", "links => links.map(a => a.href)")}
    problems = [] if f"{base}{lecture}.html" in found else [
        f"searching {word!r} does not list {lecture}: {sorted(found)}"]
    return problems + log_problems(log, base)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in ("href", "src") and value:
                self.links.append(value)


def broken_links(site):
    """[(page, link, why)] for every href/src of the built HTML to a missing file or anchor.

    A crawler of the files rather than linkchecker: the site is static and local, this runs in a
    second with no dependency, and it checks anchors against the ids of the target page.
    """
    site = Path(site)
    parsed = {}

    def parse(path):
        if path not in parsed:
            parser = _Links()
            parser.feed(path.read_text(errors="replace"))
            parsed[path] = parser
        return parsed[path]

    broken = []
    # _static/ holds the themes' Jinja templates (webpack-macros.html), not pages.
    pages = [p for p in sorted(site.rglob("*.html")) if p.relative_to(site).parts[0] != "_static"]
    for page in pages:
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue    # external links are not requests: the browser tests watch those
            target = (site / parts.path.lstrip("/")) if parts.path.startswith("/") else (
                page.parent / unquote(parts.path) if parts.path else page)
            if target.is_dir():
                target = target / "index.html"
            where = str(page.relative_to(site))
            if not target.resolve().is_relative_to(site.resolve()) or not target.is_file():
                broken.append((where, link, "no such file"))
            elif parts.fragment and target.suffix == ".html" and \
                    unquote(parts.fragment) not in parse(target).ids:
                broken.append((where, link, "no such anchor"))
    return broken


# --- the site as built ---

@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").is_file():
        pytest.fail("the site is not built: run `make site` (or `make test`, which builds it)")
    return HTML


@pytest.fixture
def base(site, serve):
    return serve(site)


@pytest.mark.parametrize("file", PAGES)
def test_page_reads_as_it_should(offline_context, base, file, screenshots):
    assert page_problems(offline_context, base, file, screenshots) == []


def test_the_site_root_opens_the_course(offline_context, base):
    context, log = offline_context()
    page = context.new_page()
    page.goto(base)
    page.wait_for_url(f"{base}{ROOT_PAGE}.html")
    assert log_problems(log, base) == []


@pytest.mark.parametrize("file", EXERCISES)
def test_exercise_page_and_download_are_the_student_version(offline_context, base, file,
                                                            tmp_path):
    assert exercise_problems(offline_context, base, file, tmp_path) == []


@pytest.mark.parametrize("lecture", LECTURES)
def test_search_finds_the_chapter(offline_context, base, lecture):
    if source_of(lecture) is None:
        pytest.fail(f"{lecture} has no source in book/")
    word = max(re.findall(r"[A-Za-z]+", lecture_title(lecture)), key=len)
    assert search_problems(offline_context, base, lecture, word) == []


def test_no_internal_link_is_broken(site):
    assert broken_links(site) == []


# --- the checks catch what they are for: break one thing in a copy of the site ---

@pytest.fixture
def broken_site(site, tmp_path):
    copy = tmp_path / "html"
    shutil.copytree(site, copy)
    return copy


def _edit(path, pattern, replacement, count=0):
    text = path.read_text()
    edited, n = re.subn(pattern, replacement, text, count=count, flags=re.S)
    assert n, f"mutation found nothing to change in {path}"
    path.write_text(edited)


def test_a_page_whose_mathjax_is_missing_fails(offline_context, broken_site, serve):
    (broken_site / "_static" / "mathjax" / "tex-chtml.js").unlink()
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any("MathJax did not start" in p for p in problems), problems


def test_mathjax_from_a_cdn_fails_and_never_leaves_the_machine(offline_context, broken_site,
                                                                serve):
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
    _edit(broken_site / "book" / MUTATED / "lecture.html",
          r'src="\.\./\.\./_static/mathjax/tex-chtml\.js[^"]*"', f'src="{cdn}"')
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert f"MathJax script served from elsewhere: {cdn}" in problems, problems
    assert f"request leaves 127.0.0.1 (aborted): {cdn}" in problems, problems


def test_a_page_that_lost_its_math_fails(offline_context, broken_site, serve):
    _edit(broken_site / "book" / MUTATED / "lecture.html",
          r'<(span|div) class="math notranslate nohighlight">.*?</\1>', "")
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any("no typeset math" in p for p in problems), problems


def test_raw_tex_left_in_a_page_fails(offline_context, broken_site, serve):
    # Math outside MathJax's reach (a class it does not process) stays raw TeX on the screen.
    # The first math of the article itself: a heading's math also sits in the print-only
    # table of contents, which the screen never shows.
    _edit(broken_site / "book" / MUTATED / "lecture.html",
          r'(<article.*?)<span class="math notranslate nohighlight">',
          r'\1<span class="tex2jax_ignore">', count=1)
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any("raw TeX in the text" in p for p in problems), problems


def test_a_missing_figure_fails(offline_context, broken_site, serve):
    html = (broken_site / "book" / MUTATED / "lecture.html").read_text()
    figure = re.search(r'<img[^>]+src="\.\./\.\./(_images/[^"]+\.png)"', html).group(1)
    (broken_site / figure).unlink()
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any(p.startswith("image not loaded") and figure in p for p in problems), problems
    assert any(link.endswith(figure) for _, link, _ in broken_links(broken_site))


def test_a_chapter_missing_from_the_navigation_fails(offline_context, broken_site, serve):
    other = next(f for f in LECTURES if not f.startswith(f"book/{MUTATED}/"))
    other_href = "../" + other.split("/", 1)[1] + ".html"
    _edit(broken_site / "book" / MUTATED / "lecture.html",
          r'<li class="toctree-l1[^"]*">'
          rf'<a class="reference internal" href="{other_href}">.*?</li>',
          "")
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any("navigation lacks" in p and other in p for p in problems), problems


def test_a_chapter_page_missing_from_the_site_fails(offline_context, broken_site, serve):
    (broken_site / "book" / MUTATED / "lecture.html").unlink()
    problems = page_problems(offline_context, serve(broken_site), f"book/{MUTATED}/lecture")
    assert any("HTTP 404" in p for p in problems), problems
    assert any(link.endswith(f"{MUTATED}/lecture.html") for _, link, _ in
               broken_links(broken_site))


def test_an_exercise_download_with_the_solutions_fails(offline_context, broken_site, serve,
                                                        tmp_path):
    shutil.copy(ROOT / "source" / MUTATED / "exercises.ipynb",
                broken_site / "_sources" / "book" / MUTATED / "exercises.ipynb")
    problems = exercise_problems(offline_context, serve(broken_site), f"book/{MUTATED}/exercises",
                                 tmp_path)
    assert any("the download leaks '### BEGIN SOLUTION'" in p for p in problems), problems
    assert any("the download leaks" in p and "###" not in p for p in problems), problems


def test_an_exercise_page_showing_a_solution_fails(offline_context, broken_site, serve, tmp_path):
    secret = secrets_of(ROOT / "source" / MUTATED / "exercises.ipynb")[0]
    _edit(broken_site / "book" / MUTATED / "exercises.html", r"# YOUR CODE HERE",
          "# YOUR CODE HERE\n" + secret.replace("&", "&amp;").replace("<", "&lt;"), count=1)
    problems = exercise_problems(offline_context, serve(broken_site), f"book/{MUTATED}/exercises",
                                 tmp_path)
    assert any("the page shows" in p for p in problems), problems


def test_a_broken_anchor_fails(broken_site):
    _edit(broken_site / "book" / MUTATED / "lecture.html", r'<section id="([^"]+)"',
          r'<section id="\1-renamed"', count=1)
    assert any(why == "no such anchor" for _, _, why in broken_links(broken_site))
