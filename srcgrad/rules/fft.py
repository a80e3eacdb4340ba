"""Adjoint rules for ``numpy.fft``.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Every transform is linear, and
the DFT matrix is symmetric, so in autograd's convention for complex numbers (no
conjugation: see ``special.py``) the cotangent of a transform is the same transform of the
cotangent, with the same ``norm``, cut or zero-padded back to the operand's length:

* ``fft``/``ifft``/``fft2``/``ifft2``/``fftn``/``ifftn``: the same transform of ``g``;
* ``rfft``/``rfft2``/``rfftn``: the real part of the full transform of ``g`` zero-padded from
  the half spectrum;
* ``irfft``/``irfft2``/``irfftn``: the inverse transform of ``g`` over the half spectrum the
  forward read, weighted 1, 2, ..., 2 (1 for the Nyquist bin of an even length); odd and even
  ``n`` differ only there;
* ``hfft``/``ihfft``: the ``irfft``/``rfft`` rules of their conjugated definitions;
* ``fftshift``/``ifftshift``: the opposite shift.

A real operand of a transform gets the real part of the cotangent.  The registry tests run
the transforms on real inputs; complex inputs (real and imaginary parts perturbed
separately) are checked in ``tests/rules/test_fft.py``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    fft_cotangent,
    fftn_cotangent,
    hfft_cotangent,
    ihfft_cotangent,
    irfft_cotangent,
    irfftn_cotangent,
    rfft_cotangent,
    rfftn_cotangent,
)

_SHAPES_1D = {"matrix": "(3,4)"}
_PARAMS_1D = [
    {"n": [None, 3]},
    {"n": [6], "axis": [0], "norm": ["ortho"]},
    {"norm": ["forward"]},
]
_SHAPES_2D = {"3d": "(2,3,4)"}
_PARAMS_2D = [
    {"s": [None, (2, 5)]},
    {"s": [(3, 3)], "axes": [(0, 2)], "norm": ["ortho"]},
]
_PARAMS_ND = [
    {"axes": [None]},
    {"s": [(3, 2, 5)], "axes": [(0, 1, 2)], "norm": ["forward"]},
    {"s": [(2, 3)], "axes": [(2, 0)], "norm": ["ortho"]},
]


@adjoint(np.fft.fft, shapes=_SHAPES_1D, params=_PARAMS_1D, jvp="linear")
def fft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return fft_cotangent(g, a, n, axis, norm)


@adjoint(np.fft.ifft, shapes=_SHAPES_1D, params=_PARAMS_1D, jvp="linear")
def ifft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return fft_cotangent(g, a, n, axis, norm, True)


@adjoint(np.fft.fft2, shapes=_SHAPES_2D, params=_PARAMS_2D, jvp="linear")
def fft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None):
    return fftn_cotangent(g, a, s, axes, norm)


@adjoint(np.fft.ifft2, shapes=_SHAPES_2D, params=_PARAMS_2D, jvp="linear")
def ifft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None):
    return fftn_cotangent(g, a, s, axes, norm, True)


@adjoint(np.fft.fftn, shapes=_SHAPES_2D, params=_PARAMS_ND, jvp="linear")
def fftn_adjoint(g, ans, a, s=None, axes=None, norm=None):
    return fftn_cotangent(g, a, s, axes, norm)


@adjoint(np.fft.ifftn, shapes=_SHAPES_2D, params=_PARAMS_ND, jvp="linear")
def ifftn_adjoint(g, ans, a, s=None, axes=None, norm=None):
    return fftn_cotangent(g, a, s, axes, norm, True)


@adjoint(
    np.fft.rfft,
    shapes=_SHAPES_1D,
    params=[
        {"n": [None, 5]},
        {"n": [8], "axis": [0], "norm": ["forward"]},
        {"n": [3], "norm": ["ortho"]},
    ],
    jvp="linear",
)
def rfft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return rfft_cotangent(g, a, n, axis, norm)


@adjoint(
    np.fft.irfft,
    shapes=_SHAPES_1D,
    params=[
        {"n": [None, 5]},
        {"n": [8], "axis": [0], "norm": ["forward"]},
        {"n": [3], "norm": ["ortho"]},
    ],
    jvp="linear",
)
def irfft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return irfft_cotangent(g, a, n, axis, norm)


@adjoint(np.fft.rfft2, shapes=_SHAPES_2D, params=_PARAMS_2D, jvp="linear")
def rfft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None):
    return rfftn_cotangent(g, a, s, axes, norm)


@adjoint(np.fft.irfft2, shapes=_SHAPES_2D, params=_PARAMS_2D, jvp="linear")
def irfft2_adjoint(g, ans, a, s=None, axes=(-2, -1), norm=None):
    return irfftn_cotangent(g, a, s, axes, norm)


@adjoint(np.fft.rfftn, shapes=_SHAPES_2D, params=_PARAMS_ND, jvp="linear")
def rfftn_adjoint(g, ans, a, s=None, axes=None, norm=None):
    return rfftn_cotangent(g, a, s, axes, norm)


@adjoint(np.fft.irfftn, shapes=_SHAPES_2D, params=_PARAMS_ND, jvp="linear")
def irfftn_adjoint(g, ans, a, s=None, axes=None, norm=None):
    return irfftn_cotangent(g, a, s, axes, norm)


@adjoint(
    np.fft.hfft,
    shapes=_SHAPES_1D,
    params=[{"n": [None, 5]}, {"n": [6], "axis": [0], "norm": ["ortho"]}],
    jvp="linear",
)
def hfft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return hfft_cotangent(g, a, n, axis, norm)


@adjoint(
    np.fft.ihfft,
    shapes=_SHAPES_1D,
    params=[{"n": [None, 3]}, {"n": [6], "axis": [0], "norm": ["forward"]}],
    jvp="linear",
)
def ihfft_adjoint(g, ans, a, n=None, axis=-1, norm=None):
    return ihfft_cotangent(g, a, n, axis, norm)


@adjoint(
    np.fft.fftshift,
    shapes={"matrix": "(3,4)", "3d": "(2,3,5)"},
    params={"axes": [None, (0, -1)]},
    jvp="linear",
)
def fftshift_adjoint(g, ans, x, axes=None):
    return np.fft.ifftshift(g, axes)


@adjoint(
    np.fft.ifftshift,
    shapes={"matrix": "(3,4)", "3d": "(2,3,5)"},
    params={"axes": [None, (0, -1)]},
    jvp="linear",
)
def ifftshift_adjoint(g, ans, x, axes=None):
    return np.fft.fftshift(g, axes)
