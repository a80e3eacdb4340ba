"""Helpers of the rules of srcgrad's own gathering cotangent helpers
(``rules/helpers_gathers.py``): each is the adjoint of a cotangent helper that scatters
(``max_pool2d_cotangent``, ``permutation_cotangent``, ``meshgrid_cotangents``), linear in
its first argument, and has that helper for its own adjoint, so that the rules close over
themselves at any order.
"""

from __future__ import annotations

from typing import Any, Sequence

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _lanes,
    _shape_of,
    as_array,
    shape_only,
)
from srcgrad.runtime.nn_kernels import _geometry, _padded, _window
from srcgrad.runtime.statistics import quantile_ranks

__all__ = ["max_pool2d_gather", "permute_like", "mesh_expand", "quantile_gather"]


def max_pool2d_gather(
    g: Any, ans: Any, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> Any:
    """Each window's entry of ``g`` (shaped like ``x``) at the window's first maximum
    (offsets in row-major order, ``ans`` the windows' maxima): the adjoint of
    ``max_pool2d_cotangent(., ans, x, ...)``, which sends a window's cotangent there."""
    xp = namespace(g, ans, x)
    _, _, _, _, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, dilation
    )
    xpad = _padded(x, padding, -float("inf"))
    gpad = _padded(g, padding, 0.0)
    out = xp.zeros(ans.shape, dtype=g.dtype)
    open_ = xp.ones(ans.shape, dtype=bool)  # windows whose maximum is not found yet
    for i in range(kh):
        for j in range(kw):
            key = _window(i, j, ho, wo, stride, dilation)
            hit = (xpad[key] == ans) & open_
            out = out + xp.where(hit, gpad[key], 0)
            open_ = open_ & ~hit
    return out


def permute_like(g: Any, a: Any, ans: Any, axis: Any = -1) -> Any:
    """``g`` (shaped like ``a``) moved the way a permutation along ``axis`` (``np.sort``,
    ``np.partition``) moved ``a`` into ``ans``: the adjoint of
    ``permutation_cotangent(., a, ans, axis)``, which moves a cotangent back."""
    xp = namespace(g, a, ans)
    a = as_array(a, g, ans)
    x, ax = _lanes(xp, a, axis)
    from_x = xp.argsort(x, axis=ax, kind="stable")
    from_y = xp.argsort(ans, axis=ax, kind="stable")
    gx = xp.reshape(g, x.shape)
    z = xp.zeros(ans.shape, dtype=g.dtype)
    xp.put_along_axis(z, from_y, xp.take_along_axis(gx, from_x, axis=ax), axis=ax)
    return z


@shape_only(1)
def mesh_expand(gs: Sequence[Any], parts: Sequence[Any], indexing: str = "xy") -> list:
    """Each ``gs[k]`` (shaped like the ``k``-th coordinate vector) laid along the axis that
    output ``k`` of ``np.meshgrid(..., indexing=indexing)`` varies along and broadcast to
    ``parts[k]`` (``None`` stays ``None``): the adjoint of
    ``meshgrid_cotangents(parts, xi, indexing)``, which sums the other axes away."""
    out = []
    n = len(gs)
    for k, (g, part) in enumerate(zip(gs, parts)):
        if part is None:
            out.append(None)
            continue
        xp = namespace(g, part)
        shape = _shape_of(part)
        own = 1 - k if indexing == "xy" and n > 1 and k < 2 else k
        line = [1] * len(shape)
        if line:
            line[own] = -1
        v = xp.reshape(xp.asarray(g), tuple(line))
        v = xp.broadcast_to(v, shape)
        dtype = getattr(part, "dtype", None)
        out.append(v.astype(dtype) if dtype is not None else v + 0)
    return out


@shape_only(1)
def quantile_gather(
    g: Any,
    like: Any,
    a: Any,
    q: Any,
    axis: Any = None,
    keepdims: bool = False,
    method: str = "linear",
    scale: float = 1.0,
) -> Any:
    """``g`` (shaped like ``a``) interpolated the way ``np.quantile(a, q * scale, axis,
    keepdims=keepdims)`` interpolates ``a``'s order statistics, the order taken from ``a``;
    shaped like ``like`` (the quantiles' cotangent): the adjoint of
    ``quantile_cotangent(., a, q, axis, keepdims, method, scale)``."""
    xp, a, _, perm, lead, n, order, lo, hi, frac = quantile_ranks(
        g, a, q, axis, method, scale
    )
    gs = xp.reshape(xp.transpose(xp.reshape(g, a.shape), perm), lead + (n,))
    ranked = xp.take_along_axis(gs, order, axis=-1)
    low = xp.moveaxis(xp.take(ranked, lo, axis=-1), -1, 0)
    high = xp.moveaxis(xp.take(ranked, hi, axis=-1), -1, 0)
    unit = (-1,) + (1,) * len(lead)
    out = low * (1 - xp.reshape(frac, unit)) + high * xp.reshape(frac, unit)
    return xp.reshape(out, _shape_of(like))
