"""The backprop checks accept correct code written many ways and reject plausible bugs."""

import pytest

from autograder.checks import backprop
from tests.autograder.verdicts import accept_and_reject

HEADER = "import numpy as np\n"


def test_checks_are_listed_in_exercise_order():
    assert [check.exercise_id for check in backprop.CHECKS] == [
        "backprop.numerical_derivative", "backprop.Value", "backprop.two_layer_gradients",
        "backprop.dense_backward", "backprop.gradient_check"]


def test_the_signatures_are_written_as_the_course_lists_them():
    assert [check.signature for check in backprop.CHECKS] == [
        "numerical_derivative(f, w, epsilon=1e-6)", "class Value(data)",
        "two_layer_gradients(x, y, w1, b1, w2, b2)", "dense_backward(a_in, W, b, dA, g)",
        "gradient_check(f, grad, w, epsilon=1e-6)"]


# ----------------------------------------------------------------------------------------------
# numerical_derivative

ND_CORRECT = {
    "reference-style: (f(w + e) - f(w - e)) / (2 e)": """
def numerical_derivative(f, w, epsilon=1e-6):
    return (f(w + epsilon) - f(w - epsilon)) / (2 * epsilon)
""",
    "two divided halves: f(w + e) / (2 e) - f(w - e) / (2 e)": """
def numerical_derivative(f, w, epsilon=1e-6):
    return f(w + epsilon) / (2 * epsilon) - f(w - epsilon) / (2 * epsilon)
""",
    "divided by the step actually taken, (w + e) - (w - e)": """
def numerical_derivative(f, w, epsilon=1e-6):
    right, left = w + epsilon, w - epsilon
    return (f(right) - f(left)) / (right - left)
""",
    "0.5 * (J+ - J-) / epsilon, with floats": """
def numerical_derivative(f, w, epsilon=1e-6):
    j_plus, j_minus = float(f(w + epsilon)), float(f(w - epsilon))
    return 0.5 * (j_plus - j_minus) / epsilon
""",
    "the mean of a forward and a backward difference": """
def numerical_derivative(f, w, epsilon=1e-6):
    forward = (f(w + epsilon) - f(w)) / epsilon
    backward = (f(w) - f(w - epsilon)) / epsilon
    return (forward + backward) / 2
""",
}

ND_WRONG = {
    "forward difference": """
def numerical_derivative(f, w, epsilon=1e-6):
    return (f(w + epsilon) - f(w)) / epsilon
""",
    "backward difference": """
def numerical_derivative(f, w, epsilon=1e-6):
    return (f(w) - f(w - epsilon)) / epsilon
""",
    "divides by epsilon, not 2 epsilon": """
def numerical_derivative(f, w, epsilon=1e-6):
    return (f(w + epsilon) - f(w - epsilon)) / epsilon
""",
    "precedence: / 2 * epsilon": """
def numerical_derivative(f, w, epsilon=1e-6):
    return (f(w + epsilon) - f(w - epsilon)) / 2 * epsilon
""",
    "ignores the epsilon passed in": """
def numerical_derivative(f, w, epsilon=1e-6):
    h = 1e-6
    return (f(w + h) - f(w - h)) / (2 * h)
""",
    "a default epsilon of 1e-3": """
def numerical_derivative(f, w, epsilon=1e-3):
    return (f(w + epsilon) - f(w - epsilon)) / (2 * epsilon)
""",
    "computed in float32": """
def numerical_derivative(f, w, epsilon=1e-6):
    return np.float32((np.float32(f(w + epsilon)) - np.float32(f(w - epsilon)))
                      / np.float32(2 * epsilon))
""",
}


# ----------------------------------------------------------------------------------------------
# Value

def value_class(add_backward="""
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
""", mul_backward="""
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
""", pow_backward="""
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
""", relu_backward="""
        def _backward():
            self.grad += (self.data > 0) * out.grad
""", sub="return self + (-other)", rsub="return (-self) + other",
        truediv="return self * other ** -1", rtruediv="return other * self ** -1",
        rmul="""
    def __rmul__(self, other):
        return self * other
""", backward="""
    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
"""):
    """micrograd's Value (a recursive topological sort), with any one piece replaced."""
    return f"""
class Value:
    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
{add_backward}
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
{mul_backward}
        out._backward = _backward
        return out

    def __pow__(self, p):
        out = Value(self.data ** p, (self,))
{pow_backward}
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,))
{relu_backward}
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        {sub}

    def __rsub__(self, other):
        {rsub}

    def __truediv__(self, other):
        {truediv}

    def __rtruediv__(self, other):
        {rtruediv}
{rmul}
{backward}
"""


VALUE_CORRECT = {
    "micrograd: closures, a recursive topological sort": value_class(),
    "an iterative depth-first search": value_class(backward="""
    def backward(self):
        # A node is marked when it is expanded, not when it is pushed: marking on push lists a
        # node reached by two paths before the nodes that use it (the grader rejects that).
        topo, expanded, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                topo.append(node)
                continue
            if id(node) in expanded:
                continue
            expanded.add(id(node))
            stack.append((node, True))
            for child in node._prev:
                if id(child) not in expanded:
                    stack.append((child, False))
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
"""),
    "Kahn's algorithm: a node passes its grad on once all its consumers have": value_class(
        backward="""
    def backward(self):
        consumers, seen, stack = {}, {id(self)}, [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                consumers[id(child)] = consumers.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                consumers[id(child)] -= 1
                if consumers[id(child)] == 0:
                    ready.append(child)
"""),
    "division and subtraction with their own local derivatives": value_class(
        sub="return Value._op(self, other, lambda a, b: a - b, lambda a, b: (1.0, -1.0))",
        rsub="return Value._op(Value(other), self, lambda a, b: a - b, lambda a, b: (1.0, -1.0))",
        truediv="return Value._op(self, other, lambda a, b: a / b, "
                "lambda a, b: (1 / b, -a / b ** 2))",
        rtruediv="return Value._op(Value(other), self, lambda a, b: a / b, "
                 "lambda a, b: (1 / b, -a / b ** 2))",
        rmul="""
    def __rmul__(self, other):
        return Value(other) * self

    @staticmethod
    def _op(a, b, forward, local):
        b = b if isinstance(b, Value) else Value(b)
        out = Value(forward(a.data, b.data), (a, b))
        def _backward():
            da, db = local(a.data, b.data)
            a.grad += da * out.grad
            b.grad += db * out.grad
        out._backward = _backward
        return out
"""),
    "a tape: nodes recorded in creation order, replayed backwards": """
import math
_TAPE = []

class Value:
    def __init__(self, data, parents=(), local=()):
        self.data, self.grad = data, 0
        self.parents, self.local = parents, local
        _TAPE.append(self)

    @staticmethod
    def lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, o):
        o = Value.lift(o)
        return Value(self.data + o.data, (self, o), (1, 1))
    __radd__ = __add__

    def __mul__(self, o):
        o = Value.lift(o)
        return Value(self.data * o.data, (self, o), (o.data, self.data))
    __rmul__ = __mul__

    def __sub__(self, o):
        o = Value.lift(o)
        return Value(self.data - o.data, (self, o), (1, -1))

    def __rsub__(self, o):
        return Value.lift(o) - self

    def __truediv__(self, o):
        o = Value.lift(o)
        return Value(self.data / o.data, (self, o), (1 / o.data, -self.data / o.data ** 2))

    def __rtruediv__(self, o):
        return Value.lift(o) / self

    def __pow__(self, p):
        return Value(self.data ** p, (self,), (p * self.data ** (p - 1),))

    def relu(self):
        return Value(max(self.data, 0), (self,), (1 if self.data > 0 else 0,))

    def backward(self):
        # Creation order is a topological order: every node is made after its inputs.
        position = {id(v): k for k, v in enumerate(_TAPE)}
        needed, stack = {id(self)}, [self]
        while stack:
            for p in stack.pop().parents:
                if id(p) not in needed:
                    needed.add(id(p))
                    stack.append(p)
        self.grad = 1
        for v in sorted((v for v in _TAPE if id(v) in needed), key=lambda v: -position[id(v)]):
            for p, d in zip(v.parents, v.local):
                p.grad += d * v.grad
""",
}

VALUE_WRONG = {
    "grads overwritten, not accumulated": value_class(add_backward="""
        def _backward():
            self.grad = out.grad
            other.grad = out.grad
""", mul_backward="""
        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad
"""),
    "backward in breadth-first order, not topological": value_class(backward="""
    def backward(self):
        self.grad = 1.0
        queue, seen = [self], {id(self)}
        while queue:
            node = queue.pop(0)
            node._backward()
            for child in node._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    queue.append(child)
"""),
    "no visited set: a shared node is passed back twice": value_class(backward="""
    def backward(self):
        topo = []
        def build(v):
            for child in v._prev:
                build(child)
            topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
"""),
    "relu's gradient is 1 at 0": value_class(relu_backward="""
        def _backward():
            self.grad += (self.data >= 0) * out.grad
"""),
    "no __rmul__ (3 * a fails)": value_class(rmul=""),
    "__rsub__ with the wrong sign (5 - a computes a - 5)": value_class(rsub="return self - other"),
    "__truediv__ through the wrong power": value_class(truediv="return self * other ** 1"),
    "__rtruediv__ the wrong way round": value_class(rtruediv="return self / other"),
    "the power rule without the exponent": value_class(pow_backward="""
        def _backward():
            self.grad += self.data ** (p - 1) * out.grad
"""),
    "mul's local derivatives swapped": value_class(mul_backward="""
        def _backward():
            self.grad += self.data * out.grad
            other.grad += other.data * out.grad
"""),
    "backward does not start from grad 1": value_class(backward="""
    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        for v in reversed(topo):
            v._backward()
"""),
    "only the root's direct inputs get a grad": value_class(backward="""
    def backward(self):
        self.grad = 1.0
        self._backward()
"""),
}


# ----------------------------------------------------------------------------------------------
# two_layer_gradients

TWO_LAYER_CORRECT = {
    "reference-style: the chain rule step by step": """
def two_layer_gradients(x, y, w1, b1, w2, b2):
    z1 = w1 * x + b1
    a1 = max(z1, 0)
    z2 = w2 * a1 + b2
    a2 = max(z2, 0)
    dz2 = (a2 - y) * (z2 > 0)
    dz1 = dz2 * w2 * (z1 > 0)
    return {"J": (a2 - y) ** 2 / 2, "dJ_dw1": dz1 * x, "dJ_db1": dz1,
            "dJ_dw2": dz2 * a1, "dJ_db2": dz2}
""",
    "with the student's own Value class": value_class() + """
def two_layer_gradients(x, y, w1, b1, w2, b2):
    W1, B1, W2, B2 = Value(w1), Value(b1), Value(w2), Value(b2)
    a2 = (W2 * (W1 * x + B1).relu() + B2).relu()
    J = (a2 - y) ** 2 / 2
    J.backward()
    return {"J": J.data, "dJ_dw1": W1.grad, "dJ_db1": B1.grad, "dJ_dw2": W2.grad,
            "dJ_db2": B2.grad}
""",
    "NumPy: np.maximum and np.where, numpy floats": """
def two_layer_gradients(x, y, w1, b1, w2, b2):
    z1 = np.float64(w1) * x + b1
    a1 = np.maximum(z1, 0.0)
    z2 = w2 * a1 + b2
    a2 = np.maximum(z2, 0.0)
    d = a2 - y
    g2 = np.where(z2 > 0, d, 0.0)
    g1 = np.where(z1 > 0, g2 * w2, 0.0)
    return dict(J=0.5 * d * d, dJ_dw1=g1 * x, dJ_db1=g1, dJ_dw2=g2 * a1, dJ_db2=g2)
""",
    "if/else branches, and an extra key": """
def two_layer_gradients(x, y, w1, b1, w2, b2):
    z1 = w1 * x + b1
    a1 = z1 if z1 > 0 else 0.0
    z2 = w2 * a1 + b2
    if z2 <= 0:
        return {"J": 0.5 * y * y, "dJ_dw1": 0.0, "dJ_db1": 0.0, "dJ_dw2": 0.0,
                "dJ_db2": 0.0, "a2": 0.0}
    d = z2 - y
    g1 = d * w2 if z1 > 0 else 0.0
    return {"J": 0.5 * d ** 2, "dJ_dw1": g1 * x, "dJ_db1": g1, "dJ_dw2": d * a1,
            "dJ_db2": d, "a2": z2}
""",
}

TWO_LAYER_BODY = TWO_LAYER_CORRECT["reference-style: the chain rule step by step"]


def slip(old, new):
    assert TWO_LAYER_BODY.count(old) == 1, old
    return TWO_LAYER_BODY.replace(old, new)


TWO_LAYER_WRONG = {
    "relu'(0) = 1 in the hidden layer": slip("(z1 > 0)", "(z1 >= 0)"),
    "relu'(0) = 1 in the output layer": slip("(z2 > 0)", "(z2 >= 0)"),
    "dJ_dw1 without the factor x": slip('"dJ_dw1": dz1 * x', '"dJ_dw1": dz1'),
    "w1 in place of w2 on the way back": slip("dz2 * w2 *", "dz2 * w1 *"),
    "J without the 1/2": slip('"J": (a2 - y) ** 2 / 2', '"J": (a2 - y) ** 2'),
    "no relu derivative in the hidden layer": slip("dz2 * w2 * (z1 > 0)", "dz2 * w2"),
    "dJ_dw2 times z1 instead of a1": slip('"dJ_dw2": dz2 * a1', '"dJ_dw2": dz2 * z1'),
    "keys named dJ/dw1": slip('"dJ_dw1"', '"dJ/dw1"'),
}


# ----------------------------------------------------------------------------------------------
# dense_backward

DENSE_REFERENCE_STYLE = """
def dense_backward(a_in, W, b, dA, g):
    z = a_in @ W + b
    if g == "linear":
        dz = dA
    elif g == "relu":
        dz = dA * (z > 0)
    elif g == "sigmoid":
        a = 1 / (1 + np.exp(-z))
        dz = dA * a * (1 - a)
    else:
        raise ValueError(g)
    return dz @ W.T, a_in.T @ dz, dz.sum(axis=0)
"""


def dense_slip(old, new):
    assert old in DENSE_REFERENCE_STYLE, old
    return DENSE_REFERENCE_STYLE.replace(old, new)


DENSE_CORRECT = {
    "reference-style: matrix products": DENSE_REFERENCE_STYLE,
    "a loop over the examples, outer products summed": """
def dense_backward(a_in, W, b, dA, g):
    m, n = a_in.shape
    u = W.shape[1]
    dA_in, dW, db = np.zeros((m, n)), np.zeros((n, u)), np.zeros(u)
    for i in range(m):
        z = a_in[i] @ W + b
        if g == "linear":
            gp = np.ones(u)
        elif g == "relu":
            gp = np.where(z > 0, 1.0, 0.0)
        elif g == "sigmoid":
            s = 1 / (1 + np.exp(-z))
            gp = s * (1 - s)
        else:
            raise ValueError("unknown activation " + str(g))
        dz = dA[i] * gp
        dW += np.outer(a_in[i], dz)
        db += dz
        dA_in[i] = W @ dz
    return dA_in, dW, db
""",
    "einsum, a dict of derivatives, sigmoid' as s(z) s(-z)": """
DERIVATIVES = {
    "linear": lambda z: np.ones_like(z),
    "relu": lambda z: (z > 0).astype(float),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)) / (1 + np.exp(z)),
}

def dense_backward(a_in, W, b, dA, g):
    if g not in DERIVATIVES:
        raise ValueError(f"g must be one of {list(DERIVATIVES)}")
    dz = dA * DERIVATIVES[g](np.einsum("mn,nu->mu", a_in, W) + b)
    return (np.einsum("mu,nu->mn", dz, W), np.einsum("mn,mu->nu", a_in, dz),
            np.einsum("mu->u", dz))
""",
    "relu' from the activation (a > 0), np.dot and a list returned": """
def dense_backward(a_in, W, b, dA, g):
    z = np.dot(a_in, W) + b
    if g == "relu":
        a = np.maximum(z, 0)
        dz = np.where(a > 0, dA, 0.0)
    elif g == "sigmoid":
        a = np.exp(-np.logaddexp(0, -z))
        dz = dA * a * (1.0 - a)
    elif g == "linear":
        dz = dA.copy()
    else:
        raise ValueError("g")
    return [np.dot(dz, W.T), np.dot(a_in.T, dz), np.sum(dz, axis=0)]
""",
    "loops over every index, like the chain rule by hand": """
import math

def dense_backward(a_in, W, b, dA, g):
    if g not in ("linear", "relu", "sigmoid"):
        raise ValueError("unknown activation")
    m, n = a_in.shape
    u = len(b)
    dA_in, dW, db = np.zeros((m, n)), np.zeros((n, u)), np.zeros(u)
    for i in range(m):
        for j in range(u):
            z = sum(a_in[i, k] * W[k, j] for k in range(n)) + b[j]
            if g == "relu":
                d = 1.0 if z > 0 else 0.0
            elif g == "sigmoid":
                s = 1 / (1 + math.exp(-z))
                d = s * (1 - s)
            else:
                d = 1.0
            dz = dA[i, j] * d
            db[j] += dz
            for k in range(n):
                dW[k, j] += a_in[i, k] * dz
                dA_in[i, k] += W[k, j] * dz
    return dA_in, dW, db
""",
}

DENSE_WRONG = {
    "dW = a_in.T @ dA, without g'": dense_slip("a_in.T @ dz", "a_in.T @ dA"),
    "db averaged over the batch": dense_slip("dz.sum(axis=0)", "dz.mean(axis=0)"),
    "dA_in = dZ @ W, not W.T": dense_slip("dz @ W.T", "dz @ W"),
    "relu'(0) = 1": dense_slip("(z > 0)", "(z >= 0)"),
    "sigmoid' as z (1 - z)": dense_slip("dz = dA * a * (1 - a)", "dz = dA * z * (1 - z)"),
    "dW transposed: dZ.T @ a_in": dense_slip("a_in.T @ dz", "dz.T @ a_in"),
    "dW and dA_in divided by m again": dense_slip(
        "return dz @ W.T, a_in.T @ dz,", "return dz @ W.T / len(dA), a_in.T @ dz / len(dA),"),
    "db not summed: one row per example": dense_slip("dz.sum(axis=0)", "dz"),
    "an unknown g treated as linear": dense_slip('raise ValueError(g)', 'dz = dA'),
    "an unknown g raises KeyError": dense_slip('raise ValueError(g)', 'raise KeyError(g)'),
}


# ----------------------------------------------------------------------------------------------
# gradient_check

GC_REFERENCE_STYLE = """
def gradient_check(f, grad, w, epsilon=1e-6):
    a = grad(w)
    n = np.zeros(len(w))
    for i in range(len(w)):
        e = np.zeros(len(w))
        e[i] = epsilon
        n[i] = (f(w + e) - f(w - e)) / (2 * epsilon)
    worst = 0.0
    for i in range(len(w)):
        scale = max(abs(a[i]), abs(n[i]))
        if scale > 0:
            worst = max(worst, abs(a[i] - n[i]) / scale)
    return worst
"""


def gc_slip(old, new):
    assert old in GC_REFERENCE_STYLE, old
    return GC_REFERENCE_STYLE.replace(old, new)


GC_CORRECT = {
    "reference-style: a unit nudge per entry, then a loop for the errors": GC_REFERENCE_STYLE,
    "nudge a copy in place and put it back, np.divide with where=": """
def gradient_check(f, grad, w, epsilon=1e-6):
    analytic = np.asarray(grad(w), dtype=float)
    numeric = np.empty(w.shape)
    v = w.astype(float)
    for i in range(v.size):
        old = v[i]
        v[i] = old + epsilon
        up = f(v)
        v[i] = old - epsilon
        down = f(v)
        v[i] = old
        numeric[i] = (up - down) / (2 * epsilon)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    error = np.divide(np.abs(analytic - numeric), scale, out=np.zeros_like(scale),
                      where=scale > 0)
    return float(np.max(error))
""",
    "the rows of an identity matrix, np.where for the 0/0 entries": """
def gradient_check(f, grad, w, epsilon=1e-6):
    eye = np.eye(len(w)) * epsilon
    numeric = np.array([(f(w + d) - f(w - d)) / (2 * epsilon) for d in eye])
    analytic = grad(w)
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    safe = np.where(scale == 0, 1.0, scale)
    return np.max(np.where(scale == 0, 0.0, diff / safe))
""",
    "plain Python lists and floats": """
def gradient_check(f, grad, w, epsilon=1e-6):
    g = [float(x) for x in grad(w)]
    errors = []
    for i in range(len(w)):
        plus, minus = w.copy(), w.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        n = (f(plus) - f(minus)) / (2 * epsilon)
        top, bottom = abs(g[i] - n), max(abs(g[i]), abs(n))
        errors.append(0.0 if bottom == 0 else top / bottom)
    return max(errors)
""",
    "np.linalg.norm-free: abs and max of each pair, ignoring nothing": """
def gradient_check(f, grad, w, epsilon=1e-6):
    a = np.array(grad(w), dtype=float)
    worst = 0.0
    for i, _ in enumerate(w):
        step = np.zeros_like(w, dtype=float)
        step[i] = epsilon
        n = f(w + step) / (2 * epsilon) - f(w - step) / (2 * epsilon)
        if a[i] != 0 or n != 0:
            worst = max(worst, abs(a[i] - n) / max(abs(a[i]), abs(n)))
    return worst
""",
}

GC_WRONG = {
    "a forward difference": gc_slip("(f(w + e) - f(w - e)) / (2 * epsilon)",
                                    "(f(w + e) - f(w)) / epsilon"),
    "divided by |a| only": gc_slip("worst = max(worst, abs(a[i] - n[i]) / scale)",
                                   "worst = max(worst, abs(a[i] - n[i]) / abs(a[i]))"),
    "the mean of the errors, not the max": """
def gradient_check(f, grad, w, epsilon=1e-6):
    a = grad(w)
    n = np.array([(f(w + d) - f(w - d)) / (2 * epsilon) for d in np.eye(len(w)) * epsilon])
    scale = np.maximum(np.abs(a), np.abs(n))
    error = np.divide(np.abs(a - n), scale, out=np.zeros(len(w)), where=scale > 0)
    return float(error.mean())
""",
    "every entry nudged at once": gc_slip("e = np.zeros(len(w))\n        e[i] = epsilon",
                                         "e = np.full(len(w), epsilon)"),
    "nan where both are 0": """
def gradient_check(f, grad, w, epsilon=1e-6):
    a = grad(w)
    n = np.array([(f(w + d) - f(w - d)) / (2 * epsilon) for d in np.eye(len(w)) * epsilon])
    with np.errstate(invalid="ignore"):
        return np.max(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)))
""",
    "nudges w itself and does not put it back": """
def gradient_check(f, grad, w, epsilon=1e-6):
    a = grad(w)
    worst = 0.0
    for i in range(len(w)):
        w[i] += epsilon
        up = f(w)
        w[i] -= 2 * epsilon
        down = f(w)
        n = (up - down) / (2 * epsilon)
        scale = max(abs(a[i]), abs(n))
        if scale > 0:
            worst = max(worst, abs(a[i] - n) / scale)
    return worst
""",
    "divided by epsilon, not 2 epsilon": gc_slip("/ (2 * epsilon)", "/ epsilon"),
    "the absolute error, not the relative one": gc_slip("abs(a[i] - n[i]) / scale",
                                                        "abs(a[i] - n[i])"),
    "ignores the epsilon passed in": gc_slip("e[i] = epsilon", "e[i] = 1e-6").replace(
        "/ (2 * epsilon)", "/ 2e-6"),
}


CASES = [
    ("backprop.numerical_derivative", ND_CORRECT, ND_WRONG),
    ("backprop.Value", VALUE_CORRECT, VALUE_WRONG),
    ("backprop.two_layer_gradients", TWO_LAYER_CORRECT, TWO_LAYER_WRONG),
    ("backprop.dense_backward", DENSE_CORRECT, DENSE_WRONG),
    ("backprop.gradient_check", GC_CORRECT, GC_WRONG),
]
test_accepts_correct, test_rejects_wrong = accept_and_reject(CASES, HEADER)


# ----------------------------------------------------------------------------------------------
# Across the chapter

def test_value_feedback_shows_the_program_and_the_node(check_code):
    verdict = check_code("backprop.Value", HEADER + VALUE_WRONG["no __rmul__ (3 * a fails)"])
    text = verdict.feedback()
    assert "TypeError" in text and "*" in text
    verdict = check_code("backprop.Value", HEADER + VALUE_WRONG["relu's gradient is 1 at 0"])
    text = verdict.feedback()
    assert ".relu()" in text and ".grad after backward()" in text
    assert "_backward" not in text   # no reference code


def test_a_value_whose_numbers_lie_is_rejected_with_a_reason(check_code):
    lying = value_class().replace("        self.data = data\n", """        self.data = Liar(data)
""") + """
class Liar:
    def __init__(self, x):
        self.x = x
    def __float__(self):
        return "not a number"
    def __add__(self, o):
        return Liar(self.x + getattr(o, "x", o))
    __radd__ = __add__
    def __mul__(self, o):
        return Liar(self.x * getattr(o, "x", o))
    __rmul__ = __mul__
    def __sub__(self, o):
        return Liar(self.x - getattr(o, "x", o))
    def __pow__(self, p):
        return Liar(self.x ** p)
    def __lt__(self, o):
        return self.x < getattr(o, "x", o)
    def __gt__(self, o):
        return self.x > getattr(o, "x", o)
"""
    verdict = check_code("backprop.Value", HEADER + lying)
    assert not verdict.accepted
    assert ".data is not a number" in verdict.feedback()


def test_two_layer_feedback_names_the_key(check_code):
    verdict = check_code("backprop.two_layer_gradients",
                         HEADER + TWO_LAYER_WRONG["dJ_dw1 without the factor x"])
    assert "dJ_dw1" in verdict.feedback()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_reference_style_answers_are_accepted_whatever_the_seed(check_code, seed):
    for exercise_id, correct, _ in CASES:
        for name, code in list(correct.items())[:3]:
            verdict = check_code(exercise_id, HEADER + code, seed=seed)
            assert verdict.accepted, (seed, name, verdict.feedback())


def test_dense_backward_feedback_names_the_gradient(check_code):
    verdict = check_code("backprop.dense_backward",
                         HEADER + DENSE_WRONG["db averaged over the batch"])
    assert "db" in verdict.feedback()
    verdict = check_code("backprop.dense_backward",
                         HEADER + DENSE_WRONG["an unknown g raises KeyError"])
    assert "should raise ValueError, but it raised KeyError" in verdict.feedback()
