"""The book's "All exercises" page: generated from the checks, so it lists exactly what is
graded."""

from pathlib import Path

from autograder import catalog
from autograder.checks import all_checks

ROOT = Path(__file__).resolve().parents[2]


def test_every_chapter_is_worth_ten_points():
    totals = {}
    for chapter, _, points in catalog.exercises():
        totals[chapter] = totals.get(chapter, 0) + points
    assert set(totals.values()) == {10}, totals


def test_the_page_lists_every_exercise_with_signature_and_points():
    page = catalog.markdown()
    rows = [line for line in page.splitlines() if line.startswith("| {doc}")]
    assert len(rows) == len(all_checks())
    for (chapter, check, points), row in zip(catalog.exercises(), rows):
        assert f"`{check.exercise_id}`" in row and f"`{check.signature}`" in row
        assert row.endswith(f"| {points} |") and f"<{chapter}/exercises>" in row


def test_the_built_site_shows_the_page():
    html = (ROOT / "_build/html/book/all_exercises.html").read_text()
    # Sphinx splits inline code at spaces, so the signature is looked for by its name.
    for exercise_id, check in all_checks().items():
        assert exercise_id in html and f"{check.name}(" in html
