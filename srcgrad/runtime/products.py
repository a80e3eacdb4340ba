"""Helpers of the product rules (``rules/products.py``): matmul, dot, inner, tensordot,
einsum, multi_dot, cross, vecdot/matvec/vecmat, kron and convolve.  One helper per operand
(``matmul_cotangent_x1``, ...) so that dead-code elimination drops the half no active operand
needs; they hold the rank cases and fold batched products into one 2-D BLAS call where they can
(conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _axis,
    _fit,
    _is_int,
    _mT,
    _shape_of,
    _sum_to_shape,
    as_array,
    cast_like,
    inverse_permutation,
)
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "dot_cotangent_a",
    "dot_cotangent_b",
    "einsum_cotangent",
    "einsum_cotangents",
    "inner_cotangent_a",
    "inner_cotangent_b",
    "matmul_cotangent_x1",
    "matmul_cotangent_x2",
    "tensordot_cotangent_a",
    "tensordot_cotangent_b",
    "convolve_cotangents",
    "convolve_kind",
    "cross_cotangent_a",
    "cross_cotangent_b",
    "kron_cotangent_a",
    "kron_cotangent_b",
    "matvec_cotangent_x1",
    "matvec_cotangent_x2",
    "multi_dot_cotangents",
    "vecdot_cotangent_x1",
    "vecdot_cotangent_x2",
    "vecmat_cotangent_x1",
    "vecmat_cotangent_x2",
]

Array = Any


# --------------------------------------------------------------------------- matmul and dot


def matmul_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``x1 @ x2`` with respect to ``x1``: ``g @ x2^T``, summed to ``x1``.

    Handles what ``np.matmul`` does beyond 2-D products: a 1-D ``x1`` acts as a ``(1, k)``
    row and a 1-D ``x2`` as a ``(k, 1)`` column (those axes are missing from ``g``), and
    batch axes broadcast (the cotangent sums over the ones ``x1`` was broadcast along).

    Args:
        g: the cotangent of ``x1 @ x2``.
        x1: the left operand.
        x2: the right operand.

    Returns:
        An array shaped and typed like ``x1``.
    """
    xp = namespace(g, x1, x2)
    a, b, gm = _promote_matmul(xp, g, x1, x2)
    return xp.reshape(_matmul_unbroadcast(xp, gm, b.swapaxes(-1, -2), a), x1.shape)


def matmul_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``x1 @ x2`` with respect to ``x2``: ``x1^T @ g``, summed to ``x2``.

    See :func:`matmul_cotangent_x1` for 1-D operands and broadcast batch axes.

    Args:
        g: the cotangent of ``x1 @ x2``.
        x1: the left operand.
        x2: the right operand.

    Returns:
        An array shaped and typed like ``x2``.
    """
    xp = namespace(g, x1, x2)
    a, b, gm = _promote_matmul(xp, g, x1, x2)
    return xp.reshape(_matmul_unbroadcast(xp, a.swapaxes(-1, -2), gm, b), x2.shape)


def _promote_matmul(
    xp: Any, g: Array, x1: Array, x2: Array
) -> tuple[Array, Array, Array]:
    """Views of ``x1``, ``x2`` and ``g`` with the unit axes matmul adds for 1-D operands."""
    a, b = x1, x2
    if x2.ndim == 1:
        b = xp.expand_dims(x2, 1)  # (k,) -> (k, 1)
        g = xp.expand_dims(g, -1)
    if x1.ndim == 1:
        a = xp.expand_dims(x1, 0)  # (k,) -> (1, k)
        g = xp.expand_dims(g, -2)
    return a, b, g


def _matmul_unbroadcast(xp: Any, x: Array, y: Array, like: Array) -> Array:
    """``unbroadcast(x @ y, like)``, as one 2-D product in the two common batched cases.

    numpy's batched matmul is several times slower than one BLAS call, and a stack of
    products summed afterwards can be large, so:

    * the cotangent of a shared matrix, such as ``W`` in ``x @ W`` with a batched ``x``, is
      a sum over the batch of matrix products; with equal batch axes that sum is
      ``(p, B*m) @ (B*m, q)``, the batch folded into the contracted axis;
    * a batched ``x`` times a matrix ``y`` (the cotangent of the batched ``x`` itself) is
      ``(B*p, m) @ (m, q)``, the batch folded into the rows.
    """
    if like.ndim == 2 and x.ndim > 2 and x.shape[:-2] == y.shape[:-2]:
        p, q = x.shape[-2], y.shape[-1]
        folded_x = xp.reshape(x.swapaxes(-1, -2), (-1, p)).swapaxes(-1, -2)  # (p, B*m)
        folded_y = xp.reshape(y, (-1, q))  # (B*m, q)
        return cast_like(folded_x @ folded_y, like)
    if y.ndim == 2 and x.ndim > 2 and like.shape == x.shape[:-1] + y.shape[-1:]:
        rows = xp.reshape(x, (-1, x.shape[-1])) @ y  # (B*p, q)
        return cast_like(xp.reshape(rows, like.shape), like)
    return unbroadcast(x @ y, like)


def _tensordot(
    xp: Any, a: Array, b: Array, axes_a: Sequence[int], axes_b: Sequence[int]
):
    """``tensordot`` over the paired axes.  A 0-d operand contracts nothing: the product is
    then ``a * b`` (cupy's ``tensordot`` refuses a 0-d operand with explicit axes)."""
    if a.ndim == 0 or b.ndim == 0:
        return xp.multiply(a, b)
    return xp.tensordot(a, b, axes=(list(axes_a), list(axes_b)))


def _operands(g: Array, a: Any, b: Any, first: bool) -> tuple[Any, Array, Array]:
    """The namespace and both operands of a bilinear product as arrays.  A Python float is a
    0-d array; the operand that only scales the cotangent (``b`` for ``a``'s, ``a`` for
    ``b``'s) is a weak one, in the cotangent's float dtype."""
    xp = namespace(g, a, b)
    return xp, as_array(a, g, b, weak=not first), as_array(b, g, a, weak=first)


def _scaled_cotangent(
    xp: Any, g: Array, a: Array, b: Array, first: bool
) -> Array | None:
    """The cotangent of one operand where either is 0-d (the product is then ``a * b``):
    ``g`` times the other operand, summed to this one; None when neither is 0-d."""
    if a.ndim != 0 and b.ndim != 0:
        return None
    return _sum_to(xp, g * b, a) if first else _sum_to(xp, g * a, b)


def dot_cotangent_a(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.dot(a, b)`` with respect to ``a``, for every rank numpy allows.

    ``np.dot`` multiplies when either operand is 0-d, contracts the last axis of ``a`` with
    the only axis of a 1-D ``b``, and otherwise with the second-to-last axis of ``b``.

    Args:
        g: the cotangent of ``np.dot(a, b)``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp, a, b = _operands(g, a, b, first=True)
    scaled = _scaled_cotangent(xp, g, a, b, first=True)
    if scaled is not None:
        return scaled
    if b.ndim == 1:
        return cast_like(xp.expand_dims(g, -1) * b, a)
    b_free = [ax for ax in range(b.ndim) if ax != b.ndim - 2]
    return cast_like(_tensordot(xp, g, b, range(a.ndim - 1, g.ndim), b_free), a)


def dot_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.dot(a, b)`` with respect to ``b``, shaped and typed like ``b`` (see
    :func:`dot_cotangent_a`)."""
    xp, a, b = _operands(g, a, b, first=False)
    scaled = _scaled_cotangent(xp, g, a, b, first=False)
    if scaled is not None:
        return scaled
    p = a.ndim - 1
    out = _tensordot(xp, a, g, range(p), range(p))  # (k,) + b.shape[:-2] + b.shape[-1:]
    if b.ndim >= 2:
        out = xp.moveaxis(out, 0, -2)
    return cast_like(out, b)


def inner_cotangent_a(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.inner(a, b)`` with respect to ``a``.

    ``np.inner`` contracts the last axes of ``a`` and ``b`` and multiplies when either is 0-d.

    Args:
        g: the cotangent of ``np.inner(a, b)``, shaped ``a.shape[:-1] + b.shape[:-1]``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    return _inner_cotangent(g, a, b, first=True)


def inner_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.inner(a, b)`` with respect to ``b``, shaped and typed like ``b`` (see
    :func:`inner_cotangent_a`)."""
    return _inner_cotangent(g, a, b, first=False)


def _inner_cotangent(g: Array, a: Array, b: Array, first: bool) -> Array:
    """``inner``'s cotangent of ``a`` (``first``) or ``b``: ``g`` contracted with the other
    operand over that operand's free axes."""
    xp, a, b = _operands(g, a, b, first)
    scaled = _scaled_cotangent(xp, g, a, b, first)
    if scaled is not None:
        return scaled
    p, q = a.ndim - 1, b.ndim - 1
    if first:
        return cast_like(_tensordot(xp, g, b, range(p, p + q), range(q)), a)
    return cast_like(_tensordot(xp, g, a, range(p), range(p)), b)


def _tensordot_axes(axes: Any, a_ndim: int, b_ndim: int) -> tuple[list[int], list[int]]:
    """numpy's ``tensordot`` ``axes`` argument as two lists of non-negative axes."""
    if _is_int(axes):
        n = operator.index(axes)
        return list(range(a_ndim - n, a_ndim)), list(range(n))
    axes_a, axes_b = axes
    axes_a = [axes_a] if _is_int(axes_a) else list(axes_a)
    axes_b = [axes_b] if _is_int(axes_b) else list(axes_b)
    return [operator.index(x) % a_ndim for x in axes_a], [
        operator.index(x) % b_ndim for x in axes_b
    ]


def tensordot_cotangent_a(g: Array, a: Array, b: Array, axes: Any = 2) -> Array:
    """Cotangent of ``np.tensordot(a, b, axes)`` with respect to ``a``.

    Args:
        g: the cotangent, shaped like ``a``'s free axes followed by ``b``'s.
        a: the left operand.
        b: the right operand.
        axes: the forward ``axes`` (an int, or a pair of ints or of sequences).

    Returns:
        An array shaped and typed like ``a``.
    """
    return _tensordot_cotangent(g, a, b, axes, first=True)


def tensordot_cotangent_b(g: Array, a: Array, b: Array, axes: Any = 2) -> Array:
    """Cotangent of ``np.tensordot(a, b, axes)`` with respect to ``b``, shaped and typed like
    ``b`` (see :func:`tensordot_cotangent_a`)."""
    return _tensordot_cotangent(g, a, b, axes, first=False)


def _tensordot_cotangent(g: Array, a: Array, b: Array, axes: Any, first: bool) -> Array:
    """``tensordot``'s cotangent of ``a`` (``first``) or ``b``: ``g`` contracted with the
    other operand over that operand's free axes, then this operand's axes put back in
    order."""
    xp, a, b = _operands(g, a, b, first)
    axes_a, axes_b = _tensordot_axes(axes, a.ndim, b.ndim)
    a_free = [ax for ax in range(a.ndim) if ax not in axes_a]
    b_free = [ax for ax in range(b.ndim) if ax not in axes_b]
    if first:
        out = _tensordot(xp, g, b, range(len(a_free), g.ndim), b_free)
        # out's axes: a's free axes, then a's contracted axes in the order of b's axes
        paired = dict(zip(axes_b, axes_a))
        order = a_free + [paired[ax] for ax in sorted(axes_b)]
        return cast_like(xp.transpose(out, inverse_permutation(order)), a)
    out = _tensordot(xp, a, g, a_free, range(len(a_free)))
    # out's axes: b's contracted axes in the order of a's axes, then b's free axes
    paired = dict(zip(axes_a, axes_b))
    order = [paired[ax] for ax in sorted(axes_a)] + b_free
    return cast_like(xp.transpose(out, inverse_permutation(order)), b)


def _sum_to(xp: Any, v: Array, x: Array) -> Array:
    """Sum ``v`` down to ``x``'s shape (leading axes and unit axes) and cast to its dtype."""
    lead = v.ndim - x.ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(x.shape) if d == 1 and v.shape[lead + i] != 1
    )
    if axes:
        v = xp.reshape(xp.sum(v, axis=axes), x.shape)
    return cast_like(v, x)


# --------------------------------------------------------------------------- einsum


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(subscripts: Any, operands: Sequence[Array]) -> tuple[list[str], str]:
    """Explicit per-operand labels and output labels, with ``...`` spelled out in letters.

    Args:
        subscripts: the einsum subscripts string (explicit ``->`` or implicit form).
        operands: the operands (their ``ndim`` is read).

    Returns:
        ``(inputs, output)``: one label string per operand and the output label string.

    Raises:
        TypeError: for the interleaved ``einsum(op, sublist, ...)`` form.
        ValueError: for malformed subscripts.
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            "srcgrad supports np.einsum with a subscripts string only; "
            "write np.einsum('ij,jk->ik', a, b) instead of the sublist form"
        )
    ndims = [x.ndim for x in operands]
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum {subscripts!r} names {len(terms)} operands, got {len(ndims)}"
        )
    used = set(spec) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    n_ell = max(
        [nd - len(t.replace("...", "")) for t, nd in zip(terms, ndims) if "..." in t],
        default=0,
    )
    if n_ell > len(spare):
        raise ValueError(f"einsum {subscripts!r}: too many broadcast dimensions")
    ell = "".join(spare[:n_ell])  # labels of the broadcast dims, right-aligned

    def expand(term: str, nd: int | None) -> str:
        if "..." not in term:
            return term
        k = n_ell if nd is None else nd - len(term.replace("...", ""))
        return term.replace("...", ell[len(ell) - k :] if k else "")

    inputs = [expand(t, nd) for t, nd in zip(terms, ndims)]
    if arrow:
        output = expand(rhs, None)
    else:
        counts = {c: lhs.count(c) for c in set(lhs) - set(".,")}
        single = sorted(
            c for c, k in counts.items() if k == 1
        )  # ASCII: upper before lower
        output = ell + "".join(single)
    return inputs, output


def einsum_cotangent(
    g: Array,
    subscripts: str,
    operands: Sequence[Array],
    index: int,
    optimize: Any = False,
) -> Array:
    """Cotangent of ``np.einsum(subscripts, *operands)`` with respect to one operand.

    The cotangent is itself an einsum of ``g`` with the other operands.  Labels that appear
    only in this operand (summed out by the forward einsum) are broadcast back with a vector
    of ones, labels repeated within this operand (diagonals, traces) are put back on the
    diagonal with identity matrices, and dimensions that einsum broadcast from size 1 are
    summed back.

    Args:
        g: the cotangent of the einsum's result.
        subscripts: the forward subscripts (explicit, implicit, with or without ``...``).
        operands: all the forward operands.
        index: which operand's cotangent to compute.
        optimize: passed on to ``einsum``.

    Returns:
        An array shaped and typed like ``operands[index]``.
    """
    xp = namespace(g, *operands)
    inputs, output = _parse_einsum(subscripts, operands)
    sizes: dict[str, int] = {}
    for labels, x in zip(inputs, operands):
        for c, d in zip(labels, x.shape):
            sizes[c] = max(sizes.get(c, 1), d)
    target = inputs[index]
    x = operands[index]
    terms = [output]
    args = [g]
    for j, (labels, y) in enumerate(zip(inputs, operands)):
        if j != index:
            terms.append(labels)
            args.append(y)
    available = set("".join(terms))
    spare = iter(c for c in _LETTERS if c not in set("".join(inputs)) | set(output))
    result = ""
    seen: set[str] = set()
    for c in target:
        if c in seen:  # a repeated label: a fresh label tied to c by an identity matrix
            fresh = next(spare)
            terms.append(c + fresh)
            args.append(xp.eye(sizes[c], dtype=x.dtype))
            result += fresh
            continue
        seen.add(c)
        if c not in available:  # summed out in this operand only: broadcast back
            terms.append(c)
            args.append(xp.ones((sizes[c],), dtype=x.dtype))
            available.add(c)
        result += c
    out = xp.einsum(",".join(terms) + "->" + result, *args, optimize=optimize)
    return _sum_to(xp, out, x)


def einsum_cotangents(
    g: Array, subscripts: str, operands: Sequence[Array], optimize: Any = False
) -> tuple:
    """Cotangents of ``np.einsum(subscripts, *operands)`` for every operand.

    Args:
        g: the cotangent of the einsum's result.
        subscripts: the forward subscripts.
        operands: the forward operands.
        optimize: passed on to ``einsum``.

    Returns:
        A tuple with one cotangent per operand (see :func:`einsum_cotangent`).
    """
    return tuple(
        einsum_cotangent(g, subscripts, operands, i, optimize)
        for i in range(len(operands))
    )


# --------------------------------------------------------------------------- vector products


def multi_dot_cotangents(g: Array, arrays: Sequence[Array]) -> list:
    """Cotangents of ``np.linalg.multi_dot(arrays)`` (a 1-D first or last operand allowed).

    Args:
        g: the cotangent of the product.
        arrays: the operands.

    Returns:
        A list with one cotangent per operand.
    """
    if (
        len(arrays) == 2
    ):  # numpy's multi_dot of two operands is np.dot (any ranks, floats)
        return [dot_cotangent_a(g, *arrays), dot_cotangent_b(g, *arrays)]
    xp = namespace(g, *arrays)
    mats = list(arrays)
    first_vec, last_vec = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_vec:
        mats[0] = xp.expand_dims(mats[0], 0)
    if last_vec:
        mats[-1] = xp.expand_dims(mats[-1], 1)
    gm = xp.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    count = len(mats)
    prefix = [None] * count
    for i in range(1, count):
        prefix[i] = mats[0] if i == 1 else prefix[i - 1] @ mats[i - 1]
    suffix = [None] * count
    for i in range(count - 2, -1, -1):
        suffix[i] = mats[-1] if i == count - 2 else mats[i + 1] @ suffix[i + 1]
    out = []
    for i, x in enumerate(arrays):
        term = gm if prefix[i] is None else _mT(prefix[i]) @ gm
        term = term if suffix[i] is None else term @ _mT(suffix[i])
        out.append(_fit(xp.reshape(term, x.shape), x))
    return out


def _cross_parts(
    g: Array, a: Array, b: Array, axisa: int, axisb: int, axisc: int, axis: Any
):
    xp = namespace(g, a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    am = xp.moveaxis(a, axisa, -1)
    bm = xp.moveaxis(b, axisb, -1)
    da, db = am.shape[-1], bm.shape[-1]

    def three(v: Array) -> Array:
        if v.shape[-1] == 3:
            return v
        return xp.concatenate(
            [v, xp.zeros(v.shape[:-1] + (1,), dtype=v.dtype)], axis=-1
        )

    if da == 2 and db == 2:
        zeros = xp.zeros(g.shape + (2,), dtype=g.dtype)
        g3 = xp.concatenate([zeros, xp.expand_dims(g, -1)], axis=-1)
    else:
        g3 = xp.moveaxis(g, axisc, -1)
    return xp, three(am), three(bm), g3, da, db, axisa, axisb


def cross_cotangent_a(
    g: Array,
    a: Array,
    b: Array,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Array:
    """Cotangent of ``np.cross(a, b, ...)`` for ``a``: ``cross(b, g)`` (2- or 3-vectors)."""
    return _cross_cotangent(g, a, b, (axisa, axisb, axisc, axis), first=True)


def cross_cotangent_b(
    g: Array,
    a: Array,
    b: Array,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Array:
    """Cotangent of ``np.cross(a, b, ...)`` for ``b``: ``cross(g, a)`` (2- or 3-vectors)."""
    return _cross_cotangent(g, a, b, (axisa, axisb, axisc, axis), first=False)


def _cross_cotangent(g: Array, a: Array, b: Array, axes: tuple, first: bool) -> Array:
    """``cross``'s cotangent of ``a`` (``first``: ``cross(b, g)``) or of ``b``
    (``cross(g, a)``), cut to the operand's vector length and summed to its shape; ``axes``
    are the forward ``(axisa, axisb, axisc, axis)``."""
    xp, a3, b3, g3, da, db, axisa, axisb = _cross_parts(g, a, b, *axes)
    x, length, ax = (a, da, axisa) if first else (b, db, axisb)
    full = (xp.cross(b3, g3) if first else xp.cross(g3, a3))[..., :length]
    moved = _sum_to_shape(xp, full, tuple(xp.moveaxis(x, ax, -1).shape))
    return _fit(xp.moveaxis(moved, -1, ax), x)


def _vec_axis(axis: Any, x1: Array, x2: Array) -> int:
    nd = max(x1.ndim, x2.ndim)
    return _axis(-1 if axis is None else axis, nd) - nd


def vecdot_cotangent_x1(g: Array, x1: Array, x2: Array, axis: Any = -1) -> Array:
    """Cotangent of ``np.vecdot(x1, x2, axis=axis)`` (``sum(conj(x1) * x2)``) for ``x1``."""
    xp = namespace(g, x1, x2)
    ax = _vec_axis(axis, x1, x2)
    return unbroadcast(xp.conj(xp.expand_dims(g, ax) * xp.moveaxis(x2, ax, ax)), x1)


def vecdot_cotangent_x2(g: Array, x1: Array, x2: Array, axis: Any = -1) -> Array:
    """Cotangent of ``np.vecdot(x1, x2, axis=axis)`` for ``x2``: ``g * conj(x1)``."""
    xp = namespace(g, x1, x2)
    ax = _vec_axis(axis, x1, x2)
    return unbroadcast(xp.expand_dims(g, ax) * xp.conj(x1), x2)


def matvec_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.matvec(x1, x2)`` (``x1 @ x2`` on vectors) for the matrix ``x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.expand_dims(g, -1) * xp.expand_dims(x2, -2), x1)


def matvec_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.matvec(x1, x2)`` for the vector ``x2``: ``g @ x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast((xp.expand_dims(g, -2) @ x1)[..., 0, :], x2)


def vecmat_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.vecmat(x1, x2)`` (``conj(x1) @ x2``) for the vector ``x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.conj((x2 @ xp.expand_dims(g, -1))[..., 0]), x1)


def vecmat_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.vecmat(x1, x2)`` for the matrix ``x2``: ``outer(conj(x1), g)``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.expand_dims(xp.conj(x1), -1) * xp.expand_dims(g, -2), x2)


# --------------------------------------------------------------------------- kron and convolve


def kron_cotangent_a(g: Array, a: Any, b: Any) -> Array:
    """Cotangent of ``np.kron(a, b)`` for ``a``: each block of ``g`` contracted with ``b``."""
    return _kron_cotangent(g, a, b, first=True)


def kron_cotangent_b(g: Array, a: Any, b: Any) -> Array:
    """Cotangent of ``np.kron(a, b)`` for ``b``: ``g``'s blocks weighted by ``a`` and summed."""
    return _kron_cotangent(g, a, b, first=False)


def _kron_cotangent(g: Array, a: Any, b: Any, first: bool) -> Array:
    xp = namespace(g, a, b)
    a_shape, b_shape = _shape_of(a), _shape_of(b)
    nd = max(len(a_shape), len(b_shape))
    sa = (1,) * (nd - len(a_shape)) + a_shape
    sb = (1,) * (nd - len(b_shape)) + b_shape
    split = tuple(d for pair in zip(sa, sb) for d in pair)
    blocks = xp.reshape(g, split)
    if first:
        other = xp.reshape(xp.asarray(b), tuple(d for s in sb for d in (1, s)))
        out = xp.sum(blocks * other, axis=tuple(range(1, 2 * nd, 2)))
        return unbroadcast(xp.reshape(out, a_shape), a)
    other = xp.reshape(xp.asarray(a), tuple(d for s in sa for d in (s, 1)))
    out = xp.sum(blocks * other, axis=tuple(range(0, 2 * nd, 2)))
    return unbroadcast(xp.reshape(out, b_shape), b)


def _conv_full_slice(mode: str, n: int, m: int) -> tuple[int, int]:
    """Where ``np.convolve(a, v, mode)`` sits in the full convolution (length n + m - 1)."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    if mode == "same":
        length = max(n, m)
        start = (min(n, m) - 1) // 2
        return start, start + length
    if mode == "valid":
        length = max(n, m) - min(n, m) + 1
        start = min(n, m) - 1
        return start, start + length
    raise ValueError(f"unknown convolution mode {mode!r}")


def convolve_kind(a: Array, v: Array, mode: str = "full", kind: str = "convolve"):
    """``np.convolve(a, v, mode)``, or ``np.correlate(a, v, mode)`` for ``kind=
    'correlate'``: the product whose cotangents :func:`convolve_cotangents` gives (its
    rule's own rule calls it)."""
    xp = namespace(a, v)
    return (xp.correlate if kind == "correlate" else xp.convolve)(a, v, mode=mode)


def convolve_cotangents(
    g: Array, a: Array, v: Array, mode: str = "full", kind: str = "convolve"
):
    """Cotangents of ``np.convolve(a, v, mode)`` or ``np.correlate(a, v, mode)``.

    Both are bilinear: the cotangent of one operand is a correlation of the (zero-padded to
    full length) output cotangent with the other operand.  ``np.correlate`` conjugates ``v``.

    Args:
        g: the cotangent of the result.
        a: the first 1-D operand.
        v: the second 1-D operand.
        mode: ``"full"``, ``"same"`` or ``"valid"``.
        kind: ``"convolve"`` or ``"correlate"``.

    Returns:
        ``(cotangent of a, cotangent of v)``.
    """
    xp = namespace(g, a, v)
    a_shape, v_shape = _shape_of(a), _shape_of(v)
    a_in, v_in = a, v
    # numpy reads a 0-d operand (a Python float) as a 1-d one of length 1
    a, v = (xp.reshape(as_array(x, g, a, v), (-1,)) for x in (a, v))
    n, m = a.shape[0], v.shape[0]
    if kind == "correlate":
        # correlate(a, v, mode) = convolve(a, conj(v)[::-1], mode), with numpy's default 'valid'
        w = xp.conj(v)[::-1]
    else:
        w = v
    start, stop = _conv_full_slice(mode, n, m)
    full = n + m - 1
    dtype = g.dtype
    gf = xp.concatenate(
        [xp.zeros((start,), dtype=dtype), g, xp.zeros((full - stop,), dtype=dtype)]
    )
    # y_k = sum_i a_i w_{k-i}:  d a_i = sum_k g_k w_{k-i},  d w_j = sum_k g_k a_{k-j}
    d_a = xp.convolve(gf, w[::-1], mode="valid")
    d_w = xp.convolve(gf, a[::-1], mode="valid")
    if kind == "correlate":
        d_v = xp.conj(d_w[::-1])
    else:
        d_v = d_w
    return _fit(xp.reshape(d_a, a_shape), a_in), _fit(xp.reshape(d_v, v_shape), v_in)
