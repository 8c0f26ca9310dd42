"""What a Keras model's JSON config alone says, read as plain data (no Keras, no TensorFlow):
its layers, its parameter count (exact, or a lower bound), whether it has an input shape, and the
precheck that refuses, in microseconds, what the JSON alone proves wrong (autograder.checks.
keras_models, step 1 of its docstring).
"""

from collections.abc import Iterator
from typing import Any

from autograder.checks.base import Mismatch
from autograder.checks.keras_protocol import Budgets, Rejected, fmt_count

# A config Keras writes for a model of these exercises has a few thousand JSON values, nested
# about 10 deep; these bounds only keep the walks below cheap and recursion-safe.
MAX_CONFIG_DEPTH = 64
MAX_CONFIG_NODES = 200_000

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


def _json_nodes(value: Any) -> Iterator[Any]:
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


def _modules(config: Any) -> Iterator[str]:
    """Every 'module' named anywhere in a Keras config."""
    for node in _json_nodes(config):
        if isinstance(node, dict) and isinstance(node.get("module"), str):
            yield node["module"]


def _count(value: object) -> int | None:
    """A non-negative int from the JSON, else None (Keras itself will refuse what is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def _shape(value: object) -> list | None:
    if isinstance(value, list) and 0 < len(value) <= 8 and \
            all(v is None or _count(v) is not None for v in value):
        return value
    return None


def _is_model(layer: dict[str, Any]) -> bool:
    inner = layer.get("config")
    return isinstance(inner, dict) and isinstance(inner.get("layers"), list)


def leaf_layer_configs(model_config: dict) -> Iterator[dict]:
    """The layer configs of a serialised model, nested models replaced by their layers."""
    inner = model_config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict):
            if _is_model(layer):
                yield from leaf_layer_configs(layer)
            else:
                yield layer


def layer_input_shape(layer: dict) -> list | None:
    """The input shape Keras recorded for a layer: its build config (Sequential) or the shape of
    the tensor it was called on (functional)."""
    build = layer.get("build_config")
    if isinstance(build, dict) and _shape(build.get("input_shape")):
        return build["input_shape"]
    try:
        return _shape(layer["inbound_nodes"][0]["args"][0]["config"]["shape"])
    except (KeyError, IndexError, TypeError):
        return None


def layer_parameters(layer: dict) -> tuple[int, bool]:
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
        filters, size_config = _count(config.get("filters")), config.get("kernel_size")
        kernel = _shape([size_config] if isinstance(size_config, int) else size_config)
        if filters is None or kernel is None or None in kernel:
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


def estimate(model_config: dict) -> tuple[int, int, bool, tuple[str, int]]:
    """(parameters, layers, exact, [(name, parameters) of the largest layer]) from the JSON."""
    total, count, exact, largest = 0, 0, True, ("", 0)
    for layer in leaf_layer_configs(model_config):
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


def has_input_shape(model_config: dict) -> bool:
    """False for a Sequential model built without keras.Input (nothing fixes its input size)."""
    if model_config.get("class_name") != "Sequential":
        return True
    config = model_config.get("config")
    inner = config if isinstance(config, dict) else {}
    build = model_config.get("build_config")
    if _shape(inner.get("build_input_shape")) or \
            (isinstance(build, dict) and _shape(build.get("input_shape"))):
        return True
    layers = [layer for layer in inner.get("layers") or [] if isinstance(layer, dict)]
    if any(layer.get("class_name") == "InputLayer" for layer in layers):
        return True
    if layers:
        first = layers[0]
        first_config = first.get("config")
        config = first_config if isinstance(first_config, dict) else {}
        if any(_shape(config.get(k)) for k in ("batch_shape", "batch_input_shape",
                                                "input_shape")):
            return True
        if _is_model(first):
            return has_input_shape(first)
    return False


def precheck(spec: Any, n_inputs: int | None = None,
             budgets: Budgets | None = None) -> dict[str, Any]:
    """Everything the JSON alone decides, before any process is started. Raises Mismatch."""
    budgets = budgets or Budgets()
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
    layers = list(leaf_layer_configs(config))
    if any(layer.get("class_name") == "Lambda" for layer in layers):
        raise Mismatch("the model has a Lambda layer: its Python code cannot be rebuilt for "
                       "grading (Keras' safe mode refuses code). Use the built-in Keras layers.")
    if not has_input_shape(config):
        shape = f"({n_inputs},)" if n_inputs else "(n_features,)"
        raise Mismatch(f"the model has no input shape, so it cannot be built or trained: start "
                       f"it with keras.Input(shape={shape}), e.g. keras.Sequential("
                       f"[keras.Input(shape={shape}), ...])")
    parameters, count, exact, largest = estimate(config)
    try:
        budgets.check(parameters, count, exact)
    except Rejected as exc:
        problem = str(exc)
        if parameters > budgets.max_parameters and largest[1] > 0.5 * parameters:
            problem += f" (The layer '{largest[0][:60]}' alone has {fmt_count(largest[1])}.)"
        raise Mismatch(problem) from None
    return {"parameters": parameters, "layers": count, "exact": exact}
