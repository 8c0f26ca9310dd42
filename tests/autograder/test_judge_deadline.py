"""One deadline per notebook covers its student process and every Keras judge; the training
budget counts the judge's CPU time, not the wall clock.

Real judges: TensorFlow in the bubblewrap sandbox, models written by Keras in the student's own
(sandboxed) process, as grading runs them. Nothing is mocked; the one test that needs a slowed
judge slows it from outside, with SIGSTOP and SIGCONT, the way a busy machine would.
"""

import dataclasses
import re
import threading
import time

import numpy as np
import psutil
import pytest

from autograder.checks import keras_models
from autograder.checks.base import Case, Check, Deadline, Mismatch, notebook_deadline, run_checks
from autograder.checks.keras_protocol import Requirements, Training
from autograder.checks.logistic_regression import BinaryClassifier
from autograder.grading.preprocessors.trusted_verdict import TrustedVerdict
from autograder.sandbox import bwrap
from autograder.sandbox.runner import Call, Reason, run_calls

needs_bwrap = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")

# An honest answer to the logistic_regression task: logistic regression itself.
REFERENCE = """
import keras

def build_binary_classifier(n_features):
    model = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(1)])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return model
"""

# 64,129 parameters and 5 layers pass every budget the JSON shows, but each 64-pixel image is
# stretched to 3,072 steps and swept by a 1,000-wide convolution: about 0.26 CPU seconds per
# batch of 32, 71 s for the task's 30 epochs. Under twice the 60 s budget, so the projection
# lets it train, and it trains until a limit stops it (keras_models' docstring has its figures).
EXPENSIVE = """
import keras

def build_binary_classifier(n_features):
    layers = keras.layers
    inputs = keras.Input(shape=(n_features,))
    x = layers.UpSampling1D(48)(layers.Reshape((n_features, 1))(inputs))
    x = layers.Conv1D(64, 1000, activation="relu")(x)
    outputs = layers.Dense(1)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="adam")
    return model
"""


def any_spec():
    """A compiled model's spec as the student's process sends it (any will do: never built)."""
    dense = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": "dense", "units": 1, "activation": "linear"},
             "build_config": {"input_shape": [None, 64]}}
    return {"__model__": "keras", "compile_config": {"loss": "binary_crossentropy"},
            "config": {"module": "keras", "class_name": "Sequential", "registered_name": None,
                       "config": {"name": "sequential", "layers": [dense]}}}


class SeesTheDeadline(Check):
    """A check (of a function named log_sum_exp) that records the deadline its comparison
    runs under."""

    reference = staticmethod(lambda z: 0.0)

    def __init__(self):
        self.seen = []

    @property
    def exercise_id(self):
        return "test.log_sum_exp"

    @property
    def name(self):
        return "log_sum_exp"

    def cases(self, rng):
        return [Case("one", ([1.0, 2.0],))]

    def compare(self, case, expected, actual):
        self.seen.append(notebook_deadline())


@needs_bwrap
def test_checks_judge_under_the_notebook_deadline_and_only_there():
    check = SeesTheDeadline()
    code = "def log_sum_exp(z):\n    return 1.0\n"
    start = time.monotonic()
    verdicts, _ = run_checks([check], [code], total_timeout=30.0)
    assert verdicts[check.exercise_id].accepted
    [deadline] = check.seen
    assert deadline.seconds == 30.0 and start < deadline.at - 30.0 < time.monotonic()
    assert notebook_deadline() is None   # gone once the notebook is judged
    run_checks([check], [code])          # no total time: no deadline for judges either
    assert check.seen[1] is None


def test_a_judge_is_not_started_once_the_notebook_time_has_run_out():
    """/bin/false as the judge's Python would say "ended while starting" had it been started."""
    with pytest.raises(Mismatch) as info:
        keras_models.judge_model(any_spec(), {}, Requirements(), Training(), python="/bin/false",
                                 deadline=Deadline.after(0))
    assert str(info.value) == (
        "the notebook's verdict time (0 s for running its code and judging every exercise) ran "
        "out before the model could be judged, so it was not judged")
    assert info.value.reason == "timeout"


@needs_bwrap
def test_a_judge_is_stopped_when_the_notebook_time_runs_out():
    start = time.perf_counter()
    with pytest.raises(Mismatch) as info:
        keras_models.judge_model(any_spec(), {}, Requirements(), Training(),
                                 deadline=Deadline.after(1))
    seconds = time.perf_counter() - start
    # TensorFlow's import alone takes longer than 1 s; the judge's own limit for it is 120 s.
    assert str(info.value).startswith("the notebook's verdict time (1 s for running its code "
                                      "and judging every exercise) ran out while starting the "
                                      "judge (loading TensorFlow)"), str(info.value)
    assert info.value.reason == "timeout"
    print(f"\nstopped after {seconds:.1f} s")
    assert seconds < 1 + 10


@needs_bwrap
@pytest.mark.slow
def test_expensive_model_is_stopped_within_the_notebook_verdict_time():
    """The notebook's verdict_timeout ends the judge too: before, the student's process had
    it and the judge its own 360 s on top."""
    verdict = TrustedVerdict(verdict_timeout=40.0)
    check = BinaryClassifier()
    start = time.perf_counter()
    verdicts, report = verdict.verdicts_of([check], [EXPENSIVE])
    seconds = time.perf_counter() - start
    print(f"\nthe whole judgement took {seconds:.1f} s")
    result = verdicts[check.exercise_id]
    assert not result.accepted
    [failure] = result.failures
    assert failure.reason is Reason.TIMEOUT
    assert failure.message == (
        "the notebook's verdict time (40 s for running its code and judging every exercise) ran "
        "out while training the model, so judging the model was stopped. Make the model "
        "smaller or cheaper to run."), failure.message
    assert any("verdict time (40 s" in note for note in result.notes)   # the instructor's log
    assert seconds < 40 + 10


@needs_bwrap
@pytest.mark.slow
def test_honest_model_is_accepted_within_the_notebook_verdict_time():
    verdict = TrustedVerdict()   # the course's configuration: 300 s
    check = BinaryClassifier()
    verdicts, _ = verdict.verdicts_of([check], [REFERENCE])
    assert verdicts[check.exercise_id].accepted, verdicts[check.exercise_id].feedback()


def judges_running():
    """The keras_judge.py processes below this one."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if any("keras_judge.py" in arg for arg in process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass
    return found


class Throttle(threading.Thread):
    """Lets each judge process started under this test run `running` seconds out of every
    `running + paused` (SIGSTOP, then SIGCONT): what a machine busy with other sandboxes does
    to it, without depending on what else this machine is doing."""

    def __init__(self, running=0.1, paused=0.4):
        super().__init__(daemon=True)
        self.running, self.paused = running, paused
        self.done = threading.Event()
        self.cycles = 0

    def judges(self):
        return judges_running()

    def run(self):
        while not self.done.is_set():
            judges = self.judges()
            for process in judges:
                try:
                    process.suspend()
                except psutil.Error:
                    pass
            self.done.wait(self.paused)
            for process in judges:
                try:
                    process.resume()
                except psutil.Error:
                    pass
            self.cycles += bool(judges)
            self.done.wait(self.running)


@needs_bwrap
@pytest.mark.slow
def test_training_budget_counts_cpu_time_not_the_wall_clock():
    """The honest model trains in about 1 CPU second. With a budget of 3 s and the judge let
    run a fifth of the time, training takes over 5 s of wall-clock time: a wall-clock budget
    rejects the model, a CPU-time budget accepts it (the wall-clock backstop is 2.5 x 3 + 10
    = 17.5 s)."""
    check = BinaryClassifier()
    check.train_seconds = 3.0
    X_train, X_test, y_train, y_test = check.data()
    spec = model_spec()
    throttle = Throttle()
    throttle.start()
    try:
        facts, outputs = keras_models.judge_model(
            spec, {"X_train": X_train, "y_train": y_train, "X_test": X_test},
            check.requirements(), Training(check.epochs, check.batch_size, seed=0),
            check.budgets())
    finally:
        throttle.done.set()
        throttle.join()
    wall, cpu = facts.seconds["train"], facts.cpu_seconds["train"]
    print(f"\ntraining: {cpu:.2f} CPU s in {wall:.2f} s of wall-clock time "
          f"({throttle.cycles} pauses)")
    assert throttle.cycles > 10
    assert wall > check.train_seconds > cpu   # the slowing did what this test is about
    labels = check.predict_labels(outputs, facts.from_logits, facts.activation)
    assert np.mean(labels == y_test) >= check.min_accuracy


@needs_bwrap
@pytest.mark.slow
def test_wall_clock_backstop_stops_training_and_says_so():
    """Training that has used little of its CPU budget is still stopped by the wall clock (here
    2 s; by default 2.5 times the budget plus 10 s), as a limit, not as the model's fault."""
    check = BinaryClassifier()
    X_train, X_test, y_train, _ = check.data()
    spec = model_spec(EXPENSIVE)
    start = time.perf_counter()
    with pytest.raises(Mismatch) as info:
        keras_models.judge_model(
            spec, {"X_train": X_train, "y_train": y_train, "X_test": X_test},
            check.requirements(), Training(check.epochs, check.batch_size, seed=0),
            dataclasses.replace(check.budgets(), train_wall_seconds=2.0))
    print(f"\nstopped after {time.perf_counter() - start:.1f} s")
    message = str(info.value)
    assert re.fullmatch(r"training was stopped after 2 s of wall-clock time, in epoch \d+ of 30, "
                        r"having used [\d.]+ s of its 60 s training budget \(CPU time\): the "
                        r"grading machine was too busy to give it the CPU time it needed, so the "
                        r"model could not be judged\.", message), message
    assert info.value.reason == "timeout"


def model_spec(code=REFERENCE):
    """The spec of the model `code` builds, as the student's (sandboxed) process sends it."""
    report = run_calls([code], [Call(key="model", name="build_binary_classifier", args=(64,),
                                     timeout=120)])
    outcome = report.outcomes["model"]
    assert outcome.ok, outcome.error
    return outcome.value
