"""Helpers of the ``numpy.fft`` rules (``rules/fft.py``): each transform's cotangent is a
transform of the cotangent, cut or zero-padded back to the operand's length (conventions in
:mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import operator
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _axis, _fit, _shape_of, _take_range, as_array
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "dft",
    "dftn",
    "fft_cotangent",
    "fftn_cotangent",
    "hfft_cotangent",
    "ihfft_cotangent",
    "irfft_cotangent",
    "irfftn_cotangent",
    "rfft_cotangent",
    "rfftn_cotangent",
]

Array = Any


def _fit_length(xp: Any, x: Array, axis: int, n: int) -> Array:
    """Truncate ``x`` along ``axis`` to ``n`` entries, or pad it with zeros to ``n``."""
    m = x.shape[axis]
    if m == n:
        return x
    if m > n:
        return _take_range(xp, x, axis, 0, n)
    shape = list(x.shape)
    shape[axis] = n - m
    return xp.concatenate([x, xp.zeros(tuple(shape), dtype=x.dtype)], axis=axis)


def _fit_lengths(xp: Any, x: Array, axes: list[int], like: Array) -> Array:
    """``x`` cut or zero-padded along each of ``axes`` to ``like``'s length there."""
    for ax in axes:
        x = _fit_length(xp, x, ax, like.shape[ax])
    return x


def _fft_axes(a: Array, s: Any, axes: Any) -> tuple[list[int], list[int]]:
    """The transformed axes and their lengths, as numpy's ``_cook_nd_args`` finds them."""
    nd = a.ndim
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(nd))
    axes = [_axis(ax, nd) for ax in axes]
    if s is None:
        sizes = [a.shape[ax] for ax in axes]
    else:
        sizes = [
            a.shape[ax] if n is None or n == -1 else operator.index(n)
            for n, ax in zip(s, axes)
        ]
    return axes, sizes


def _swap_norm(norm: Any) -> Any:
    return {
        None: "forward",
        "backward": "forward",
        "forward": "backward",
        "ortho": "ortho",
    }[norm]


def fft_cotangent(
    g: Array,
    a: Any,
    n: Any = None,
    axis: int = -1,
    norm: Any = None,
    inverse: bool = False,
) -> Array:
    """Cotangent of ``np.fft.fft`` (or ``ifft`` with ``inverse=True``) for ``a``.

    The DFT matrix is symmetric, so the cotangent (autograd's convention: no conjugation) is
    the same transform of ``g`` with the same ``norm``, cut or zero-padded back from ``n``
    to ``a``'s length.  A real ``a`` gets the real part.

    Args:
        g: the cotangent of the transform.
        a: the operand.
        n: the forward ``n``.
        axis: the forward ``axis``.
        norm: the forward ``norm``.
        inverse: True for ``ifft``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, g.ndim)
    fn = xp.fft.ifft if inverse else xp.fft.fft
    out = fn(g, axis=ax, norm=norm)
    out = _fit_length(xp, out, ax, _shape_of(a)[ax])
    return unbroadcast(out, a)


def fftn_cotangent(
    g: Array,
    a: Any,
    s: Any = None,
    axes: Any = None,
    norm: Any = None,
    inverse: bool = False,
) -> Array:
    """Cotangent of ``np.fft.fftn`` / ``fft2`` (``ifftn`` / ``ifft2`` with ``inverse=True``).

    Args:
        g: the cotangent of the transform.
        a: the operand.
        s: the forward ``s``.
        axes: the forward ``axes`` (``None``: the last ``len(s)`` axes, or all).
        norm: the forward ``norm``.
        inverse: True for the inverse transforms.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    a = as_array(a, g)
    ax_list, _ = _fft_axes(a, s, axes)
    fn = xp.fft.ifftn if inverse else xp.fft.fftn
    return unbroadcast(_fit_lengths(xp, fn(g, axes=ax_list, norm=norm), ax_list, a), a)


def rfft_cotangent(
    g: Array, a: Array, n: Any = None, axis: int = -1, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.rfft(a, n, axis, norm)`` for the real ``a``.

    ``rfft`` keeps the first ``n // 2 + 1`` entries of the full DFT, so the cotangent is the
    real part of the DFT of ``g`` zero-padded to ``n``.

    Args:
        g: the cotangent of the half spectrum.
        a: the real operand.
        n: the forward ``n``.
        axis: the forward ``axis``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, a.ndim)
    length = a.shape[ax] if n is None else operator.index(n)
    full = xp.fft.fft(_fit_length(xp, g, ax, length), axis=ax, norm=norm)
    return _fit(_fit_length(xp, xp.real(full), ax, a.shape[ax]), a)


def rfftn_cotangent(
    g: Array, a: Array, s: Any = None, axes: Any = None, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.rfftn`` / ``rfft2`` for the real ``a``.

    Args:
        g: the cotangent of the transform.
        a: the real operand.
        s: the forward ``s``.
        axes: the forward ``axes``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax_list, sizes = _fft_axes(a, s, axes)
    padded = _fit_length(xp, g, ax_list[-1], sizes[-1])
    full = xp.real(xp.fft.fftn(padded, axes=ax_list, norm=norm))
    return _fit(_fit_lengths(xp, full, ax_list, a), a)


def _hermitian_weights(xp: Any, n: int, ax: int, ndim: int, dtype: Any) -> Array:
    """Weights 1, 2, ..., 2, (1 for even n) of the ``n // 2 + 1`` bins ``irfft`` reads."""
    h = n // 2 + 1
    w = xp.full((h,), 2.0, dtype=dtype)
    ones = xp.ones((1,), dtype=dtype)
    if n % 2 == 0 and h > 1:
        w = xp.concatenate([ones, w[1:-1], ones])
    else:
        w = xp.concatenate([ones, w[1:]])
    shape = [1] * ndim
    shape[ax] = h
    return xp.reshape(w, tuple(shape))


def _hermitian_half(xp: Any, full: Array, ax: int, n: int, g: Array) -> Array:
    """The ``n // 2 + 1`` bins of ``full`` along ``ax`` that ``irfft`` of length ``n`` reads,
    each weighted by how often the Hermitian extension uses it."""
    real = g.real.dtype if g.dtype.kind == "c" else g.dtype
    half = _take_range(xp, full, ax, 0, n // 2 + 1)
    return half * _hermitian_weights(xp, n, ax, g.ndim, real)


def irfft_cotangent(
    g: Array, a: Any, n: Any = None, axis: int = -1, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.irfft(a, n, axis, norm)`` for the (complex) half spectrum ``a``.

    ``irfft`` extends its first ``n // 2 + 1`` inputs Hermitian-symmetrically and ignores the
    imaginary parts of the 0-th (and, for even ``n``, the ``n/2``-th) bin.  In autograd's
    convention the cotangent is ``ifft(g)`` over those bins times 1, 2, ..., 2, (1 for even
    ``n``); inputs beyond them get 0.

    Args:
        g: the cotangent of the real signal (length ``n``).
        a: the operand.
        n: the forward ``n`` (default ``2 (m - 1)``).
        axis: the forward ``axis``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, g.ndim)
    m = _shape_of(a)[ax]
    length = 2 * (m - 1) if n is None else operator.index(n)
    half = _hermitian_half(xp, xp.fft.ifft(g, axis=ax, norm=norm), ax, length, g)
    return unbroadcast(_fit_length(xp, half, ax, m), a)


def irfftn_cotangent(
    g: Array, a: Any, s: Any = None, axes: Any = None, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.irfftn`` / ``irfft2`` for the (complex) half spectrum ``a``.

    Args:
        g: the cotangent of the real result.
        a: the operand.
        s: the forward ``s``.
        axes: the forward ``axes``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax_list, sizes = _fft_axes(a, s, axes)
    last = ax_list[-1]
    if s is None:
        sizes[-1] = 2 * (a.shape[last] - 1)
    half = _hermitian_half(
        xp, xp.fft.ifftn(g, axes=ax_list, norm=norm), last, sizes[-1], g
    )
    return unbroadcast(_fit_lengths(xp, half, ax_list, a), a)


def hfft_cotangent(
    g: Array, a: Any, n: Any = None, axis: int = -1, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.hfft(a, n, axis, norm)`` (``irfft(conj(a))`` with the other norm)."""
    xp = namespace(g, a)
    return xp.conj(irfft_cotangent(g, a, n, axis, _swap_norm(norm)))


def ihfft_cotangent(
    g: Array, a: Array, n: Any = None, axis: int = -1, norm: Any = None
) -> Array:
    """Cotangent of ``np.fft.ihfft(a, n, axis, norm)`` (``conj(rfft(a))`` with the other norm)."""
    xp = namespace(g, a)
    return rfft_cotangent(xp.conj(g), a, n, axis, _swap_norm(norm))


def dft(
    g: Array, n: Any = None, axis: int = -1, norm: Any = None, inverse: bool = False
) -> Array:
    """``np.fft.fft(g, n, axis, norm)`` (``ifft`` with ``inverse=True``): the adjoint of
    ``fft_cotangent(., a, n, axis, norm, inverse)``, which has it for its rule."""
    xp = namespace(g)
    fn = xp.fft.ifft if inverse else xp.fft.fft
    return fn(g, n=n, axis=axis, norm=norm)


def dftn(
    g: Array, s: Any = None, axes: Any = None, norm: Any = None, inverse: bool = False
) -> Array:
    """``np.fft.fftn(g, s, axes, norm)`` (``ifftn`` with ``inverse=True``), the axes found
    as numpy finds them: the adjoint of ``fftn_cotangent(., a, s, axes, norm, inverse)``,
    which has it for its rule."""
    xp = namespace(g)
    ax_list, sizes = _fft_axes(g, s, axes)
    fn = xp.fft.ifftn if inverse else xp.fft.fftn
    return fn(g, s=None if s is None else sizes, axes=ax_list, norm=norm)
