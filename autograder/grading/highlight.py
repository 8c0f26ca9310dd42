"""`HighlightUnlessLarge`: the code-cell highlighter of the feedback and formgrader pages, with
plain text for very large cells."""

from html import escape
from typing import Any

from nbconvert.filters.highlight import Highlight2HTML
from traitlets import Int


class HighlightUnlessLarge(Highlight2HTML):
    """Pygments highlighting, except for a cell above `max_chars` or past the page's budget.

    IPython's Pygments lexer is quadratic on some input: a 96 KB cell of `.a.a.a...` takes 96 s
    to highlight (20 KB: 3.5 s), where 100 KB of ordinary Python takes 0.2 s. A student can
    submit such a cell, and generate_feedback and every formgrader view of it would pay. Such a
    cell is shown as escaped, unhighlighted text in the same box, and so is every cell once the
    page has highlighted `page_budget` characters (many cells just under the limit add up).
    nbconvert makes a new instance of a configured filter for each notebook it converts, so the
    budget is per page. Configured as `c.HTMLExporter.filters["highlight_code"]`.
    """

    max_chars = Int(10_000, help="Cells longer than this (characters) are not highlighted.",
                    ).tag(config=True)
    page_budget = Int(50_000, help="Characters highlighted per page at most; later cells plain.",
                      ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._highlighted = 0

    def __call__(self, source: str, language: str | None = None,
                 metadata: dict[str, Any] | None = None) -> str:
        if len(source) > self.max_chars or self._highlighted + len(source) > self.page_budget:
            # The markup Pygments' HtmlFormatter wraps code in, so the page styles it the same.
            return (f'<div class=" highlight hl-{escape(language or self.pygments_lexer)}">'
                    f"<pre>{escape(source, quote=False)}\n</pre></div>\n")
        self._highlighted += len(source)
        return super().__call__(source, language, metadata)
