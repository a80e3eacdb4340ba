"""Adjoint rules for unary elementwise primitives, dtype casts, copies and fills (contract:
registry.py).

Each rule is ``g`` times the derivative, written with the forward value ``ans`` where that
saves work (``exp``, ``tanh``).  Constants are Python numbers, so float32 data stays float32
(NEP 50).  Complex inputs follow autograd's convention: a holomorphic function's cotangent is
``g * f'(x)``; ``abs`` uses ``conj(x) / |x|``.
"""

from __future__ import annotations

import builtins

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import LN2, LN10, abs_slope, logistic, unbroadcast


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Test inputs in [-2, -0.5] U [0.5, 2] (for functions with a pole at 0)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


# --------------------------------------------------------------------------- exp and log


@adjoint(np.exp, kind="unary", math=("exp",))
def exp_adjoint(g, ans, x):
    return g * ans


@adjoint(logistic, kind="unary", array_operands=True)
def logistic_adjoint(g, ans, x):
    return g * ans * (1 - ans)  # s' = s (1 - s): the forward value alone


@adjoint(np.exp2, kind="unary")
def exp2_adjoint(g, ans, x):
    return g * ans * LN2


@adjoint(np.expm1, kind="unary", math=("expm1",))
def expm1_adjoint(g, ans, x):
    return g * (ans + 1)


@adjoint(np.log, kind="unary", math=("log",), domain=(0.1, 4.0))
def log_adjoint(g, ans, x):
    return g / x


@adjoint(np.log2, kind="unary", domain=(0.1, 4.0))
def log2_adjoint(g, ans, x):
    return g / (x * LN2)


@adjoint(np.log10, kind="unary", domain=(0.1, 4.0))
def log10_adjoint(g, ans, x):
    return g / (x * LN10)


@adjoint(np.log1p, kind="unary", math=("log1p",), domain=(-0.9, 4.0))
def log1p_adjoint(g, ans, x):
    return g / (1 + x)


# --------------------------------------------------------------------------- powers and signs


@adjoint(np.sqrt, kind="unary", math=("sqrt",), domain=(0.1, 4.0))
def sqrt_adjoint(g, ans, x):
    return g / (2 * ans)


@adjoint(np.cbrt, kind="unary", domain=_away_from_zero)
def cbrt_adjoint(g, ans, x):
    return g / (3 * ans * ans)


@adjoint(np.square, kind="unary")
def square_adjoint(g, ans, x):
    return (
        2 * g * x
    )  # (2 * g) first: a scalar g (a sum's cotangent) costs one array pass


@adjoint(np.reciprocal, kind="unary", domain=_away_from_zero)
def reciprocal_adjoint(g, ans, x):
    return -g * ans * ans


# np.absolute is the same ufunc
@adjoint(
    np.abs, kind="unary", math=("fabs",), builtins=("abs",), domain=_away_from_zero
)
def absolute_adjoint(g, ans, x):
    # conj(x) / |x| (0 at 0): np.sign(x) for real data
    return g * abs_slope(x)


@adjoint(np.fabs, kind="unary", domain=_away_from_zero)
def fabs_adjoint(g, ans, x):
    return g * np.sign(x)


@adjoint(np.negative, kind="unary", operator="unary -", jvp="linear")
def negative_adjoint(g, ans, x):
    return -g


@adjoint(np.positive, kind="unary", operator="unary +", jvp="linear")
def positive_adjoint(g, ans, x):
    return g


# --------------------------------------------------------------------------- trigonometric


@adjoint(np.sin, kind="unary", math=("sin",))
def sin_adjoint(g, ans, x):
    return g * np.cos(x)


@adjoint(np.cos, kind="unary", math=("cos",))
def cos_adjoint(g, ans, x):
    return -g * np.sin(x)


@adjoint(np.tan, kind="unary", math=("tan",), domain=(-1.2, 1.2))
def tan_adjoint(g, ans, x):
    return g * (1 + ans * ans)


@adjoint(np.arcsin, kind="unary", math=("asin",), domain=(-0.9, 0.9))
def arcsin_adjoint(g, ans, x):
    return g / np.sqrt(1 - x * x)


@adjoint(np.arccos, kind="unary", math=("acos",), domain=(-0.9, 0.9))
def arccos_adjoint(g, ans, x):
    return -g / np.sqrt(1 - x * x)


@adjoint(np.arctan, kind="unary", math=("atan",))
def arctan_adjoint(g, ans, x):
    return g / (1 + x * x)


@adjoint(np.deg2rad, kind="unary")
@adjoint(np.radians, kind="unary")
def to_radians_adjoint(g, ans, x):
    return g * (np.pi / 180)


@adjoint(np.rad2deg, kind="unary")
@adjoint(np.degrees, kind="unary")
def to_degrees_adjoint(g, ans, x):
    return g * (180 / np.pi)


# --------------------------------------------------------------------------- hyperbolic


@adjoint(np.tanh, kind="unary", math=("tanh",))
def tanh_adjoint(g, ans, x):
    return g * (1 - ans * ans)  # tanh' = 1 - tanh^2: reuse the forward value


@adjoint(np.sinh, kind="unary", math=("sinh",))
def sinh_adjoint(g, ans, x):
    return g * np.cosh(x)


@adjoint(np.cosh, kind="unary", math=("cosh",))
def cosh_adjoint(g, ans, x):
    return g * np.sinh(x)


@adjoint(np.arcsinh, kind="unary")
def arcsinh_adjoint(g, ans, x):
    return g / np.sqrt(x * x + 1)


@adjoint(np.arccosh, kind="unary", domain=(1.2, 4.0))
def arccosh_adjoint(g, ans, x):
    return g / np.sqrt(x * x - 1)


@adjoint(np.arctanh, kind="unary", domain=(-0.9, 0.9))
def arctanh_adjoint(g, ans, x):
    return g / (1 - x * x)


# --------------------------------------------------------------------------- dtype casts
# np.float32(x) and np.float64(x) change precision only: the cotangent is g cast back to x's
# dtype.  (Integer and bool constructors are declared non-differentiable in nondiff.py.)
# A float32 round trip is too coarse for eps = 1e-6 central differences, hence `check`.


@adjoint(
    np.float64, shapes={"matrix": "(3,4)", "float": "s"}, view=True, jvp="elementwise"
)
def float64_adjoint(g, ans, x):
    return unbroadcast(g, x)


@adjoint(
    np.float32,
    check={"eps": 1e-2, "rtol": 1e-4, "atol": 1e-5},
    view=True,
    jvp="elementwise",
)
def float32_adjoint(g, ans, x):
    return unbroadcast(g, x)


# --------------------------------------------------------------------------- fills
# np.full(shape, v) and np.full_like(a, v) broadcast v: its cotangent is g summed back.


@adjoint(
    np.full,
    nondiff=("shape",),
    shapes={"float": "-,s", "zero-d": "-,()", "row": "-,(4,)"},
    params={"shape": [(3, 4), (2, 3, 4)]},
    jvp="linear",
)
def full_adjoint(
    g, ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None
):
    return unbroadcast(g, fill_value)


@adjoint(
    np.full_like,
    nondiff=("a",),
    shape_only=(
        "a",
    ),  # only a's shape and dtype are read: any value gives the same output
    shapes={"float": "(3,4),s", "row": "(3,4),(4,)", "column": "(3,4),(3,1)"},
    jvp="linear",
)
def full_like_adjoint(
    g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None
):
    return unbroadcast(g, fill_value)


# --------------------------------------------------------------------------- copies and casts


@adjoint(
    np.copy, kind="unary", integer_result=True, methods=("copy",), shapes=[((3, 4),)]
)
def copy_adjoint(g, ans, a):
    return g


def _astype(x, dtype, /, *, copy=True):  # noqa: ANN001, ANN202
    """``x.astype(dtype)``: the primitive ``x.astype`` stands for where numpy has no
    ``np.astype`` (numpy < 2.1)."""
    return x.astype(dtype, copy=copy)


ASTYPE = getattr(np, "astype", _astype)


@adjoint(
    ASTYPE,
    name="astype",
    methods=("astype",),
    nondiff=("dtype",),
    shapes=[((3, 4),)],
    params={"dtype": ["float64"]},
    view=True,  # copy=False returns the input itself when the dtype already matches
    jvp="elementwise",
)
def astype_adjoint(g, ans, x, dtype, copy=True):
    return unbroadcast(g, x)


@adjoint(builtins.float, name="float", shapes=[((),)], jvp="elementwise")
def float_adjoint(g, ans, x):
    return unbroadcast(g, x)
