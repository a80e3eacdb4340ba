"""Array helpers that adjoint rules and emitted code call (DESIGN §6, §8).

Rule bodies are straight-line code; every branch a cotangent needs (is the operand a Python
scalar? was an axis reduced? is the exponent zero?) lives in one of these helpers.  Their names
appear in emitted code, so they say what they compute.

Every helper is device-agnostic.  It takes its array namespace from its arguments with
:func:`srcgrad.backend.namespace`, uses array methods and ``xp.*`` functions only, and never
converts array data to host values (no ``np.asarray`` of data, no ``float()``, no ``.item()``).
Shapes, dtypes and Python scalars are host values already and are used as such.

NEP 50 (numpy 2 promotion): a Python scalar is "weak" and takes the array's dtype, but a numpy
scalar or 0-d array of float64 upcasts float32 data.  The helpers therefore keep constants as
Python numbers (``LN2`` is a ``float``) and build masks in the data's own dtype.
"""

from __future__ import annotations

import cmath
import math
import operator
from typing import Any

from srcgrad.backend import namespace

__all__ = [
    "split_cotangent",
    "as_array",
    "LN2",
    "LN10",
    "expand_like",
    "extremum_share",
    "log_or_zero",
    "mT",
    "power_slope",
    "unbroadcast",
    "zeros_if_none",
]

Array = Any

LN2: float = math.log(2.0)  #: ``log(2)`` as a Python float (weak under NEP 50)
LN10: float = math.log(10.0)  #: ``log(10)`` as a Python float (weak under NEP 50)

_PY_SCALARS = (int, float, complex)


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


def unbroadcast(g: Array, x: Any) -> Array:
    """Reduce the cotangent ``g`` of a broadcast result to the shape and dtype of ``x``.

    Leading axes that broadcasting added are summed away, and so are axes where ``x`` has
    size 1 and ``g`` does not.  A floating or complex ``x`` also fixes the dtype: a float32
    operand of a float64 result gets a float32 cotangent, and a real operand of a complex
    result gets the real part (autograd's convention).

    Args:
        g: the cotangent of a result that ``x`` was broadcast into.
        x: the operand: an array, a numpy scalar or a Python number.  For a Python number
            the cotangent is the sum of ``g`` (a numpy scalar on numpy, a 0-d array on
            other devices).

    Returns:
        ``g`` itself when its shape and dtype already match (no copy), else the reduced
        and cast cotangent.

    Raises:
        ValueError: if ``g`` has fewer dimensions than ``x``, or cannot be reduced to its
            shape.
    """
    shape = getattr(x, "shape", None)
    if shape is None:  # a Python number: the sum of everything
        if getattr(g, "ndim", 0) != 0:
            g = g.sum()
        if not isinstance(x, complex) and _is_complex(g):
            g = g.real  # a real operand of a complex result gets the real part
        return g
    dtype = x.dtype
    g_shape = getattr(g, "shape", None)
    if g_shape is None:  # a Python number cotangent (of float(x), say): fill x's shape
        return namespace(x).full(shape, g, dtype=dtype if dtype.kind in "fc" else None)
    if g_shape == shape:
        if g.dtype == dtype or dtype.kind not in "fc":
            return g
        return _cast(g, dtype)
    lead = len(g_shape) - len(shape)
    if lead < 0:
        raise ValueError(
            f"unbroadcast: the cotangent has shape {tuple(g_shape)}, fewer dimensions "
            f"than its operand's shape {tuple(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g_shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    if g.shape != shape:
        g = g.reshape(shape)  # ValueError if g is not a broadcast of shape
    if g.dtype == dtype or dtype.kind not in "fc":
        return g
    return _cast(g, dtype)


def _is_complex(g: Any) -> bool:
    """True for a complex Python number or a value with a complex dtype."""
    return isinstance(g, complex) or getattr(getattr(g, "dtype", None), "kind", "") == "c"


def _cast(g: Array, dtype: Any) -> Array:
    """``g`` in ``dtype``; a complex ``g`` cast to a real dtype keeps its real part."""
    if g.dtype.kind == "c" and dtype.kind != "c":
        g = g.real
    return g.astype(dtype)


def expand_like(g: Array, x: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """Broadcast the cotangent of a reduction back to the shape of the reduced array.

    Undoes the shape change of ``x.sum(axis, keepdims=keepdims)`` and friends: the reduced
    axes are reinserted with size 1 (unless ``keepdims``) and ``g`` is broadcast along them.
    The small ``g`` is cast to ``x``'s floating dtype first, so the result has ``x``'s dtype.

    Args:
        g: the cotangent of the reduction's result.
        x: the reduced array (its shape and dtype are read) or a Python number.
        axis: the reduction's ``axis``: ``None`` (all axes), an int or a tuple of ints,
            negative ones counting from the end.
        keepdims: the reduction's ``keepdims``.

    Returns:
        A read-only broadcast view shaped like ``x`` (copy it before writing into it), or
        ``g`` itself when nothing needs doing.
    """
    shape = getattr(x, "shape", None)
    if shape is None:  # a Python number reduces to itself
        return g
    xp = namespace(g, x)
    dtype = x.dtype
    if not hasattr(g, "shape"):  # a Python number cotangent
        return xp.full(shape, g, dtype=dtype if dtype.kind in "fc" else None)
    if dtype.kind in "fc" and g.dtype != dtype:
        g = _cast(g, dtype)
    if g.shape == shape:
        return g
    ndim = len(shape)
    if not keepdims and axis is not None and g.ndim:
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        reduced = {operator.index(a) % ndim for a in axes}
        g = g.reshape(tuple(1 if i in reduced else d for i, d in enumerate(shape)))
    return xp.broadcast_to(g, shape)


def mT(x: Array) -> Array:
    """Swap the last two axes (the matrix transpose of a stack of matrices).

    Args:
        x: an array.

    Returns:
        A view of ``x`` with its last two axes swapped; ``x`` itself when it has fewer than
        two dimensions.
    """
    if getattr(x, "ndim", 0) < 2:
        return x
    return x.swapaxes(-1, -2)


def zeros_if_none(g: Array | None, like: Array) -> Array:
    """The cotangent ``g`` of one output of a multi-output primitive, zeros if it is unused.

    Args:
        g: the output's cotangent, or ``None`` when the output does not reach the result.
        like: the forward output (its shape and dtype are read).

    Returns:
        ``g`` itself, or a fresh array of zeros shaped and typed like ``like``.
    """
    if g is not None:
        return g
    return namespace(like).zeros_like(like)


def extremum_share(x: Any, ans: Array, other: Any) -> Array:
    """The share of ``np.maximum(x, other)``'s (or ``minimum``'s) cotangent that ``x`` gets.

    1 where ``x`` alone attains the result, 1/2 where ``x`` and ``other`` tie, 0 elsewhere.
    Splitting ties evenly follows autograd (``balanced_eq``): it makes the gradient of
    ``np.maximum(x, x)`` equal to that of ``x``.  ``np.maximum(x, 0)`` therefore has slope
    1/2 at exactly ``x == 0``.

    Args:
        x: the operand whose share is wanted (an array or a Python number).
        ans: the forward result.
        other: the other operand.

    Returns:
        An array shaped like ``ans`` in ``ans``'s dtype (no float64 upcast for float32 data).
    """
    if not hasattr(ans, "dtype"):  # builtin max/min returned a Python number
        mine_f = (x == ans) * 1.0  # no float(): x may live on a device
        theirs_f = (other == ans) * 1.0
        return mine_f / (mine_f + theirs_f)
    dtype = ans.dtype
    mine = (ans == x).astype(dtype)
    theirs = (ans == other).astype(dtype)
    return mine / (1 + theirs)


def split_cotangent(g: Any, x: Any, result: Any, other: Any) -> Any:
    """``g * extremum_share(x, result, other)``, bit for bit, in fewer passes over the data.

    The share is counted in halves in one byte per element (``mine + (mine & not tie)``: 2,
    1 or 0), cast to the exact float shares 1, 1/2, 0, and multiplied by ``g`` in place.  Falls back to the plain product unless ``g`` and ``result`` are arrays of
    one shape and dtype.

    Args:
        g: the cotangent of ``np.maximum(x, other)`` (or ``minimum``).
        x: the operand whose cotangent is wanted.
        result: the forward result.
        other: the other operand.

    Returns:
        ``g`` times ``x``'s share, shaped like ``result`` (``unbroadcast`` it to ``x``).
    """
    ans = result
    dtype = getattr(ans, "dtype", None)
    if (
        dtype is None
        or dtype.kind != "f"
        or getattr(g, "dtype", None) != dtype
        or getattr(g, "shape", None) != ans.shape
        or not ans.ndim
    ):
        return g * extremum_share(x, ans, other)
    xp = namespace(g, ans)
    mine = ans == x
    halves = mine.view(xp.uint8)
    halves += (mine & (ans != other)).view(xp.uint8)  # writes through mine: it is spent
    share = halves.astype(dtype)  # a plain cast: faster than a mixed-type multiply
    share *= dtype.type(0.5)
    share *= g
    return share


def power_slope(x1: Any, x2: Any) -> Array:
    """The derivative of ``x1 ** x2`` with respect to ``x1``: ``x2 * x1 ** (x2 - 1)``.

    Where ``x2 == 0`` the slope is 0 (``x1 ** 0`` is constant), also at ``x1 == 0`` where the
    plain formula gives ``0 * inf = nan``.  This is autograd's guard.

    Args:
        x1: the base (an array or a Python number).
        x2: the exponent (an array or a Python number).

    Returns:
        The slope, broadcast like ``x1 ** x2``.
    """
    if _is_python_scalar(x2):
        if x2 == 0:
            return x1 * 0
        if _is_python_scalar(x1):
            # numpy's power, not Python's: 0.0 ** -0.5 is inf (not ZeroDivisionError) and
            # (-1.5) ** 0.5 is nan (not a complex number), as in the forward np.power
            import numpy  # host scalars only: nothing here touches a device

            x1 = numpy.complex128(x1) if isinstance(x1, complex) else numpy.float64(x1)
        return x2 * x1 ** (x2 - 1)
    xp = namespace(x1, x2)
    return x2 * x1 ** xp.where(x2 == 0, 1, x2 - 1)


def log_or_zero(x: Any) -> Any:
    """``log(x)`` where ``x > 0`` and 0 where ``x <= 0``, for the exponent's cotangent of a power.

    The derivative of ``x1 ** x2`` with respect to ``x2`` is ``x1 ** x2 * log(x1)``.  At
    ``x1 == 0`` (and ``x2 > 0``) the power is constantly 0, so 0 is the true slope (autograd
    replaces the zero the same way).  For ``x1 < 0`` the real power is defined only at integer
    exponents, where it has no derivative in ``x2``; 0 is returned there, which keeps a zero
    cotangent zero instead of turning it into ``nan``.  At non-integer exponents the forward
    value is ``nan`` already and the cotangent stays ``nan``.  Complex ``x`` gets the
    principal ``log`` with only ``x == 0`` replaced.

    Args:
        x: the base (an array or a Python number).

    Returns:
        An array in ``x``'s dtype, or a Python number for a Python number.
    """
    if _is_python_scalar(x):
        if isinstance(x, complex):
            return cmath.log(x) if x != 0 else 0.0
        return math.log(x) if x > 0 else 0.0
    xp = namespace(x)
    if x.dtype.kind == "c":
        return xp.log(xp.where(x == 0, 1, x))
    return xp.log(xp.where(x > 0, x, 1))
