"""The pieces every check is made of: cases, comparisons, verdicts and the feedback text."""

import contextlib
import contextvars
import hashlib
import inspect
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.channel import NamedCallable
from autograder.checks import adapters
from autograder.sandbox.runner import STOPPED, Call, Outcome, Reason, RunReport, run_calls

# The adapter of a call that must raise: the child returns the name of the exception the
# student's function raised ("no exception" when it returned).
EXCEPTION_RAISED = NamedCallable(adapters, "exception_raised")


@dataclass
class Case:
    """One input to try: a label a student can read, and the arguments."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    kind: str = "fixed"          # fixed | random | edge: named in the feedback of a failure
    timeout: float = 10.0
    show_input: bool = True      # print the arguments in feedback when they fail
    # The exception the call must raise (e.g. "ValueError" for a name the task does not list):
    # judged by its name, whatever the reference would return.
    raises: str | None = None


class Mismatch(Exception):
    """A comparison failed; the message says how, in the student's terms."""


@dataclass
class Failure:
    """One failing case: why (data), and what to tell the student (text)."""

    case: Case
    reason: Reason
    message: str


@dataclass
class Verdict:
    """A check's decision on one exercise."""

    exercise_id: str
    cases_run: int
    failures: list[Failure]
    seed: int
    notes: list[str] = field(default_factory=list)   # lines for the instructor's log

    @property
    def accepted(self) -> bool:
        return not self.failures

    @property
    def reasons(self) -> set[Reason]:
        return {failure.reason for failure in self.failures}

    def feedback(self, max_failures: int = 3) -> str:
        """What the student reads: never reference code, only inputs, expected and actual values."""
        if self.accepted:
            return f"{self.exercise_id}: accepted ({self.cases_run} cases passed)."
        lines = [f"{self.exercise_id}: rejected ({len(self.failures)} of {self.cases_run} "
                 f"cases failed)."]
        for failure in self.failures[:max_failures]:
            kind = "" if failure.case.kind == "fixed" else f" ({failure.case.kind} case)"
            lines.append(f"- {failure.case.label}{kind}")
            if failure.case.show_input and failure.case.args:
                shown = describe_args(failure.case.args, failure.case.kwargs)
                lines.append("    input: " + shown.replace("\n", "\n           "))
            lines.extend("    " + line for line in failure.message.splitlines())
        if len(self.failures) > max_failures:
            lines.append(f"- ... and {len(self.failures) - max_failures} more failing cases.")
        return "\n".join(lines)


def fmt(value: object, precision: int = 6) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=precision, threshold=24, edgeitems=3,
                               max_line_width=100, separator=", ")
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{precision + 4}g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(fmt(v, precision) for v in value) + ")"
    if isinstance(value, list) and len(value) > 12:
        return f"[list of {len(value)} items]"
    return repr(value)


def describe_args(args: Sequence[object], kwargs: Mapping[str, object]) -> str:
    parts = [fmt(a) for a in args] + [f"{k}={fmt(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# Comparisons. Each raises Mismatch with a message naming expected and actual values.

def expect_array(actual: object, expected: Any, rtol: float = 1e-6, atol: float = 1e-9,
                 name: str = "result") -> None:
    """actual must be an ndarray of expected's shape, finite where expected is, and close to it."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"expected a numpy.ndarray, got {type(actual).__name__}: {fmt(actual)}")
    expected = np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        raise Mismatch(f"{name} has shape {actual.shape}, expected shape {expected.shape}\n"
                       f"expected: {fmt(expected)}\nactual:   {fmt(actual)}")
    if actual.dtype.kind not in "biuf":
        raise Mismatch(f"{name} has dtype {actual.dtype}, expected numbers")
    actual_f = actual.astype(float)
    bad_finite = np.isfinite(expected) & ~np.isfinite(actual_f)
    if bad_finite.any():
        raise Mismatch(f"{name} contains nan or inf where a finite value is expected\n"
                       f"expected: {fmt(expected)}\nactual:   {fmt(actual_f)}")
    with np.errstate(invalid="ignore"):
        close = np.isclose(actual_f, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        idx = np.unravel_index(np.argmax(~close), close.shape)
        where = f" (first difference at index {tuple(int(i) for i in idx)}: expected " \
                f"{fmt(expected[idx])}, got {fmt(actual_f[idx])})" if expected.ndim else ""
        raise Mismatch(f"{name} is not close enough to the expected value{where}\n"
                       f"expected: {fmt(expected)}\nactual:   {fmt(actual_f)}")


def expect_value(actual: object, expected: Any, rtol: float = 1e-6, atol: float = 1e-9,
                 name: str = "result") -> None:
    """A scalar expected value may come back as a float or a 0-d array; otherwise an array."""
    if np.ndim(expected) == 0:
        expect_scalar(actual, expected, rtol=rtol, atol=atol, name=name)
    else:
        expect_array(actual, expected, rtol=rtol, atol=atol, name=name)


def expect_scalar(actual: object, expected: Any, rtol: float = 1e-6, atol: float = 1e-9,
                  name: str = "result") -> None:
    """actual must be a real number (Python or NumPy float, or a 0-d array) close to expected."""
    if isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind in "iuf":
        actual = actual.item()
    if isinstance(actual, bool) or not isinstance(actual, (int, float, np.integer, np.floating)):
        raise Mismatch(f"expected a float, got {type(actual).__name__}: {fmt(actual)}")
    a, e = float(actual), float(expected)
    if np.isfinite(e) and not np.isfinite(a):
        raise Mismatch(f"{name} is {a}, expected the finite value {fmt(e)}")
    if not (np.isclose(a, e, rtol=rtol, atol=atol) or (np.isinf(e) and a == e)):
        raise Mismatch(f"{name} is not close enough to the expected value\n"
                       f"expected: {fmt(e)}\nactual:   {fmt(a)}")


TUPLE_WORDS = {2: "pair", 3: "triple"}


def expect_tuple(actual: object, names: Sequence[str], of: str = "") -> tuple:
    """actual must be a tuple or a list of len(names) values (what a function returning several
    values gives back: `return W, b`); returns them as a tuple. The Mismatch names the parts,
    `of` says more about them: expect_tuple(x, ("activation", "loss"), "of strings")."""
    if not isinstance(actual, (tuple, list)) or len(actual) != len(names):
        what = TUPLE_WORDS.get(len(names), f"sequence of {len(names)}")
        more = f" {of}" if of else ""
        raise Mismatch(f"expected a {what} ({', '.join(names)}){more}, got "
                       f"{type(actual).__name__}: {fmt(actual)}")
    return tuple(actual)


# ----------------------------------------------------------------------------------------------
# The check of one exercise.

class Check:
    """Compares a student's callable with the reference on fixed, random and edge cases.

    A subclass sets `reference` (the solutions function: the exercise id and signature are
    read from it) and `cases(rng)`; it overrides `compare` only where `expect_value` with its
    `rtol`/`atol` is not the right demand. Everything the student's code returns arrives as
    plain data from another process; the reference runs here.
    """

    reference: Callable[..., Any]   # the solutions function (every concrete check sets it)
    rtol, atol = 1e-7, 1e-10     # the default comparison's tolerances
    result_name = "result"       # what the default comparison calls the value in feedback
    warnings_allowed = False     # floating-point warnings during a call reject it unless True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        reference = cls.__dict__.get("reference")
        if reference is not None and not isinstance(reference, staticmethod):
            cls.reference = staticmethod(reference)   # called as a function, not a method

    @property
    def name(self) -> str:
        return self.reference.__name__

    @property
    def chapter(self) -> str:
        return self.reference.__module__.rsplit(".", 1)[-1]

    @property
    def exercise_id(self) -> str:
        return f"{self.chapter}.{self.name}"

    @property
    def signature(self) -> str:
        """`name(params)` as the reference declares it, written as the course writes it: a
        class as `class Value(data)`, a default 1e-07 (Python's repr) as 1e-7, and without the
        reference's type hints (the notebooks' functions have none)."""
        kind = "class " if inspect.isclass(self.reference) else ""
        declared = inspect.signature(self.reference)
        plain = declared.replace(
            parameters=[p.replace(annotation=inspect.Parameter.empty)
                        for p in declared.parameters.values()],
            return_annotation=inspect.Signature.empty)
        params = re.sub(r"(\d)e([+-])0(\d)", r"\1e\2\3", str(plain))
        return f"{kind}{self.name}{params}"

    def cases(self, rng: np.random.Generator) -> list[Case]:
        raise NotImplementedError

    def prepared(self) -> contextlib.AbstractContextManager[None]:
        """What this check prepares while the student's process runs, for the whole of one
        notebook's judgement (run_checks): nothing here; a Keras model's check starts its
        judge's process (keras_models.KerasModelCheck.prepared)."""
        return contextlib.nullcontext()

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        expect_value(actual, expected, rtol=self.rtol, atol=self.atol, name=self.result_name)

    def expected(self, case: Case) -> Any:
        return self.reference(*case.args, **case.kwargs)

    def make_calls(self, rng: np.random.Generator) -> tuple[list[Case], list[Call]]:
        cases = self.cases(rng)
        calls = [Call(key=f"{self.exercise_id}#{i}", name=self.name, args=case.args,
                      kwargs=case.kwargs, timeout=case.timeout,
                      adapter=EXCEPTION_RAISED if case.raises else None)
                 for i, case in enumerate(cases)]
        return cases, calls

    def verdict_on(self, cases: Sequence[Case], calls: Sequence[Call],
                   outcomes: Mapping[str, Outcome], seed: int) -> Verdict:
        """Turn the outcomes of this check's calls into a Verdict."""
        failures: list[Failure] = []
        notes: list[str] = []
        for case, call in zip(cases, calls):
            outcome = outcomes.get(call.key) or Outcome(reason=Reason.NOT_RUN, error="not run")
            failure = self.failure_of(case, outcome)
            if failure:
                failures.append(failure)
                # What a limit stopped goes to the instructor's log too.
                note = f"{self.exercise_id}: {failure.message.splitlines()[0]}"
                if failure.reason in STOPPED and note not in notes:
                    notes.append(note)
                if failure.reason is Reason.MISSING:
                    break   # one "not defined" says it all
        return Verdict(self.exercise_id, len(cases), failures, seed, notes)

    def failure_of(self, case: Case, outcome: Outcome) -> Failure | None:
        """A Failure, or None when the case passed. Never raises: whatever goes wrong while
        judging one value (a number too large to compare, a model Keras cannot rebuild) is
        this exercise's rejection, not the end of the notebook's grading."""
        if outcome.reason is Reason.MISSING:
            return Failure(case, outcome.reason,
                           f"`{self.name}` is not defined: write the function {self.signature}.")
        if outcome.reason is Reason.ERROR:
            return Failure(case, outcome.reason, f"raised an error: {outcome.error}")
        if outcome.reason is not None:
            return Failure(case, outcome.reason, outcome.error)
        if case.raises:
            did = "returned without raising" if outcome.value == "no exception" \
                else f"raised {str(outcome.value)[:100]}"
            return None if outcome.value == case.raises else Failure(
                case, Reason.MISMATCH, f"should raise {case.raises}, but it {did}")
        warned = outcome.warnings and not self.warnings_allowed
        warning_text = "raised floating-point warnings (overflow, division by zero or an " \
                       "invalid operation):\n" + "\n".join(outcome.warnings[:3]) if warned else ""
        try:
            self.compare(case, self.expected(case), outcome.value)
        except Mismatch as exc:
            # A comparison that ran a process of its own (a Keras model's judge) may say it
            # was stopped at a limit rather than that the value differs.
            reason = Reason(getattr(exc, "reason", Reason.MISMATCH))
            return Failure(case, reason, str(exc) + ("\nand " + warning_text if warned else ""))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            return Failure(case, Reason.UNJUDGED, f"the returned value could not be judged: "
                           f"{type(exc).__name__}: {str(exc)[:300]}")
        if warned:
            return Failure(case, Reason.WARNING, warning_text)
        if outcome.mutated:
            names = ", ".join(f"argument {i + 1}" for i in outcome.mutated)
            return Failure(case, Reason.MUTATED,
                           f"modified its input ({names}); a function here must return new arrays")
        return None


@dataclass(frozen=True)
class Deadline:
    """The time one notebook's verdict may take, from the start of its student process to the
    end of its last judge: `seconds` in all, running out at `at` (time.monotonic())."""

    seconds: float
    at: float

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(float(seconds), time.monotonic() + seconds)

    def left(self) -> float:
        """Seconds left; zero or less once it has run out."""
        return self.at - time.monotonic()

    def ran_out(self, what: str) -> str:
        """The sentence a student reads when it ran out: `what` is what it ran out during."""
        return (f"the notebook's verdict time ({self.seconds:g} s for running its code and "
                f"judging every exercise) ran out {what}")


# The notebook's Deadline while run_checks judges its checks. Most checks compare values here
# and never look at it; a check that runs a process of its own (a Keras model's judge) bounds
# that process by it, so that no judge outlives the notebook's verdict time. A context variable,
# not an argument of compare(): checks are shared instances, and notebooks may be judged in
# several threads at once (StartTrustedVerdict's, a cohort worker's).
_NOTEBOOK_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "notebook_deadline", default=None)


def notebook_deadline() -> Deadline | None:
    """The Deadline of the notebook being judged, or None (run_checks without total_timeout)."""
    return _NOTEBOOK_DEADLINE.get()


def run_checks(checks: Sequence[Check], cells: Sequence[str], seed: int | None = None,
               load_timeout: float = 60.0, total_timeout: float | None = None,
               ) -> tuple[dict[str, Verdict], RunReport]:
    """Run several checks against one body of student code in one child process.

    `total_timeout` is the notebook's deadline: it bounds the student's process and then every
    judge a check starts (notebook_deadline()); without it the student's process has
    run_calls' default and judges only their own limits. Returns ({exercise_id: Verdict},
    RunReport)."""
    seed = secrets.randbits(63) if seed is None else seed
    plan = []
    all_calls = []
    for check in checks:
        rng = np.random.default_rng([seed, _stable_hash(check.exercise_id)])
        cases, calls = check.make_calls(rng)
        plan.append((check, cases, calls))
        all_calls.extend(calls)
    deadline = None if total_timeout is None else Deadline.after(total_timeout)
    with contextlib.ExitStack() as prepared:
        # Started before the student's process, and gone with this notebook's judgement: a
        # Keras check's judge imports TensorFlow meanwhile (Check.prepared).
        for check in checks:
            prepared.enter_context(check.prepared())
        report = run_calls(cells, all_calls, load_timeout=load_timeout,
                           total_timeout=total_timeout)
        verdicts = {}
        token = _NOTEBOOK_DEADLINE.set(deadline)
        try:
            for check, cases, calls in plan:
                verdicts[check.exercise_id] = check.verdict_on(cases, calls, report.outcomes,
                                                               seed)
        finally:
            _NOTEBOOK_DEADLINE.reset(token)
    return verdicts, report


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
