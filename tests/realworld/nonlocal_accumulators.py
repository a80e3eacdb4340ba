"""A multi-task loss assembled by nested helper functions that share state through
`nonlocal`: an `add_term(name, value)` closure accumulating a running total and a dict of
parts, a `record` counter, an inner `forward` reading the enclosing parameters, and a
weighting of the tasks that skips zero weights with `continue`."""

import numpy as np

import srcgrad

TASK_WEIGHTS = {"regression": 1.0, "classification": 0.5, "unused": 0.0}


def multitask_loss(params, X, y_reg, y_cls):
    total = 0.0
    n_terms = 0
    parts = {}

    def add_term(name, value):
        nonlocal total, n_terms
        total = total + TASK_WEIGHTS[name] * value
        n_terms += 1
        parts[name] = value

    def forward(x):
        h = np.tanh(x @ params["W"] + params["b"])
        return h @ params["w_reg"], h @ params["w_cls"]

    reg, cls = forward(X)
    for name, weight in TASK_WEIGHTS.items():
        if weight == 0.0:
            continue
        if name == "regression":
            add_term(name, np.mean((reg - y_reg) ** 2))
        else:
            add_term(name, np.mean(np.logaddexp(0.0, cls) - y_cls * cls))
    return total / n_terms + 1e-3 * np.sum(params["W"] ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = {"W": 0.5 * rs.randn(3, 5), "b": np.zeros(5),
              "w_reg": rs.randn(5), "w_cls": rs.randn(5)}
    X = rs.randn(9, 3)
    return params, X, rs.randn(9), (rs.rand(9) < 0.5).astype(float)


if __name__ == "__main__":
    params, X, y_reg, y_cls = make_inputs(0)
    grads = srcgrad.grad(multitask_loss)(params, X, y_reg, y_cls)
