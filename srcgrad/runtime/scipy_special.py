"""Helpers of the ``scipy.special`` rules (``rules/scipy_special.py``): ``scipy_special``
(through which emitted code calls ``scipy.special``, in the namespace of the arguments), ``digamma`` and ``trigamma`` (scipy's on numpy, a series elsewhere, so rule bodies stay device-agnostic) and
``logsumexp``'s cotangent (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _fit,
    _refuse_pair,
    _shape_of,
    _sum_to_shape,
    as_array,
)
from srcgrad.runtime.broadcasting import expand_like

__all__ = [
    "scipy_special",
    "digamma",
    "logsumexp_cotangent",
    "polygamma_of",
    "trigamma",
]

Array = Any


_SPECIAL: dict[int, Any] = {}


def special_functions_of(xp: Any) -> Any:
    """The ``scipy.special`` of the array namespace ``xp``: scipy's for numpy,
    ``cupyx.scipy.special`` for cupy; another namespace may offer its special functions as
    its ``scipy_special`` attribute.

    Example:
        >>> import numpy as np, scipy.special
        >>> special_functions_of(np) is scipy.special
        True
    """
    found = _SPECIAL.get(id(xp))
    if found is not None:
        return found
    name = getattr(xp, "__name__", "")
    if name == "numpy":
        import scipy.special as found
    elif name == "cupy":
        import cupyx.scipy.special as found
    else:
        found = getattr(xp, "scipy_special", None)
        if found is None:
            from srcgrad.errors import SrcgradError

            raise SrcgradError(
                f"scipy.special is called on arrays of {name or xp!r}, which offers no "
                "special-function module; hint: pass numpy or cupy arrays, or give the "
                "namespace a `scipy_special` attribute"
            )
    _SPECIAL[id(xp)] = found
    return found


class _SpecialFunctions:
    """``scipy_special``: scipy.special's functions, each called in the namespace of its
    arguments.

    Emitted code spells a user's ``scipy.special.erf(x)`` as ``scipy_special.erf(x)``: the
    same file calls scipy's ``erf`` on numpy arrays and ``cupyx.scipy.special.erf`` on cupy
    arrays (never a host copy).  Each such function carries the rule of the scipy function
    it stands for, so srcgrad differentiates emitted code that calls it (higher orders,
    forward mode over a gradient).

    Example:
        >>> import numpy as np
        >>> float(scipy_special.expit(np.float64(0.0)))
        0.5
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        import scipy.special

        original = getattr(scipy.special, name)  # AttributeError: scipy has none

        def call(*args: Any, **kwargs: Any) -> Any:
            xp = namespace(*args, *kwargs.values())
            return getattr(special_functions_of(xp), name)(*args, **kwargs)

        call.__name__ = name
        call.__qualname__ = f"scipy_special.{name}"
        call.__doc__ = f"scipy.special.{name} in the namespace of its arguments."
        from srcgrad.rules import registry

        rule = registry.lookup(original)
        if rule is not None:
            registry.alias(call, rule)
        setattr(self, name, call)
        return call

    def __repr__(self) -> str:
        return "<scipy.special in the namespace of the arguments>"


scipy_special = _SpecialFunctions()


def digamma(x: Array) -> Array:
    """The digamma function ``psi(x)`` on any device (for ``gammaln``'s cotangent).

    numpy arrays use ``scipy.special.digamma`` when scipy is installed; other namespaces
    (and numpy without scipy) use the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to
    ``x >= 16``, the asymptotic series there, and the reflection formula for ``x < 0.5``
    (about 1e-15 relative error).

    Args:
        x: a real array or Python float.

    Returns:
        ``psi(x)``, shaped and typed like ``x``.
    """
    xp = namespace(x)
    if _host_scipy(xp):
        from scipy.special import digamma as psi

        return _like(psi(x), x)
    return _like(_series_polygamma(xp, x, 0), x)


def trigamma(x: Array) -> Array:
    """The trigamma function ``psi'(x)`` on any device (for ``digamma``'s cotangent).

    Args:
        x: a real array or Python float.

    Returns:
        ``psi'(x)``, shaped and typed like ``x``.
    """
    xp = namespace(x)
    if _host_scipy(xp):
        from scipy.special import polygamma

        return _like(polygamma(1, x), x)
    return _like(_series_polygamma(xp, x, 1), x)


def polygamma_of(n: int, x: Array) -> Array:
    """The polygamma function ``psi^(n)(x)`` (for the cotangents of ``trigamma`` and of
    itself: higher-order gradients of ``gammaln``).

    Orders 0 and 1 run on any device (see :func:`digamma`); higher orders need scipy on
    numpy arrays, and raise ``NotImplementedError`` elsewhere.
    """
    xp = namespace(x)
    if _host_scipy(xp):
        from scipy.special import polygamma

        return _like(polygamma(n, x), x)
    if n <= 1:
        return _like(_series_polygamma(xp, x, n), x)
    return _like(_shifted_polygamma(xp, x, n), x)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _shifted_polygamma(xp: Any, x: Any, n: int) -> Array:
    """psi^(n)(x), n >= 1, for x >= 0 (NaN below): each element is shifted up to
    ``x + m >= 24`` (``psi^(n)(x) = psi^(n)(x + m) + (-1)^(n+1) n! sum_j (x + j)^-(n+1)``),
    then the asymptotic series; no value leaves the device."""
    xa = xp.asarray(x)
    sign = -1.0 if n % 2 == 0 else 1.0
    total = xp.zeros_like(xa)
    z = xa
    for _ in range(24):
        low = z < 24.0
        total = total + xp.where(low, sign * math.factorial(n) / z ** (n + 1), 0.0)
        z = xp.where(low, z + 1.0, z)
    tail = math.factorial(n - 1) / z**n + math.factorial(n) / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, 1):
        tail = tail + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / z ** (
            2 * k + n
        )
    return xp.where(z < 24.0, xp.nan, total + sign * tail)


def _like(value: Any, x: Any) -> Any:
    """``value`` in ``x``'s floating dtype (scipy's polygamma answers float32 in float64).

    For a Python-number ``x`` a 0-d result becomes a numpy scalar: a host 0-d array would
    refuse to meet the device arrays that the cotangent multiplies it with.
    """
    if getattr(value, "ndim", None) == 0 and not hasattr(x, "dtype"):
        return value[()]
    dtype = getattr(x, "dtype", None)
    if (
        dtype is not None
        and dtype.kind == "f"
        and getattr(value, "dtype", dtype) != dtype
    ):
        return value.astype(dtype)
    return value


def _host_scipy(xp: Any) -> bool:
    if getattr(xp, "__name__", "") != "numpy":
        return False
    try:
        import scipy.special  # noqa: F401
    except ImportError:
        return False
    return True


def _series_polygamma(xp: Any, x: Any, order: int) -> Array:
    """psi (order 0) or psi' (order 1) from the recurrence, asymptotic series and reflection."""
    xa = xp.asarray(x)
    dtype = xa.dtype if xa.dtype.kind == "f" else None
    reflect = xa < 0.5
    z = xp.where(reflect, 1 - xa, xa)
    acc = xp.zeros_like(z)
    for _ in range(16):  # shift to z >= 16, where the series is exact to about 1e-16
        small = z < 16
        step = 1 / z if order == 0 else 1 / (z * z)
        acc = acc + xp.where(small, step, 0)
        z = xp.where(small, z + 1, z)
    inv = 1 / z
    inv2 = inv * inv
    if order == 0:
        series = (
            xp.log(z)
            - 0.5 * inv
            - inv2
            * (
                1 / 12
                - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132)))
            )
        )
        value = series - acc
        pi_cot = math.pi / xp.tan(math.pi * xa)
        out = xp.where(reflect, value - pi_cot, value)
    else:
        series = (
            inv
            + inv2 / 2
            + inv
            * inv2
            * (
                1 / 6
                - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66)))
            )
        )
        value = series + acc
        sin = xp.sin(math.pi * xa)
        out = xp.where(reflect, -value + (math.pi * math.pi) / (sin * sin), value)
    return out.astype(dtype) if dtype is not None else out


def logsumexp_cotangent(
    g: Array,
    a: Array,
    ans: Array,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Array:
    """Cotangent of ``scipy.special.logsumexp(a, axis, b, keepdims)`` for ``a``: softmax weights.

    Args:
        g: the cotangent of the result.
        a: the operand.
        ans: the forward result.
        axis: the forward ``axis``.
        b: the forward weights (constants), or ``None``.
        keepdims: the forward ``keepdims``.
        return_sign: must be False (a pair is not differentiated).

    Returns:
        An array shaped and typed like ``a``.
    """
    if return_sign:
        _refuse_pair("logsumexp(..., return_sign=True)")
    xp = namespace(g, a, ans, b)
    a_in, shape = a, _shape_of(a)
    a = as_array(a, g, ans, b)
    if not shape:  # scipy reads a 0-d a as 1-d: keepdims gives a (1,) result
        a = xp.reshape(a, (1,))
    full = expand_like(ans, a, axis=axis, keepdims=keepdims)
    # a result of -inf (a row of -inf: a - ans would be nan) read as 0: weight 0
    weights = xp.exp(a - xp.where(full == -xp.inf, 0.0, full))
    if b is not None:
        weights = weights * xp.asarray(b)
    d_a = _sum_to_shape(
        xp, expand_like(g, a, axis=axis, keepdims=keepdims) * weights, a.shape
    )
    return _fit(xp.reshape(d_a, shape), a_in)
