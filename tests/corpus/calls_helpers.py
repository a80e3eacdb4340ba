"""Helpers that :mod:`tests.corpus.calls` imports: callees that live in another module.

Everything here is ordinary numeric code that a user would keep in a utility module: kernels,
activations, numerically stable softmax variants (whose ``stop_gradient`` only removes a shift
or a scale the result does not depend on, so the gradient is still the exact derivative), a
custom-VJP log-cosh, a prefix sum and a force routine that write into arrays they allocate,
``functools.partial`` objects and a module-level object whose bound method is called.

Nothing in this file is a corpus function: the corpus (and its feature coverage) is the set of
public functions of :mod:`tests.corpus.calls`.
"""

import functools
import math

import numpy as np

from srcgrad import custom_vjp, stop_gradient

# --------------------------------------------------------------------------- kernels


def rbf(d2, scale=1.0):
    """The Gaussian kernel of squared distances ``d2`` with length scale ``scale``."""
    return np.exp(-d2 / (2.0 * scale * scale))


def sq_dists(X, Y):
    """Pairwise squared Euclidean distances between the rows of ``X`` and of ``Y``."""
    d = X[:, None, :] - Y[None, :, :]
    return np.sum(d * d, axis=-1)


# --------------------------------------------------------------------------- activations


def softplus(x, beta=1.0):
    """``log(1 + exp(beta x)) / beta``, evaluated stably."""
    return np.logaddexp(0.0, beta * x) / beta


def scaled_tanh(x, a, b=1.0):
    """``b * tanh(a x)``."""
    return b * np.tanh(a * x)


tanh2 = functools.partial(scaled_tanh, a=2.0)
gentle = functools.partial(softplus, beta=0.5)


# --------------------------------------------------------------------------- stable softmax


def stable_softmax(z, axis=-1):
    """Softmax along ``axis``; the max shift is a constant (softmax is shift invariant)."""
    shift = stop_gradient(np.max(z, axis=axis, keepdims=True))
    e = np.exp(z - shift)
    return e / np.sum(e, axis=axis, keepdims=True)


def stable_log_softmax(z):
    """Log-softmax along the last axis, with a stopped max shift."""
    shift = stop_gradient(np.max(z, axis=-1, keepdims=True))
    s = z - shift
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def safe_cosine(a, b):
    """Cosine similarity of two vectors, pre-scaled by their (stopped) largest entries.

    The cosine is scale invariant, so the stopped scales do not change the derivative; they
    only keep the squared norms from overflowing.
    """
    sa = stop_gradient(np.max(np.abs(a)))
    sb = stop_gradient(np.max(np.abs(b)))
    a1 = a / sa
    b1 = b / sb
    return np.sum(a1 * b1) / np.sqrt(np.sum(a1 * a1) * np.sum(b1 * b1))


# --------------------------------------------------------------------------- custom rules


@custom_vjp
def logcosh(x):
    """``log(cosh(x))`` without overflow: ``|x| + log1p(exp(-2|x|)) - log 2``."""
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - math.log(2.0)


@logcosh.defvjp
def _logcosh_vjp(g, ans, x):
    return g * np.tanh(x)


# --------------------------------------------------------------------------- writes inside callees


def prefix_sum(x):
    """Inclusive prefix sum of a vector, written element by element into a fresh array."""
    out = np.zeros_like(x)
    acc = 0.0
    for i in range(x.shape[0]):
        acc = acc + x[i]
        out[i] = acc
    return out


def chain_forces(q, k):
    """Forces on a chain of unit-rest-length springs: each spring pushes its two ends."""
    f = np.zeros_like(q)
    stretch = q[1:] - q[:-1] - 1.0
    f[:-1] += k * stretch
    f[1:] -= k * stretch
    return f


# --------------------------------------------------------------------------- objects


class GaussianPrior:
    """An isotropic Gaussian prior with a fixed mean and standard deviation."""

    def __init__(self, mean, std):
        self.mean = mean
        self.std = std

    def logpdf(self, x):
        z = (x - self.mean) / self.std
        return -0.5 * np.sum(z * z) - x.size * math.log(self.std)


PRIOR = GaussianPrior(0.0, 2.0)


class TemperedSoftmax:
    """A softmax at a fixed temperature (knowledge distillation's teacher side)."""

    def __init__(self, temperature):
        self.temperature = temperature

    def probs(self, z, axis=-1):
        return stable_softmax(z / self.temperature, axis=axis)


TEMPERED = TemperedSoftmax(2.0)
