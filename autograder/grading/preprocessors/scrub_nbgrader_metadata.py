"""`ScrubNbgraderMetadata`: drop nbgrader metadata a student added or broke, before nbgrader
reads it."""

from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor


class ScrubNbgraderMetadata(NbGraderPreprocessor):
    """Keep only the nbgrader metadata the course put there, once per cell id.

    A student can edit cell metadata. nbgrader restores what it finds by grade id, but a
    duplicated cell, an unknown id or a malformed entry makes it fail for that student, and a
    metadata entry without a schema version aborts the whole grading run. Here such entries are
    removed before nbgrader looks (the cell becomes an ordinary cell), and with
    `OverwriteCells.add_missing_cells` nbgrader puts back any course cell that went missing.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   ) -> tuple[NotebookNode, dict[str, Any]]:
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        who = f"{resources['nbgrader'].get('student', '?')}/{assignment_id}/{notebook_id}"
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            try:
                notebook = gb.find_notebook(notebook_id, assignment_id)
                known = {cell.name for cell in notebook.source_cells}
            except MissingEntry:
                return nb, resources
        seen = set()
        for index, cell in enumerate(nb.cells):
            if "nbgrader" not in cell.get("metadata", {}):
                continue
            meta = cell.metadata.nbgrader
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            reason = ("malformed" if not isinstance(meta, dict) or meta.get("schema_version") != 3
                      else "unknown cell id" if grade_id not in known
                      else "duplicate of an earlier cell" if grade_id in seen else None)
            if reason:
                del cell.metadata["nbgrader"]
                self.log.warning("[metadata] %s: cell %d (%s): nbgrader metadata removed: %s",
                                 who, index + 1, grade_id, reason)
            else:
                seen.add(grade_id)
        return nb, resources
