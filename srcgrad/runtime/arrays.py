"""Array utilities that the helpers of several rule families share (DESIGN §6, §8).

Rule bodies are straight-line code; every branch a cotangent needs lives in a helper of
:mod:`srcgrad.runtime`, one module per rule family (``runtime/linalg.py`` serves
``rules/linalg.py``).  This module holds the pieces those modules share: ``as_array``, dtype
fitting (``cast_like``, ``_fit``), axis normalisation, shapes of host data.

Every helper is device-agnostic.  It takes its array namespace from its arguments with
:func:`srcgrad.backend.namespace`, uses array methods and ``xp.*`` functions only, and never
converts array data to host values (no ``np.asarray`` of data, no ``float()``, no ``.item()``).
Shapes, dtypes, axes and Python scalars are host values already and are used as such.  No
helper writes into an array it did not allocate itself, and cotangents come back with the
operand's shape and dtype (a real operand of a complex result gets the real part: autograd's
convention for complex numbers, in which the cotangent of ``z`` is ``dL/dRe(z) - i dL/dIm(z)``
and holomorphic functions need no conjugation).

NEP 50 (numpy 2 promotion): a Python scalar is "weak" and takes the array's dtype, but a numpy
scalar or 0-d array of float64 upcasts float32 data.  The helpers therefore keep constants as
Python numbers (``LN2`` is a ``float``) and build masks in the data's own dtype.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from srcgrad.backend import namespace

__all__ = [
    "ShapeDtype",
    "as_array",
    "cast_like",
    "inverse_permutation",
    "normalize_axes",
    "shape_dtype",
    "shape_only",
]

Array = Any
Axis = int | Sequence[int] | None


_PY_SCALARS = (int, float, complex)


class ShapeDtype:
    """What a helper that reads only an array's shape and dtype needs of it: the forward pass
    keeps this (a few bytes) instead of an array the backward pass never reads otherwise.

    It answers ``shape``, ``dtype``, ``ndim`` and ``size`` as the array did, and says nothing
    about the array namespace (:func:`srcgrad.backend.namespace` skips it); the one made for
    a device array answers ``__array_namespace__`` as that array did.
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"ShapeDtype({self.shape}, {self.dtype})"

    def _refuse(self, *_: Any) -> Any:
        raise TypeError(
            "srcgrad internal error: the backward pass read the values of an array the "
            "forward pass kept the shape and dtype of only"
        )

    __array__ = __bool__ = __len__ = __iter__ = __getitem__ = __float__ = _refuse


class _DeviceShapeDtype(ShapeDtype):
    """A :class:`ShapeDtype` of a device array: it keeps the array's namespace."""

    __slots__ = ("xp",)

    def __init__(self, shape: tuple[int, ...], dtype: Any, xp: Any) -> None:
        super().__init__(shape, dtype)
        self.xp = xp

    def __array_namespace__(self, api_version: Any = None) -> Any:
        return self.xp


def shape_dtype(x: Any) -> Any:
    """The shape and dtype of the array ``x`` (a :class:`ShapeDtype`); anything that is not
    an array (a Python number, None) is returned as it is."""
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapeDtype(x.shape, x.dtype)
    if isinstance(x, ShapeDtype) or _is_python_scalar(x):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return _DeviceShapeDtype(x.shape, x.dtype, namespace(x))
    return x


def shape_only(*positions: int, max_args: int | None = None) -> Any:
    """Mark a helper whose positional arguments at ``positions`` are read for their shape
    and dtype only (``shape``, ``dtype``, ``ndim``, ``size``), so that a :class:`ShapeDtype`
    may stand in for them; with ``max_args``, only in calls with at most that many
    arguments.  The residual planner reads the mark (``fn.shape_only``)."""

    def mark(fn: Any) -> Any:
        fn.shape_only = (tuple(positions), max_args)
        return fn

    return mark


def _is_python_scalar(x: Any) -> bool:
    return isinstance(x, _PY_SCALARS)


def as_array(x: Any, *like: Any, weak: bool = False) -> Any:
    """An operand as an array: a Python number becomes a 0-d array, anything else is ``x``.

    numpy accepts a Python float wherever it accepts an array (``np.dot(x, 0.5)``,
    ``np.max(s)``), so a helper that reads an operand's ``shape``, ``ndim``, ``dtype`` or
    ``flags`` calls this first.  The 0-d array lives in the namespace of ``like`` (the
    cotangent, the other operands), so it never meets device arrays as a host value; a Python
    number is host data already, so nothing moves off a device.  A cotangent computed from
    it is a 0-d value, which is what a Python-float operand gets.

    Args:
        x: the operand: an array, a numpy scalar or a Python number (bool, int, float,
            complex).
        *like: the values whose namespace the 0-d array takes (numpy when none is a device
            array).
        weak: for an operand that only scales another's cotangent (``b`` in the cotangent
            of ``a`` for ``np.dot(a, b)``): a real Python number takes the dtype of the first
            real floating ``like``, as numpy's promotion treats ``g * 0.5``, so float32 data
            is not computed in float64.  Otherwise the 0-d array holds ``x`` exactly.

    Returns:
        ``x`` itself unless it is a Python number, else ``xp.asarray(x)``.
    """
    if not _is_python_scalar(x):
        return x
    xp = namespace(*like)
    if weak and not isinstance(x, complex):
        for y in like:
            dtype = getattr(y, "dtype", None)
            if dtype is not None and getattr(dtype, "kind", "") == "f":
                return xp.asarray(x, dtype=dtype)
    return xp.asarray(x)


def _is_complex(g: Any) -> bool:
    """True for a complex Python number or a value with a complex dtype."""
    return (
        isinstance(g, complex) or getattr(getattr(g, "dtype", None), "kind", "") == "c"
    )


def _cast(g: Array, dtype: Any) -> Array:
    """``g`` in ``dtype``; a complex ``g`` cast to a real dtype keeps its real part."""
    if g.dtype.kind == "c" and dtype.kind != "c":
        g = g.real
    return g.astype(dtype)


def cast_like(x: Array, like: Array) -> Array:
    """Return ``x`` in ``like``'s dtype, without a copy when it already has it.

    Args:
        x: an array.
        like: the array whose dtype ``x`` should get (a value without a dtype, such as a
            constant list among ``concatenate``'s operands, leaves ``x`` as it is).

    Returns:
        ``x`` itself if the dtypes agree, else ``x.astype(like.dtype)``.
    """
    dtype = getattr(like, "dtype", None)
    if dtype is None or x.dtype == dtype:
        return x
    return x.astype(dtype)


def _refuse_pair(call: str, hint: str = "") -> None:
    """Refuse the form of ``call`` that returns a pair, such as ``np.average(...,
    returned=True)``: only its single-array form is differentiated."""
    raise NotImplementedError(
        f"{call} returns a pair, which srcgrad does not differentiate"
        + (f"; hint: {hint}" if hint else "")
    )


def _shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, or of host data such as a constant list (``np.shape``)."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def _fit(x: Array, like: Any) -> Array:
    """``x`` in ``like``'s dtype: a complex ``x`` for a real ``like`` keeps its real part."""
    dtype = getattr(like, "dtype", None)
    if dtype is None:  # a Python number operand: a 0-d value
        return x
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real
    return x.astype(dtype)


def _is_int(x: Any) -> bool:
    try:
        operator.index(x)
    except TypeError:
        return False
    return True


def _axis(axis: Any, ndim: int) -> int:
    """One axis, made non-negative."""
    ax = operator.index(axis)
    if not -ndim <= ax < ndim:
        raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
    return ax % ndim


def _lanes(xp: Any, a: Any, axis: Any) -> tuple[Array, int]:
    """``a`` and the axis its lanes run along: flattened to one lane on axis 0 when
    ``axis`` is None (numpy's ``axis=None``), else ``a`` itself on ``axis`` made
    non-negative."""
    if axis is None:
        return xp.reshape(xp.asarray(a), (-1,)), 0
    return a, _axis(axis, a.ndim)


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Turn a numpy ``axis`` argument into a sorted tuple of non-negative axes.

    Args:
        axis: ``None`` (every axis), an int (negative counts from the end) or a sequence of
            ints.
        ndim: the number of dimensions of the array the axis refers to.

    Returns:
        The axes as a sorted tuple of ints in ``range(ndim)``.

    Raises:
        ValueError: if an axis is out of range or repeated.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if _is_int(axis) else tuple(axis)
    out = [_axis(ax, ndim) for ax in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def _take_range(xp: Any, x: Array, axis: int, start: int, stop: int) -> Array:
    key = (slice(None),) * axis + (slice(start, stop),)
    return x[key]


def _sum_to_shape(xp: Any, v: Array, shape: tuple[int, ...]) -> Array:
    """Sum the broadcast axes of ``v`` away so that it has ``shape``."""
    lead = v.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and v.shape[lead + i] != 1
    )
    if axes:
        v = xp.sum(v, axis=axes)
    return xp.reshape(v, shape)


def _conj_sign(xp: Any, x: Array) -> Array:
    """``conj(x) / |x|`` (0 at 0): the cotangent factor of ``|x|``."""
    if x.dtype.kind != "c":
        return xp.sign(x)
    mag = xp.abs(x)
    return xp.conj(x) / xp.where(mag == 0, 1, mag)


def inverse_permutation(axes: Sequence[int] | None) -> tuple[int, ...] | None:
    """The axes argument that undoes ``np.transpose(x, axes)``.

    Args:
        axes: a permutation of ``range(ndim)`` (negative entries allowed), or ``None`` for
            numpy's default (reverse the axes), which is its own inverse.

    Returns:
        The inverse permutation as a tuple, or ``None`` when ``axes`` is ``None``.
    """
    if axes is None:
        return None
    n = len(axes)
    inv = [0] * n
    for position, ax in enumerate(axes):
        inv[operator.index(ax) % n] = position
    return tuple(inv)


def _mT(x: Array) -> Array:
    return x.swapaxes(-1, -2)
