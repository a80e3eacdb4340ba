"""The helpers of ``einsum_cotangents``'s own rule (higher orders through ``np.einsum`` and
``np.linalg.multi_dot``).

``einsum_cotangents(ct, s, ops)`` lists the cotangents ``C_i`` of each operand of
``E(ops) = einsum(s, *ops)``.  Given the cotangents ``G_i`` of those, the pairing is
``sum_i <G_i, C_i> = sum_i <ct, E(ops with G_i in place i)>``: the einsum of *dual*
operands ``D_i = stack([ops_i, G_i])`` under subscripts that give each ``D_i`` one more
label ``z_i`` and add a constant *selector* ``S[z_0, ..., z_{n-1}]``, 1 where exactly one
``z_i`` is 1.  So the cotangent of ``ct`` is that einsum (``einsum_of``), and those of the
operands are the first slots of the dual einsum's own cotangents: ``einsum_cotangents``
again, of more operands.  The dual operands are made by ``einsum_duals`` and read back by
``einsum_dual_slot``, linear helpers whose rules are each other (``einsum_dual_unslot``
puts a list back into one slot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.errors import SrcgradError
from srcgrad.runtime.products import _LETTERS, _parse_einsum

__all__ = [
    "einsum_of",
    "einsum_dual_subscripts",
    "einsum_duals",
    "einsum_dual_slot",
    "einsum_dual_unslot",
    "multi_dot_subscripts",
]


def einsum_of(subscripts: str, operands: Sequence[Any], optimize: Any = False) -> Any:
    """``np.einsum(subscripts, *operands)``, its operands as one sequence."""
    return namespace(*operands).einsum(subscripts, *operands, optimize=optimize)


def einsum_dual_subscripts(subscripts: str, operands: Sequence[Any]) -> str:
    """The subscripts of the dual einsum of ``subscripts``: the selector first, then each
    operand with a label of its own in front, the same output."""
    inputs, output = _parse_einsum(subscripts, operands)
    used = set("".join(inputs)) | set(output)
    spare = [c for c in _LETTERS if c not in used]
    n = len(inputs)
    if n > len(spare) or n > 12:
        raise SrcgradError(
            f"a higher-order gradient through an einsum of {n} operands",
            construct="einsum",
            hint="stop at the order below, or split the einsum into smaller ones",
        )
    z = spare[:n]
    terms = ["".join(z)] + [z[i] + inputs[i] for i in range(n)]
    return ",".join(terms) + "->" + output


def _selector(xp: Any, n: int, dtype: Any) -> Any:
    """``S[z_0, ..., z_{n-1}]``: 1 where exactly one ``z_i`` is 1."""
    total = xp.zeros((2,) * n, dtype=dtype)
    for i in range(n):
        shape = (1,) * i + (2,) + (1,) * (n - 1 - i)
        total = total + xp.reshape(xp.arange(2, dtype=dtype), shape)
    return xp.where(total == 1, total, 0 * total)


def einsum_duals(first: Sequence[Any], second: Sequence[Any]) -> list:
    """The selector, then ``stack([first[i], second[i]])`` for each operand (a ``None``
    entry is zeros)."""
    parts = [x for x in (*first, *second) if x is not None]
    xp = namespace(*parts)
    dtype = xp.result_type(*parts)
    out = [_selector(xp, len(first), dtype)]
    for a, b in zip(first, second):
        a = xp.zeros_like(b) if a is None else a
        b = xp.zeros_like(a) if b is None else b
        out.append(xp.stack([a, b]))
    return out


def einsum_dual_slot(duals: Sequence[Any], k: int) -> list:
    """Slot ``k`` (0: the operands, 1: their tangents) of each dual operand (the
    selector's entry is skipped)."""
    return [None if d is None else d[k] for d in duals[1:]]


def einsum_dual_unslot(parts: Sequence[Any], k: int) -> list:
    """Zeros for the selector, then each part in slot ``k`` of a dual operand whose other
    slot is zeros: the adjoint of :func:`einsum_dual_slot`."""
    xp = namespace(*parts)
    dtype = xp.result_type(*parts)
    out = [xp.zeros((2,) * len(parts), dtype=dtype)]
    for p in parts:
        z = xp.zeros_like(p)
        out.append(xp.stack([p, z] if k == 0 else [z, p]))
    return out


def multi_dot_subscripts(arrays: Sequence[Any]) -> str:
    """The einsum subscripts of ``np.linalg.multi_dot(arrays)``: matrices, the first and
    the last may be vectors (a chain of two is ``np.dot``: operands of up to two
    dimensions here)."""
    ndims = [getattr(a, "ndim", 0) for a in arrays]
    inner = ndims[1:-1]
    if any(d != 2 for d in inner) or not (1 <= ndims[0] <= 2 and 1 <= ndims[-1] <= 2):
        raise SrcgradError(
            "a higher-order gradient through multi_dot of operands of other than one "
            "or two dimensions",
            construct="multi_dot",
            hint="stop at the order below, or write the product with matmul",
        )
    n = len(arrays)
    labels = _LETTERS[: n + 1]
    terms = []
    for i, d in enumerate(ndims):
        left, right = labels[i], labels[i + 1]
        if d == 2:
            terms.append(left + right)
        else:  # a vector: a row first, a column last
            terms.append(left if i == n - 1 and n > 1 else right)
    # the output: the first operand's free row and the last one's free column
    out = (labels[0] if ndims[0] == 2 else "") + (labels[n] if ndims[-1] == 2 else "")
    return ",".join(terms) + "->" + out
