"""Checks for exercises that return a compiled Keras model: rebuilt here from data, then trained.

The student's process hands back the model's JSON config and compile config. This process
rebuilds the model from that data with Keras' safe mode (no Lambda layers, no custom classes), so
no student code runs here; it then checks that the loss matches the output layer and trains the
model for a fixed budget on a held-out split.
"""

import copy
import os

from autograder.framework import Case, Check, Mismatch

# Output activations that turn logits into probabilities, per kind of loss.
PROBABILITY_OUTPUTS = {"sigmoid", "softmax"}


def import_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    return keras


def _modules(config):
    """Every 'module' named anywhere in a Keras config."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key == "module" and isinstance(value, str):
                yield value
            yield from _modules(value)
    elif isinstance(config, list):
        for value in config:
            yield from _modules(value)


def rebuild_model(spec):
    """A compiled Keras model from the data a student's process sent; Mismatch if it is not one."""
    if not isinstance(spec, dict) or spec.get("__model__") != "keras":
        raise Mismatch("expected a compiled tf.keras model to be returned")
    foreign = sorted({m for m in _modules(spec) if not (m == "keras" or m.startswith("keras."))})
    if foreign:
        raise Mismatch("the model uses classes from outside Keras (" + ", ".join(foreign) +
                       "); use the built-in Keras layers, losses and optimizers")
    if not spec.get("compile_config"):
        raise Mismatch("the model is not compiled: call model.compile(loss=..., optimizer=...) "
                       "before returning it")
    keras = import_keras()
    try:
        # Keras consumes the dicts it deserialises: give it copies, the spec is used again.
        model = keras.saving.deserialize_keras_object(copy.deepcopy(spec["config"]),
                                                      safe_mode=True)
        model.compile_from_config(copy.deepcopy(spec["compile_config"]))
    except Exception as exc:  # noqa: BLE001 - anything Keras refuses is the student's to fix
        raise Mismatch(f"the model could not be rebuilt from its configuration: "
                       f"{type(exc).__name__}: {str(exc)[:300]}") from None
    return model


def output_activation(model):
    """The activation applied by the model's last layer ('linear', 'sigmoid', 'softmax', ...)."""
    layer = model.layers[-1]
    config = layer.get_config()
    name = type(layer).__name__
    if name == "Softmax":
        return "softmax"
    if name == "ReLU":
        return "relu"
    activation = config.get("activation", "linear")
    if isinstance(activation, dict):  # a serialised activation function
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    return str(activation or "linear").lower()


def loss_info(model):
    """(loss name, from_logits) of the compiled loss."""
    keras = import_keras()
    loss = model.loss
    if isinstance(loss, (list, tuple, dict)):
        raise Mismatch("the model has several losses; it needs exactly one")
    if isinstance(loss, str):
        loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        return type(loss).__name__, bool(config.get("from_logits", False))
    return getattr(loss, "__name__", type(loss).__name__), False


def check_loss_matches_output(model, expected_losses):
    """Linear output with from_logits=True, or a probability output with from_logits=False."""
    loss_name, from_logits = loss_info(model)
    if expected_losses and loss_name not in expected_losses:
        raise Mismatch(f"the loss is {loss_name}; this task needs one of: " +
                       ", ".join(sorted(expected_losses)))
    activation = output_activation(model)
    if from_logits and activation != "linear":
        raise Mismatch(f"the output layer applies '{activation}' but the loss has "
                       f"from_logits=True: the loss would apply it a second time. Use a linear "
                       f"output layer with from_logits=True, or keep '{activation}' and set "
                       f"from_logits=False (where the task allows it).")
    if not from_logits and activation not in PROBABILITY_OUTPUTS:
        raise Mismatch(f"the output layer is '{activation}' but the loss expects probabilities "
                       f"(from_logits=False). Use from_logits=True with a linear output layer.")
    return activation, from_logits


class KerasModelCheck(Check):
    """Build the student's model, rebuild it here, check its shape and loss, and train it."""

    build_timeout = 120.0
    epochs = 30
    batch_size = 32
    min_accuracy = 0.9
    n_inputs = None
    n_outputs = None
    expected_losses = ()
    require_logits = False

    def build_args(self):
        return ()

    def cases(self, rng):
        return [Case(f"the model returned by {self.signature}", self.build_args(),
                     kind="fixed", timeout=self.build_timeout, show_input=False)]

    def expected(self, case):
        return None

    def data(self):
        """(X_train, X_test, y_train, y_test) to train and judge on."""
        raise NotImplementedError

    def predict_labels(self, outputs, from_logits, activation):
        raise NotImplementedError

    def compare(self, case, expected, actual):
        keras = import_keras()
        model = rebuild_model(actual)
        if self.n_inputs is not None:
            shape = tuple(model.inputs[0].shape[1:]) if model.inputs else None
            if shape is None or shape[-1] != self.n_inputs:
                raise Mismatch(f"the model's input shape is {shape}, expected "
                               f"(batch, {self.n_inputs})")
        outputs = model.outputs[0].shape[-1] if model.outputs else None
        if self.n_outputs is not None and outputs != self.n_outputs:
            raise Mismatch(f"the model has {outputs} outputs, expected {self.n_outputs}")
        activation, from_logits = check_loss_matches_output(model, self.expected_losses)
        if self.require_logits and not from_logits:
            raise Mismatch("this task asks for a linear output layer and a loss with "
                           "from_logits=True (see the numerical-stability chapter)")
        X_train, X_test, y_train, y_test = self.data()
        keras.utils.set_random_seed(0)
        model = rebuild_model(actual)   # fresh weights under a fixed seed
        try:
            model.fit(X_train, y_train, epochs=self.epochs, batch_size=self.batch_size, verbose=0)
            predicted = self.predict_labels(model.predict(X_test, verbose=0), from_logits,
                                            activation)
        except Exception as exc:  # noqa: BLE001
            raise Mismatch(f"training the model failed: {type(exc).__name__}: "
                           f"{str(exc)[:300]}") from None
        accuracy = float((predicted == y_test).mean())
        if not accuracy >= self.min_accuracy:
            raise Mismatch(f"after {self.epochs} epochs the held-out accuracy is "
                           f"{accuracy:.1%}; it must reach {self.min_accuracy:.0%}")
