"""The adam checks accept correct code written many ways and reject plausible bugs."""

import numpy as np
import pytest

from autograder.checks import adam, adam_functions
from autograder.checks.base import run_checks
from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


def test_checks_are_listed_in_exercise_order():
    assert [check.exercise_id for check in adam.CHECKS] == [
        "adam.gradient_descent_step", "adam.momentum_step", "adam.adam_step", "adam.minimize"]


def test_the_signatures_are_written_as_the_course_lists_them():
    assert [check.signature for check in adam.CHECKS] == [
        "gradient_descent_step(w, grad, alpha)",
        "momentum_step(w, grad, velocity, alpha, beta=0.9)",
        "adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)",
        "minimize(grad_fn, w0, steps, optimizer, **hyper)"]


# ----------------------------------------------------------------------------------------------
# gradient_descent_step

GD_CORRECT = {
    "reference-style: w - alpha * grad": """
def gradient_descent_step(w, grad, alpha):
    return w - alpha * grad
""",
    "np.subtract and np.multiply": """
def gradient_descent_step(w, grad, alpha):
    return np.subtract(w, np.multiply(alpha, grad))
""",
    "in place, on a copy": """
def gradient_descent_step(w, grad, alpha):
    w_new = np.array(w, dtype=float)
    w_new -= alpha * np.asarray(grad)
    return w_new
""",
    "a loop over the entries with np.nditer": """
def gradient_descent_step(w, grad, alpha):
    w_new = np.empty(np.shape(w))
    for out, wj, gj in np.nditer([w_new, w, grad], op_flags=[["writeonly"], ["readonly"],
                                                              ["readonly"]]):
        out[...] = wj - alpha * gj
    return w_new
""",
    "w + (-alpha) * grad": """
def gradient_descent_step(w, grad, alpha):
    return w + (-alpha) * grad
""",
}

GD_WRONG = {
    "wrong sign: climbs the gradient": """
def gradient_descent_step(w, grad, alpha):
    return w + alpha * grad
""",
    "modifies w in place": """
def gradient_descent_step(w, grad, alpha):
    w -= alpha * grad
    return w
""",
    "ignores alpha": """
def gradient_descent_step(w, grad, alpha):
    return w - grad
""",
    "returns the step, not the new w": """
def gradient_descent_step(w, grad, alpha):
    return alpha * grad
""",
    "divides by alpha": """
def gradient_descent_step(w, grad, alpha):
    return w - grad / alpha if alpha else w.copy()
""",
    "normalises the gradient (a step of length alpha)": """
def gradient_descent_step(w, grad, alpha):
    norm = np.linalg.norm(grad)
    return w - alpha * grad / norm if norm else w.copy()
""",
    "returns a list": """
def gradient_descent_step(w, grad, alpha):
    return (w - alpha * grad).tolist()
""",
}


# ----------------------------------------------------------------------------------------------
# momentum_step: written from the task text alone (Keras' convention)

MOMENTUM_CORRECT = {
    "the two formulas as written": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - alpha * grad
    return w + velocity_new, velocity_new
""",
    "Keras' order: -grad * alpha + velocity * beta, as a list of the two": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    v = -grad * alpha + velocity * beta
    return [np.add(w, v), v]
""",
    "in place, on copies": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    v = np.array(velocity, dtype=float)
    v *= beta
    v -= alpha * np.asarray(grad)
    w_new = np.array(w, dtype=float)
    w_new += v
    return w_new, v
""",
    "a loop over the entries": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    w = np.asarray(w, dtype=float)
    w_new, v_new = np.empty(w.shape), np.empty(w.shape)
    for j in np.ndindex(w.shape):
        v_new[j] = beta * velocity[j] - alpha * grad[j]
        w_new[j] = w[j] + v_new[j]
    return w_new, v_new
""",
    "w_new first, the velocity as the step taken": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    w_new = w + beta * velocity - alpha * grad
    return w_new, w_new - w
""",
}

MOMENTUM_WRONG = {
    "PyTorch's sign convention: velocity = beta v + alpha grad, w - velocity": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity + alpha * grad
    return w - velocity_new, velocity_new
""",
    "a (1 - beta) factor on the gradient (an average, as Adam's m)": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - (1 - beta) * alpha * grad
    return w + velocity_new, velocity_new
""",
    "w moved by the old velocity": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - alpha * grad
    return w + velocity, velocity_new
""",
    "modifies w in place": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - alpha * grad
    w += velocity_new
    return w, velocity_new
""",
    "modifies velocity in place": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity *= beta
    velocity -= alpha * grad
    return w + velocity, velocity.copy()
""",
    "beta on the gradient, not on the old velocity": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = velocity - beta * alpha * grad
    return w + velocity_new, velocity_new
""",
    "Nesterov's update (Keras' nesterov=True)": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - alpha * grad
    return w + beta * velocity_new - alpha * grad, velocity_new
""",
    "returns (velocity_new, w_new)": """
def momentum_step(w, grad, velocity, alpha, beta=0.9):
    velocity_new = beta * velocity - alpha * grad
    return velocity_new, w + velocity_new
""",
    "default beta 0.99": """
def momentum_step(w, grad, velocity, alpha, beta=0.99):
    velocity_new = beta * velocity - alpha * grad
    return w + velocity_new, velocity_new
""",
}


# ----------------------------------------------------------------------------------------------
# adam_step

ADAM_CORRECT = {
    "reference-style: Algorithm 1 as written": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "Keras' ordering: m + (g - m)(1 - beta_1), bias correction folded into the rate": """
import math
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = m + (grad - m) * (1 - beta_1)
    v_new = v + (np.square(grad) - v) * (1 - beta_2)
    correction = math.sqrt(1 - beta_2 ** t)
    alpha_t = alpha * correction / (1 - beta_1 ** t)
    # Algorithm 1's epsilon, moved inside the corrected denominator: epsilon * sqrt(1 - beta_2^t)
    return w - alpha_t * m_new / (np.sqrt(v_new) + epsilon * correction), m_new, v_new
""",
    "a loop over the entries with math, any shape": """
import math
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w_new, m_new, v_new = (np.array(a, dtype=float) for a in (w, m, v))
    for i in np.ndindex(np.shape(w)):
        g = float(grad[i])
        m_new[i] = beta_1 * m_new[i] + (1 - beta_1) * g
        v_new[i] = beta_2 * v_new[i] + (1 - beta_2) * g * g
        m_hat = m_new[i] / (1 - math.pow(beta_1, t))
        v_hat = v_new[i] / (1 - math.pow(beta_2, t))
        w_new[i] -= alpha * m_hat / (math.sqrt(v_hat) + epsilon)
    return w_new, m_new, v_new
""",
    "copies, then in-place updates on the copies": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w, m, v = w.copy(), m.copy(), v.copy()
    m *= beta_1
    m += (1 - beta_1) * grad
    v *= beta_2
    v += (1 - beta_2) * grad * grad
    w -= alpha * (m / (1 - beta_1 ** t)) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    return w, m, v
""",
    "sqrt of v_hat as sqrt(v) / sqrt(1 - beta_2^t), a list of arrays": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = np.add(np.multiply(beta_1, m), np.multiply(1 - beta_1, grad))
    v_new = np.add(np.multiply(beta_2, v), np.multiply(1 - beta_2, grad * grad))
    step = alpha / (1 - beta_1 ** t) * m_new / (np.sqrt(v_new) / np.sqrt(1 - beta_2 ** t)
                                                 + epsilon)
    return [w - step, m_new, v_new]
""",
}

# Each wrong version is the reference with one slip.
ADAM_WRONG = {
    "no bias correction": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    return w - alpha * m_new / (np.sqrt(v_new) + epsilon), m_new, v_new
""",
    "bias correction of m only": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    return w - alpha * m_new / (1 - beta_1 ** t) / (np.sqrt(v_new) + epsilon), m_new, v_new
""",
    "epsilon inside the square root": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / np.sqrt(v_hat + epsilon), m_new, v_new
""",
    "Keras' formula: epsilon added to sqrt(v), not to sqrt(v_hat)": """
import math
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    alpha_t = alpha * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha_t * m_new / (np.sqrt(v_new) + epsilon), m_new, v_new
""",
    "no epsilon (0 / 0 for a zero gradient)": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / np.sqrt(v_hat), m_new, v_new
""",
    "the paper's default epsilon = 1e-8": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "bias correction with t - 1": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** (t - 1))
    v_hat = v_new / (1 - beta_2 ** (t - 1))
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "0-based t: bias correction with t + 1": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** (t + 1))
    v_hat = v_new / (1 - beta_2 ** (t + 1))
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "m and v swapped in the update": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * v_hat / (np.sqrt(m_hat ** 2) + epsilon), m_new, v_new
""",
    "returns (w, v, m): the moments in the wrong order": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), v_new, m_new
""",
    "beta_2 used for m": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_2 * m + (1 - beta_2) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_2 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "the weights swapped: beta_1 * grad + (1 - beta_1) * m": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * grad + (1 - beta_1) * m
    v_new = beta_2 * grad ** 2 + (1 - beta_2) * v
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "v from the gradient, not its square": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * np.abs(grad)
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "returns the bias-corrected m_hat and v_hat as the state": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_hat, v_hat
""",
    "modifies m and v in place": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m *= beta_1
    m += (1 - beta_1) * grad
    v *= beta_2
    v += (1 - beta_2) * grad ** 2
    m_hat = m / (1 - beta_1 ** t)
    v_hat = v / (1 - beta_2 ** t)
    return w - alpha * m_hat / (np.sqrt(v_hat) + epsilon), m, v
""",
    "modifies w in place": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    w -= alpha * m_hat / (np.sqrt(v_hat) + epsilon)
    return w, m_new, v_new
""",
    "wrong sign: w + step": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w + alpha * m_hat / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
    "the step uses the gradient, not m_hat (RMSProp with bias correction)": """
def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * grad / (np.sqrt(v_hat) + epsilon), m_new, v_new
""",
}


# ----------------------------------------------------------------------------------------------
# minimize

# Every version of minimize below brings its own adam_step, so that it is judged on its own.
ADAM_STEP = ADAM_CORRECT["reference-style: Algorithm 1 as written"]

MINIMIZE_CORRECT = {
    "reference-style: a preallocated path, the student's adam_step": ADAM_STEP + """
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    w = np.array(w0, dtype=float)
    path = np.zeros((steps + 1, w.size))
    path[0] = w
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad_fn(w)
        if optimizer == "gd":
            w = w - hyper.get("alpha", 0.001) * g
        else:
            w, m, v = adam_step(w, g, m, v, t, **hyper)
        path[t] = w
    return w, path
""",
    "a list of copies stacked at the end, Adam written out": """
def minimize(grad_fn, w0, steps, optimizer, alpha=0.001, beta_1=0.9, beta_2=0.999,
             epsilon=1e-7):
    w = w0.copy()
    path = [w.copy()]
    m = np.zeros(len(w))
    v = np.zeros(len(w))
    for t in range(1, steps + 1):
        g = grad_fn(w)
        if optimizer == "adam":
            m = beta_1 * m + (1 - beta_1) * g
            v = beta_2 * v + (1 - beta_2) * g * g
            w = w - alpha * (m / (1 - beta_1 ** t)) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
        else:
            w = w - alpha * g
        path.append(w.copy())
    return path[-1], np.vstack(path)
""",
    "Keras' ordering, in place on a copy, running powers of beta": """
import math
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    alpha = hyper.pop("alpha", 0.001)
    beta_1, beta_2 = hyper.pop("beta_1", 0.9), hyper.pop("beta_2", 0.999)
    epsilon = hyper.pop("epsilon", 1e-7)
    w = np.array(w0, dtype=float)
    m, v = np.zeros_like(w), np.zeros_like(w)
    beta_1_t = beta_2_t = 1.0
    path = np.empty((steps + 1, len(w)))
    path[0] = w
    for t in range(steps):
        g = grad_fn(w)
        if optimizer == "gd":
            w -= alpha * g
        else:
            beta_1_t *= beta_1
            beta_2_t *= beta_2
            m += (g - m) * (1 - beta_1)
            v += (g * g - v) * (1 - beta_2)
            alpha_t = alpha * math.sqrt(1 - beta_2_t) / (1 - beta_1_t)
            w -= alpha_t * m / (np.sqrt(v) + epsilon * math.sqrt(1 - beta_2_t))
        path[t + 1] = w
    return w, path
""",
    "the optimizer chosen once, as a function; scalar loops": """
import math
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    alpha = hyper.get("alpha", 0.001)
    b1, b2, eps = hyper.get("beta_1", 0.9), hyper.get("beta_2", 0.999), hyper.get("epsilon", 1e-7)
    n = len(w0)
    m, v = [0.0] * n, [0.0] * n

    def gd(w, g, t):
        return [w[j] - alpha * g[j] for j in range(n)]

    def adam(w, g, t):
        out = []
        for j in range(n):
            m[j] = b1 * m[j] + (1 - b1) * g[j]
            v[j] = b2 * v[j] + (1 - b2) * g[j] ** 2
            out.append(w[j] - alpha * (m[j] / (1 - b1 ** t))
                       / (math.sqrt(v[j] / (1 - b2 ** t)) + eps))
        return out

    update = {"gd": gd, "adam": adam}[optimizer]
    rows = [[float(x) for x in w0]]
    for t in range(1, steps + 1):
        rows.append(update(rows[-1], grad_fn(np.array(rows[-1])), t))
    path = np.array(rows)
    return path[-1].copy(), path
""",
}

MINIMIZE_BODY = """
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    w = np.array(w0, dtype=float)
    path = [w]
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad_fn(w)
        if optimizer == "gd":
            w = w - hyper.get("alpha", 0.001) * g
        else:
            w, m, v = adam_step(w, g, m, v, t, **hyper)
        path.append(w)
    return w, np.array(path)
"""


def slip(old, new, body=MINIMIZE_BODY):
    """The correct minimize above with one line changed: a bug as students make it."""
    assert old in body, old
    return ADAM_STEP + body.replace(old, new)


MINIMIZE_WRONG = {
    "path without w0": slip("path = [w]", "path = []"),
    "path without the last point (steps rows)": slip("for t in range(1, steps + 1):",
                                                     "for t in range(1, steps):"),
    "path of steps rows: w recorded before each step": ADAM_STEP + """
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    w = np.array(w0, dtype=float)
    path = []
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        path.append(w)
        g = grad_fn(w)
        if optimizer == "gd":
            w = w - hyper.get("alpha", 0.001) * g
        else:
            w, m, v = adam_step(w, g, m, v, t, **hyper)
    return w, np.array(path).reshape(steps, len(w))
""",
    "gd ignores alpha": slip('w = w - hyper.get("alpha", 0.001) * g', "w = w - g"),
    "gd with a fixed alpha = 0.001": slip('hyper.get("alpha", 0.001)', "0.001"),
    "Adam's t starts at 0": slip("adam_step(w, g, m, v, t, **hyper)",
                                 "adam_step(w, g, m, v, t - 1, **hyper)"),
    "Adam's t stays at 1 (bias correction every step)": slip(
        "adam_step(w, g, m, v, t, **hyper)", "adam_step(w, g, m, v, 1, **hyper)"),
    "Adam's m and v reset at every step": slip(
        "w, m, v = adam_step(w, g, m, v, t, **hyper)",
        "w, _, _ = adam_step(w, g, np.zeros_like(w), np.zeros_like(w), t, **hyper)"),
    "Adam ignores its hyper-parameters": slip("adam_step(w, g, m, v, t, **hyper)",
                                              "adam_step(w, g, m, v, t)"),
    "the gradient always taken at w0": slip("g = grad_fn(w)", "g = grad_fn(w0)"),
    "every optimizer is gradient descent": slip('if optimizer == "gd":', "if True:"),
    "every row of the path is the same array, updated in place": ADAM_STEP + """
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    w = np.array(w0, dtype=float)
    path = [w]
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad_fn(w)
        if optimizer == "gd":
            w -= hyper.get("alpha", 0.001) * g
        else:
            w[:], m, v = adam_step(w, g, m, v, t, **hyper)
        path.append(w)
    return w, np.array(path)
""",
    "modifies w0 in place": ADAM_STEP + """
def minimize(grad_fn, w0, steps, optimizer, **hyper):
    w = w0
    path = [w.copy()]
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad_fn(w)
        if optimizer == "gd":
            w -= hyper.get("alpha", 0.001) * g
        else:
            w[:], m, v = adam_step(w, g, m, v, t, **hyper)
        path.append(w.copy())
    return w.copy(), np.array(path)
""",
    "returns (path, w)": slip("return w, np.array(path)", "return np.array(path), w"),
    "path transposed: (n, steps + 1)": slip("return w, np.array(path)",
                                            "return w, np.array(path).T"),
    "returns w0 as w": slip("return w, np.array(path)", "return w0, np.array(path)"),
}


CASES = [
    ("adam.gradient_descent_step", GD_CORRECT, GD_WRONG),
    ("adam.momentum_step", MOMENTUM_CORRECT, MOMENTUM_WRONG),
    ("adam.adam_step", ADAM_CORRECT, ADAM_WRONG),
    ("adam.minimize", MINIMIZE_CORRECT, MINIMIZE_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


# ----------------------------------------------------------------------------------------------
# Across the chapter

def test_a_wrong_path_length_is_explained(check_code):
    verdict = check_code("adam.minimize",
                         HEADER + MINIMIZE_WRONG["path without the last point (steps rows)"])
    assert "one row is missing" in verdict.feedback()


def test_a_sign_convention_is_named_on_the_velocity(check_code):
    verdict = check_code("adam.momentum_step", HEADER + MOMENTUM_WRONG[
        "PyTorch's sign convention: velocity = beta v + alpha grad, w - velocity"])
    text = verdict.feedback()
    assert "velocity_new" in text and "13 of 13 cases failed" in text


def test_feedback_names_the_moment_that_is_wrong(check_code):
    verdict = check_code("adam.adam_step", HEADER + ADAM_WRONG["v from the gradient, not its "
                                                               "square"])
    text = verdict.feedback()
    assert "v_new (the second moment)" in text and "input:" in text
    assert "sqrt(v_hat)" not in text   # no reference code


def test_the_named_gradients_are_the_gradients_of_their_costs():
    """Each NamedCallable the checks pass is the gradient of the cost the task names, by central
    differences of that cost."""
    costs = {
        "elongated_bowl_gradient": lambda w: 0.5 * (w[0] ** 2 + 20 * w[1] ** 2),
        "rotated_bowl_gradient": lambda w: 0.5 * (
            (((w[0] - 1) + (w[1] - 2)) / np.sqrt(2)) ** 2
            + 20 * (((w[0] - 1) - (w[1] - 2)) / np.sqrt(2)) ** 2),
        "rosenbrock_gradient": lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2,
        "diagonal_bowl_gradient": lambda w: 0.5 * np.sum(np.arange(1, w.size + 1) * w ** 2),
    }
    rng = np.random.default_rng(0)
    for name, cost in costs.items():
        for n in ([2] if name != "diagonal_bowl_gradient" else [1, 3, 6]):
            w = rng.normal(size=n)
            h = 1e-6
            numeric = np.array([(cost(w + h * e) - cost(w - h * e)) / (2 * h)
                                for e in np.eye(n)])
            np.testing.assert_allclose(getattr(adam_functions, name)(w), numeric,
                                       rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_correct_version_is_accepted_whatever_the_seed(seed):
    """The random cases change with the seed: none of them may catch out a correct ordering."""
    codes = [HEADER + GD_CORRECT[name_gd] + MOMENTUM_CORRECT[name_mom] + ADAM_CORRECT[name_adam]
             + MINIMIZE_CORRECT[name_min]
             for name_gd, name_mom, name_adam, name_min in zip(GD_CORRECT, MOMENTUM_CORRECT,
                                                               ADAM_CORRECT, MINIMIZE_CORRECT)]
    for code in codes:
        verdicts, _ = run_checks(adam.CHECKS, [code], seed=seed)
        assert all(v.accepted for v in verdicts.values()), \
            "\n".join(v.feedback() for v in verdicts.values())
