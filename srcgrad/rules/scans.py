"""Adjoint rules for scans (cumulative sums and products), differences and integrals.

The rule-body contract is in :mod:`srcgrad.rules.registry`; the conventions of
``reductions.py`` apply (numpy's parameter names and order up to ``out``; ``keepdims`` and
later parameters keyword-only; ``out=`` and ``where=`` are not supported).

* ``cumprod`` is exact where the operand holds zeros (no division by zero).
* NaN-aware scans (``nancumsum``, ``nancumprod``) give NaN entries a zero cotangent; their
  tests draw inputs with NaNs.
* ``trapezoid``'s ``x``/``dx`` and ``diff``'s ``prepend``/``append`` are constants (an active
  value there is refused by the engine); ``gradient``'s spacings (a step or coordinates) are
  differentiable.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.domains import _increasing, _with_nans
from srcgrad.rules.registry import adjoint, jvp_of, numpy_function
from srcgrad.rules.tangent_calls import _filled
from srcgrad.runtime import (
    cumprod_cotangent,
    cumsum_cotangent,
    cumulative_cotangent,
    diff_cotangent,
    gradient_cotangents,
    trapezoid_cotangent,
)

_SHAPES = {"matrix": "(3,4)", "3d": "(2,3,4)"}
_SCAN_AXES = {"axis": [None, 0, -1]}
_NAN_SHAPES = {
    "matrix": "(4,5)",
    "3d": "(3,4,5)",
}  # every group keeps two or more numbers


def _with_zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-2, 2] with exact zeros (one or two per row when there is room)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    flat = x.reshape(-1)
    for i in (1, 6, 9, 17):
        if i < flat.size:
            flat[i] = 0.0
    return x


# --------------------------------------------------------------------------- scans


@adjoint(
    np.cumsum, methods=("cumsum",), shapes=_SHAPES, params=_SCAN_AXES, jvp="linear"
)
def cumsum_adjoint(g, ans, a, axis=None, dtype=None):
    return cumsum_cotangent(g, a, axis)


@adjoint(
    np.cumprod,
    methods=("cumprod",),
    shapes=_SHAPES,
    params=_SCAN_AXES,
    domain=_with_zeros,
)
def cumprod_adjoint(g, ans, a, axis=None, dtype=None):
    return cumprod_cotangent(g, a, ans, axis)


def _cumprod_tangent(a, t, axis):
    # the product rule along the axis: y_k = y_(k-1) a_k, so t_y_k = t_y_(k-1) a_k +
    # y_(k-1) t_k (exact where a holds zeros)
    a = np.asarray(a)
    t = np.broadcast_to(np.asarray(t), a.shape)
    if axis is None:
        a, t, axis = a.ravel(), t.ravel(), 0
    y = np.moveaxis(np.cumprod(a, axis=axis), axis, 0)
    a, t = np.moveaxis(a, axis, 0), np.moveaxis(t, axis, 0)
    out = np.empty(np.shape(y), dtype=np.result_type(y, t, float))
    if out.size:
        out[0] = t[0]
    for k in range(1, a.shape[0]):
        out[k] = out[k - 1] * a[k] + y[k - 1] * t[k]
    return np.moveaxis(out, 0, axis)


@jvp_of(cumprod_adjoint)
def cumprod_jvp(ans, dots, b):
    return _cumprod_tangent(b["a"], dots[0], b.get("axis")).reshape(np.shape(ans))


@adjoint(np.nancumsum, shapes=_NAN_SHAPES, params=_SCAN_AXES, domain=_with_nans)
def nancumsum_adjoint(g, ans, a, axis=None, dtype=None):
    return cumsum_cotangent(g, a, axis) * ~np.isnan(a)


@jvp_of(nancumsum_adjoint)
def nancumsum_jvp(ans, dots, b):
    a = np.asarray(b["a"])
    t = np.where(np.isnan(a), 0.0, dots[0])
    return np.cumsum(t, axis=b.get("axis"))


@adjoint(np.nancumprod, shapes=_NAN_SHAPES, params=_SCAN_AXES, domain=_with_nans)
def nancumprod_adjoint(g, ans, a, axis=None, dtype=None):
    # NaNs count as ones
    return cumprod_cotangent(g, np.where(np.isnan(a), 1, a), ans, axis) * ~np.isnan(a)


@jvp_of(nancumprod_adjoint)
def nancumprod_jvp(ans, dots, b):
    # NaNs count as ones: constants
    a = np.asarray(b["a"])
    nan = np.isnan(a)
    t = np.where(nan, 0.0, dots[0])
    return _cumprod_tangent(np.where(nan, 1.0, a), t, b.get("axis")).reshape(
        np.shape(ans)
    )


if hasattr(np, "cumulative_sum"):  # numpy >= 2.1

    @adjoint(
        numpy_function("cumulative_sum"),
        shapes={
            "vector": "(5,)",
            "matrix": ("(3,4)", {"axis": -1}),
            "rows": ("(3,4)", {"axis": 0}),
        },
        params={"include_initial": [False, True]},
        jvp="linear",
    )
    def cumulative_sum_adjoint(
        g, ans, x, /, *, axis=None, dtype=None, include_initial=False
    ):
        return cumulative_cotangent(g, x, ans, axis, include_initial, "sum")

    @adjoint(
        numpy_function("cumulative_prod"),
        domain=_with_zeros,
        shapes={
            "vector": "(5,)",
            "matrix": ("(3,4)", {"axis": -1}),
            "rows": ("(3,4)", {"axis": 0}),
        },
        params={"include_initial": [False, True]},
    )
    def cumulative_prod_adjoint(
        g, ans, x, /, *, axis=None, dtype=None, include_initial=False
    ):
        return cumulative_cotangent(g, x, ans, axis, include_initial, "prod")

    @jvp_of(cumulative_prod_adjoint)
    def cumulative_prod_jvp(ans, dots, b):
        x, axis = np.asarray(b["x"]), b.get("axis")
        out = _cumprod_tangent(x, dots[0], 0 if axis is None else axis)
        if b.get("include_initial"):  # the initial 1 is a constant
            width = [(0, 0)] * out.ndim
            width[0 if axis is None else axis] = (1, 0)
            out = np.pad(out, width)
        return out


# --------------------------------------------------------------------------- differences


@adjoint(
    np.diff,
    shapes={"matrix": "(3,4)"},
    params=[
        {"n": [1, 2]},
        {"n": [0, 3], "axis": [0]},
        {"prepend": [0.5], "append": [[[1.0], [2.0], [3.0]]]},
    ],
    view=True,
    jvp="linear",
    offsets=("prepend", "append"),
)
def diff_adjoint(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    return diff_cotangent(g, a, n, axis, prepend, append)


@adjoint(
    numpy_function("trapezoid"),
    shapes={"matrix": "(3,4)"},
    params=[{"axis": [-1, 0]}, {"dx": [0.5]}, {"x": [[0.0, 0.5, 1.5, 2.0]]}],
    jvp="linear",
)
def trapezoid_adjoint(g, ans, y, x=None, dx=1.0, axis=-1):
    return trapezoid_cotangent(g, y, x, dx, axis)


@adjoint(
    np.gradient,
    domain={"varargs": _increasing},
    # spacings passed positionally are covered in tests/rules/test_rules_breadth.py (the
    # inlined tests cannot spell a keyword argument before *varargs)
    shapes={
        "vector": "(6,)",
        "rows": ("(4,5)", {"axis": 0}),
        "columns": ("(4,5)", {"axis": -1}),
    },
    params={"edge_order": [1, 2]},
)
def gradient_adjoint(g, ans, f, *varargs, axis=None, edge_order=1):
    return gradient_cotangents(g, ans, f, varargs, axis, edge_order)


@jvp_of(gradient_adjoint)
def gradient_jvp(ans, dots, b):
    # linear in f; the stencil weights are rational in the spacings, so their part is
    # exact by a complex step (f complex, the spacings moved by i h along their tangents)
    t_f, t_steps = dots
    f, steps = np.asarray(b["f"]), list(b.get("varargs", ()))
    kw = {k: b[k] for k in ("axis", "edge_order") if k in b}
    out = np.gradient(_filled(f, t_f), *steps, **kw)
    moved = [t is not None for t in (t_steps or ())]
    if any(moved):
        h = 1e-30
        turned = [
            s if t is None else np.asarray(s) + 1j * h * np.asarray(t)
            for s, t in zip(steps, t_steps)
        ]
        step = np.gradient(f.astype(complex), *turned, **kw)
        if isinstance(out, (list, tuple)):  # one array per axis
            out = type(out)(o + np.imag(d) / h for o, d in zip(out, step))
        else:
            out = out + np.imag(step) / h
    return out
