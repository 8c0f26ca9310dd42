"""Keras-model exercises are judged in a sandboxed judge process, within stated budgets.

The models below are real: their configs are written by Keras, in a helper process (so that this
test process never imports TensorFlow), or copied from what Keras writes. Nothing of Keras is
mocked. The tests marked slow start the judge process (TensorFlow in the sandbox, ~5-20 s each).
"""

import copy
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from autograder import channel
from autograder.checks import keras_config, keras_models
from autograder.checks.base import Mismatch
from autograder.checks.keras_protocol import (
    Budgets,
    Facts,
    JudgeResult,
    Requirements,
    Training,
    float_from_json,
    float_to_json,
)
from autograder.checks.logistic_regression import BinaryClassifier
from autograder.checks.softmax import DigitClassifier
from tests.autograder.sandboxed_scripts import sandboxed_script

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------------------------
# Configs as Keras 3 writes them (model.to_json(), get_compile_config()), trimmed of the keys the
# checks do not read.

def dense(name, units, inputs, activation="linear", functional=False):
    layer = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": name, "trainable": True, "units": units,
                        "activation": activation, "use_bias": True},
             "build_config": {"input_shape": [None, inputs]}}
    if functional:
        layer["name"] = name
    return layer


def input_layer(n=64):
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": [None, n], "dtype": "float32", "name": "input_layer"}}


def sequential(layers, build=True):
    config = {"name": "sequential", "trainable": True, "layers": layers}
    model = {"module": "keras", "class_name": "Sequential", "registered_name": None,
             "config": config}
    if build:
        config["build_input_shape"] = [None, 64]
        model["build_config"] = {"input_shape": [None, 64]}
    return model


SCCE_LOGITS = {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
               "registered_name": None,
               "config": {"name": "sparse_categorical_crossentropy", "from_logits": True}}
COMPILE = {"optimizer": "adam", "loss": SCCE_LOGITS, "metrics": ["accuracy"]}


def spec(config, compile_config=COMPILE):
    return {"__model__": "keras", "config": config, "compile_config": compile_config}


def digits_reference_json():
    """The config of solutions.softmax.build_digit_classifier()."""
    return spec(sequential([input_layer(), dense("dense", 64, 64, "relu"),
                            dense("dense_1", 32, 64, "relu"), dense("dense_2", 10, 32)]))


def forge_enormous_layer(value, units=10 ** 9):
    """What a tampering student's process could send: the first Dense layer (and the recorded
    input of the next) claims `units` units."""
    value = copy.deepcopy(value)
    layers = value["config"]["config"]["layers"]
    layers[1]["config"]["units"] = units
    layers[2]["build_config"]["input_shape"] = [None, units]
    return value


def rejection(call):
    with pytest.raises(Mismatch) as info:
        call()
    return str(info.value)


# ----------------------------------------------------------------------------------------------
# What the grading process decides from the JSON alone: no TensorFlow, microseconds.

def test_precheck_accepts_the_reference_and_counts_it_exactly():
    facts = keras_config.precheck(digits_reference_json(), n_inputs=64)
    assert facts == {"parameters": 6570, "layers": 3, "exact": True}


@pytest.mark.parametrize("value", [np.zeros(3), None, {"__model__": "torch"}, [1, 2],
                                   {"__model__": "keras", "config": "x", "compile_config": {}}])
def test_precheck_rejects_what_is_not_a_keras_model(value):
    assert "model" in rejection(lambda: keras_config.precheck(value))


def test_precheck_rejects_foreign_modules():
    model = digits_reference_json()
    model["config"]["config"]["layers"][1]["module"] = "evil.layers"
    assert "outside Keras (evil.layers)" in rejection(lambda: keras_config.precheck(model))


def test_precheck_rejects_a_model_that_is_not_compiled():
    model = spec(digits_reference_json()["config"], compile_config=None)
    assert "not compiled" in rejection(lambda: keras_config.precheck(model))


def test_precheck_rejects_a_lambda_layer():
    model = digits_reference_json()
    model["config"]["config"]["layers"].insert(1, {
        "module": "keras.layers", "class_name": "Lambda",
        "config": {"name": "lambda", "function": {"class_name": "__lambda__"}}})
    assert "Lambda layer" in rejection(lambda: keras_config.precheck(model))


def test_precheck_rejects_a_sequential_model_without_an_input_shape():
    # keras.Sequential([keras.layers.Dense(10)]).to_json(): no InputLayer, no build shapes.
    layer = dense("dense", 10, 64)
    del layer["build_config"]
    message = rejection(lambda: keras_config.precheck(spec(sequential([layer], build=False)),
                                                      n_inputs=64))
    assert "no input shape" in message and "keras.Input(shape=(64,))" in message


def test_precheck_rejects_one_enormous_layer_by_its_parameter_count():
    model = forge_enormous_layer(digits_reference_json())
    start = time.perf_counter()
    message = rejection(lambda: keras_config.precheck(model))
    assert time.perf_counter() - start < 1
    # 64 * 1e9 + 1e9, 1e9 * 32 + 32 and 32 * 10 + 10.
    assert "the model has 97,000,000,362 parameters; the budget is 1,000,000 parameters" \
        in message
    assert "The layer 'dense' alone has 65,000,000,000" in message


def test_precheck_rejects_a_deep_stack_of_wide_layers():
    layers = [input_layer(), dense("dense", 4096, 64, "relu")]
    layers += [dense(f"dense_{i}", 4096, 4096, "relu") for i in range(1, 30)]
    layers.append(dense("out", 10, 4096))
    message = rejection(lambda: keras_config.precheck(spec(sequential(layers))))
    assert "parameters; the budget is 1,000,000 parameters" in message
    assert f"{64 * 4096 + 4096 + 29 * (4096 * 4096 + 4096) + 40970:,}" in message


def test_precheck_rejects_too_many_layers():
    layers = [input_layer()] + [dense(f"d{i}", 4, 64 if i == 0 else 4) for i in range(60)]
    assert "the model has 60 layers; the budget is 50 layers" in \
        rejection(lambda: keras_config.precheck(spec(sequential(layers))))


def test_precheck_bounds_a_layer_whose_input_width_is_unknown():
    # A functional layer with no recorded shapes: its input is at least 1 wide.
    layer = dense("dense", 2_000_000, 64)
    del layer["build_config"]
    model = spec(sequential([input_layer(), layer]))
    assert "at least 4,000,000 parameters" in rejection(lambda: keras_config.precheck(model))


def test_precheck_survives_absurd_json():
    nested = current = {}
    for _ in range(500):
        current["module"] = "keras"
        current["config"] = current = {}
    model = spec({"module": "keras", "class_name": "Sequential", "config": nested})
    assert "too large or too deeply nested" in rejection(lambda: keras_config.precheck(model))
    odd = spec(sequential([input_layer(), {"class_name": "Dense", "config": {"units": "many"}},
                           {"class_name": "Conv2D", "config": {"filters": 3, "kernel_size": -1}},
                           "not a layer", 7]))
    keras_config.precheck(odd)   # no budget proven: the judge process decides


# ----------------------------------------------------------------------------------------------
# The judge's decisions, as plain functions: no TensorFlow.

@pytest.fixture(scope="module")
def keras_judge(tmp_path_factory):
    """The judge script, loaded as the sandbox runs it (beside its companions)."""
    with sandboxed_script(tmp_path_factory.mktemp("judge"), keras_models.JUDGE_SCRIPT,
                          keras_models.JUDGE_COMPANIONS) as module:
        yield module


def probe_like(keras_judge, values_by_scale):
    return np.concatenate([np.broadcast_to(v, (keras_judge.PROBE_ROWS,) + np.shape(v))
                           for v in values_by_scale])


def rejected(call, *args):
    """The message of the Rejected `call(*args)` raises (the judge's copy of keras_protocol's
    class, or the grader's), or None when it accepts."""
    try:
        call(*args)
    except Exception as exc:
        if type(exc).__name__ != "Rejected":
            raise
        return str(exc)
    return None


def test_probability_kind_sees_squashed_outputs_and_never_a_linear_one(keras_judge):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(keras_judge.PROBE_ROWS, 10))
    linear = np.concatenate([logits * s for s in keras_judge.PROBE_SCALES])
    soft = np.exp(linear - linear.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    assert keras_judge.probability_kind(linear) is None
    assert keras_judge.probability_kind(np.zeros_like(linear)) is None      # a dead network
    assert keras_judge.probability_kind(soft) == "softmax"
    sigmoid = 1 / (1 + np.exp(-np.clip(linear[:, :1], -500, 500)))
    assert keras_judge.probability_kind(sigmoid) == "sigmoid"
    # A linear output confined to [0, 1] but not saturated: not called probabilities.
    assert keras_judge.probability_kind(probe_like(keras_judge, [0.2, 0.3, 0.7])[:, None]) is None
    # Rows that overflowed are left out.
    with_nan = soft.copy()
    with_nan[-1] = np.nan
    assert keras_judge.probability_kind(with_nan) == "softmax"


def test_check_output_keeps_the_loss_and_output_rules(keras_judge):
    def output(*args):
        return rejected(keras_judge.check_output, *args)

    assert output("linear", None, True, "") is None
    assert output("sigmoid", "sigmoid", False, "") is None
    assert output("linear", "softmax", False, "") is None   # behaviour
    assert "applies 'softmax'" in output("softmax", "softmax", True, "")
    assert "already probabilities" in output("linear", "softmax", True, "")
    assert "range from -3 to 4" in output("linear", None, False, "from -3 to 4")
    assert "'relu'" in output("relu", None, False, "")


def test_budget_and_loss_messages(keras_judge):
    budgets = Budgets()
    assert rejected(budgets.check, 10 ** 9, 3).startswith(
        "the model has 1,000,000,000 parameters; the budget is 1,000,000 parameters")
    assert rejected(budgets.check, 999_999, 50) is None
    need = Requirements(expected_losses=["SparseCategoricalCrossentropy"], require_logits=True)
    assert "the loss is MeanSquaredError" in \
        rejected(keras_judge.check_loss, "MeanSquaredError", True, need)
    assert "from_logits=True" in \
        rejected(keras_judge.check_loss, "SparseCategoricalCrossentropy", False, need)
    assert keras_judge.projected_seconds(10, 3, 6.0, 1000) == 2010


def test_judge_process_that_dies_is_a_rejection(tmp_path):
    message = rejection(lambda: keras_models.judge_model(
        digits_reference_json(), {}, Requirements(), Training(), python="/bin/false"))
    assert "the process judging the model ended while starting" in message
    assert "exit code 1" in message


def test_judge_process_that_times_out_is_a_rejection():
    start = time.perf_counter()
    message = rejection(lambda: keras_models.judge_model(
        digits_reference_json(), {}, Requirements(), Training(), phase_seconds={"starting": 1.0}))
    assert "judging the model was stopped: starting the judge (loading TensorFlow) took " \
           "longer than 1 s" in message
    assert time.perf_counter() - start < 15


# ----------------------------------------------------------------------------------------------
# The feedback on a model that trained but fell short: the facts and the advice, on synthetic
# Facts (keras_models' docstring measures each branch on a real model; the slow tests below
# train three of them).

def trained(optimizer="SGD", rate=0.01, losses=(2.3, 1.0), start=2.31, schedule=""):
    return Facts("SparseCategoricalCrossentropy", True, "linear", "linear", 6570, 3,
                 optimizer=optimizer, learning_rate=rate, schedule=schedule, start_loss=start,
                 epoch_losses=list(losses))


def test_facts_cross_the_channel_with_nan_and_inf():
    facts = trained(rate=float("inf"), losses=[2.3, float("nan"), float("-inf")])
    line = json.dumps(JudgeResult.trained(facts, [[0.5]]).to_json(), allow_nan=False)
    back = JudgeResult.from_json(json.loads(line)).facts
    assert back is not None and back.learning_rate == float("inf")
    assert back.epoch_losses[0] == 2.3 and np.isnan(back.epoch_losses[1])
    assert back.epoch_losses[2] == float("-inf") and back.start_loss == 2.31
    # The same form as the channel's codec, both ways.
    for x in (1.5, float("nan"), float("inf"), float("-inf")):
        assert json.dumps(float_to_json(x)) == json.dumps(channel.encode(x))
        assert np.isclose(float_from_json(channel.encode(x)), x, equal_nan=True)
    assert float_to_json(None) is None and float_from_json(None) is None


@pytest.mark.parametrize("bad", [["1.0"], [None], [True], [{"__float__": "NaN"}],
                                 [0.1] * 10_001, "2.3"])
def test_facts_from_hostile_data_are_refused(bad):
    data = trained().to_json()
    data["epoch_losses"] = bad
    with pytest.raises(ValueError):
        Facts.from_json(data)


def test_facts_of_an_older_judge_still_read():
    data = trained().to_json()
    for key in ("optimizer", "learning_rate", "schedule", "start_loss", "epoch_losses"):
        del data[key]
    facts = Facts.from_json(data)
    assert keras_models.training_advice(facts) == ""
    assert keras_models.training_feedback(facts, 32) == \
        "The judge trained the model with its optimizer, batch size 32."


SMALLER_RATE = "Use a smaller learning rate: divide it by 10 until the loss falls."
LARGER_RATE = "A larger learning rate, or Adam at its default rate (0.001)"
LARGER_MODEL = "the model is probably too small to fit the task"


@pytest.mark.parametrize("facts, starts, advice", [
    (trained(rate=1000.0, losses=[float("nan")] * 30), "The loss became nan or inf",
     SMALLER_RATE),
    (trained(rate=50.0, losses=[3.9e8, 19.0, 17.2]), "The loss rose", SMALLER_RATE),
    (trained("Adam", 0.5, losses=[2.2, 2.6]), "The loss rose", SMALLER_RATE),   # above L0
    (trained("Adam", 0.1, losses=[6.0, 1.0]), "The loss rose", SMALLER_RATE),   # a blow-up
    (trained(rate=0.001, losses=[2.37, 2.21]), "The loss barely fell: the steps are too small",
     LARGER_RATE),
    (trained(rate=0.01, losses=[2.33, 0.511]), "The loss fell, but not far enough in 2 epochs",
     LARGER_RATE),
    (trained("Adam", 1e-5, losses=[2.3, 2.2]), "The loss barely fell", LARGER_RATE),
    (trained(schedule="ExponentialDecay", rate=0.001, losses=[2.37, 2.2]),
     "The loss barely fell", LARGER_RATE),
    (trained("Adam", 0.001, losses=[2.31, 1.97], start=2.2),
     "The loss barely fell, although Adam at this rate takes large enough steps", LARGER_MODEL),
    (trained("RMSprop", 0.001, losses=[2.24, 0.954]),
     "The loss fell, but not far enough in 2 epochs, although RMSprop", LARGER_MODEL),
    (trained("Adam", None, schedule="CosineDecay", losses=[2.24, 1.8]), "The loss barely fell",
     LARGER_MODEL),
    # Stuck where it started (the EKG notes' network: 0.688 / 0.696 / 0.692, log 2 = 0.693).
    (trained("Adam", 0.001, losses=[0.696, 0.692], start=0.688),
     "The loss did not fall from where the untrained model starts", "ReLU hidden units"),
    (trained("SGD", 0.01, losses=[0.696, 0.69], start=0.688), "The loss did not fall in 2 epochs",
     LARGER_RATE),
    (trained("Adam", 0.5, losses=[2.2, 2.4]), "The loss did not fall", "more units or filters"),
])
def test_advice_table(facts, starts, advice):
    text = keras_models.training_advice(facts)
    assert text.startswith(starts) and advice in text, text


def test_facts_sentence_names_optimizer_rate_and_losses():
    text = keras_models.training_facts(trained(rate=50.0, losses=[3.85e8, 18.0, 17.2]), 32)
    assert text == ("The judge trained the model with SGD at learning rate 50, batch size 32: "
                    "the training loss was 2.31 on the first batch, 3.85e+08 over epoch 1 and "
                    "17.2 over epoch 3.")
    text = keras_models.training_facts(trained(schedule="ExponentialDecay", rate=0.001,
                                               start=None, losses=[float("nan")]), 16)
    assert text == ("The judge trained the model with SGD, its learning rate a schedule "
                    "(ExponentialDecay) starting at 0.001, batch size 16: the training loss was "
                    "nan over epoch 1 and nan over epoch 1.")


@pytest.mark.parametrize("outputs, first_line", [
    (np.eye(10)[np.zeros(450, int)], "after 30 epochs the held-out accuracy is 10.0%; it must "
                                     "reach 90%."),
    (np.full((450, 10), np.nan), "after 30 epochs 4500 of the model's outputs on the held-out "
                                 "examples are nan or inf."),
])
def test_rejection_shows_the_training_facts(monkeypatch, outputs, first_line):
    """The check's message, the judge replaced by the facts and outputs it would send."""
    check = DigitClassifier()
    facts = trained(rate=50.0, losses=[3.85e8, 17.2])
    monkeypatch.setattr(keras_models, "judge_model", lambda *args, **kwargs: (facts, outputs))
    message = compare(check, digits_reference_json())
    assert message == "\n".join([first_line, keras_models.training_facts(facts, 32),
                                 keras_models.training_advice(facts)])


# ----------------------------------------------------------------------------------------------
# Real Keras models, judged by the real judge process.

SPEC_BUILDER = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
import keras
from autograder.channel import encode_keras_model
import solutions.logistic_regression, solutions.softmax

L = keras.layers
SCCE = keras.losses.SparseCategoricalCrossentropy
BCE = keras.losses.BinaryCrossentropy
specs = {}

def add(name, model, **compile_args):
    if compile_args:
        model.compile(**compile_args)
    specs[name] = encode_keras_model(model)

specs["digits_reference"] = encode_keras_model(solutions.softmax.build_digit_classifier())
specs["binary_reference"] = encode_keras_model(
    solutions.logistic_regression.build_binary_classifier(64))
add("softmax_then_identity",
    keras.Sequential([keras.Input((64,)), L.Dense(32, activation="relu"),
                      L.Dense(10, activation="softmax"), L.Identity()]),
    loss=SCCE(from_logits=True), optimizer="adam")
add("softmax_then_linear_activation",
    keras.Sequential([keras.Input((64,)), L.Dense(10, activation="softmax"),
                      L.Activation("linear")]),
    loss=SCCE(from_logits=True), optimizer="adam")
add("sigmoid_then_identity_from_logits",
    keras.Sequential([keras.Input((64,)), L.Dense(1, activation="sigmoid"), L.Identity()]),
    loss=BCE(from_logits=True), optimizer="adam")
add("sigmoid_then_identity_probabilities",
    keras.Sequential([keras.Input((64,)), L.Dense(1, activation="sigmoid"), L.Identity()]),
    loss=BCE(), optimizer="adam")
wide = [keras.Input((64,))] + [L.Dense(1024, activation="relu") for _ in range(12)] + [L.Dense(10)]
add("deep_wide", keras.Sequential(wide), loss=SCCE(from_logits=True), optimizer="adam")
add("einsum_wide",    # a layer kind whose size the JSON check does not compute
    keras.Sequential([keras.Input((64,)), L.EinsumDense("ab,bc->ac", output_shape=20000,
                                                        bias_axes="c"), L.Dense(10)]),
    loss=SCCE(from_logits=True), optimizer="adam")
inputs = keras.Input((64,))
x = L.Reshape((8, 8, 1))(inputs)
x = L.UpSampling2D(32)(x)                                   # 256 x 256
x = L.Conv2D(16, 3, strides=2, activation="relu")(x)
x = L.Conv2D(32, 3, strides=2, activation="relu")(x)
x = L.Conv2D(32, 3, activation="relu")(x)
outputs = L.Dense(10)(L.GlobalAveragePooling2D()(x))
add("upsampled_convolutions", keras.Model(inputs, outputs),
    loss=SCCE(from_logits=True), optimizer="adam")
inputs = keras.Input((64,))
x = L.UpSampling2D(400)(L.Reshape((8, 8, 1))(inputs))      # 3200 x 3200 per image
x = L.Conv2D(8, 3, activation="relu")(x)
add("memory_hungry", keras.Model(inputs, L.Dense(10)(L.GlobalAveragePooling2D()(x))),
    loss=SCCE(from_logits=True), optimizer="adam")
def digits_mlp(hidden, optimizer):
    model = keras.Sequential([keras.Input((64,))] + [L.Dense(u, activation="relu") for u in hidden]
                             + [L.Dense(10)])
    model.compile(optimizer=optimizer, loss=SCCE(from_logits=True), metrics=["accuracy"])
    return model

# Short of the bar, each for another reason (keras_models' feedback table).
specs["digits_sgd_50"] = encode_keras_model(digits_mlp((64, 32), keras.optimizers.SGD(50.0)))
specs["digits_sgd_0.001"] = encode_keras_model(digits_mlp((64, 32), keras.optimizers.SGD(0.001)))
specs["digits_one_hidden_unit"] = encode_keras_model(digits_mlp((1,), "adam"))
add("misspelt_loss",
    keras.Sequential([keras.Input((64,)), L.Dense(1, activation="sigmoid")]),
    loss="binary_crossentropyy", optimizer="adam")
add("misspelt_metric",
    keras.Sequential([keras.Input((64,)), L.Dense(1, activation="sigmoid")]),
    loss="binary_crossentropy", optimizer="adam", metrics=["acurracy"])
add("no_input", keras.Sequential([L.Dense(1, activation="sigmoid")]),
    loss="binary_crossentropy", optimizer="adam")
json.dump(specs, sys.stdout)
"""


@pytest.fixture(scope="module")
def specs():
    """Specs as the student's process sends them, written by Keras in a separate process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SPEC_BUILDER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def compare(check, value):
    """The check's comparison on a returned model: None when accepted, else the reason."""
    case = check.cases(np.random.default_rng(0))[0]
    try:
        check.compare(case, None, value)
    except Mismatch as exc:
        return str(exc)
    return None


def judge_directly(check, value):
    """The judge process alone, without the grading process's JSON precheck."""
    X_train, X_test, y_train, _ = check.data()
    return keras_models.judge_model(
        value, {"X_train": X_train, "y_train": y_train, "X_test": X_test},
        check.requirements(), Training(check.epochs, check.batch_size, seed=0), check.budgets())


@pytest.mark.slow
@pytest.mark.parametrize("check, name", [(DigitClassifier(), "digits_reference"),
                                         (BinaryClassifier(), "binary_reference")])
def test_reference_models_are_accepted(specs, check, name):
    assert compare(check, specs[name]) is None


@pytest.mark.slow
def test_judging_leaves_the_grading_process_without_tensorflow(specs, tmp_path):
    """A fresh grading process judges the reference: its memory stays flat, no Keras in it."""
    (tmp_path / "spec.json").write_text(json.dumps(specs["digits_reference"]))
    code = textwrap.dedent(f"""
        import json, resource, sys, time
        from autograder.checks.softmax import DigitClassifier
        check = DigitClassifier()
        value = json.load(open({str(tmp_path / "spec.json")!r}))
        check.data()   # scikit-learn's digits: loaded before measuring
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        check.compare(check.cases(None)[0], None, value)
        print(json.dumps({{"grown_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
                           "seconds": time.perf_counter() - start,
                           "modules": sorted(m for m in sys.modules
                                             if m.split(".")[0] in ("keras", "tensorflow"))}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] == []
    assert report["grown_kb"] < 50 * 1024, report    # TensorFlow alone would be ~700 MB


@pytest.mark.slow
@pytest.mark.parametrize("name", ["softmax_then_identity", "softmax_then_linear_activation"])
def test_probabilities_behind_a_linear_looking_layer_are_rejected(specs, name):
    message = compare(DigitClassifier(), specs[name])
    assert message and "already probabilities" in message and "sums to 1" in message


PROBE_CHECK = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
sys.path.insert(0, os.getcwd())   # the judge script, copied beside its companions
from keras_judge import probability_kind, probe_batch
L = keras.layers

def hidden():
    yield "none", []
    yield "relu16", [L.Dense(16, activation="relu")]
    yield "relu1", [L.Dense(1, activation="relu")]
    yield "sigmoid2", [L.Dense(2, activation="sigmoid")]
    yield "tanh4", [L.Dense(4, activation="tanh")]
    yield "layernorm", [L.Dense(16), L.LayerNormalization()]
    yield "batchnorm", [L.Dense(32, activation="relu"), L.BatchNormalization()]
    yield "exponential", [L.Dense(4, activation="exponential")]
    yield "conv", [L.Reshape((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten()]

flagged = []
for width in (1, 10):
    for seed in range(6):
        for name, layers in hidden():
            for last in ("linear", "softmax" if width > 1 else "sigmoid"):
                keras.utils.set_random_seed(seed)
                model = keras.Sequential([keras.Input((64,))] + layers +
                                         [L.Dense(width, activation=last), L.Identity()])
                # A direct call computes what the judge's model.predict does, without tracing.
                outputs = keras.ops.convert_to_numpy(model(probe_batch((64,)), training=False))
                flagged.append([width, seed, name, last, probability_kind(outputs)])
print(json.dumps(flagged))
"""


@pytest.mark.slow
def test_probe_never_calls_a_linear_output_probabilities(tmp_path):
    """Fresh linear-output models of many shapes and seeds: none looks like probabilities,
    while a softmax (or most sigmoids) behind an Identity layer does."""
    with sandboxed_script(tmp_path, keras_models.JUDGE_SCRIPT, keras_models.JUDGE_COMPANIONS):
        pass   # the copies stay in tmp_path, for the process below
    done = subprocess.run([sys.executable, "-c", PROBE_CHECK], cwd=tmp_path, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert [r for r in results if r[3] == "linear" and r[4] is not None] == []
    assert all(r[4] == "softmax" for r in results if r[3] == "softmax")
    sigmoids = [r[4] for r in results if r[3] == "sigmoid"]
    assert sigmoids.count("sigmoid") > len(sigmoids) / 2


@pytest.mark.slow
def test_sigmoid_behind_identity_is_judged_by_what_it_computes(specs):
    message = compare(BinaryClassifier(), specs["sigmoid_then_identity_from_logits"])
    assert message and "already probabilities" in message
    # The same model with from_logits=False computes probabilities, as its loss expects.
    assert compare(BinaryClassifier(), specs["sigmoid_then_identity_probabilities"]) is None


@pytest.mark.slow
def test_forged_enormous_layer_is_rejected_in_seconds(specs):
    value = forge_enormous_layer(specs["digits_reference"])
    start = time.perf_counter()
    message = compare(DigitClassifier(), value)
    assert time.perf_counter() - start < 1
    assert "parameters; the budget is 1,000,000 parameters" in message
    # The judge process does not rely on that check: it counts without allocating anything.
    start = time.perf_counter()
    message = rejection(lambda: judge_directly(DigitClassifier(), value))
    assert time.perf_counter() - start < 60
    assert "the model has 97,000,000,362 parameters; the budget is 1,000,000" in message


@pytest.mark.slow
def test_deep_wide_model_is_rejected_in_seconds(specs):
    start = time.perf_counter()
    message = compare(DigitClassifier(), specs["deep_wide"])
    assert time.perf_counter() - start < 1
    parameters = 64 * 1024 + 1024 + 11 * (1024 * 1024 + 1024) + 1024 * 10 + 10
    expected = f"the model has {parameters:,} parameters; the budget is 1,000,000 parameters"
    assert expected in message
    start = time.perf_counter()
    assert expected in rejection(lambda: judge_directly(DigitClassifier(), specs["deep_wide"]))
    assert time.perf_counter() - start < 60


@pytest.mark.slow
def test_layer_the_json_check_cannot_size_is_counted_by_the_judge(specs):
    start = time.perf_counter()
    message = compare(DigitClassifier(), specs["einsum_wide"])
    assert time.perf_counter() - start < 60
    assert f"the model has {64 * 20000 + 20000 + 200010:,} parameters; the budget is " \
           f"1,000,000 parameters" in message


@pytest.mark.slow
def test_slow_model_is_stopped_by_the_training_budget(specs):
    start = time.perf_counter()
    message = compare(DigitClassifier(), specs["upsampled_convolutions"])
    seconds = time.perf_counter() - start
    assert message and "longer than 60 s (the training budget)" in message, message
    assert seconds < 60, seconds


@pytest.mark.slow
def test_training_clock_stops_a_model_at_the_budget(specs):
    check = DigitClassifier()
    check.train_seconds = 0.2    # the first batch (tracing included) already takes longer
    message = rejection(lambda: judge_directly(check, specs["upsampled_convolutions"]))
    assert "training took longer than 0.2 s (the training budget) and was stopped during " \
           "epoch 1 of 30" in message


@pytest.mark.slow
def test_model_that_exhausts_memory_is_rejected_as_such(specs):
    message = compare(DigitClassifier(), specs["memory_hungry"])
    assert message and "more memory than grading allows" in message, message


@pytest.mark.slow
def test_misspelt_loss_is_a_readable_rejection(specs):
    message = compare(BinaryClassifier(), specs["misspelt_loss"])
    assert "the loss 'binary_crossentropyy' is not a Keras loss" in message
    assert "Did you mean 'binary_crossentropy'?" in message


@pytest.mark.slow
def test_misspelt_metric_is_a_readable_rejection(specs):
    message = compare(BinaryClassifier(), specs["misspelt_metric"])
    assert message.startswith("training the model failed: ValueError:"), message
    assert "acurracy" in message


@pytest.mark.slow
def test_model_without_input_is_a_readable_rejection(specs):
    message = compare(BinaryClassifier(), specs["no_input"])
    assert "no input shape" in message and "keras.Input(shape=(64,))" in message


@pytest.mark.slow
def test_error_inside_the_judge_is_a_rejection(specs):
    check = DigitClassifier()
    X_train, X_test, y_train, _ = check.data()
    try:
        int(None)
    except TypeError as exc:
        error = str(exc)
    message = rejection(lambda: keras_models.judge_model(
        specs["digits_reference"], {"X_train": X_train, "y_train": y_train, "X_test": X_test},
        check.requirements(), Training(epochs=None, batch_size=32),   # no epochs: a TypeError
        check.budgets()))
    assert message == f"the model could not be judged: TypeError: {error}"


@pytest.mark.slow
@pytest.mark.parametrize("name, optimizer, rate, advice", [
    ("digits_sgd_50", "SGD", "50", "The loss rose: the steps overshoot. " + SMALLER_RATE),
    ("digits_sgd_0.001", "SGD", "0.001", "The loss barely fell: the steps are too small. "
                                         + LARGER_RATE),
    ("digits_one_hidden_unit", "Adam", "0.001", "although Adam at this rate takes large enough "
                                                "steps: " + LARGER_MODEL),
])
def test_model_short_of_the_bar_is_told_how_it_trained(specs, monkeypatch, name, optimizer,
                                                       rate, advice):
    seen = []

    def judge(*args, **kwargs):
        seen.append(judge_model(*args, **kwargs))
        return seen[-1]

    judge_model = keras_models.judge_model
    monkeypatch.setattr(keras_models, "judge_model", judge)
    message = compare(DigitClassifier(), specs[name])
    facts, _ = seen[0]
    losses = facts.epoch_losses
    assert len(losses) == 30 and all(np.isfinite(losses))
    # The untrained network guesses about uniformly among 10 classes: a loss near log(10).
    assert abs(facts.start_loss - np.log(10)) < 0.3
    lines = message.splitlines()
    assert len(lines) == 3, message
    accuracy = float(lines[0].split("accuracy is ")[1].split("%")[0])
    assert accuracy < 90 and lines[0].endswith("; it must reach 90%."), message
    assert lines[1] == (f"The judge trained the model with {optimizer} at learning rate {rate}, "
                        f"batch size 32: the training loss was {facts.start_loss:.3g} on the "
                        f"first batch, {losses[0]:.3g} over epoch 1 and {losses[-1]:.3g} over "
                        f"epoch 30."), message
    assert advice in lines[2], message
