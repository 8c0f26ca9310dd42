"""Sample answers for backprop: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (numerical_derivative 2, Value 5, two_layer_gradients 3):
sample-correct 10, sample-untouched 0, sample-partial 5 (numerical_derivative a forward
difference, Value right with a recursive topological sort, two_layer_gradients with relu'(0) = 1),
sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 5,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"numerical_derivative": "REFERENCE", "Value": "REFERENCE",
                        "two_layer_gradients": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # numerical_derivative nudges one way only (0 of 2); Value is micrograd's, correct (5
    # points); two_layer_gradients takes relu'(0) = 1 (0 of 3): expected 5/10.
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
'''}, {"setup": "KERNEL_TAMPERING"}),
}
