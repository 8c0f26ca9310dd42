"""Checks for exercises that return a compiled Keras model: judged by a sandboxed process.

The student's process hands back the model's JSON config and compile config (autograder.sandboxed.child).
That data is the student's, so nothing is built from it here: this process (the grading process)
never imports Keras or TensorFlow for it. It

1. reads the config as plain JSON: that it is a compiled Keras model of built-in classes, has an
   input shape, and does not break the budgets below by what the JSON alone proves (a layer of
   a billion units is refused in microseconds);
2. starts autograder/sandboxed/keras_judge.py in the sandbox (bubblewrap, cgroups, rlimits: the limits of
   the student's own process; course code only, no `solutions`, no student code), handing it the
   config, the training settings and the training data as .npy files. The judge counts the
   parameters and layers exactly on a graph-mode build that allocates nothing, checks the input
   and output sizes and that the loss matches what the output layer computes (a probe batch, not
   only the last layer's name), trains under a fixed seed within a time budget, and returns its
   outputs on the held-out inputs as JSON;
3. scores those outputs against the held-out labels, which never leave this process.

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
  (160 s; keras_judge.wall_backstop), a rejection that says the machine was too busy; here
  the judge's phases (PHASE_SECONDS) may take 120 s to start and import TensorFlow, 90 s to
  build the model and run the probe, 175 s to train, 60 s to predict the held-out set.
- One deadline per notebook over all of these: the notebook's verdict time (TrustedVerdict's
  verdict_timeout, 300 s: its code's process, then every judge; framework.notebook_deadline)
  stops a judge when it runs out, and a judge is not started once it has.
- Memory: the sandbox's limit (sandbox.Limits().memory_bytes, 4 GB); a judge killed at it is
  reported as such.

What the judge measures (facts["cpu_seconds"] and facts["seconds"]) on the course's 2-core
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

import json
import math
import os
import selectors
import time
from pathlib import Path

import numpy as np

from autograder import sandbox
from autograder.checks.base import Case, Check, Mismatch, notebook_deadline
from autograder.sandbox import runner
from autograder.sandboxed import keras_judge

JUDGE_SCRIPT = Path(keras_judge.__file__).resolve()

MAX_PARAMETERS = 1_000_000
MAX_LAYERS = 50
TRAIN_SECONDS = 60.0           # CPU seconds of the judge process
PHASES = ("starting", "building", "training", "predicting")
# Wall-clock limits of the judge's phases, as seen from here. Training's follows the budget:
# the judge's own wall-clock backstop (keras_judge.wall_backstop), plus TRAINING_SLACK so that
# the judge, which can say more, normally speaks first.
TRAINING_SLACK = 15.0
PHASE_SECONDS = {"starting": 120.0, "building": 90.0,
                 "training": keras_judge.wall_backstop(TRAIN_SECONDS) + TRAINING_SLACK,
                 "predicting": 60.0}
PHASE_WORDS = {"starting": "starting the judge (loading TensorFlow)",
               "building": "building the model and running it on test inputs",
               "training": "training the model",
               "predicting": "predicting the held-out examples"}

# A config Keras writes for a model of these exercises has a few thousand JSON values, nested
# about 10 deep; these bounds only keep the walks below cheap and recursion-safe.
MAX_CONFIG_DEPTH = 64
MAX_CONFIG_NODES = 200_000
MAX_RESULT_BYTES = 32 * 1024 ** 2

DEFAULT_BUDGETS = {"max_parameters": MAX_PARAMETERS, "max_layers": MAX_LAYERS,
                   "train_seconds": TRAIN_SECONDS}

# Layers without weights: their parameter count from the JSON is exact (0).
WEIGHTLESS = {
    "InputLayer", "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity",
    "Flatten", "Reshape", "Permute", "RepeatVector", "ReLU", "LeakyReLU", "ELU", "Softmax",
    "Rescaling", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D", "Add",
    "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "ActivityRegularization", "Masking",
}
CONVOLUTIONS = {"Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                "Conv3DTranspose"}
RECURRENT_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


# ----------------------------------------------------------------------------------------------
# What the JSON alone says (no Keras).

def _json_nodes(value):
    """Every value in a JSON document, iteratively; Mismatch when it is too deep or too large."""
    stack, count = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if depth > MAX_CONFIG_DEPTH or count > MAX_CONFIG_NODES:
            raise Mismatch("the model's configuration is too large or too deeply nested to be "
                           "a model for this exercise")
        yield item
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _modules(config):
    """Every 'module' named anywhere in a Keras config."""
    for node in _json_nodes(config):
        if isinstance(node, dict) and isinstance(node.get("module"), str):
            yield node["module"]


def _count(value):
    """A non-negative int from the JSON, else None (Keras itself will refuse what is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def _shape(value):
    if isinstance(value, list) and 0 < len(value) <= 8 and \
            all(v is None or _count(v) is not None for v in value):
        return value
    return None


def _is_model(layer):
    inner = layer.get("config")
    return isinstance(inner, dict) and isinstance(inner.get("layers"), list)


def leaf_layers(model_config):
    """The layer configs of a serialised model, nested models replaced by their layers."""
    inner = model_config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict):
            if _is_model(layer):
                yield from leaf_layers(layer)
            else:
                yield layer


def layer_input_shape(layer):
    """The input shape Keras recorded for a layer: its build config (Sequential) or the shape of
    the tensor it was called on (functional)."""
    build = layer.get("build_config")
    if isinstance(build, dict) and _shape(build.get("input_shape")):
        return build["input_shape"]
    try:
        return _shape(layer["inbound_nodes"][0]["args"][0]["config"]["shape"])
    except (KeyError, IndexError, TypeError):
        return None


def layer_parameters(layer):
    """(count, exact) for one layer config: exact, or a lower bound when the layer's input
    width is unknown (then taken as 1) or the layer is of a kind not modelled here (then 0)."""
    kind, config = layer.get("class_name"), layer.get("config")
    if not isinstance(config, dict):
        return 0, False
    if kind in WEIGHTLESS:
        return 0, True
    shape = layer_input_shape(layer)
    bias = config.get("use_bias", True) is not False
    last = _count(shape[-1]) if shape else None
    if kind == "Dense":
        units = _count(config.get("units"))
        if units is None:
            return 0, False
        return (last or 1) * units + bias * units, last is not None
    if kind in CONVOLUTIONS:
        filters, kernel = _count(config.get("filters")), config.get("kernel_size")
        kernel = [kernel] if isinstance(kernel, int) else kernel
        if filters is None or not _shape(kernel) or None in kernel:
            return 0, False
        channels = _count(shape[1]) if shape and len(shape) > 1 and \
            config.get("data_format") == "channels_first" else last
        groups = _count(config.get("groups")) or 1
        per_filter = max(1, (channels or groups) // groups)
        size = 1
        for k in kernel:
            size *= k
        return size * per_filter * filters + bias * filters, channels is not None
    if kind == "Embedding":
        rows, cols = _count(config.get("input_dim")), _count(config.get("output_dim"))
        return (rows * cols, True) if rows is not None and cols is not None else (0, False)
    if kind in RECURRENT_GATES:
        units = _count(config.get("units"))
        if units is None:
            return 0, False
        gates = RECURRENT_GATES[kind]
        biases = 2 if kind == "GRU" and config.get("reset_after", True) else 1
        return (gates * units * ((last or 1) + units) + bias * biases * gates * units,
                last is not None)
    if kind in ("BatchNormalization", "LayerNormalization"):
        axis = config.get("axis", -1)
        width = _count(shape[axis]) if shape and isinstance(axis, int) and \
            -len(shape) <= axis < len(shape) else None
        if width is None:
            return 0, False
        flags = (config.get("center", True) is not False) + (config.get("scale", True) is not False)
        moving = 2 if kind == "BatchNormalization" else 0
        return width * (flags + moving), True
    return 0, False


def estimate(model_config):
    """(parameters, layers, exact, [(name, parameters) of the largest layer]) from the JSON."""
    total, count, exact, largest = 0, 0, True, ("", 0)
    for layer in leaf_layers(model_config):
        if layer.get("class_name") != "InputLayer":
            count += 1
        params, known = layer_parameters(layer)
        total += params
        exact = exact and known
        if params > largest[1]:
            name = layer.get("config", {}).get("name") if isinstance(layer.get("config"), dict) \
                else None
            largest = (str(name or layer.get("class_name")), params)
    return total, count, exact, largest


def has_input_shape(model_config):
    """False for a Sequential model built without keras.Input (nothing fixes its input size)."""
    if model_config.get("class_name") != "Sequential":
        return True
    inner = model_config.get("config") if isinstance(model_config.get("config"), dict) else {}
    build = model_config.get("build_config")
    if _shape(inner.get("build_input_shape")) or \
            (isinstance(build, dict) and _shape(build.get("input_shape"))):
        return True
    layers = [layer for layer in inner.get("layers") or [] if isinstance(layer, dict)]
    if any(layer.get("class_name") == "InputLayer" for layer in layers):
        return True
    if layers:
        first = layers[0]
        config = first.get("config") if isinstance(first.get("config"), dict) else {}
        if any(_shape(config.get(k)) for k in ("batch_shape", "batch_input_shape",
                                                "input_shape")):
            return True
        if _is_model(first):
            return has_input_shape(first)
    return False


def precheck(spec, n_inputs=None, budgets=None):
    """Everything the JSON alone decides, before any process is started. Raises Mismatch."""
    budgets = budgets or DEFAULT_BUDGETS
    if not isinstance(spec, dict) or spec.get("__model__") != "keras":
        raise Mismatch("expected a compiled tf.keras model to be returned")
    config, compile_config = spec.get("config"), spec.get("compile_config")
    if not isinstance(config, dict):
        raise Mismatch("the returned model carries no readable configuration")
    foreign = sorted({m for m in _modules(spec) if not (m == "keras" or m.startswith("keras."))})
    if foreign:
        raise Mismatch("the model uses classes from outside Keras (" + ", ".join(foreign)[:300] +
                       "); use the built-in Keras layers, losses and optimizers")
    if not compile_config:
        raise Mismatch("the model is not compiled: call model.compile(loss=..., optimizer=...) "
                       "before returning it")
    if not isinstance(compile_config, dict):
        raise Mismatch("the model's compile configuration is not readable")
    layers = list(leaf_layers(config))
    if any(layer.get("class_name") == "Lambda" for layer in layers):
        raise Mismatch("the model has a Lambda layer: its Python code cannot be rebuilt for "
                       "grading (Keras' safe mode refuses code). Use the built-in Keras layers.")
    if not has_input_shape(config):
        shape = f"({n_inputs},)" if n_inputs else "(n_features,)"
        raise Mismatch(f"the model has no input shape, so it cannot be built or trained: start "
                       f"it with keras.Input(shape={shape}), e.g. keras.Sequential("
                       f"[keras.Input(shape={shape}), ...])")
    parameters, count, exact, largest = estimate(config)
    problem = keras_judge.budget_problem(parameters, count, budgets, exact)
    if problem:
        if parameters > budgets["max_parameters"] and largest[1] > 0.5 * parameters:
            problem += (f" (The layer '{largest[0][:60]}' alone has "
                        f"{keras_judge.fmt_count(largest[1])}.)")
        raise Mismatch(problem)
    return {"parameters": parameters, "layers": count, "exact": exact}


# ----------------------------------------------------------------------------------------------
# The judge process.

class JudgeStopped(Mismatch):
    """The model got no verdict: the judge was stopped at a time limit (its phases', its own
    wall-clock backstop's, the notebook's deadline) or the memory limit, or it died. `reason` is
    "timeout" or "crash" (runner.Reason's values), for the instructor's log."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


def judge_model(spec, data, requirements, training, budgets=None, phase_seconds=None,
                python=None, limits=None, deadline=None):
    """Judge a model spec in the sandboxed judge process: (facts, outputs) when it trained,
    Mismatch with the reason otherwise. data: {"X_train", "y_train", "X_test"} arrays.

    `deadline` (framework.Deadline) is the notebook's: the judge is not started once it has run
    out, and is stopped when it runs out, whatever its own limits say."""
    budgets = dict(budgets or DEFAULT_BUDGETS)
    budgets.setdefault("train_wall_seconds", keras_judge.wall_backstop(budgets["train_seconds"]))
    phases = dict(PHASE_SECONDS, training=budgets["train_wall_seconds"] + TRAINING_SLACK)
    phases.update(phase_seconds or {})
    limits = limits or sandbox.Limits()
    if deadline is not None and deadline.left() <= 0:
        raise JudgeStopped(deadline.ran_out("before the model could be judged, so it was not "
                                            "judged"), "timeout")

    def job(scratch):
        files = {}
        for name, array in data.items():
            files[name] = f"{name}.npy"
            np.save(os.path.join(scratch, files[name]), np.asarray(array), allow_pickle=False)
        return {"config": spec["config"], "compile_config": spec["compile_config"],
                "requirements": requirements, "training": training, "budgets": budgets,
                # TensorFlow's threads: the sandbox's CPU quota (see keras_judge).
                "threads": max(1, math.ceil(getattr(limits, "cpu_cores", 1.0))),
                "data": files}

    with runner.confined(JUDGE_SCRIPT, job, python, limits, prefix="keras-judge") as run:
        result, phase, stop = _collect(run.proc, run.read_fd, phases, deadline)
        if stop:
            status = runner.exit_status(run.proc, wait=2.0) if stop == "ended" else ""
            memory = bool(run.group and run.group.memory_limit_hit())
            raise JudgeStopped(_stopped(stop, phase, phases, budgets, status, memory,
                                        run.limits, run.output_path, deadline),
                               "timeout" if stop in ("timeout", "deadline") and not memory
                               else "crash")
    return _read_result(result)


def _collect(proc, read_fd, phases, notebook=None):
    """(result message, phase, None) or (None, phase, 'timeout' | 'deadline' | 'ended' |
    'oversized'); 'deadline' when the notebook's Deadline ran out."""
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    start = time.monotonic()
    run_deadline = start + sum(phases[p] for p in PHASES)   # no message can extend this
    if notebook is not None and notebook.at < run_deadline:
        run_deadline = notebook.at
    phase, deadline = "starting", start + phases["starting"]
    buffer, received = b"", 0
    while True:
        remaining = min(deadline, run_deadline) - time.monotonic()
        if remaining <= 0:
            ran_out = notebook is not None and time.monotonic() >= notebook.at
            return None, phase, "deadline" if ran_out else "timeout"
        if not sel.select(timeout=min(remaining, 0.5)):
            if proc.poll() is not None and not sel.select(timeout=0):
                return None, phase, "ended"
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return None, phase, "ended"
        received += len(chunk)
        if received > MAX_RESULT_BYTES:
            return None, phase, "oversized"
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(message, dict):
                continue
            if message.get("event") == "phase" and message.get("phase") in PHASES and \
                    PHASES.index(message["phase"]) > PHASES.index(phase):
                phase = message["phase"]
                deadline = time.monotonic() + phases[phase]
            elif message.get("event") == "result":
                return message, phase, None


def _stopped(stop, phase, phases, budgets, status, memory, limits, output_path, notebook=None):
    """The reason a judge process that sent no result gives the student."""
    words = PHASE_WORDS[phase]
    if memory:
        return (f"the model needed more memory than grading allows "
                f"({limits.memory_bytes >> 20} MB) while {words}: make it smaller")
    if stop == "deadline":
        advice = " Make the model smaller or cheaper to run." if phase == "training" else ""
        return notebook.ran_out(f"while {words}, so judging the model was stopped.{advice}")
    if stop == "timeout":
        if phase == "training":
            return (f"training was stopped after {phases[phase]:g} s of wall-clock time (a "
                    f"backstop behind the training budget of {budgets['train_seconds']:g} s "
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


def _read_result(message):
    """(facts, outputs) of a 'trained' result; Mismatch for a rejection or malformed data."""
    if message.get("verdict") == "rejected":
        reason = str(message.get("reason") or "the model was rejected")[:2000]
        if message.get("stopped") == "timeout":   # the judge's wall-clock backstop
            raise JudgeStopped(reason, "timeout")
        raise Mismatch(reason)
    facts, rows = message.get("facts"), message.get("outputs")
    try:
        if message.get("verdict") != "trained" or not isinstance(facts, dict):
            raise ValueError("no verdict")
        outputs = np.array([[np.nan if v is None else float(v) for v in row] for row in rows],
                           dtype=float)
        facts = {**facts, "from_logits": bool(facts["from_logits"]),
                 "activation": str(facts["activation"])}
    except (ValueError, TypeError, KeyError):
        raise Mismatch("the process judging the model sent a result that could not be read") \
            from None
    return facts, outputs


# ----------------------------------------------------------------------------------------------
# The check.

class KerasModelCheck(Check):
    """Build the student's model in their process; judge its config in the judge process."""

    build_timeout = 120.0
    epochs = 30
    batch_size = 32
    seed = 0
    min_accuracy = 0.9
    n_inputs = None
    n_outputs = None
    expected_losses = ()
    require_logits = False
    max_parameters = MAX_PARAMETERS
    max_layers = MAX_LAYERS
    train_seconds = TRAIN_SECONDS

    def build_args(self):
        return ()

    def cases(self, rng):
        return [Case(f"the model returned by {self.signature}", self.build_args(),
                     kind="fixed", timeout=self.build_timeout, show_input=False)]

    def expected(self, case):
        return None   # never the reference: it would import TensorFlow here

    def data(self):
        """(X_train, X_test, y_train, y_test) to train and judge on."""
        raise NotImplementedError

    def predict_labels(self, outputs, from_logits, activation):
        raise NotImplementedError

    def budgets(self):
        return {"max_parameters": self.max_parameters, "max_layers": self.max_layers,
                "train_seconds": self.train_seconds}

    def requirements(self):
        return {"n_inputs": self.n_inputs, "n_outputs": self.n_outputs,
                "expected_losses": list(self.expected_losses),
                "require_logits": bool(self.require_logits)}

    def compare(self, case, expected, actual):
        precheck(actual, self.n_inputs, self.budgets())
        X_train, X_test, y_train, y_test = self.data()
        facts, outputs = judge_model(
            actual, {"X_train": X_train, "y_train": y_train, "X_test": X_test},
            self.requirements(), {"epochs": self.epochs, "batch_size": self.batch_size,
                                  "seed": self.seed}, self.budgets(),
            deadline=notebook_deadline())
        if len(outputs) != len(y_test):
            raise Mismatch(f"the model made {len(outputs)} predictions for {len(y_test)} "
                           f"held-out examples")
        bad = int((~np.isfinite(outputs)).sum())
        if bad:
            raise Mismatch(f"after {self.epochs} epochs {bad} of the model's outputs on the "
                           f"held-out examples are nan or inf: training diverged (is the "
                           f"learning rate too large?)")
        predicted = self.predict_labels(outputs, facts["from_logits"], facts["activation"])
        accuracy = float((np.asarray(predicted) == y_test).mean())
        if not accuracy >= self.min_accuracy:
            raise Mismatch(f"after {self.epochs} epochs the held-out accuracy is "
                           f"{accuracy:.1%}; it must reach {self.min_accuracy:.0%}")
