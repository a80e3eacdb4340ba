"""Adjoint rules for more elementwise functions: sinc, fmax/fmin, complex parts, nan_to_num, ...

The rule-body contract is in :mod:`srcgrad.rules.registry`.  ``cbrt``, ``exp2``, ``log2``,
``log10``, ``logaddexp2``, ``deg2rad``/``rad2deg``, the inverse hyperbolic functions and
``fabs`` live in ``elementwise.py`` and ``binary.py``; this module adds the rest of the
elementwise functions a user reaches for.

Complex numbers follow autograd's convention: the cotangent of ``z`` is
``dL/dRe(z) - i dL/dIm(z)``, so a holomorphic function's rule is ``g * f'(z)`` with no
conjugation, ``conj``'s rule is ``conj(g)``, ``real``'s is ``g`` and ``imag``'s is ``-i g``
(each cast back to the operand's dtype by ``unbroadcast``: a real operand keeps the real
part).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.rules.tangent_calls import zero_tangent
from srcgrad.runtime import (
    angle_cotangent,
    copysign_slope,
    extremum_share,
    log_or_zero,
    nan_to_num_cotangent,
    power_slope,
    sinc_slope,
    unbroadcast,
    zeros_if_none,
)


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Test inputs in [-2, -0.5] U [0.5, 2] (for functions with a kink or pole at 0)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def _with_nonfinite(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values with a NaN, an inf and a -inf mixed in (when there is room)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    flat = x.reshape(-1)
    for i, v in zip((1, 4, 7), (np.nan, np.inf, -np.inf)):
        if i < flat.size:
            flat[i] = v
    return x


# --------------------------------------------------------------------------- unary


# not kind="unary": numpy 1.x gives a 0-d float32 operand a float64 result
@adjoint(np.sinc, jvp="elementwise")
def sinc_adjoint(g, ans, x):
    return g * sinc_slope(x)


@adjoint(
    np.nan_to_num,
    domain=_with_nonfinite,
    shapes={"matrix": "(3,4)"},
    params=[
        {"posinf": [5.0], "neginf": [-5.0]},
        {"nan": [1.5], "posinf": [3.0], "neginf": [-3.0]},
    ],
    jvp="elementwise",
)
def nan_to_num_adjoint(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # replaced entries are constants; complex parts are masked separately
    return nan_to_num_cotangent(g, x)


@adjoint(
    np.real,
    attributes=("real",),
    shapes={"matrix": "(3,4)", "zero-d": "()"},
    view=True,
    jvp="linear",
)
def real_adjoint(g, ans, val):
    return unbroadcast(g, val)


@adjoint(
    np.imag, attributes=("imag",), shapes={"matrix": "(3,4)"}, view=True, jvp="linear"
)
def imag_adjoint(g, ans, val):
    # Im(z) = b: dL/db = g, so the cotangent is -i g (0 for a real operand)
    return unbroadcast(-1j * g, val)


# np.conj is the same ufunc
@adjoint(
    np.conjugate,
    methods=("conj", "conjugate"),
    shapes={"matrix": "(3,4)"},
    jvp="linear",
)
def conjugate_adjoint(g, ans, x):
    return np.conj(g)


@adjoint(
    np.angle,
    domain=_away_from_zero,
    shapes={"matrix": "(3,4)"},
    params={"deg": [False, True]},
)
def angle_adjoint(g, ans, z, deg=False):
    return angle_cotangent(g, z, deg)


@jvp_of(angle_adjoint)
def angle_jvp(ans, dots, b):
    # angle = atan2(Im z, Re z): d angle = Im(dz / z), 0 for a real z (0 or pi)
    z, t = np.asarray(b["z"]), dots[0]
    slope = np.imag(t * np.conj(z)) / np.where(z == 0, 1.0, np.abs(z) ** 2)
    return slope * (180.0 / np.pi) if b.get("deg") else slope


@adjoint(np.real_if_close, shapes={"matrix": "(3,4)"}, view=True, jvp="linear")
def real_if_close_adjoint(g, ans, a, tol=100):
    # a real result is the real part (cotangent cast back to complex), else the identity
    return unbroadcast(g, a)


@adjoint(np.modf, multi_output=True, domain=_away_from_zero, shapes={"matrix": "(3,4)"})
def modf_adjoint(g, ans, x):
    # (fractional part, integral part): only the fractional part moves with x
    return unbroadcast(zeros_if_none(g[0], ans[0]), x)


@jvp_of(modf_adjoint)
def modf_jvp(ans, dots, b):
    # the integral part is piecewise constant
    return [np.broadcast_to(dots[0], np.shape(ans[0])) * 1.0, zero_tangent(ans[1])]


@adjoint(
    np.frexp, multi_output=True, domain=_away_from_zero, shapes={"matrix": "(3,4)"}
)
def frexp_adjoint(g, ans, x):
    # x = m * 2**e with e locally constant: dm/dx = 2**-e
    return unbroadcast(zeros_if_none(g[0], ans[0]) * np.ldexp(1.0, -ans[1]), x)


@jvp_of(frexp_adjoint)
def frexp_jvp(ans, dots, b):
    # the exponent is piecewise constant (an integer: its tangent is a float zero)
    return [dots[0] * np.ldexp(1.0, -ans[1]), zero_tangent(ans[1])]


# --------------------------------------------------------------------------- binary


@adjoint(np.fmax, kind="binary", integer_result=True)
def fmax_adjoint(g, ans, x1, x2):
    # NaNs are ignored: a NaN operand never equals the result, so it gets no share
    return (
        unbroadcast(g * extremum_share(x1, ans, x2), x1),
        unbroadcast(g * extremum_share(x2, ans, x1), x2),
    )


@adjoint(np.fmin, kind="binary", integer_result=True)
def fmin_adjoint(g, ans, x1, x2):
    return (
        unbroadcast(g * extremum_share(x1, ans, x2), x1),
        unbroadcast(g * extremum_share(x2, ans, x1), x2),
    )


@adjoint(np.float_power, domain=(0.5, 2.0), jvp="elementwise")
def float_power_adjoint(g, ans, x1, x2):
    # the power computed in float64 (or complex128); cotangents are cast back
    return (
        unbroadcast(g * power_slope(x1, x2), x1),
        unbroadcast(g * ans * log_or_zero(x1), x2),
    )


@adjoint(np.fmod, domain={"x1": (-2.0, 2.0), "x2": _away_from_zero}, jvp="elementwise")
def fmod_adjoint(g, ans, x1, x2):
    # fmod(x1, x2) = x1 - trunc(x1 / x2) * x2 and trunc is locally constant
    return unbroadcast(g, x1), unbroadcast(-g * np.trunc(x1 / x2), x2)


@adjoint(np.copysign, kind="binary", domain=_away_from_zero)
def copysign_adjoint(g, ans, x1, x2):
    # |x1| with the sign of x2: the sign operand only flips the result (no gradient)
    return unbroadcast(g * copysign_slope(x1, x2), x1), None


@adjoint(np.heaviside, domain={"x1": _away_from_zero}, jvp="elementwise")
def heaviside_adjoint(g, ans, x1, x2):
    # piecewise constant in x1; the value at x1 == 0 is x2
    return None, unbroadcast(np.where(x1 == 0, g, 0), x2)


@adjoint(
    np.ldexp,
    nondiff=("x2",),
    domain={"x2": lambda rng, shape: rng.integers(-2, 3, size=shape)},
    shapes={"same": "(3,4),(3,4)", "broadcast": "(3,4),(4,)"},
    jvp="elementwise",
)
def ldexp_adjoint(g, ans, x1, x2):
    # x1 * 2**x2 with an integer exponent
    return unbroadcast(g * np.ldexp(1.0, x2), x1)


@adjoint(np.divmod, multi_output=True, domain={"x2": _away_from_zero})
def divmod_adjoint(g, ans, x1, x2):
    # (floor quotient, remainder): only the remainder moves, like np.remainder
    d_rem = zeros_if_none(g[1], ans[1])
    return unbroadcast(d_rem, x1), unbroadcast(-d_rem * ans[0], x2)


@jvp_of(divmod_adjoint)
def divmod_jvp(ans, dots, b):
    # the floor quotient q is piecewise constant; the remainder is x1 - q x2
    t1, t2 = dots
    rem = zero_tangent(ans[1])
    if t1 is not None:
        rem = rem + t1
    if t2 is not None:
        rem = rem - ans[0] * t2
    return [zero_tangent(ans[0]), rem]
