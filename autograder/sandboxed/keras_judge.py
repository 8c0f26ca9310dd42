"""The process that rebuilds, runs and trains a student's Keras model, and reports plain numbers.

A Keras-model exercise hands back the model's JSON config and compile config (the student's
process sends them, autograder.channel.encode_keras_model); everything built from that
student-controlled data runs HERE, never in the grading process. autograder.checks.keras_models
copies this file and its companions (channel.py: the result pipe's writer; keras_protocol.py: the
job and the verdict) into a scratch directory and runs it in the sandbox, under the same limits as
the student's own process:

    python -I keras_judge.py JOB.json RESULT_FD

or, started on standby as soon as the notebook's verdict starts (keras_models.standby_judge),
before any student data exists:

    python -I keras_judge.py --standby THREADS RESULT_FD

It then imports Keras and TensorFlow (the slow part of starting: 3-4 s) while the student's
process runs, reads one line from its stdin, the path of JOB.json once the grader has written it
and the data beside it, and goes on exactly as the first form; an empty stdin means no job.

It imports only the standard library, NumPy, Keras and its companions (nothing else of the course:
no `solutions`, no student code; Keras rebuilds the model in safe mode, so no Lambda or custom
class can run). Nothing of the grader imports this file.

JOB.json is a keras_protocol.JudgeJob (autograder.checks.keras_models.judge_model writes it; the
data are .npy files beside it). The judge writes JSON lines to RESULT_FD:

    {"event": "phase", "phase": "building" | "training" | "predicting"}
    then one keras_protocol.JudgeResult: rejected (with the reason, for the student, and
    "stopped": "timeout" when the wall clock stopped it) or trained (facts and outputs).

`outputs` are the trained model's outputs on the held-out inputs; the held-out labels never
enter this process, the grading process scores the outputs itself.

In order, the judge (1) reads the loss from the compile config, (2) builds the model in a
TensorFlow graph, where no weight is allocated, to count its parameters and layers against the
budgets and to check its input and output sizes, (3) builds it for real under a fixed seed and
runs it on a probe batch, to see whether its outputs are already probabilities, and (4) trains it,
projecting the training time from the first batches and stopping as soon as it would break the
training budget. The facts it reports include how the model trained, for the student's feedback:
the optimizer and learning rate, and the training loss of the first batch and of each epoch.

The training budget is this process's CPU time (time.process_time(): every thread of it), so a
verdict does not depend on what else the grading machine is doing: a judge that waits for the
CPU behind other sandboxes spends wall-clock time, not budget. TensorFlow runs `threads` threads
(the sandbox's CPU quota), so on an idle machine CPU seconds and wall seconds agree. Wall-clock
time only bounds training as a backstop (Budgets.train_wall_seconds, generous).
"""

import difflib
import json
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

STARTED = time.monotonic()   # TensorFlow's import, the slow part of starting, comes after

# `python -I` leaves this script's folder off sys.path: its companions are there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import channel  # noqa: E402 - companion files, importable only from here on
from keras_protocol import (  # noqa: E402
    Budgets,
    Facts,
    JudgeJob,
    JudgeResult,
    Rejected,
    Requirements,
)

WATCHDOG_GRACE = 2.0         # CPU seconds past the budget before the watchdog stops a batch
WATCHDOG_POLL = 0.25         # seconds between the watchdog's looks at the clocks

PROBABILITY_OUTPUTS = ("sigmoid", "softmax")

# The probe batch: PROBE_ROWS standard-normal inputs at each of PROBE_SCALES, run through the
# freshly built model. Squashed outputs show two signatures a linear output with random initial
# weights essentially never has:
# - softmax: every row in [0, 1] and summing to 1. A linear layer z = W h + b would need W h + b
#   on the hyperplane sum(z) = 1 for every probe row; with random W (and b = 0, Keras' default)
#   that does not happen by chance, and constant or dead outputs (all 0) sum to 0, not 1.
# - sigmoid: every value in [0, 1], and at the largest scale (1e4) every value within 1e-3 of 0
#   or 1 (or exactly 0.5: a sigmoid of exactly 0, from dead ReLUs), some of them near 1. A
#   sigmoid of pre-activations that grow with the input saturates there. A linear output does
#   not: a fresh network of Dense/Conv layers with ReLU or linear activations and zero biases
#   is positively homogeneous, f(c x) = c f(x), so at scale 1e4 an output is either exactly 0
#   or 10^4 times its value at scale 1, far outside [0, 1] unless that value is below 1e-4; after
#   bounded hidden units (sigmoid, tanh) or a normalisation layer it is a sum of random weights
#   times bounded values, within 1e-3 of 0 or 1 on all 16 rows only by a fluke (each random
#   weight involved would have to fall within 1e-3 of 0 or 1: odds below 1 in 1000 for a single
#   hidden unit, and falling with every unit); and a dead network (constant 0) has none near 1.
# So a correct linear-output model is not called "probabilities". The price is that a sigmoid
# whose pre-activations are normalised (so never saturate) is not detected here: the static
# check of the last layer and the training still judge such a model.
# The rows of scale 1 and 100 keep a model whose large-scale outputs overflow (exp activations)
# judged on finite rows: rows with nan or inf are left out.
PROBE_SCALES = (1.0, 100.0, 10000.0)
PROBE_ROWS = 16
PROBE_SEED = 20240607


# ----------------------------------------------------------------------------------------------
# Pure decisions (no Keras): tested directly.

def probability_kind(outputs: Any) -> str | None:
    """'softmax' or 'sigmoid' when the outputs of the probe batch (PROBE_SCALES blocks of
    PROBE_ROWS rows, in order) carry that signature, None otherwise (see PROBE_SCALES)."""
    outputs = np.asarray(outputs, dtype=float)
    outputs = outputs.reshape(len(outputs), -1) if outputs.ndim else outputs.reshape(1, 1)
    keep = np.isfinite(outputs).all(axis=1)
    finite = outputs[keep]
    if finite.size == 0 or not ((finite >= -1e-6) & (finite <= 1 + 1e-6)).all():
        return None
    if finite.shape[1] >= 2 and np.allclose(finite.sum(axis=1), 1.0, rtol=0, atol=1e-3):
        return "softmax"
    large = outputs[-PROBE_ROWS:][keep[-PROBE_ROWS:]]
    # 0.5 exactly: a sigmoid of a pre-activation that is exactly 0 (dead ReLUs, zero biases).
    saturated = (np.abs(large) <= 1e-3) | (np.abs(large - 1) <= 1e-3) | \
        (np.abs(large - 0.5) <= 1e-6)
    if large.size and saturated.all() and (large >= 1 - 1e-3).any():
        return "sigmoid"
    return None


def output_range(outputs: Any) -> str:
    outputs = np.asarray(outputs, dtype=float)
    finite = outputs[np.isfinite(outputs)]
    if finite.size == 0:
        return "not finite (nan or inf)"
    return f"from {finite.min():.4g} to {finite.max():.4g}"


def check_output(static: str, kind: str | None, from_logits: bool, value_range: str) -> None:
    """Rejected unless the output layer and the loss agree: static is the last layer's declared
    activation, kind what the probe saw (probability_kind)."""
    if from_logits:
        if static != "linear":
            raise Rejected(
                f"the output layer applies '{static}' but the loss has from_logits=True: the "
                f"loss would apply it a second time. Use a linear output layer with "
                f"from_logits=True, or keep '{static}' and set from_logits=False (where the "
                f"task allows it).")
        if kind:
            what = ("every row is in [0, 1] and sums to 1, as a softmax makes it"
                    if kind == "softmax" else "every value is in [0, 1], as a sigmoid makes it")
            raise Rejected(
                f"the model's outputs are already probabilities (on random inputs "
                f"{what}), although its last layer looks linear: some layer before it "
                f"squashes the outputs. The loss has from_logits=True and would apply "
                f"{kind} a second time. Make the last layer with an activation a linear "
                f"one and keep from_logits=True.")
        return
    if static in PROBABILITY_OUTPUTS or (static == "linear" and kind):
        return
    if static == "linear":
        raise Rejected(f"the output layer is linear (on random inputs its outputs range "
                       f"{value_range}: not probabilities) but the loss expects probabilities "
                       f"(from_logits=False). Use from_logits=True with a linear output layer.")
    raise Rejected(f"the output layer is '{static}' but the loss expects probabilities "
                   f"(from_logits=False). Use from_logits=True with a linear output layer.")


def check_loss(loss_name: str, from_logits: bool, requirements: Requirements) -> None:
    """Rejected unless the loss is one the task allows (keras_protocol.Requirements)."""
    expected = requirements.expected_losses
    if expected and loss_name not in expected:
        raise Rejected(f"the loss is {loss_name}; this task needs one of: "
                       + ", ".join(sorted(expected)))
    if requirements.require_logits and not from_logits:
        raise Rejected("this task asks for a linear output layer and a loss with "
                       "from_logits=True (see the numerical-stability chapter)")


def check_shapes(input_shapes: list[tuple], output_shapes: list[tuple],
                 requirements: Requirements) -> None:
    """Rejected unless the model has one input and one output of the task's sizes."""
    n_inputs, n_outputs = requirements.n_inputs, requirements.n_outputs
    if len(input_shapes) != 1:
        raise Rejected(f"the model has {len(input_shapes)} inputs; it needs exactly one, "
                       f"keras.Input(shape=({n_inputs},))")
    if len(output_shapes) != 1:
        raise Rejected(f"the model has {len(output_shapes)} outputs; it needs exactly one "
                       f"output layer")
    shape = tuple(input_shapes[0])
    if n_inputs is not None and shape[1:] != (n_inputs,):
        raise Rejected(f"the model's input shape is {shape}, expected (batch, {n_inputs}): "
                       f"start it with keras.Input(shape=({n_inputs},))")
    outputs = tuple(output_shapes[0])[-1] if output_shapes[0] else None
    if n_outputs is not None and outputs != n_outputs:
        raise Rejected(f"the model has {outputs} outputs, expected {n_outputs}")


def projected_seconds(elapsed: float, timed_batches: int, timed_seconds: float,
                      batches_left: int) -> float:
    """The training time if the remaining batches run at the measured steady rate."""
    return elapsed + timed_seconds / timed_batches * batches_left


# ----------------------------------------------------------------------------------------------
# Keras.

def import_keras(threads: int = 1) -> Any:
    """Keras, with TensorFlow's thread pools set to `threads` before it runs anything: more
    threads than the sandbox's CPU quota would only queue for it, and would make the CPU
    seconds that the training budget counts outrun the wall clock."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return keras


def short_error(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:limit]}"


def failed(what: str, exc: BaseException) -> Rejected:
    """Rejected: `what` failed with exc; running out of memory is said in so many words."""
    if isinstance(exc, MemoryError) or "ResourceExhausted" in type(exc).__name__:
        return Rejected(f"{what} needed more memory than grading allows: make the model "
                        f"smaller ({short_error(exc, 150)})")
    return Rejected(f"{what} failed: {short_error(exc)}")


def resolve_loss(keras: Any, compile_config: Any) -> tuple[str, bool]:
    """(name, from_logits) of the one loss in a compile config, or Rejected."""
    loss = compile_config.get("loss") if isinstance(compile_config, dict) else None
    if loss is None:
        raise Rejected("the model is compiled without a loss: call "
                       "model.compile(loss=..., optimizer=...)")
    if isinstance(loss, (list, dict)) and not (isinstance(loss, dict) and "class_name" in loss):
        raise Rejected("the model has several losses; it needs exactly one")
    if isinstance(loss, str):
        try:
            resolved = keras.losses.get(loss)
        except Exception:  # noqa: BLE001 - Keras says "Could not interpret loss identifier"
            known = [n for n in dir(keras.losses) if not n.startswith("_")
                     and n not in ("Loss", "get", "serialize", "deserialize")]
            close = difflib.get_close_matches(loss, known, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise Rejected(f"the loss '{loss[:80]}' is not a Keras loss: Keras accepted the name "
                           f"when compiling but cannot train with it.{hint}") from None
    else:
        try:
            resolved = keras.saving.deserialize_keras_object(loss, safe_mode=True)
        except Exception as exc:  # noqa: BLE001
            raise Rejected(f"the model's loss could not be rebuilt: {short_error(exc)}") from None
    if isinstance(resolved, keras.losses.Loss):
        return type(resolved).__name__, bool(resolved.get_config().get("from_logits", False))
    if callable(resolved):
        return getattr(resolved, "__name__", type(resolved).__name__), False
    raise Rejected(f"the model's loss is not a loss function ({type(resolved).__name__})")


def leaf_layers(model: Any, keras: Any) -> Iterator[Any]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer, keras)
        elif type(layer).__name__ != "InputLayer":
            yield layer


def count_parameters(model: Any) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in model.weights)


def model_shapes(model: Any) -> tuple[list[tuple], list[tuple]]:
    """([input shapes], [output shapes]); AttributeError/ValueError when the model is unbuilt."""
    return ([tuple(t.shape) for t in model.inputs], [tuple(t.shape) for t in model.outputs])


def deserialize(keras: Any, config: dict) -> Any:
    try:
        return keras.saving.deserialize_keras_object(json.loads(json.dumps(config)),
                                                     safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - anything Keras refuses is the student's to fix
        raise Rejected(f"the model could not be rebuilt from its configuration: "
                       f"{short_error(exc)}") from None


def structure(keras: Any, model: Any, requirements: Requirements, budgets: Budgets,
              n_inputs: int | None) -> tuple[int, int]:
    """Budgets, then input and output sizes, of a built (or graph-built) model."""
    if not model.built:
        raise Rejected(f"the model has no input shape, so it cannot be built or trained: start "
                       f"it with keras.Input(shape=({n_inputs},)), e.g. keras.Sequential("
                       f"[keras.Input(shape=({n_inputs},)), ...])")
    parameters = count_parameters(model)
    layers = sum(1 for _ in leaf_layers(model, keras))
    budgets.check(parameters, layers)
    try:
        inputs, outputs = model_shapes(model)
    except (AttributeError, ValueError) as exc:
        raise Rejected(f"the model's inputs and outputs are not defined ({short_error(exc)}): "
                       f"start it with keras.Input(shape=({n_inputs},))") from None
    check_shapes(inputs, outputs, requirements)
    return parameters, layers


def dry_run(keras: Any, config: dict, requirements: Requirements,
            budgets: Budgets) -> tuple[int, int] | None:
    """Build the model inside a TensorFlow graph: variables there are graph nodes, nothing is
    allocated, so a model of a billion parameters is counted in milliseconds. Returns
    (parameters, layers), or None when the model cannot be built that way (it is then counted
    after the real build, under the sandbox's memory limit)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf
    n_inputs = requirements.n_inputs
    try:
        with tf.Graph().as_default():
            try:
                model = deserialize(keras, config)
            except Rejected:   # the real build says why, unless only graph mode refused it
                return None
            return structure(keras, model, requirements, budgets, n_inputs)
    except Rejected:
        raise
    except Exception:  # noqa: BLE001 - graph mode is a shortcut, not a requirement
        return None
    finally:
        keras.backend.clear_session()


def output_activation(model: Any, keras: Any) -> str:
    """The activation the model's last layer declares ('linear', 'sigmoid', 'softmax', ...)."""
    layer = model.layers[-1]
    while isinstance(layer, keras.Model) and layer.layers:
        layer = layer.layers[-1]
    name = type(layer).__name__
    if name == "Softmax":
        return "softmax"
    if name == "ReLU":
        return "relu"
    activation = layer.get_config().get("activation", "linear")
    if isinstance(activation, dict):  # a serialised activation function
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    return str(activation or "linear").lower()


def probe_batch(input_shape: tuple) -> np.ndarray:
    """PROBE_ROWS rows at each of PROBE_SCALES; input_shape without the batch axis."""
    rng = np.random.default_rng(PROBE_SEED)
    base = rng.standard_normal((PROBE_ROWS, *input_shape))
    return np.concatenate([base * scale for scale in PROBE_SCALES]).astype("float32")


class TrainingBudget:
    """A Keras callback that stops training once it takes, or clearly would take, too long.

    Time here is this process's CPU time (see the module docstring). The projection
    from the first batches stops a model early only when it needs more than EARLY_FACTOR times
    the budget: the first batches of a fast model are noisy (the retracing for an epoch's last,
    shorter batch, caches warming up), and a false early verdict would reject a correct model.
    Between 1x and EARLY_FACTOR x the clock decides at the budget.
    """

    EARLY_FACTOR = 2.0
    COUNTS = "The budget counts the CPU time training uses, however busy the grading machine is."

    def __init__(self, keras: Any, budget_seconds: float, total_batches: int, batch_size: int,
                 epochs: int, min_timed_batches: int = 3) -> None:
        self.budget, self.total = budget_seconds, total_batches
        self.batch_size, self.epochs = batch_size, epochs
        self.min_timed = min_timed_batches
        self.done = 0
        self.epoch = 0
        self.start: float | None = None
        self.first_done = 0.0
        budget = self
        base: Any = keras.callbacks.Callback

        class Callback(base):
            def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
                budget.begin()

            def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                budget.epoch = epoch

            def on_train_batch_end(self, batch: int,
                                   logs: dict[str, Any] | None = None) -> None:
                budget.batch_end()

        self.callback = Callback()

    def begin(self) -> None:
        if self.start is None:
            self.start = time.process_time()

    def spent(self) -> float:
        """Seconds of the budget used since training began (0 before)."""
        return 0.0 if self.start is None else time.process_time() - self.start

    def batch_end(self) -> None:
        now = time.process_time()
        self.done += 1
        elapsed = now - (now if self.start is None else self.start)
        if elapsed > self.budget:
            raise Rejected(self.too_long())
        if self.done == 1:   # the first batch also traces the training function
            self.first_done = now
            return
        timed = self.done - 1
        if timed >= self.min_timed or now - self.first_done > 0.1 * self.budget:
            projected = projected_seconds(elapsed, timed, now - self.first_done,
                                          self.total - self.done)
            if projected > self.EARLY_FACTOR * self.budget:
                per_batch = (now - self.first_done) / timed
                raise Rejected(
                    f"training would take longer than {self.budget:g} s (the training budget): "
                    f"at {per_batch:.2f} s of CPU time per batch of {self.batch_size} "
                    f"examples, {self.epochs} epochs ({self.total} batches) need about "
                    f"{projected:,.0f} s. {self.COUNTS} Make the model smaller or cheaper to "
                    f"run.")

    def too_long(self) -> str:
        return (f"training took longer than {self.budget:g} s (the training budget) and was "
                f"stopped during epoch {self.epoch + 1} of {self.epochs}. {self.COUNTS} Make "
                f"the model smaller or cheaper to run.")

    def backstop(self, wall_seconds: float) -> str:
        return (f"training was stopped after {wall_seconds:g} s of wall-clock time, in epoch "
                f"{self.epoch + 1} of {self.epochs}, having used {self.spent():.1f} s of its "
                f"{self.budget:g} s training budget (CPU time): the grading machine was too "
                f"busy to give it the CPU time it needed, so the model could not be judged.")


class LossLog:
    """A Keras callback that keeps the training loss, for the student's feedback: the first
    batch's (computed before its step, so the untrained model's) and each epoch's mean."""

    def __init__(self, keras: Any) -> None:
        self.start: float | None = None
        self.epochs: list[float] = []
        log = self
        base: Any = keras.callbacks.Callback

        class Callback(base):
            def on_train_batch_end(self, batch: int,
                                   logs: dict[str, Any] | None = None) -> None:
                if log.start is None:
                    log.start = loss_of(logs)

            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                loss = loss_of(logs)
                if loss is not None:
                    log.epochs.append(loss)

        self.callback = Callback()


def loss_of(logs: dict[str, Any] | None) -> float | None:
    try:
        return float((logs or {})["loss"])
    except (KeyError, TypeError, ValueError):
        return None


def optimizer_facts(keras: Any, model: Any) -> tuple[str, float | None, str]:
    """(class name, learning rate, schedule class name or "") of a compiled model's optimizer;
    for a schedule, the rate is its initial value (None when it cannot be read)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return "", None, ""
    name = type(optimizer).__name__
    try:
        rate = optimizer.get_config().get("learning_rate")
        if isinstance(rate, dict):   # a serialised schedule
            schedule = str(rate.get("class_name") or "a schedule")
            try:
                initial = keras.optimizers.schedules.deserialize(rate)(0)
                return name, float(keras.ops.convert_to_numpy(initial)), schedule
            except Exception:  # noqa: BLE001 - the rate is feedback, not a verdict
                return name, None, schedule
        return name, float(rate), ""
    except Exception:  # noqa: BLE001
        return name, None, ""


class Watchdog(threading.Thread):
    """Stops training from outside Keras: a single batch may outlast the budget (the callback
    would never run), and a process that gets no CPU time must not wait forever. It sends the
    rejection itself and ends the process. Stopped by the wall clock, the rejection says so
    ("stopped": "timeout"): it is the machine's doing, and the instructor's log shows it."""

    def __init__(self, budget: TrainingBudget, wall_seconds: float,
                 writer: channel.Writer) -> None:
        super().__init__(daemon=True)
        self.budget, self.wall_seconds, self.writer = budget, wall_seconds, writer
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.stopped.wait(WATCHDOG_POLL):
            if self.budget.spent() > self.budget.budget + WATCHDOG_GRACE:
                result = JudgeResult.rejected(self.budget.too_long())
            elif time.monotonic() - self.started_at > self.wall_seconds:
                result = JudgeResult.rejected(self.budget.backstop(self.wall_seconds),
                                              stopped="timeout")
            else:
                continue
            if self.stopped.is_set():   # training ended meanwhile: its result stands
                return
            send_result(self.writer, result)
            os._exit(0)


# ----------------------------------------------------------------------------------------------
# The judge.

def send_phase(writer: channel.Writer, name: str) -> None:
    writer.send({"event": "phase", "phase": name})


def send_result(writer: channel.Writer, result: JudgeResult) -> None:
    """The judge's last message: the first one sent stands (the training watchdog and the main
    thread may both try)."""
    writer.send(result.to_json(), last=True)


# Set by standby() once Keras is imported: (Keras, wall and CPU seconds the start took, the
# time.monotonic() at which the import ended).
_READY: list[tuple[Any, float, float, float]] = []


def rebuild_and_train(job: JudgeJob, writer: channel.Writer,
                      directory: str) -> tuple[Facts, list[list[float]]]:
    """(facts, outputs) of a model that trained; Rejected with the reason otherwise."""
    # Wall and CPU seconds of each phase, for the instructor's figures (keras_models' docstring).
    if _READY:   # started on standby: Keras was imported before the job arrived
        keras, start_wall, start_cpu, ready_at = _READY[0]
        seconds = {"start": start_wall, "waited": max(0.0, JOB_ARRIVED[0] - ready_at)}
        cpu_seconds = {"start": start_cpu}
    else:
        keras = import_keras(job.threads)
        seconds = {"start": time.monotonic() - STARTED}
        cpu_seconds = {"start": time.process_time()}
    requirements, training, budgets = job.requirements, job.training, job.budgets
    n_inputs = requirements.n_inputs
    send_phase(writer, "building")
    start, cpu_start = time.monotonic(), time.process_time()

    loss_name, from_logits = resolve_loss(keras, job.compile_config)
    check_loss(loss_name, from_logits, requirements)

    config = dict(job.config)
    config.pop("compile_config", None)   # compiled below from the compile config sent
    counted = dry_run(keras, config, requirements, budgets)

    keras.utils.set_random_seed(training.seed)
    model = deserialize(keras, config)
    if counted is None:   # the graph build failed: count now (memory is the sandbox's limit)
        counted = structure(keras, model, requirements, budgets, n_inputs)
    parameters, layers = counted
    try:
        model.compile_from_config(json.loads(json.dumps(job.compile_config)))
    except Exception as exc:  # noqa: BLE001
        raise Rejected(f"the model could not be compiled from its compile configuration: "
                       f"{short_error(exc)}") from None

    static = output_activation(model, keras)
    input_shape = tuple(d or 1 for d in model_shapes(model)[0][0][1:])
    try:
        probe = model.predict(probe_batch(input_shape), batch_size=training.batch_size,
                              verbose=0)
    except Exception as exc:  # noqa: BLE001
        raise failed("running the model on a batch of test inputs", exc) from None
    kind = probability_kind(probe)
    check_output(static, kind, from_logits, output_range(probe))
    seconds["build"] = time.monotonic() - start
    cpu_seconds["build"] = time.process_time() - cpu_start

    data = {name: np.load(os.path.join(directory, path), allow_pickle=False)
            for name, path in job.data.items()}
    epochs, batch_size = training.epochs, training.batch_size
    # With steps_per_execution > 1 Keras calls the batch hooks once per execution.
    executions = math.ceil(math.ceil(len(data["X_train"]) / batch_size) /
                           max(1, int(getattr(model, "steps_per_execution", 1) or 1)))
    total_batches = epochs * executions
    budget = TrainingBudget(keras, budgets.train_seconds, total_batches, batch_size,
                            epochs)
    losses = LossLog(keras)

    watchdog = Watchdog(budget, budgets.wall_seconds(), writer)

    send_phase(writer, "training")
    start, cpu_start = time.monotonic(), time.process_time()
    budget.begin()
    watchdog.start()
    try:
        model.fit(data["X_train"], data["y_train"], epochs=epochs, batch_size=batch_size,
                  verbose=0, callbacks=[budget.callback, losses.callback])
    except Rejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise failed("training the model", exc) from None
    finally:
        watchdog.stopped.set()
    seconds["train"] = time.monotonic() - start
    cpu_seconds["train"] = time.process_time() - cpu_start

    send_phase(writer, "predicting")
    start, cpu_start = time.monotonic(), time.process_time()
    try:
        outputs = np.asarray(model.predict(data["X_test"], batch_size=batch_size, verbose=0),
                             dtype=float)
    except Exception as exc:  # noqa: BLE001
        raise failed("predicting with the trained model", exc) from None
    seconds["predict"] = time.monotonic() - start
    cpu_seconds["predict"] = time.process_time() - cpu_start
    optimizer, learning_rate, schedule = optimizer_facts(keras, model)
    facts = Facts(loss=loss_name, from_logits=from_logits, static_activation=static,
                  activation=static if static != "linear" else (kind or "linear"),
                  parameters=int(parameters), layers=int(layers), seconds=seconds,
                  cpu_seconds=cpu_seconds, optimizer=optimizer, learning_rate=learning_rate,
                  schedule=schedule, start_loss=losses.start, epoch_losses=losses.epochs)
    return facts, outputs.reshape(len(outputs), -1).tolist()


JOB_ARRIVED: list[float] = []   # time.monotonic() when a standby judge read its job's path


def standby(result_fd: str, threads: str) -> None:
    """Started before the student's model exists (keras_models.standby_judge): import Keras
    now, holding no student data, then wait for the job's path on stdin and judge it as main
    does. End of file, or an empty line, means no job comes: exit without a word."""
    try:
        keras = import_keras(max(1, int(threads)))
        _READY.append((keras, time.monotonic() - STARTED, time.process_time(), time.monotonic()))
    except BaseException:  # noqa: BLE001 - main tries again once the job came, and says why
        pass
    line = sys.stdin.readline().strip()
    if not line:
        return
    JOB_ARRIVED.append(time.monotonic())
    main(line, result_fd)


def main(job_path: str, result_fd: str) -> None:
    writer = channel.Writer(int(result_fd))
    directory = os.path.dirname(os.path.abspath(job_path))
    try:
        with open(job_path, encoding="utf-8") as f:
            job = JudgeJob.from_json(json.load(f))
        facts, outputs = rebuild_and_train(job, writer, directory)
        # NaN/inf travel as null: the grading process reads them back as nan.
        send_result(writer, JudgeResult.trained(facts, outputs))
    except Rejected as exc:
        send_result(writer, JudgeResult.rejected(str(exc)))
    except MemoryError:
        send_result(writer, JudgeResult.rejected(
            "the model needed more memory than grading allows"))
    except BaseException as exc:  # noqa: BLE001 - whatever happens becomes a readable reason
        traceback.print_exc()
        send_result(writer, JudgeResult.rejected(
            f"the model could not be judged: {short_error(exc)}"))


if __name__ == "__main__":
    if sys.argv[1] == "--standby":   # python -I keras_judge.py --standby THREADS RESULT_FD
        standby(sys.argv[3], sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)   # TensorFlow's threads: do not wait for them
