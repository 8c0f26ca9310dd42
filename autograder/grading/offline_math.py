"""The feedback and formgrader pages' math, typeset with no network: MathJax 3 inlined.

nbgrader's templates load MathJax 2.7.7 from a public CDN (nbconvert's `mathjax` macro), so a
student who opens feedback offline sees raw TeX, and one who opens it online tells the CDN. The
course's template folder (autograder/grading/templates, first in
`HTMLExporter.extra_template_basedirs`) shadows that macro for the "feedback" and "formgrade"
templates with one that calls the `course_mathjax` filter here: a configuration and the whole
of MathJax's tex-svg.js (the copy sphinx-mathjax-offline installs for the website) in the page.
The SVG output needs no font file, so the page is one self-contained file.

MathJax loads nothing else: `require` and `autoload` (which fetch TeX packages on demand, from a
CDN when the script has no URL of its own) are removed, so is the menu (which loads its
accessibility components on demand). Without them the TeX that could put a link, a class or a
style on a page (\\href, \\class, \\style, \\cssId: the `html` package) is undefined and shown
as an error, not run: student Markdown on these pages keeps its $...$ (InertOutputs).
"""

import json
import re
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCRIPT = "sphinx-mathjax-offline/static/mathjax/tex-svg.js"

# Delimiters as the notebooks' Markdown writes them (and as nbconvert's MathJax 2 had them).
CONFIG = {
    "tex": {
        "inlineMath": [["$", "$"], ["\\(", "\\)"]],
        "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
        "processEscapes": True,
        "processEnvironments": True,
        "packages": {"[-]": ["require", "autoload"]},
    },
    "options": {"enableMenu": False, "ignoreHtmlClass": "tex2jax_ignore",
                "processHtmlClass": "tex2jax_process"},
    "svg": {"fontCache": "global"},
    "startup": {"typeset": True},
}
# What would end or re-enter the <script> element early if it appeared in the script's text.
SCRIPT_BREAKS = re.compile(r"<(?=/script|!--)", re.IGNORECASE)


def mathjax_path() -> Path:
    """tex-svg.js of the installed sphinx-mathjax-offline (requirements.txt pins it)."""
    return Path(str(distribution("sphinx-mathjax-offline").locate_file(SCRIPT)))


@cache
def inline_script() -> str:
    """The <script> elements: MathJax's configuration, then MathJax itself."""
    source = SCRIPT_BREAKS.sub(r"\\x3C", mathjax_path().read_text(encoding="utf-8"))
    config = SCRIPT_BREAKS.sub(r"\\x3C", json.dumps(CONFIG))
    return (f"<!-- MathJax {mathjax_version(source)} (tex-svg.js), inlined: no network -->\n"
            f"<script>window.MathJax = {config};</script>\n<script>{source}</script>\n")


def mathjax_version(source: str) -> str:
    match = re.search(r'VERSION="(3[0-9.]*)"', source)
    return match.group(1) if match else "3"


def course_mathjax(_url: object = None) -> str:
    """The `course_mathjax` template filter: the inline MathJax, whatever URL the template gave."""
    return inline_script()
