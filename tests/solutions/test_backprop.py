"""Tests of solutions.backprop against exact arithmetic, extended precision and tf.GradientTape."""

from fractions import Fraction

import numpy as np
import pytest
from mpmath import mp

from autograder.checks.backprop_graphs import (
    ladder_graph,
    long_chain_graph,
    random_graph,
    relu_edges_graph,
    uneven_paths_graph,
)
from autograder.checks.backprop_interpreter import run_graph_program
from solutions.backprop import (
    Value,
    dense_backward,
    gradient_check,
    numerical_derivative,
    two_layer_gradients,
)

EPS = np.finfo(float).eps


# --- numerical_derivative ------------------------------------------------------------


def test_the_lectures_nudges_in_exact_arithmetic():
    """J(w) = w^2 at w = 3: 3.001^2 = 9.006001 and 3.002^2 = 9.012004 exactly, so the forward
    differences are 6.001 and 6.002, and the central difference is exactly 6 for any epsilon."""
    square = lambda w: w * w   # noqa: E731
    w = Fraction(3)
    for epsilon, nudged in [(Fraction(1, 1000), Fraction(9006001, 10 ** 6)),
                            (Fraction(2, 1000), Fraction(9012004, 10 ** 6))]:
        assert square(w + epsilon) == nudged
        assert (square(w + epsilon) - square(w)) / epsilon == 6 + epsilon
        assert numerical_derivative(square, w, epsilon) == 6
    assert numerical_derivative(square, 3.0, 0.001) == pytest.approx(6, rel=1e-12)
    assert numerical_derivative(square, 3.0, 0.002) == pytest.approx(6, rel=1e-12)


def test_the_lectures_graph_nudges_in_exact_arithmetic():
    """c = w x: nudging w = 2 by 0.001 moves c by -0.002 (x = -2); J = 1/2 (w x + b - y)^2
    moves from 2 to 1.996002 (the notes' number), about -4 times the nudge."""
    e = Fraction(1, 1000)
    J = lambda w, b: Fraction(1, 2) * (w * -2 + b - 2) ** 2   # noqa: E731
    assert (2 + e) * -2 - 2 * -2 == Fraction(-2, 1000)
    assert J(2, 8) == 2 and J(2 + e, 8) == Fraction(1996002, 10 ** 6)
    assert J(2, 8 + e) == Fraction(20020005, 10 ** 7)   # 2.0020005: about +2 times
    assert numerical_derivative(lambda w: J(w, 8), Fraction(2), e) == -4
    assert numerical_derivative(lambda b: J(2, b), Fraction(8), e) == 2


@pytest.mark.parametrize("name, f, df, w", [
    ("sin", mp.sin, mp.cos, 1.0), ("exp", mp.exp, mp.exp, -0.5),
    ("cube", lambda w: w ** 3, lambda w: 3 * w ** 2, 2.0),
    ("tanh", mp.tanh, lambda w: 1 / mp.cosh(w) ** 2, 0.3)])
def test_the_central_difference_matches_its_extended_precision_value(name, f, df, w):
    """In float64 the estimate is the central difference of 60-digit arithmetic up to round-off
    (a few ulps of f divided by 2 epsilon); that value is df/dw up to f''' epsilon^2 / 6."""
    with mp.workdps(60):
        for epsilon in (1e-1, 1e-3, 1e-6):
            exact = (f(mp.mpf(w + epsilon)) - f(mp.mpf(w - epsilon))) / (2 * mp.mpf(epsilon))
            ours = numerical_derivative(lambda x: float(f(mp.mpf(x))), w, epsilon)
            round_off = 4 * EPS * abs(float(f(mp.mpf(w)))) / epsilon
            assert abs(ours - float(exact)) <= round_off + 4 * EPS * abs(float(exact))
            # Truncation: with the step actually taken, (w + e) - (w - e) in float64.
            x1, x2 = mp.mpf(w + epsilon), mp.mpf(w - epsilon)
            truncated = (f(x1) - f(x2)) / (x1 - x2)
            assert abs(float(truncated - df((x1 + x2) / 2))) <= 1.001 * epsilon ** 2  # |f'''| <= 6


def test_the_default_epsilon_is_1e_minus_6():
    assert numerical_derivative(np.exp, 0.0) == numerical_derivative(np.exp, 0.0, 1e-6)


# --- Value against tf.GradientTape -----------------------------------------------------


def tape_run(tf, program):
    """The same graph program with tf.Variable leaves and float64 tensors."""
    nodes, leaves, root = [], [], None
    ops = {"add": tf.add, "sub": tf.subtract, "mul": tf.multiply, "div": tf.divide}
    with tf.GradientTape(persistent=True) as tape:
        for kind, *args in program:
            if kind == "value":
                leaf = tf.Variable(float(args[0]), dtype=tf.float64)
                leaves.append(len(nodes))
                nodes.append(leaf)
            elif kind in ops:
                nodes.append(ops[kind](nodes[args[0]], nodes[args[1]]))
            elif kind.endswith("_number"):
                nodes.append(ops[kind[:-7]](nodes[args[0]], tf.constant(args[1], tf.float64)))
            elif kind.startswith("number_"):
                nodes.append(ops[kind[7:]](tf.constant(args[0], tf.float64), nodes[args[1]]))
            elif kind == "pow":
                nodes.append(tf.pow(nodes[args[0]], tf.constant(float(args[1]), tf.float64)))
            elif kind == "relu":
                nodes.append(tf.nn.relu(nodes[args[0]]))
            else:
                root = args[0]
    grads = tape.gradient(nodes[root], [nodes[k] for k in leaves],
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return [float(n.numpy()) for n in nodes], dict(zip(leaves, (float(g) for g in grads)))


@pytest.mark.parametrize("make", [uneven_paths_graph, relu_edges_graph, ladder_graph,
                                  long_chain_graph,
                                  lambda: random_graph(np.random.default_rng(1), 40),
                                  lambda: random_graph(np.random.default_rng(2), 80)])
def test_value_matches_gradient_tape(tf, make):
    program = make()
    ours = run_graph_program(Value, program)
    data, leaf_grads = tape_run(tf, program)
    np.testing.assert_allclose(ours["data"], data, rtol=1e-12, atol=1e-12)
    for k, g in leaf_grads.items():
        if ours["grad"][k] is not None:
            assert ours["grad"][k] == pytest.approx(g, rel=1e-10, abs=1e-12), k


def test_a_node_used_twice_gets_both_contributions():
    a = Value(3.0)
    (a * a + a).backward()   # d/da (a^2 + a) = 2a + 1
    assert a.grad == 7.0
    b = Value(-2.0)
    (b / b).backward()
    assert b.grad == pytest.approx(0.0, abs=1e-15)


def test_numbers_on_either_side_and_relu_at_zero():
    a = Value(2.0)
    for expression, data, grad in [(lambda: 3 - a, 1.0, -1.0), (lambda: a - 3, -1.0, 1.0),
                                   (lambda: 6 / a, 3.0, -1.5), (lambda: a / 4, 0.5, 0.25),
                                   (lambda: 2 * a, 4.0, 2.0), (lambda: 1 + a, 3.0, 1.0),
                                   (lambda: a ** 3, 8.0, 12.0)]:
        a.grad = 0.0
        out = expression()
        out.backward()
        assert (out.data, a.grad) == pytest.approx((data, grad))
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0


def test_a_chain_far_longer_than_the_recursion_limit():
    x = start = Value(1.0)
    for _ in range(5000):
        x = x * 1.0001
    x.backward()
    assert start.grad == pytest.approx(1.0001 ** 5000, rel=1e-9)


# --- two_layer_gradients --------------------------------------------------------------


def test_the_lectures_two_layer_numbers():
    assert two_layer_gradients(1, 5, 2, 0, 3, 1) == {
        "J": 2.0, "dJ_dw1": 6.0, "dJ_db1": 6.0, "dJ_dw2": 4.0, "dJ_db2": 2.0}


@pytest.mark.parametrize("args", [(1.0, 5.0, 2.0, 0.0, 3.0, 1.0), (-1.5, 0.5, -2.0, 0.25, 0.5, 0.1),
                                  (1.0, 2.0, -1.0, 0.5, 3.0, 1.0), (1.0, 2.0, 1.0, 0.5, -3.0, 1.0),
                                  (1.0, 5.0, 2.0, -2.0, 3.0, 1.0), (1.0, 5.0, 2.0, 0.0, 3.0, -6.0),
                                  (0.7, -0.3, 1.1, -0.2, 0.9, 0.4)])
def test_two_layer_gradients_match_gradient_tape(tf, args):
    """TensorFlow's relu has gradient 0 at 0, the course's convention."""
    x, y, *params = args
    w1, b1, w2, b2 = (tf.Variable(p, dtype=tf.float64) for p in params)
    with tf.GradientTape() as tape:
        a1 = tf.nn.relu(w1 * x + b1)
        a2 = tf.nn.relu(w2 * a1 + b2)
        J = (a2 - y) ** 2 / 2
    grads = tape.gradient(J, [w1, b1, w2, b2], unconnected_gradients="zero")
    ours = two_layer_gradients(*args)
    expected = dict(zip(["dJ_dw1", "dJ_db1", "dJ_dw2", "dJ_db2"], (float(g) for g in grads)),
                    J=float(J))
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-14)


# --- dense_backward against tf.GradientTape ----------------------------------------------


def tape_dense(tf, a_in, W, b, dA, g):
    """The gradients of J = sum(A * dA) (so that dJ/dA = dA) for A = g(a_in @ W + b)."""
    activation = {"linear": tf.identity, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}[g]
    a_in, W, b = (tf.Variable(x, dtype=tf.float64) for x in (a_in, W, b))
    with tf.GradientTape() as tape:
        J = tf.reduce_sum(activation(a_in @ W + b) * tf.constant(dA, tf.float64))
    return [g.numpy() for g in tape.gradient(J, [a_in, W, b])]


def dense_inputs(rng, m, n, u, scale=1.0):
    return (rng.normal(size=(m, n)), rng.normal(0, scale, (n, u)), rng.normal(0, scale, u),
            rng.normal(size=(m, u)))


@pytest.mark.parametrize("g", ["linear", "relu", "sigmoid"])
@pytest.mark.parametrize("shape", [(5, 4, 3), (1, 3, 2), (3, 3, 3), (4, 1, 2), (6, 2, 1)])
def test_dense_backward_matches_gradient_tape(tf, g, shape):
    inputs = dense_inputs(np.random.default_rng(sum(shape)), *shape)
    for ours, theirs in zip(dense_backward(*inputs, g), tape_dense(tf, *inputs, g)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_dense_backward_at_relus_kink_and_sigmoids_tails(tf):
    # z = a_in @ W + b is exactly 0 in two entries; TensorFlow's relu'(0) is 0, as the course's.
    kink = (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[1.0, -1.0], [0.5, 2.0]]),
            np.array([-2.0, -3.0]), np.array([[1.0, 2.0], [3.0, -4.0]]))
    assert (kink[0] @ kink[1] + kink[2] == 0).sum() == 2
    tails = (np.array([[4.0, -2.0], [-4.0, 1.0]]), np.array([[10.0, -5.0], [0.0, 3.0]]),
             np.array([0.0, 1.0]), np.array([[1.0, -1.0], [0.5, 2.0]]))
    z_tails = tails[0] @ tails[1] + tails[2]
    assert np.abs(z_tails).max() == 40
    for inputs, g in [(kink, "relu"), (tails, "sigmoid"), (tails, "relu")]:
        for ours, theirs in zip(dense_backward(*inputs, g), tape_dense(tf, *inputs, g)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-30)


def test_dense_backward_sums_over_the_batch_and_leaves_its_inputs_alone():
    inputs = dense_inputs(np.random.default_rng(7), 4, 3, 2)
    copies = [x.copy() for x in inputs]
    whole = dense_backward(*inputs, "sigmoid")
    parts = [dense_backward(inputs[0][i:i + 1], inputs[1], inputs[2], inputs[3][i:i + 1],
                            "sigmoid") for i in range(4)]
    np.testing.assert_allclose(whole[1], sum(p[1] for p in parts), rtol=1e-13)
    np.testing.assert_allclose(whole[2], sum(p[2] for p in parts), rtol=1e-13)
    np.testing.assert_allclose(whole[0], np.vstack([p[0] for p in parts]), rtol=1e-13)
    for x, copy in zip(inputs, copies):
        np.testing.assert_array_equal(x, copy)


def test_dense_backward_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="tanh"):
        dense_backward(*dense_inputs(np.random.default_rng(0), 2, 2, 2), "tanh")


# --- gradient_check against exact derivatives in extended precision ----------------------


def exact_relative_error(f_mp, df_mp, grad, w, epsilon):
    """The relative errors of grad(w) against the central difference of f computed in 50
    digits (the same nudges, no round-off), and the central difference itself."""
    mp.dps = 50
    worst = mp.mpf(0)
    analytic = grad(w)
    for i in range(len(w)):
        up, down = [mp.mpf(float(x)) for x in w], [mp.mpf(float(x)) for x in w]
        up[i] += mp.mpf(epsilon)
        down[i] -= mp.mpf(epsilon)
        n = (f_mp(up) - f_mp(down)) / (2 * mp.mpf(epsilon))
        a = mp.mpf(float(analytic[i]))
        if max(abs(a), abs(n)) > 0:
            worst = max(worst, abs(a - n) / max(abs(a), abs(n)))
    return float(worst)


def sin_sum(w):
    return float(np.sum(np.sin(w)))


def cubes(w):
    return float(np.sum(np.arange(1.0, len(w) + 1) * np.asarray(w) ** 3))


def cubes_mp(w):
    return sum((j + 1) * x ** 3 for j, x in enumerate(w))


@pytest.mark.parametrize("epsilon", [0.5, 0.1, 1e-2, 1e-3])
def test_gradient_check_matches_extended_precision(epsilon):
    w = np.array([0.3, -1.2, 2.0, 0.7])
    right = lambda v: np.cos(v)                                         # noqa: E731
    wrong = lambda v: np.cos(v) * np.array([1.0, 1.0, 0.5, 1.0])        # noqa: E731
    for grad in (right, wrong):
        exact = exact_relative_error(lambda v: sum(mp.sin(x) for x in v), None, grad, w,
                                     epsilon)
        assert gradient_check(sin_sum, grad, w, epsilon) == pytest.approx(exact, rel=1e-6,
                                                                           abs=1e-12)
    # For w^3 the central difference is off by exactly epsilon^2 j: the error is known.
    w = np.array([1.0, 2.0, -1.5])
    df = 3 * np.arange(1.0, 4) * w ** 2
    expected = max(epsilon ** 2 * j / (df[j - 1] + epsilon ** 2 * j) for j in (1, 2, 3))
    assert gradient_check(cubes, lambda v: 3 * np.arange(1.0, 4) * v ** 2, w,
                          epsilon) == pytest.approx(expected, rel=1e-6)


def test_gradient_check_of_right_and_wrong_gradients_at_the_default_epsilon():
    w = np.array([0.5, -1.0, 1.5])
    right = gradient_check(cubes, lambda v: 3 * np.arange(1.0, 4) * v ** 2, w)
    assert right < 1e-8
    assert gradient_check(cubes, lambda v: 3 * v ** 2, w) == pytest.approx(2 / 3, rel=1e-6)
    # A gradient that is 0 where the difference is not: relative error 1 exactly.
    assert gradient_check(cubes, lambda v: np.zeros(3), w) == 1.0
    # Both 0 in every entry: 0, not nan.
    assert gradient_check(lambda v: 3.0, lambda v: np.zeros(3), w) == 0.0


def test_gradient_check_leaves_w_alone_and_nudges_one_entry_at_a_time():
    w = np.array([0.5, -1.0, 1.5])
    seen = []
    gradient_check(lambda v: seen.append(v.copy()) or float(v.sum()), lambda v: np.ones(3), w)
    np.testing.assert_array_equal(w, [0.5, -1.0, 1.5])
    assert all(np.count_nonzero(v != w) == 1 for v in seen)
