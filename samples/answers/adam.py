"""Sample answers for adam: correct, untouched, partly wrong, and tampering.

Expected scores out of 10 (gradient_descent_step 1, momentum_step 2, adam_step 4, minimize 3):
sample-correct 10, sample-untouched 0, sample-partial 4 (gradient_descent_step and minimize right,
momentum_step in PyTorch's sign convention, adam_step with epsilon inside the square root),
sample-tamper 0.
"""

# The score each sample must get from `nbgrader autograde` (out of 10).
EXPECTED_SCORES = {"sample-correct": 10, "sample-untouched": 0, "sample-partial": 4,
                   "sample-tamper": 0}

SAMPLES = {
    "sample-correct": ({"gradient_descent_step": "REFERENCE", "momentum_step": "REFERENCE",
                        "adam_step": "REFERENCE", "minimize": "REFERENCE"}, None),
    "sample-untouched": ({}, None),
    # gradient_descent_step right (1 point); momentum_step keeps PyTorch's velocity, of the
    # opposite sign, which gives the same w_new from velocity 0 but not the velocity the task
    # asks for (0 of 2); adam_step puts epsilon inside the square root (0 of 4); minimize writes
    # Adam out itself, correctly (3 points): expected 4/10.
    "sample-partial": ({
        "gradient_descent_step": '''def gradient_descent_step(w, grad, alpha):
    """One step of gradient descent: w - alpha * grad, as a new array."""
    return np.subtract(w, alpha * grad)
''',
        "momentum_step": '''def momentum_step(w, grad, velocity, alpha, beta=0.9):
    """PyTorch's convention: the velocity points uphill and is subtracted."""
    velocity_new = beta * velocity + alpha * grad
    return w - velocity_new, velocity_new
''',
        "adam_step": '''def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999,
              epsilon=1e-7):
    """Epsilon inside the square root: wrong once the gradients are about as small as it."""
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad ** 2
    m_hat = m_new / (1 - beta_1 ** t)
    v_hat = v_new / (1 - beta_2 ** t)
    return w - alpha * m_hat / np.sqrt(v_hat + epsilon), m_new, v_new
''',
        "minimize": '''def minimize(grad_fn, w0, steps, optimizer, alpha=0.001, beta_1=0.9,
             beta_2=0.999, epsilon=1e-7):
    """Adam written out here rather than through adam_step."""
    w = w0.copy()
    path = [w.copy()]
    m, v = np.zeros(len(w)), np.zeros(len(w))
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
'''}, None),
    "sample-tamper": ({
        "gradient_descent_step": '''def gradient_descent_step(w, grad, alpha):
    """Climbs instead of descending."""
    return w + alpha * grad
''',
        "momentum_step": '''def momentum_step(w, grad, velocity, alpha, beta=0.9):
    """Forgets the velocity: plain gradient descent."""
    return w - alpha * grad, velocity
''',
        "adam_step": '''def adam_step(w, grad, m, v, t, alpha=0.001, beta_1=0.9, beta_2=0.999,
              epsilon=1e-7):
    """No bias correction."""
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad ** 2
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v
''',
        "minimize": '''def minimize(grad_fn, w0, steps, optimizer, **hyper):
    return w0, None
'''}, {"setup": "KERNEL_TAMPERING"}),
}
