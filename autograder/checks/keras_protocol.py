"""What the grader and the Keras judge say to each other: the job, the verdict, the budgets.

Both sides use this one module: the grader (autograder.checks.keras_models) imports it, and the
judge (autograder/sandboxed/keras_judge.py) gets it as a companion file beside itself. So it
imports only the standard library. Each message is a dataclass with `to_json` (JSON-safe data)
and `from_json` (which raises ValueError, TypeError or KeyError for data of another shape).

The budgets' values, and why, are in autograder.checks.keras_models' docstring.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_PARAMETERS = 1_000_000
MAX_LAYERS = 50
TRAIN_SECONDS = 60.0           # CPU seconds of the judge process
# The wall-clock backstop of training: WALL_FACTOR times the budget, plus WALL_SLACK seconds for
# a tiny budget. It decides only when the judge got less than 1 / WALL_FACTOR of a core.
WALL_FACTOR = 2.5
WALL_SLACK = 10.0


class Rejected(Exception):
    """The model fails the exercise; the message says why, in the student's terms."""


def fmt_count(n: int | float) -> str:
    """1,000,000 style; absurd counts in scientific notation."""
    n = int(n)
    return f"{n:,}" if n < 10 ** 18 else f"{float(n):.3e}"


def wall_backstop(train_seconds: float) -> float:
    """Wall-clock seconds after which training is stopped, whatever CPU time it used."""
    return WALL_FACTOR * train_seconds + WALL_SLACK


@dataclass
class Budgets:
    """What a model may cost: parameters, layers, and CPU seconds of training (and the wall-clock
    backstop behind them; None: wall_backstop(train_seconds))."""

    max_parameters: int = MAX_PARAMETERS
    max_layers: int = MAX_LAYERS
    train_seconds: float = TRAIN_SECONDS
    train_wall_seconds: float | None = None

    def wall_seconds(self) -> float:
        return self.train_wall_seconds or wall_backstop(self.train_seconds)

    def check(self, parameters: int, layers: int, exact: bool = True) -> None:
        """Rejected, with the sentence the student reads, when the model breaks a budget."""
        if layers > self.max_layers:
            raise Rejected(f"the model has {layers} layers; the budget is {self.max_layers} "
                           f"layers. A model for this exercise needs far fewer: make it smaller.")
        if parameters > self.max_parameters:
            raise Rejected(f"the model has {'' if exact else 'at least '}{fmt_count(parameters)} "
                           f"parameters; the budget is {fmt_count(self.max_parameters)} "
                           f"parameters. A model for this exercise needs far fewer: make it "
                           f"smaller.")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Budgets:
        wall = data.get("train_wall_seconds")
        return cls(int(data["max_parameters"]), int(data["max_layers"]),
                   float(data["train_seconds"]), None if wall is None else float(wall))


@dataclass
class Requirements:
    """What the exercise demands of the model: its input and output widths (None: not checked),
    the losses it may use, and whether its outputs must be logits."""

    n_inputs: int | None = None
    n_outputs: int | None = None
    expected_losses: list[str] = field(default_factory=list)
    require_logits: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Requirements:
        n_inputs, n_outputs = data.get("n_inputs"), data.get("n_outputs")
        return cls(None if n_inputs is None else int(n_inputs),
                   None if n_outputs is None else int(n_outputs),
                   [str(loss) for loss in data.get("expected_losses") or []],
                   bool(data.get("require_logits")))


@dataclass
class Training:
    """How the model is trained: epochs, batch size, and the seed of its initial weights."""

    epochs: int = 30
    batch_size: int = 32
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Training:
        return cls(int(data["epochs"]), int(data["batch_size"]), int(data.get("seed", 0)))


@dataclass
class JudgeJob:
    """The job the grader writes for the judge (JOB.json): the model's config and compile config
    (the student's data), what the exercise requires, the training, the budgets, TensorFlow's
    threads, and the training data as .npy files beside the job ({name: file name})."""

    config: dict[str, Any]
    compile_config: dict[str, Any]
    requirements: Requirements
    training: Training
    budgets: Budgets
    threads: int = 1
    data: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "compile_config": self.compile_config,
                "requirements": self.requirements.to_json(),
                "training": self.training.to_json(), "budgets": self.budgets.to_json(),
                "threads": self.threads, "data": dict(self.data)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JudgeJob:
        return cls(data["config"], data["compile_config"],
                   Requirements.from_json(data["requirements"]),
                   Training.from_json(data["training"]), Budgets.from_json(data["budgets"]),
                   max(1, int(data.get("threads") or 1)),
                   {str(k): str(v) for k, v in data["data"].items()})


def float_to_json(x: float | None) -> Any:
    """A float as JSON-safe data, in autograder.channel's form: nan and inf as
    {"__float__": "nan" | "inf" | "-inf"} (strict JSON has no such numbers); None stays None."""
    if x is None or math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def float_from_json(data: Any) -> float | None:
    """Inverse of float_to_json; ValueError for anything else."""
    if data is None:
        return None
    if isinstance(data, dict) and set(data) == {"__float__"} and \
            data["__float__"] in ("nan", "inf", "-inf"):
        return float(data["__float__"])
    if type(data) in (int, float):
        return float(data)
    raise ValueError("not a number")


def _number(data: Any) -> float:
    value = float_from_json(data)
    if value is None:
        raise ValueError("not a number")
    return value


# The most epochs a result may report losses for: far above any exercise's.
MAX_EPOCHS = 10_000


@dataclass
class Facts:
    """What the judge found about a model that trained: its loss, whether the loss takes logits,
    the activation its last layer declares and the one its outputs show (the probe), its exact
    size, and the wall and CPU seconds of each phase (for the instructor's figures).

    And how it trained, for the student's feedback (all about the student's own model, nothing
    of the held-out set): the optimizer's class name and learning rate as the compiled model has
    them (a schedule: its class name in `schedule`, its initial rate in `learning_rate`; None
    when it could not be read), the training loss of the first batch before any step
    (`start_loss`: the untrained model's), and the mean training loss of each epoch. The losses
    may be nan or inf (training diverged): they cross as float_to_json writes them."""

    loss: str
    from_logits: bool
    static_activation: str
    activation: str
    parameters: int
    layers: int
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    optimizer: str = ""
    learning_rate: float | None = None
    schedule: str = ""
    start_loss: float | None = None
    epoch_losses: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["learning_rate"] = float_to_json(self.learning_rate)
        data["start_loss"] = float_to_json(self.start_loss)
        data["epoch_losses"] = [float_to_json(x) for x in self.epoch_losses]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        losses = data.get("epoch_losses") or []
        if not isinstance(losses, list) or len(losses) > MAX_EPOCHS:
            raise ValueError("the epoch losses are not a list of numbers")
        return cls(str(data["loss"]), bool(data["from_logits"]), str(data["static_activation"]),
                   str(data["activation"]), int(data["parameters"]), int(data["layers"]),
                   {str(k): float(v) for k, v in data["seconds"].items()},
                   {str(k): float(v) for k, v in data["cpu_seconds"].items()},
                   str(data.get("optimizer") or "")[:80],
                   float_from_json(data.get("learning_rate")),
                   str(data.get("schedule") or "")[:80],
                   float_from_json(data.get("start_loss")),
                   [_number(x) for x in losses])


class JudgeVerdict(enum.StrEnum):
    TRAINED = "trained"
    REJECTED = "rejected"


@dataclass
class JudgeResult:
    """The judge's last message. Trained: the facts, and the trained model's outputs on the
    held-out inputs (NaN and inf travel as None). Rejected: the reason, for the student, and
    `stopped` = "timeout" when the judge's wall-clock backstop stopped it (the machine's doing,
    not the model's)."""

    verdict: JudgeVerdict
    reason: str = ""
    stopped: str | None = None
    facts: Facts | None = None
    outputs: list[list[float | None]] = field(default_factory=list)

    @classmethod
    def trained(cls, facts: Facts, outputs: list[list[float]]) -> JudgeResult:
        rows = [[float(v) if math.isfinite(v) else None for v in row] for row in outputs]
        return cls(JudgeVerdict.TRAINED, facts=facts, outputs=rows)

    @classmethod
    def rejected(cls, reason: str, stopped: str | None = None) -> JudgeResult:
        return cls(JudgeVerdict.REJECTED, reason=reason, stopped=stopped)

    def to_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {"event": "result", "verdict": self.verdict.value}
        if self.verdict is JudgeVerdict.REJECTED:
            message["reason"] = self.reason
            if self.stopped:
                message["stopped"] = self.stopped
        else:
            message["facts"] = self.facts.to_json() if self.facts else None
            message["outputs"] = self.outputs
        return message

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JudgeResult:
        verdict = JudgeVerdict(str(data.get("verdict")))
        if verdict is JudgeVerdict.REJECTED:
            return cls.rejected(str(data.get("reason") or "the model was rejected")[:2000],
                                "timeout" if data.get("stopped") == "timeout" else None)
        rows = data["outputs"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ValueError("the outputs are not rows of numbers")
        return cls(verdict, facts=Facts.from_json(data["facts"]), outputs=rows)
