"""The verdict record: a test cell's verdict as data, kept in the autograded notebook.

`TrustedVerdict` writes one into the metadata of each test cell it judges (under METADATA_KEY),
and the instructor's report reads them back to say which cases the cohort fails. It holds case
labels and reasons, never inputs or expected values.

The report reads the records of notebooks on disk, which passed through a student's hands before
grading: a test cell the course has no check for keeps whatever metadata the student wrote. So
`from_json` trusts nothing: a record of the wrong shape raises `BadRecord` (the report counts that
notebook as having no case data), and the texts it keeps are cut to a bounded length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograder.sandbox.runner import Reason

if TYPE_CHECKING:
    from autograder.checks.base import Verdict

METADATA_KEY = "autograder"    # the key of the record in a test cell's metadata
RECORDED_FAILURES = 50         # failing cases kept per test cell
LABEL_CHARS = 200              # a longer label (untrusted text, once on disk) is cut when read
WORD_CHARS = 20                # so is a longer kind or reason


class BadRecord(ValueError):
    """A verdict record that does not have the shape `VerdictRecord.to_json` writes."""


@dataclass(frozen=True)
class FailedCase:
    """One case a rejected submission failed."""

    label: str
    kind: str              # fixed | random | edge (Case.kind)
    reason: Reason | str   # a Reason; read back, the cut text of a value this version lacks

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "kind": self.kind, "reason": str(self.reason)}

    @classmethod
    def from_json(cls, value: dict[Any, Any]) -> FailedCase:
        return cls(str(value.get("label", ""))[:LABEL_CHARS],
                   str(value.get("kind", ""))[:WORD_CHARS],
                   _reason(str(value.get("reason", ""))[:WORD_CHARS]))


@dataclass(frozen=True)
class VerdictRecord:
    """What a test cell's verdict was: accepted or not, after how many cases, failing which."""

    exercise: str                   # <chapter>.<function>
    accepted: bool
    cases: int                      # cases run
    failures: int                   # cases failed (failed_cases keeps at most RECORDED_FAILURES)
    failed_cases: list[FailedCase]

    @classmethod
    def from_verdict(cls, verdict: Verdict) -> VerdictRecord:
        return cls(verdict.exercise_id, verdict.accepted, verdict.cases_run,
                   len(verdict.failures),
                   [FailedCase(f.case.label, f.case.kind, f.reason)
                    for f in verdict.failures[:RECORDED_FAILURES]])

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "accepted": self.accepted,
            "cases": self.cases,
            "failures": self.failures,
            "failed_cases": [case.to_json() for case in self.failed_cases],
        }

    @classmethod
    def from_json(cls, value: object) -> VerdictRecord:
        """The record `value` holds; BadRecord if it is not one. A failed case that is not an
        object is dropped (the others still count)."""
        if not isinstance(value, dict) or not isinstance(value.get("accepted"), bool):
            raise BadRecord("not a verdict record")
        cases, failures = value.get("cases"), value.get("failures")
        failed = value.get("failed_cases")
        if not (isinstance(cases, int) and isinstance(failures, int) and isinstance(failed, list)):
            raise BadRecord("a verdict record of the wrong shape")
        exercise = value.get("exercise")
        return cls(exercise if isinstance(exercise, str) else "", value["accepted"], cases,
                   failures, [FailedCase.from_json(c) for c in failed if isinstance(c, dict)])


def _reason(text: str) -> Reason | str:
    try:
        return Reason(text)
    except ValueError:
        return text
