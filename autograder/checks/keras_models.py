"""Checks for exercises that return a compiled Keras model: judged by a sandboxed process.

The student's process hands back the model's JSON config and compile config
(autograder.channel.encode_keras_model). That data is the student's, so nothing is built from it
here: this process (the grading process) never imports Keras or TensorFlow for it. It

1. reads the config as plain JSON (autograder.checks.keras_config.precheck): that it is a
   compiled Keras model of built-in classes, has an input shape, and does not break the budgets
   below by what the JSON alone proves (a layer of a billion units is refused in microseconds);
2. starts autograder/sandboxed/keras_judge.py in the sandbox (bubblewrap, cgroups, rlimits: the
   limits of the student's own process; course code only, no `solutions`, no student code),
   handing it the job (autograder.checks.keras_protocol.JudgeJob: the config, the training
   settings, the budgets) and the training data as .npy files. The judge counts the
   parameters and layers exactly on a graph-mode build that allocates nothing, checks the input
   and output sizes and that the loss matches what the output layer computes (a probe batch, not
   only the last layer's name), trains under a fixed seed within a time budget, and returns its
   outputs on the held-out inputs as JSON;
3. scores those outputs against the held-out labels, which never leave this process.

The judge on standby. Importing TensorFlow is most of a judge's start (3-4 s on the course's
machine, more when it is busy), and the verdict's path was the student's process (which imports
TensorFlow to build the model) THEN the judge (which imported it again): one import longer than
the kernel, so a Keras notebook's grading time was set by its verdict. So the judge's process is
started when the notebook's verdict starts (KerasModelCheck.prepared, which base.run_checks
enters before the student's process: StartTrustedVerdict's thread, or TrustedVerdict's), in the
same sandbox and under the same limits as before (runner.standby, standby_judge). It imports
TensorFlow while the student's process runs, holding nothing of the student's: no job, no data,
no config. When the model's config arrives, judge_model writes the job and the data into the
judge's scratch folder and sends the job's path on its stdin; from there the judge runs the same
code as a judge started for the job. The "starting" phase and the notebook's Deadline count as
before; the training budget counts CPU time from the start of training, so the import, whenever
it happened, never spends it. A judge that gets no job (no model, an error, the deadline) is
stopped and its sandbox removed when the notebook's verdict ends; one that judged, as soon as it
has. Its facts then say so: seconds["waited"], from the end of its import to its job.

Budgets (stated to the student in every rejection):

- MAX_PARAMETERS = 1,000,000 parameters: 150 times the digits reference; a 64-512-512-10
  multilayer perceptron (300,000) or a small convolutional network fits, and so does any model
  these 64-pixel images deserve. A million float32 weights and Adam's two slots are 12 MB.
- MAX_LAYERS = 50 layers (nested models counted by their layers, input layers not): room for
  deep experiments with normalisation and dropout between the layers.
- TRAIN_SECONDS = 60 s of the judge process's CPU time for the exercise's epochs, 25 to 60
  times what the references need (below). CPU time, not the wall clock, so that a verdict
  never depends on what else the machine grades: a judge waiting for the CPU behind other
  sandboxes spends no budget (keras_judge). The judge projects the time from the first batches
  and stops training as soon as the projection passes twice the budget (noise in the first
  batches of a fast model must not reject it), or its CPU time passes the budget.
- Wall-clock backstops, generous: the judge stops training after 2.5 x TRAIN_SECONDS + 10 s
  (160 s; keras_protocol.wall_backstop), a rejection that says the machine was too busy; here
  the judge's phases (PHASE_SECONDS) may take 120 s to start and import TensorFlow (from the
  job's hand-over, for a judge on standby), 90 s to build the model and run the probe, 175 s
  to train, 60 s to predict the held-out set.
- One deadline per notebook over all of these: the notebook's verdict time (TrustedVerdict's
  verdict_timeout, 300 s: its code's process, then every judge; base.notebook_deadline)
  stops a judge when it runs out, and a judge is not started once it has.
- Memory: the sandbox's limit (c.SandboxLimits.memory_bytes in nbgrader_config.py, 4 GB); a
  judge killed at it is reported as such.

Feedback. A model that trains but falls short of the bar (or whose held-out outputs are nan)
is told what the judge saw, so that the student can act without the grader's code: the
optimizer and learning rate as the compiled model has them (a schedule: its name and initial
rate), the training loss L0 on the first batch (before any step: the untrained model's), over
epoch 1 and over the last epoch Ln, the accuracy against the bar, and one sentence of advice
(training_advice). All of it is about the student's own model (keras_protocol.Facts); nothing
of the held-out set crosses back. The advice:

| the training loss                     | optimizer                         | advice               |
|---------------------------------------|-----------------------------------|----------------------|
| nan or inf at some epoch              | any                               | a smaller rate       |
| Ln > 1.1 L0, or an epoch above 2 L0   | any                               | a smaller rate       |
| did not fall (Ln > 0.98 L0)           | not ADAPTIVE, or a rate < 0.001   | a larger rate / Adam |
| did not fall (Ln > 0.98 L0)           | ADAPTIVE (Adam...) at >= 0.001    | units, ReLU          |
| fell ("barely" when Ln > L0 / 2)      | not ADAPTIVE, or a rate < 0.001   | a larger rate / Adam |
| fell                                  | ADAPTIVE (Adam...) at >= 0.001    | a larger model       |

Each branch measured through the judge on the digits (64-32 ReLU network unless said, 30
epochs, L0 / epoch 1 / epoch 30, held-out accuracy): SGD at 1000: 2.31 / nan / nan, every
output nan; SGD at 50: 2.31 / 3.85e+08 / 17.2, 10.2% (rose); SGD at 0.001: 2.31 / 2.37 /
2.21, 23.6% (barely fell); SGD at its default 0.01: 2.31 / 2.33 / 0.511, 88.9% (fell, not far
enough); Adam at 0.001 with 1 hidden unit: 2.2 / 2.31 / 1.97, 21.8%, with 3 hidden units: 2.3 /
2.24 / 0.954, 73.8% (a larger model). The loss curves of the two "barely fell" cases, a slow
SGD and a tiny model with Adam, are alike: only the optimizer tells them apart, so a tiny model
trained with SGD is first told to take Adam, then, with Adam, to grow. A loss that stays where
the untrained model starts is its own branch: the notes' EKG network taken literally (one
filter per layer, sigmoid hidden units, Adam at 0.001) goes 0.688 / 0.696 / 0.692 (log 2 is
0.693: it learned nothing) and reaches 47.5%.

What the judge measures (Facts.cpu_seconds and Facts.seconds) on the course's 2-core
machine, one core busy with other work: the judge has one core (its cgroup quota; TensorFlow's
threads set to match), so on that core CPU and wall seconds agree but for waiting. CPU seconds /
wall seconds per phase (one range where both fall in it), three runs each:

| reference (parameters) | start (TF import) | build + probe | train             | predict   |
|------------------------|-------------------|---------------|-------------------|-----------|
| digits (6,570)         | 3.2-3.3 / 3.1-3.2 | 0.33-0.37     | 2.2-2.4 / 2.3-2.9 | 0.05-0.07 |
| binary (1,057)         | 3.2-3.3 / 3.1-3.3 | 0.32-0.40     | 1.0-1.1 / 1.1-1.9 | 0.04-0.05 |
| multilabel (16,643)    | 3.2-3.3 / 3.1-3.2 | 0.31-0.36     | 1.8-1.9 / 1.9-2.9 | 0.06-0.07 |
| EKG convolution (345)  | 3.2-3.3 / 3.1-3.2 | 0.36-0.41     | 1.7-1.8 / 1.8-1.9 | 0.05-0.06 |

A reference is judged in 5-7 s. Two models that break the training budget (both in the tests):

- 64,129 parameters for the binary task (the 64 pixels upsampled 48 times, then a Conv1D of 64
  filters 1,000 wide): 0.26 CPU s a batch, 71 CPU s for its 30 epochs, under twice the budget,
  so it trains until its CPU time reaches 60 s (epoch 26): judged in 64 s (63.7 CPU s), as it
  was with a wall-clock budget (64.5 s, epoch 24). When other work takes its core, it is judged
  in longer (162 s measured, its core shared with four busy processes) but the same verdict, and
  never past the notebook's verdict time.
- The digits upsampled to 256 x 256 for three Conv2D layers: 0.25 CPU s a batch, 321 s
  projected, rejected after 5.4 s.
"""

import contextlib
import contextvars
import dataclasses
import math
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograder.channel import End, Reader
from autograder.checks import keras_protocol
from autograder.checks.base import Case, Check, Deadline, Mismatch, notebook_deadline
from autograder.checks.keras_config import precheck
from autograder.checks.keras_protocol import (
    MAX_LAYERS,
    MAX_PARAMETERS,
    TRAIN_SECONDS,
    Budgets,
    Facts,
    JudgeJob,
    JudgeResult,
    JudgeVerdict,
    Requirements,
    Training,
    wall_backstop,
)
from autograder.sandbox import process, runner
from autograder.sandbox.limits import Limits, grading_limits

# The judge runs as a script in the sandbox, with its companions: the channel's writer and the
# messages it shares with this side.
JUDGE_SCRIPT = Path(__file__).resolve().parents[1] / "sandboxed" / "keras_judge.py"
JUDGE_COMPANIONS = (Path(runner.CHANNEL_FILE), Path(keras_protocol.__file__).resolve())

PHASES = ("starting", "building", "training", "predicting")
# Wall-clock limits of the judge's phases, as seen from here. Training's follows the budget:
# the judge's own wall-clock backstop (keras_protocol.wall_backstop), plus TRAINING_SLACK so that
# the judge, which can say more, normally speaks first.
TRAINING_SLACK = 15.0
PHASE_SECONDS = {"starting": 120.0, "building": 90.0,
                 "training": wall_backstop(TRAIN_SECONDS) + TRAINING_SLACK,
                 "predicting": 60.0}
PHASE_WORDS = {"starting": "starting the judge (loading TensorFlow)",
               "building": "building the model and running it on test inputs",
               "training": "training the model",
               "predicting": "predicting the held-out examples"}

# ----------------------------------------------------------------------------------------------
# The judge process.

class JudgeStopped(Mismatch):
    """The model got no verdict: the judge was stopped at a time limit (its phases', its own
    wall-clock backstop's, the notebook's deadline) or the memory limit, or it died. `reason` is
    "timeout" or "crash" (runner.Reason's values), for the instructor's log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def judge_threads(limits: Limits) -> int:
    """TensorFlow's threads in the judge: the sandbox's CPU quota (see keras_judge)."""
    return max(1, math.ceil(getattr(limits, "cpu_cores", 1.0)))


def standby_judge(python: str | None = None, limits: Limits | None = None,
                  ) -> contextlib.AbstractContextManager[runner.Standby]:
    """A judge process started now, before any model exists (runner.standby: the sandbox and
    limits judge_model's would have): it imports TensorFlow meanwhile, holding no student
    data, and judge_model(standby=...) hands it its job. Gone when the block ends, job or not."""
    limits = limits or grading_limits()
    return runner.standby(JUDGE_SCRIPT, [str(judge_threads(limits))], python, limits,
                          prefix="keras-judge", companions=JUDGE_COMPANIONS)


def judge_model(spec: dict, data: dict[str, np.ndarray], requirements: Requirements,
                training: Training, budgets: Budgets | None = None,
                phase_seconds: dict[str, float] | None = None, python: str | None = None,
                limits: Limits | None = None, deadline: Deadline | None = None,
                standby: runner.Standby | None = None) -> tuple[Facts, np.ndarray]:
    """Judge a model spec in the sandboxed judge process: (facts, outputs) when it trained,
    Mismatch with the reason otherwise. data: {"X_train", "y_train", "X_test"} arrays.

    `deadline` (base.Deadline) is the notebook's: the judge is not started once it has run
    out, and is stopped when it runs out, whatever its own limits say. `standby`: a judge
    started earlier (standby_judge) that has had no job yet takes this one (its python and
    limits stand); without it, or once it has had one, a judge is started now."""
    budgets = dataclasses.replace(budgets or Budgets())
    budgets.train_wall_seconds = budgets.wall_seconds()
    phases = dict(PHASE_SECONDS, training=budgets.train_wall_seconds + TRAINING_SLACK)
    phases.update(phase_seconds or {})
    if standby is not None and standby.handed_over:
        standby = None
    limits = standby.run.limits if standby is not None else (limits or grading_limits())
    if deadline is not None and deadline.left() <= 0:
        raise JudgeStopped(deadline.ran_out("before the model could be judged, so it was not "
                                            "judged"), "timeout")

    def job(scratch: str) -> dict[str, Any]:
        files = {}
        for name, array in data.items():
            files[name] = f"{name}.npy"
            np.save(os.path.join(scratch, files[name]), np.asarray(array), allow_pickle=False)
        return JudgeJob(spec["config"], spec["compile_config"], requirements, training, budgets,
                        # TensorFlow's threads: the sandbox's CPU quota (see keras_judge).
                        threads=judge_threads(limits), data=files).to_json()

    with contextlib.ExitStack() as stack:
        if standby is not None:
            run = standby.hand_over(job)
            stack.callback(standby.stop)   # judged or stopped: it has done its one job
        else:
            run = stack.enter_context(runner.confined(JUDGE_SCRIPT, job, python, limits,
                                                      prefix="keras-judge",
                                                      companions=JUDGE_COMPANIONS))
        result, phase, stop = _wait_for_result(Reader(run.proc, run.read_fd), phases, deadline)
        if stop:
            status = process.exit_status(run.proc, wait=2.0) if stop == "ended" else ""
            memory = bool(run.group and run.group.memory_limit_hit())
            raise JudgeStopped(_stopped(stop, phase, phases, budgets, status, memory,
                                        run.limits, run.output_path, deadline),
                               "timeout" if stop in ("timeout", "deadline") and not memory
                               else "crash")
    assert result is not None   # no stop: _wait_for_result returned the result message
    return _read_result(result)


def _wait_for_result(reader: Reader, phases: dict[str, float], notebook: Deadline | None = None,
                     ) -> tuple[dict[str, Any] | None, str, str | None]:
    """(result message, phase, None) or (None, phase, 'timeout' | 'deadline' | 'ended' |
    'oversized'); 'deadline' when the notebook's Deadline ran out."""
    start = time.monotonic()
    run_deadline = start + sum(phases[p] for p in PHASES)   # no message can extend this
    if notebook is not None and notebook.at < run_deadline:
        run_deadline = notebook.at
    phase, deadline = "starting", start + phases["starting"]
    try:
        while True:
            message = reader.next(min(deadline, run_deadline))
            if message is End.TIMEOUT:
                ran_out = notebook is not None and time.monotonic() >= notebook.at
                return None, phase, "deadline" if ran_out else "timeout"
            if message in (End.ENDED, End.CLOSED):
                return None, phase, "ended"
            if message is End.OVERSIZED:
                return None, phase, "oversized"
            if message.get("event") == "phase" and message.get("phase") in PHASES and \
                    PHASES.index(message["phase"]) > PHASES.index(phase):
                phase = message["phase"]
                deadline = time.monotonic() + phases[phase]
            elif message.get("event") == "result":
                return message, phase, None
    finally:
        reader.close()


def _stopped(stop: str, phase: str, phases: dict[str, float], budgets: Budgets, status: str,
             memory: bool, limits: Limits, output_path: str, notebook: Deadline | None = None,
             ) -> str:
    """The reason a judge process that sent no result gives the student."""
    words = PHASE_WORDS[phase]
    if memory:
        return (f"the model needed more memory than grading allows "
                f"({limits.memory_bytes >> 20} MB) while {words}: make it smaller")
    if stop == "deadline":
        assert notebook is not None   # 'deadline' means the notebook's Deadline ran out
        advice = " Make the model smaller or cheaper to run." if phase == "training" else ""
        return notebook.ran_out(f"while {words}, so judging the model was stopped.{advice}")
    if stop == "timeout":
        if phase == "training":
            return (f"training was stopped after {phases[phase]:g} s of wall-clock time (a "
                    f"backstop behind the training budget of {budgets.train_seconds:g} s "
                    f"of CPU time). Make the model smaller or cheaper to run.")
        return f"judging the model was stopped: {words} took longer than {phases[phase]:g} s"
    if stop == "oversized":
        return "the process judging the model sent more data than a verdict needs"
    tail = ""
    try:
        with open(output_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
        tail = f": {lines[-1].strip()[:200]}" if lines else ""
    except OSError:
        pass
    return f"the process judging the model ended while {words} ({status or 'no result'}){tail}"


def _read_result(message: dict) -> tuple[Facts, np.ndarray]:
    """(facts, outputs) of a 'trained' result; Mismatch for a rejection or malformed data."""
    try:
        result = JudgeResult.from_json(message)
        if result.verdict is JudgeVerdict.REJECTED:
            if result.stopped == "timeout":   # the judge's wall-clock backstop
                raise JudgeStopped(result.reason, "timeout")
            raise Mismatch(result.reason)
        facts = result.facts
        if facts is None:
            raise ValueError("a trained result without facts")
        outputs = np.array([[np.nan if v is None else float(v) for v in row]
                            for row in result.outputs], dtype=float)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        raise Mismatch("the process judging the model sent a result that could not be read") \
            from None
    return facts, outputs


# ----------------------------------------------------------------------------------------------
# The check.

# The judges on standby for the notebook being judged, by id() of their check (prepared()): a
# context variable, as base's notebook deadline, since checks are shared by notebooks judged in
# several threads at once.
_STANDBY: contextvars.ContextVar[dict[int, runner.Standby] | None] = contextvars.ContextVar(
    "keras_standby_judges", default=None)

class KerasModelCheck(Check):
    """Build the student's model in their process; judge its config in the judge process."""

    build_timeout = 120.0
    epochs = 30
    batch_size = 32
    seed = 0
    min_accuracy = 0.9
    n_inputs: int | None = None
    n_outputs: int | None = None
    expected_losses: tuple[str, ...] = ()
    require_logits = False
    max_parameters = MAX_PARAMETERS
    max_layers = MAX_LAYERS
    train_seconds = TRAIN_SECONDS

    def build_args(self) -> tuple:
        return ()

    def cases(self, rng: np.random.Generator) -> list[Case]:
        return [Case(f"the model returned by {self.signature}", self.build_args(),
                     kind="fixed", timeout=self.build_timeout, show_input=False)]

    def expected(self, case: Case) -> None:
        return None   # never the reference: it would import TensorFlow here

    def data(self) -> Sequence[np.ndarray]:
        """(X_train, X_test, y_train, y_test) to train and judge on."""
        raise NotImplementedError

    def predict_labels(self, outputs: np.ndarray, from_logits: bool, activation: str,
                       ) -> np.ndarray:
        raise NotImplementedError

    def budgets(self) -> Budgets:
        return Budgets(self.max_parameters, self.max_layers, self.train_seconds)

    def requirements(self) -> Requirements:
        return Requirements(self.n_inputs, self.n_outputs, list(self.expected_losses),
                            bool(self.require_logits))

    def training(self) -> Training:
        return Training(self.epochs, self.batch_size, self.seed)

    @contextlib.contextmanager
    def prepared(self) -> Iterator[None]:
        """A judge on standby (standby_judge) for the notebook being judged: started now, it
        imports TensorFlow while the student's process runs, and compare() hands it the
        model. Stopped, its sandbox removed, when the notebook's verdict ends, whether or not
        a model came. Where it cannot start, compare() starts a judge as it always did."""
        with contextlib.ExitStack() as stack:
            try:
                standby = stack.enter_context(standby_judge())
            except Exception:  # noqa: BLE001 - the judge compare() starts says what is wrong
                yield
                return
            token = _STANDBY.set({**(_STANDBY.get() or {}), id(self): standby})
            try:
                yield
            finally:
                _STANDBY.reset(token)

    def compare(self, case: Case, expected: Any, actual: Any) -> None:
        precheck(actual, self.n_inputs, self.budgets())
        X_train, X_test, y_train, y_test = self.data()
        facts, outputs = judge_model(
            actual, {"X_train": X_train, "y_train": y_train, "X_test": X_test},
            self.requirements(), self.training(), self.budgets(), deadline=notebook_deadline(),
            standby=(_STANDBY.get() or {}).get(id(self)))
        if len(outputs) != len(y_test):
            raise Mismatch(f"the model made {len(outputs)} predictions for {len(y_test)} "
                           f"held-out examples")
        bad = int((~np.isfinite(outputs)).sum())
        if bad:
            raise Mismatch(f"after {self.epochs} epochs {bad} of the model's outputs on the "
                           f"held-out examples are nan or inf.\n"
                           + training_feedback(facts, self.batch_size))
        predicted = self.predict_labels(outputs, facts.from_logits, facts.activation)
        accuracy = float((np.asarray(predicted) == y_test).mean())
        if not accuracy >= self.min_accuracy:
            raise Mismatch(f"after {self.epochs} epochs the held-out accuracy is "
                           f"{accuracy:.1%}; it must reach {self.min_accuracy:.0%}.\n"
                           + training_feedback(facts, self.batch_size))


# ----------------------------------------------------------------------------------------------
# The feedback on a model that trained but fell short: what the judge saw, and what usually
# fixes it (the module docstring's decision table).

# Optimizers that adapt their steps and train the course's networks at their default rate
# (0.001) within the exercises' epochs.
ADAPTIVE = frozenset({"Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Lion", "Lamb"})
ADAPTIVE_RATE = 1e-3
# "Barely fell": the last epoch's loss above this fraction of the untrained model's.
FELL_LITTLE = 0.5
# "Did not fall": above this fraction (the measured no-learning runs end within 1% of where they
# started; SGD at 0.001, which does learn slowly, ends 4% lower). "Rose": above ROSE times.
DID_NOT_FALL, ROSE = 0.98, 1.1
SMALLER = "divide it by 10 until the loss falls."


def _number(x: float) -> str:
    return f"{x:.3g}"


def training_facts(facts: Facts, batch_size: int) -> str:
    """One sentence: the optimizer, its rate, and the training loss at the start and end."""
    optimizer = facts.optimizer or "its optimizer"
    if facts.schedule:
        initial = "" if facts.learning_rate is None else f" starting at {facts.learning_rate:g}"
        how = f"{optimizer}, its learning rate a schedule ({facts.schedule}){initial}"
    elif facts.learning_rate is None:
        how = optimizer
    else:
        how = f"{optimizer} at learning rate {facts.learning_rate:g}"
    text = f"The judge trained the model with {how}, batch size {batch_size}"
    losses = facts.epoch_losses
    if not losses:
        return text + "."
    start = "" if facts.start_loss is None else \
        f"{_number(facts.start_loss)} on the first batch, "
    return (text + f": the training loss was {start}{_number(losses[0])} over epoch 1 and "
            f"{_number(losses[-1])} over epoch {len(losses)}.")


def training_advice(facts: Facts) -> str:
    """One sentence of advice from the training loss and the optimizer ("" without losses)."""
    losses = facts.epoch_losses
    if not losses:
        return ""
    start = losses[0] if facts.start_loss is None else facts.start_loss
    seen = [start, *losses]
    if not all(math.isfinite(x) for x in seen):
        return ("The loss became nan or inf: the steps are far too large. Use a smaller "
                f"learning rate: {SMALLER}")
    if losses[-1] > ROSE * abs(start) or max(losses) > 2 * abs(start):
        return f"The loss rose: the steps overshoot. Use a smaller learning rate: {SMALLER}"
    rate = facts.learning_rate
    slow = facts.optimizer not in ADAPTIVE or (rate is not None and rate < ADAPTIVE_RATE)
    if losses[-1] > DID_NOT_FALL * start:
        if slow:
            return (f"The loss did not fall in {len(losses)} epochs: the steps are too small. "
                    f"A larger learning rate, or Adam at its default rate ({ADAPTIVE_RATE:g}), "
                    f"gets further in the same epochs.")
        return (f"The loss did not fall from where the untrained model starts, although "
                f"{facts.optimizer} at this rate takes large enough steps: the model as built "
                f"learns nothing. Give it more units or filters, and ReLU hidden units (sigmoid "
                f"units saturate and pass little gradient back).")
    how = "barely fell" if start > 0 and losses[-1] > FELL_LITTLE * start else \
        f"fell, but not far enough in {len(losses)} epochs"
    if slow:
        return (f"The loss {how}: the steps are too small. A larger learning rate, or Adam at "
                f"its default rate ({ADAPTIVE_RATE:g}), gets further in the same epochs.")
    return (f"The loss {how}, although {facts.optimizer} at this rate takes large enough steps: "
            f"the model is probably too small to fit the task. Give it more units (or filters) "
            f"or layers.")


def training_feedback(facts: Facts, batch_size: int) -> str:
    """The lines a rejection adds about how the model trained."""
    return "\n".join(line for line in (training_facts(facts, batch_size),
                                       training_advice(facts)) if line)
