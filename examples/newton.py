"""Differentiating through an iterative solver: Newton's method for the square root, with a
``while`` loop that stops on convergence.

    srcgrad show examples/newton.py::sqrt_newton
"""

import numpy as np

import srcgrad


@srcgrad.value_and_grad
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
