"""Find solution code or hidden tests of the source notebooks in files a student sees."""

import json
import re
from pathlib import Path

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
           "### END HIDDEN TESTS")


def _cell_text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def secrets_of(source_notebook):
    """Distinctive lines of the solution regions and hidden tests of one source notebook."""
    nb = json.loads(Path(source_notebook).read_text())
    found, public = [], []
    for cell in nb["cells"]:
        text = _cell_text(cell)
        for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"),
                           ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            pattern = re.escape(begin) + r"(.*?)" + re.escape(end)
            for region in re.findall(pattern, text, re.S):
                for line in region.splitlines():
                    line = line.strip()
                    # Short or generic lines (`return e`, an import) prove nothing; long ones do.
                    if len(line) >= 40 and not line.startswith(("#", "import ", "from ")):
                        found.append(line)
            text = re.sub(pattern, "", text, flags=re.S)
        public.append(text)
    # A line the student version shows anyway (a visible test repeated in the hidden ones) is
    # not a secret.
    public_text = "\n".join(public)
    return [line for line in found if line not in public_text]


def leaks_in(paths, secrets):
    """[(file, what)] for every marker or secret line found in the files under `paths`."""
    hits = []
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            if path.suffix not in {".html", ".ipynb", ".md", ".txt", ".js", ".json", ".py", ".csv"}:
                continue
            text = path.read_text(errors="replace")
            flat = text.replace("\\n", "\n").replace('\\"', '"')
            for marker in MARKERS:
                if marker in flat:
                    hits.append((str(path), marker))
            for line in secrets:
                if line in flat or _html_escaped(line) in flat:
                    hits.append((str(path), line))
    return hits


def _html_escaped(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
