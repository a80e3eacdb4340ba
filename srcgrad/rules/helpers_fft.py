"""Rules of the cotangent helpers of the ``numpy.fft`` rules (higher-order derivatives
through the transforms).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Each helper is linear in the
cotangent it maps (its first parameter ``g``, here ``ct``): a transform of it, cut or
zero-padded to the operand's length (``rules/fft.py``).  In autograd's convention for
complex numbers (no conjugation) the adjoint of a linear map is its transpose, and the DFT
matrix is symmetric: the adjoint pads or cuts first, to the forward length ``n``, and then
transforms, which is the forward transform itself (``np.fft.rfft`` for ``rfft``'s
cotangent, ``np.fft.irfft`` for ``irfft``'s, ``hfft``/``ihfft`` likewise; ``dft`` and
``dftn`` for ``fft``/``ifft``, whose helpers take the direction as a flag).  A real
operand gets the real part (``unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    dft,
    dftn,
    fft_cotangent,
    fftn_cotangent,
    hfft_cotangent,
    ihfft_cotangent,
    irfft_cotangent,
    irfftn_cotangent,
    rfft_cotangent,
    rfftn_cotangent,
    unbroadcast,
)

# the transform's cotangent, then its operand (one entry each)
_ONE_D = {
    "same": "(3,4),(3,4)",
    "cut": ("(3,3),(3,4)", {"n": 3}),
    "padded": ("(6,4),(3,4)", {"n": 6, "axis": 0, "norm": "ortho"}),
    "forward": ("(3,4),(3,4)", {"norm": "forward"}),
}
_N_D = {
    "all": "(2,3,4),(2,3,4)",
    "sized": ("(2,2,5),(2,3,4)", {"s": (2, 5), "axes": (-2, -1)}),
    "axes": ("(3,3,3),(2,3,4)", {"s": (3, 3), "axes": (0, 2), "norm": "ortho"}),
    "forward": ("(3,2,5),(2,3,4)", {"s": (3, 2, 5), "norm": "forward"}),
}


@adjoint(
    fft_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes=_ONE_D,
    params={"inverse": [False, True]},
)
def fft_cotangent_adjoint(g, ans, ct, a, n=None, axis=-1, norm=None, inverse=False):
    return unbroadcast(dft(g, n, axis, norm, inverse), ct)


@adjoint(
    dft,
    python_floats=(),
    shapes={
        "same": "(3,4)",
        "cut": ("(3,4)", {"n": 3}),
        "padded": ("(3,4)", {"n": 6, "axis": 0, "norm": "ortho"}),
        "forward": ("(3,4)", {"norm": "forward"}),
    },
    params={"inverse": [False, True]},
)
def dft_adjoint(g, ans, ct, n=None, axis=-1, norm=None, inverse=False):
    return fft_cotangent(g, ct, n, axis, norm, inverse)


@adjoint(
    fftn_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes=_N_D,
    params={"inverse": [False, True]},
)
def fftn_cotangent_adjoint(g, ans, ct, a, s=None, axes=None, norm=None, inverse=False):
    return unbroadcast(dftn(g, s, axes, norm, inverse), ct)


@adjoint(
    dftn,
    python_floats=(),
    shapes={
        "all": "(2,3,4)",
        "sized": ("(2,3,4)", {"s": (2, 5), "axes": (-2, -1)}),
        "axes": ("(2,3,4)", {"s": (3, 3), "axes": (0, 2), "norm": "ortho"}),
        "forward": ("(2,3,4)", {"s": (3, 2, 5), "norm": "forward"}),
    },
    params={"inverse": [False, True]},
)
def dftn_adjoint(g, ans, ct, s=None, axes=None, norm=None, inverse=False):
    return fftn_cotangent(g, ct, s, axes, norm, inverse)


@adjoint(
    rfft_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "same": "(3,3),(3,4)",
        "odd": ("(3,3),(3,4)", {"n": 5}),
        "padded": ("(5,4),(3,4)", {"n": 8, "axis": 0, "norm": "forward"}),
        "cut": ("(3,2),(3,4)", {"n": 3, "norm": "ortho"}),
    },
)
def rfft_cotangent_adjoint(g, ans, ct, a, n=None, axis=-1, norm=None):
    return unbroadcast(np.fft.rfft(g, n, axis, norm), ct)


@adjoint(
    irfft_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "same": "(3,6),(3,4)",
        "odd": ("(3,5),(3,4)", {"n": 5}),
        "padded": ("(8,4),(3,4)", {"n": 8, "axis": 0, "norm": "forward"}),
        "cut": ("(3,3),(3,4)", {"n": 3, "norm": "ortho"}),
    },
)
def irfft_cotangent_adjoint(g, ans, ct, a, n=None, axis=-1, norm=None):
    return unbroadcast(np.fft.irfft(g, n, axis, norm), ct)


@adjoint(
    rfftn_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "all": "(2,3,3),(2,3,4)",
        "sized": ("(2,2,3),(2,3,4)", {"s": (2, 5), "axes": (-2, -1)}),
        "axes": ("(2,3,3),(2,3,4)", {"s": (3, 3), "axes": (2, 0), "norm": "ortho"}),
    },
)
def rfftn_cotangent_adjoint(g, ans, ct, a, s=None, axes=None, norm=None):
    return unbroadcast(np.fft.rfftn(g, s, axes, norm), ct)


@adjoint(
    irfftn_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "all": "(2,3,6),(2,3,4)",
        "sized": ("(2,2,5),(2,3,4)", {"s": (2, 5), "axes": (-2, -1)}),
        "axes": ("(3,3,3),(2,3,4)", {"s": (3, 3), "axes": (2, 0), "norm": "ortho"}),
    },
)
def irfftn_cotangent_adjoint(g, ans, ct, a, s=None, axes=None, norm=None):
    return unbroadcast(np.fft.irfftn(g, s, axes, norm), ct)


@adjoint(
    hfft_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "same": "(3,6),(3,4)",
        "odd": ("(3,5),(3,4)", {"n": 5}),
        "padded": ("(6,4),(3,4)", {"n": 6, "axis": 0, "norm": "ortho"}),
    },
)
def hfft_cotangent_adjoint(g, ans, ct, a, n=None, axis=-1, norm=None):
    # hfft_cotangent is conj(irfft_cotangent) with the other norm: conj's adjoint is conj
    return unbroadcast(np.fft.hfft(g, n, axis, norm), ct)


@adjoint(
    ihfft_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "same": "(3,3),(3,4)",
        "odd": ("(3,2),(3,4)", {"n": 3}),
        "padded": ("(4,4),(3,4)", {"n": 6, "axis": 0, "norm": "forward"}),
    },
)
def ihfft_cotangent_adjoint(g, ans, ct, a, n=None, axis=-1, norm=None):
    return unbroadcast(np.fft.ihfft(g, n, axis, norm), ct)
