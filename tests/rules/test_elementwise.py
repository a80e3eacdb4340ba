"""Elementwise rules (``elementwise``, ``binary``, ``special``) on complex and mixed inputs, with
the real and imaginary parts of every input perturbed separately (autograd's convention: the
cotangent ``c`` of ``z`` pairs as ``Re(sum(c * dz))``).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_complex, crandn

HOLOMORPHIC = [
    np.exp,
    np.sin,
    np.cos,
    np.tanh,
    np.sinh,
    np.cosh,
    np.log,
    np.sqrt,
    np.square,
    np.reciprocal,
    np.expm1,
    np.log1p,
    np.exp2,
    np.log2,
    np.log10,
    np.tan,
    np.arctan,
    np.arcsinh,
    np.negative,
]


@pytest.mark.parametrize("prim", HOLOMORPHIC, ids=lambda p: p.__name__)
def test_holomorphic_elementwise_on_complex_inputs(prim):
    rng = np.random.default_rng(1)
    z = 0.5 * crandn(rng, 3, 4) + 1.0  # away from branch cuts
    check_complex(prim, [z])


@pytest.mark.parametrize(
    "prim",
    [
        np.real,
        np.imag,
        np.conjugate,
        np.angle,
        np.absolute,
        np.nan_to_num,
        np.real_if_close,
    ],
    ids=lambda p: p.__name__,
)
def test_complex_parts_on_complex_inputs(prim):
    rng = np.random.default_rng(2)
    check_complex(prim, [crandn(rng, 3, 4)])


def test_angle_in_degrees_on_complex_inputs():
    rng = np.random.default_rng(3)
    check_complex(np.angle, [crandn(rng, 5)], {"deg": True})


def test_nan_to_num_masks_real_and_imaginary_parts_separately():
    z = np.array([1 + 2j, np.nan + 1j, 2 + np.inf * 1j, -1 - 1j])
    check_complex(np.nan_to_num, [z], {"posinf": 3.0})


@pytest.mark.parametrize(
    "prim", [np.add, np.multiply, np.divide, np.subtract, np.power]
)
def test_binary_on_complex_and_mixed_inputs(prim):
    rng = np.random.default_rng(4)
    z1 = crandn(rng, 3, 4) + 2.0
    check_complex(prim, [z1, crandn(rng, 4) + 2.0])
    check_complex(
        prim, [z1, rng.uniform(0.5, 2.0, size=(3, 1))]
    )  # a real operand gets Re
