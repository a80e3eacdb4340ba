"""Differentiating through an iterative solver: Newton's method for the square root, with a
``while`` loop that stops on convergence.

    srcgrad show examples/newton.py::sqrt_newton
"""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    5 positive numbers, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (1.0 + rng.uniform(size=5),)


@srcgrad.value_and_grad(example=example)
def sqrt_newton(a):
    """sum(sqrt(a)) computed by Newton iterations; the gradient flows through every step."""
    x = np.ones_like(a)
    k = 0
    while k < 50:
        x_new = 0.5 * (x + a / x)
        if np.max(np.abs(x_new - x)) < 1e-12:
            x = x_new
            break
        x = x_new
        k += 1
    return np.sum(x)
