"""Chapter 6 reference: a gradient-descent step, a momentum step, an Adam step (Kingma and Ba)
and a minimiser."""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

OPTIMIZERS = ("gd", "adam")
ADAM_DEFAULTS = {"alpha": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def _same_shape(name: str, a: ArrayLike, like: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.shape != like.shape:
        raise ValueError(f"{name} must have the shape of w {like.shape}, got {a.shape}")
    return a


def gradient_descent_step(w: ArrayLike, grad: ArrayLike, alpha: float) -> np.ndarray:
    """w - alpha * grad: one step of gradient descent, a new array of w's shape."""
    w = np.asarray(w, dtype=float)
    grad = _same_shape("grad", grad, w)
    return w - alpha * grad


def momentum_step(w: ArrayLike, grad: ArrayLike, velocity: ArrayLike, alpha: float,
                  beta: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """One step of gradient descent with momentum, in Keras' convention (keras.optimizers.SGD
    with momentum=beta); returns new arrays (w_new, velocity_new).

        velocity_new = beta velocity - alpha grad      the velocity: a decaying sum of steps
        w_new = w + velocity_new

    velocity is zero before the first step; beta = 0 is plain gradient descent.
    """
    w = np.asarray(w, dtype=float)
    grad = _same_shape("grad", grad, w)
    velocity = _same_shape("velocity", velocity, w)
    velocity_new = beta * velocity - alpha * grad
    return w + velocity_new, velocity_new


def adam_step(w: ArrayLike, grad: ArrayLike, m: ArrayLike, v: ArrayLike, t: int,
              alpha: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
              epsilon: float = 1e-7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step number t (1, 2, ...) of Adam; returns new arrays (w_new, m_new, v_new).

    Kingma and Ba (2015), Algorithm 1: with g the gradient at w,
        m_new = beta_1 m + (1 - beta_1) g          first moment: a running mean of g
        v_new = beta_2 v + (1 - beta_2) g^2        second moment: a running mean of g^2
        m_hat = m_new / (1 - beta_1^t)             bias correction: m and v start at 0
        v_hat = v_new / (1 - beta_2^t)
        w_new = w - alpha m_hat / (sqrt(v_hat) + epsilon)
    every operation element-wise, so each parameter gets its own step size.
    """
    w = np.asarray(w, dtype=float)
    grad, m, v = (_same_shape(name, a, w) for name, a in (("grad", grad), ("m", m), ("v", v)))
    if isinstance(t, bool) or int(t) != t or t < 1:
        raise ValueError(f"t counts the steps from 1, got {t!r}")
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    w_new = w - alpha * m_hat / (np.sqrt(v_hat) + epsilon)
    return w_new, m_new, v_new


def minimize(grad_fn: Callable[[np.ndarray], Any], w0: ArrayLike, steps: int, optimizer: str,
             **hyper: float) -> tuple[np.ndarray, np.ndarray]:
    """Run `steps` steps of `optimizer` ("gd" or "adam") from w0; returns (w, path).

    grad_fn(w) is the gradient of the cost at w. path is the (steps + 1, n) array of the
    iterates w0, w1, ..., w_steps, and w is its last row. hyper holds alpha (default 0.001)
    and, for Adam, beta_1, beta_2 and epsilon (defaults as in adam_step); Adam's m and v
    start at zero and its step count t at 1.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    allowed = ADAM_DEFAULTS if optimizer == "adam" else {"alpha": ADAM_DEFAULTS["alpha"]}
    unknown = set(hyper) - set(allowed)
    if unknown:
        raise TypeError(f"unknown hyper-parameters for {optimizer!r}: {sorted(unknown)}")
    hyper = {**allowed, **hyper}
    w = np.array(w0, dtype=float)            # a copy: w0 stays the caller's
    if w.ndim != 1:
        raise ValueError(f"w0 must be a 1-D array of the n parameters, got shape {w.shape}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    path = np.empty((int(steps) + 1, w.size))
    path[0] = w
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, int(steps) + 1):
        grad = np.asarray(grad_fn(w), dtype=float)
        if optimizer == "gd":
            w = gradient_descent_step(w, grad, hyper["alpha"])
        else:
            w, m, v = adam_step(w, grad, m, v, t, **hyper)
        path[t] = w
    return w, path
