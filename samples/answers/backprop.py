"""Sample answers for backprop: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (numerical_derivative 1, Value 3, two_layer_gradients 2,
dense_backward 2, gradient_check 2): sample-correct 10, sample-untouched 0, sample-partial 5
(numerical_derivative a forward difference, Value right with a recursive topological sort,
two_layer_gradients with relu'(0) = 1, dense_backward right with a loop over the examples,
gradient_check the mean of the relative errors instead of the largest), sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"numerical_derivative": "REFERENCE", "Value": "REFERENCE",
                        "two_layer_gradients": "REFERENCE", "dense_backward": "REFERENCE",
                        "gradient_check": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # numerical_derivative nudges one way only (0 of 1); Value is micrograd's, correct (3
    # points); two_layer_gradients takes relu'(0) = 1 (0 of 2); dense_backward loops over the
    # examples, correct (2 points); gradient_check returns the mean error (0 of 2): expected 5/10.
    "sample-partial": ({
        "numerical_derivative": '''def numerical_derivative(f, w, epsilon=1e-6):
    """A forward difference: off by about f''(w) epsilon / 2."""
    return (f(w + epsilon) - f(w)) / epsilon
''',
        "Value": '''class Value:
    """micrograd's design: a recursive topological sort."""

    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0.0
        self._prev = set(_children)
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, p):
        out = Value(self.data ** p, (self,))
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,))
        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

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
''',
        "two_layer_gradients": '''def two_layer_gradients(x, y, w1, b1, w2, b2):
    """relu'(0) taken as 1: wrong where a unit sits exactly at the kink."""
    z1 = w1 * x + b1
    a1 = max(z1, 0.0)
    z2 = w2 * a1 + b2
    a2 = max(z2, 0.0)
    dz2 = (a2 - y) * (1.0 if z2 >= 0 else 0.0)
    dz1 = dz2 * w2 * (1.0 if z1 >= 0 else 0.0)
    return {"J": (a2 - y) ** 2 / 2, "dJ_dw1": dz1 * x, "dJ_db1": dz1, "dJ_dw2": dz2 * a1,
            "dJ_db2": dz2}
''',
        "dense_backward": '''def dense_backward(a_in, W, b, dA, g):
    """One example at a time, the gradients added up."""
    if g not in ("linear", "relu", "sigmoid"):
        raise ValueError("g must be linear, relu or sigmoid")
    dA_in, dW, db = np.zeros(a_in.shape), np.zeros(W.shape), np.zeros(b.shape)
    for i in range(a_in.shape[0]):
        z = a_in[i] @ W + b
        if g == "relu":
            dz = dA[i] * (z > 0)
        elif g == "sigmoid":
            a = 1 / (1 + np.exp(-z))
            dz = dA[i] * a * (1 - a)
        else:
            dz = dA[i]
        dA_in[i] = W @ dz
        dW += np.outer(a_in[i], dz)
        db += dz
    return dA_in, dW, db
''',
        "gradient_check": '''def gradient_check(f, grad, w, epsilon=1e-6):
    """The mean of the relative errors: a single wrong entry is diluted."""
    a = grad(w)
    n = np.array([(f(w + e) - f(w - e)) / (2 * epsilon) for e in np.eye(len(w)) * epsilon])
    scale = np.maximum(np.abs(a), np.abs(n))
    return float(np.mean(np.divide(np.abs(a - n), scale, out=np.zeros(len(w)),
                                   where=scale > 0)))
'''}, None),
    "sample-tamper": ({
        "numerical_derivative": '''def numerical_derivative(f, w, epsilon=1e-6):
    """Divides by epsilon, not 2 epsilon."""
    return (f(w + epsilon) - f(w - epsilon)) / epsilon
''',
        "Value": '''class Value:
    """Only the root's own inputs get a grad."""

    def __init__(self, data):
        self.data, self.grad = data, 0.0

    def backward(self):
        self.grad = 1.0
''',
        "two_layer_gradients": '''def two_layer_gradients(x, y, w1, b1, w2, b2):
    return {"J": 2.0, "dJ_dw1": 6.0, "dJ_db1": 6.0, "dJ_dw2": 4.0, "dJ_db2": 2.0}
''',
        "dense_backward": '''def dense_backward(a_in, W, b, dA, g):
    """No activation's derivative, and the batch averaged."""
    return dA @ W.T, a_in.T @ dA, dA.mean(axis=0)
''',
        "gradient_check": '''def gradient_check(f, grad, w, epsilon=1e-6):
    return 0.0
'''}, {"setup": "KERNEL_TAMPERING"}),
}
