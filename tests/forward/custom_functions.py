"""Functions calling ``@srcgrad.custom_vjp`` functions, for tests/test_forward_custom.py
(srcgrad reads their source)."""

import numpy as np

import srcgrad


@srcgrad.custom_vjp
def stable_logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@stable_logsumexp.defvjp
def _stable_logsumexp_vjp(g, ans, x):
    return g * np.exp(x - ans)


@stable_logsumexp.defjvp
def _stable_logsumexp_jvp(dots, ans, x):
    return np.sum(np.exp(x - ans) * dots[0])


@srcgrad.custom_vjp
def scaled(x, w, *, power=2):
    return w * x**power


@scaled.defvjp
def _scaled_vjp(g, ans, x, w, *, power=2):
    return g * w * power * x ** (power - 1), g * x**power


@scaled.defjvp
def _scaled_jvp(dots, ans, x, w, *, power=2):
    t_x, t_w = dots
    out = np.zeros_like(ans)
    if t_x is not None:
        out = out + w * power * x ** (power - 1) * t_x
    if t_w is not None:
        out = out + t_w * x**power
    return out


@srcgrad.custom_vjp
def clipped(x):
    return np.clip(x, -1.0, 1.0)


@clipped.defvjp
def _clipped_vjp(g, ans, x):
    return g  # a straight-through estimate: no tangent rule follows from it


def uses_logsumexp(x, W):
    return stable_logsumexp(np.tanh(W @ x)) * 2.0


def uses_scaled(x, w):
    return np.sum(np.sin(scaled(x, w, power=3)))


def uses_clipped(x):
    y = x * 3.0
    return np.sum(clipped(y))
