"""`InertOutputs`: what a student's notebook puts on the formgrader's and the feedback's pages is
shown, never run."""

import html
import re
from html.parser import HTMLParser
from typing import Any

from bleach.sanitizer import Cleaner
from mistune import HTMLRenderer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.utils import compute_checksum
from traitlets import Bool

# What the pages may show of a display output: each is escaped text or an <img> of base64 data.
SAFE_DATA = ("text/plain", "image/png", "image/jpeg")
LABELS = {"text/html": "HTML", "application/javascript": "JavaScript",
          "text/javascript": "JavaScript", "image/svg+xml": "SVG", "text/markdown": "Markdown",
          "text/latex": "LaTeX", "application/vnd.jupyter.widget-view+json": "widget",
          "text/vnd.mermaid": "Mermaid", "application/pdf": "PDF", "application/json": "JSON"}

# Markup a student's Markdown may keep: text structure, tables, links and embedded images.
# No class, id or style either: the formgrader's own script finds its inputs by class and id,
# and a style could lay a fake form over the page.
TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
        "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul"}
NUMERIC = {("img", "width"), ("img", "height"), ("td", "colspan"), ("td", "rowspan"),
           ("th", "colspan"), ("th", "rowspan"), ("ol", "start")}
LINK = re.compile(r"(?:https?:|mailto:|#)")
IMAGE = re.compile(r"data:image/(?:png|jpeg);base64,[a-z0-9+/=]*")
STRIPPED = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]")    # what browsers ignore in a URL
MAX_LISTED = 8


class InertOutputs(Preprocessor):
    """Reduce what a student wrote or printed to text and images, before a page renders it.

    The formgrader shows the autograded notebook in the instructor's Jupyter origin, where a
    script could use the instructor's session (/api/kernels, the gradebook); the feedback page
    is opened in a browser too. A student controls their outputs, the Markdown and raw cells they
    add or edit, cell attachments and the notebook's widget state. Kept, on an allow-list:

    - of an output: stream and error text, and text/plain, PNG and JPEG data (the templates
      escape text and embed images as data); any other kind (HTML, JavaScript, SVG, Markdown,
      LaTeX, widget views, unknown types) is removed and a text note says what was;
    - of a Markdown cell the course did not write: its rendering, through an allow-list HTML
      sanitizer (no script, event handler, style, class, id, form or frame; links to http,
      https, mailto and anchors only; images only as embedded PNG/JPEG), stored as one HTML
      block the page shows as is. Disallowed tags are shown as text, with a note.
    - of a raw cell the course did not write: its text, shown as preformatted text.

    The course's own cells (see `course_cell`) render normally, formulas included. The step is
    idempotent: it runs at grading, then again for feedback and in the formgrader, which may
    show notebooks graded before it existed.
    """

    # Enabled as nbgrader's own preprocessors are: its converters register it without enabling.
    # (Not an NbGraderPreprocessor: the formgrader's HTMLExporter would warn about its traits.)
    enabled = Bool(True, help="Whether grading pages show student content inert.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        counts = {"outputs": 0, "markdown cells": 0, "raw cells": 0}
        nb.metadata.pop("widgets", None)        # the page would load a widget manager for it
        for cell in nb.cells:
            if cell.cell_type == "code":
                outputs = []
                for output in cell.get("outputs", []):
                    kept = inert_output(output)
                    counts["outputs"] += any(new is not output for new in kept)    # a note
                    outputs.extend(kept)
                cell.outputs = outputs
            elif cell.cell_type in ("markdown", "raw") and not course_cell(cell):
                counted, before = f"{cell.cell_type} cells", (cell.cell_type, cell.source)
                (make_markdown_inert if cell.cell_type == "markdown" else make_raw_inert)(cell)
                counts[counted] += (cell.cell_type, cell.source) != before
        changed = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        if changed:
            info = resources.get("nbgrader", {})
            who = "/".join(str(info.get(key, "?")) for key in ("student", "assignment", "notebook"))
            self.log.info("[inert outputs] %s: made inert: %s", who, changed)
        return nb, resources


def course_cell(cell: NotebookNode) -> bool:
    """Whether the course wrote this cell's text, by what `OverwriteCells` did while grading.

    A locked cell: the course's text was put back in it. Any other cell of the course: its
    metadata's checksum is the gradebook's, so the text still matches it only if untouched (an
    answer cell left as released; nbgrader's "No response" comment relies on that checksum).
    """
    meta = cell.get("metadata", {}).get("nbgrader")
    if not isinstance(meta, dict) or not meta.get("grade_id"):
        return False
    try:
        return meta.get("locked") is True or meta.get("checksum") == compute_checksum(cell)
    except (KeyError, TypeError, ValueError):    # metadata nbgrader would reject: not the course's
        return False


def inert_output(output: NotebookNode) -> list[NotebookNode]:
    """The output with only SAFE_DATA kept, then a note naming what was removed; a list."""
    kind = output.get("output_type")
    if kind in ("stream", "error"):
        return [output]
    if kind not in ("execute_result", "display_data"):
        return [note([repr(kind)[:40]])]
    data = output.get("data", {})
    kept = {mime: value for mime, value in data.items()
            if mime in SAFE_DATA and isinstance(value, str)}
    metadata = image_metadata(output, kept)
    if kept == data and output.get("metadata", {}) == metadata:
        return [output]
    removed = [LABELS.get(mime, "'" + re.sub(r"[^\w./+-]", "?", mime)[:60] + "'")
               for mime in data if mime not in kept]
    output.data, output.metadata = kept, metadata
    return ([output] if kept else []) + ([note(removed)] if removed else [])


def image_metadata(output: NotebookNode, kept: dict[str, str]) -> dict[str, dict[str, int]]:
    """The width and height of each kept image: all of an output's metadata a page reads."""
    metadata = {}
    for mime in kept:
        given = output.get("metadata", {}).get(mime)
        if mime.startswith("image/") and isinstance(given, dict):
            size = {key: value for key, value in given.items() if key in ("width", "height")
                    and isinstance(value, int) and not isinstance(value, bool)}
            if size:
                metadata[mime] = size
    return metadata


def note(labels: list[str]) -> NotebookNode:
    """A text output standing for what was removed, so the instructor knows it was there."""
    return new_output("display_data", data={"text/plain": (
        f"[{', '.join(sorted(set(labels)))} output removed: grading pages show a student's "
        "outputs as text and PNG/JPEG images only]")})


def make_markdown_inert(cell: NotebookNode) -> None:
    """Store the cell as its sanitized rendering, one HTML block that Markdown leaves as is."""
    source = cell.source
    if "\n" not in source and source.startswith("<div>") and one_line(clean(source)[0]) == source:
        cell.pop("attachments", None)           # already inert: this step ran before
        return
    try:
        rendered = render(source, cell.get("attachments", {}))
        prefix = ""
    except Exception:  # noqa: BLE001 - a missing attachment, a renderer's bug: show the text
        rendered = f"<pre>{html.escape(source)}</pre>"
        prefix = "<p><em>[This Markdown could not be rendered: shown as text]</em></p>"
    sanitized, removed = clean(rendered)
    if removed:
        listed = ", ".join(html.escape(item) for item in removed[:MAX_LISTED])
        more = ", ..." if len(removed) > MAX_LISTED else ""
        prefix += f"<p><em>[Student markup made inert here: {listed}{more}]</em></p>"
    cell.source = one_line(f"<div>{prefix}{sanitized}</div>")
    cell.pop("attachments", None)               # embedded in the source by now


def make_raw_inert(cell: NotebookNode) -> None:
    """A raw cell becomes a Markdown cell showing its text (a page would insert it as HTML)."""
    text = html.escape(cell.source)
    cell.cell_type = "markdown"
    cell.metadata.pop("raw_mimetype", None)
    cell.metadata.pop("format", None)
    cell.pop("attachments", None)
    cell.source = one_line(f"<div><p><em>[Raw cell from the student, shown as text]</em></p>"
                           f"<pre>{text}</pre></div>")


def one_line(markup: str) -> str:
    """The markup on one line (newlines as character references, which mean the same in HTML).

    A line that starts with <div> is an HTML block that ends at a blank line: with no line break
    at all, Markdown passes the whole cell through untouched. Otherwise text after a blank line
    would be parsed again, and a link written in a code span could become a live link.
    """
    return markup.replace("\r", "&#13;").replace("\n", "&#10;")


class _StudentMarkdown(IPythonRenderer):
    """The pages' Markdown renderer, without Pygments (slow on big input) and Mermaid blocks
    (nbconvert inserts their text unescaped)."""

    def block_code(self, code: str, info: str | None = None) -> str:
        return HTMLRenderer.block_code(self, code, info)


def render(source: str, attachments: dict[str, Any] | None) -> str:
    """HTML of a student's Markdown, attachments embedded as PNG/JPEG data only."""
    images = {}
    for name, bundle in (attachments or {}).items():
        bundle = bundle if isinstance(bundle, dict) else {}
        kept = {mime: data for mime, data in bundle.items()
                if mime in ("image/png", "image/jpeg") and isinstance(data, str)}
        images[name] = kept or {"image/png": ""}
    renderer = _StudentMarkdown(escape=False, attachments=images, exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source)


def clean(markup: str) -> tuple[str, list[str]]:
    """(sanitized markup, what was removed: tags as `<name>`, attributes as `name=`)."""
    removed = []

    def allowed(tag: str, name: str, value: str) -> bool:
        value = STRIPPED.sub("", html.unescape(value)).lower()
        ok = (name in ("title", "alt")
              or (tag, name) in NUMERIC and value.isdigit()
              or tag == "a" and name == "href" and LINK.match(value) is not None
              or tag == "img" and name == "src" and IMAGE.fullmatch(value) is not None)
        if not ok and name != "class":      # classes come from the renderer: not worth a note
            removed.append(f"{name}=")
        return ok

    scan = _TagScan()
    scan.feed(markup)
    scan.close()
    cleaner = Cleaner(tags=TAGS, attributes=allowed, protocols={"http", "https", "mailto", "data"},
                      strip=False, strip_comments=True)
    sanitized = cleaner.clean(markup)
    return sanitized, list(dict.fromkeys([*scan.disallowed, *removed]))


class _TagScan(HTMLParser):
    """The disallowed tags in some markup, to name them in the note (bleach does the removing)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.disallowed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.disallowed.append(f"<{tag}>")
