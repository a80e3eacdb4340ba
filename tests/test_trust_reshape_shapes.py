"""A reshape to a shape tuple made elsewhere (``a.reshape(*s)``, ``a.reshape(np.shape(b))``,
``s = b.shape; a.reshape(s)``) has the shape of that tuple, not one axis.

The shape facts once read such a call as a reshape to one axis of unknown length; a max over
an axis of the result then had the wrong rank, and the specialised backward summed its
cotangent over every axis (a wrong gradient, found by the fuzzer).  The facts now know the
shape only where the tuple's items are known, and leave it unknown otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


def starred(x):
    y = x + 0.0
    z = y - np.max(y.reshape(*np.shape(y)), axis=0)
    return 0.5 * np.sum(z * z)


def shape_call(x):
    y = x + 0.0
    z = y - np.max(y.reshape(np.shape(y)), axis=-2)
    return 0.5 * np.sum(z * z)


def shape_name(x):
    s = x.shape
    y = x * 2.0
    z = y - np.max(y.reshape(*s), axis=0, keepdims=True)
    return np.sum(np.sin(z))


def shape_display_name(x):
    s = (x.shape[1], x.shape[0])
    y = x.reshape(s)
    return np.sum(np.max(y, axis=0) ** 2)


def listed(x):
    y = x.reshape([x.shape[0], -1])
    return np.sum(np.tanh(y.mean(axis=1)))


@pytest.mark.parametrize(
    "fn", [starred, shape_call, shape_name, shape_display_name, listed]
)
def test_reshape_to_a_shape_made_elsewhere(fn):
    x = np.random.default_rng(0).standard_normal((3, 4))
    check_grad(fn, x)
    value, _ = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
