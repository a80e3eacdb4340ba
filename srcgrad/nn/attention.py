"""MultiheadAttention with PyTorch's arguments, parameter layout (``in_proj_weight``
(3E, E) stacking the q, k, v projections, ``in_proj_bias``, ``out_proj``) and mask
conventions, and sinusoidal and learned positional encodings.

Masks follow PyTorch: a boolean ``attn_mask`` (L, S) or (N * num_heads, L, S) is True
where attention is not allowed; a float one is added to the scores.  A boolean
``key_padding_mask`` (N, S) is True at the keys to ignore; a float one is added.  Masks are
never differentiated."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from srcgrad.custom import custom_vjp
from srcgrad.nn import functional as F
from srcgrad.nn import init
from srcgrad.nn._checks import as_dtype, check_input
from srcgrad.nn.layers import Linear
from srcgrad.nn.module import Module, buffer

__all__ = [
    "MultiheadAttention",
    "PositionalEncoding",
    "LearnedPositionalEncoding",
    "sinusoidal_encoding",
]


def _rng(rng: Any) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


@custom_vjp
def additive_mask(mask: Any, dtype: Any) -> Any:
    """A mask as scores to add: -inf where a boolean mask is True and 0 elsewhere; a
    float mask as it is (cast to ``dtype``)."""
    if mask.dtype == np.bool_:
        return np.where(mask, -np.inf, 0.0).astype(dtype)
    return mask.astype(dtype, copy=False)


@additive_mask.defvjp
def _additive_mask_vjp(g, ans, mask, dtype):
    """Masks are settings, not values to differentiate."""
    return None, None


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention (``kdim = vdim = embed_dim``).

    ``in_proj_weight`` is drawn Glorot-uniform, ``in_proj_bias`` and ``out_proj.bias``
    start at zero, as PyTorch's.  ``dropout`` applies to the attention weights in training
    mode, drawn from ``rng``.  Inputs are (L, N, E) ((N, L, E) with ``batch_first``).
    Returns ``(output, weights)``: the weights (N, L, S) averaged over the heads, or
    (N, num_heads, L, S), or None without ``need_weights``."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                f"num_heads ({num_heads})"
            )
        rng, dtype = _rng(rng), as_dtype(dtype)
        self.embed_dim = int(embed_dim)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        e = self.embed_dim
        self.in_proj_weight = init.xavier_uniform((3 * e, e), rng=rng, dtype=dtype)
        self.in_proj_bias = init.zeros(3 * e, dtype=dtype) if bias else None
        self.out_proj = Linear(e, e, bias=bias, rng=rng, dtype=dtype)
        if bias:
            self.out_proj.bias = init.zeros(e, dtype=dtype)
        self.rng = rng

    def __call__(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
    ):
        query = check_input("MultiheadAttention", query, (3,), -1, self.embed_dim)
        if self.batch_first:
            query = np.swapaxes(query, 0, 1)
            key = np.swapaxes(key, 0, 1)
            value = np.swapaxes(value, 0, 1)
        e = self.embed_dim
        heads = self.num_heads
        w = self.in_proj_weight
        b = self.in_proj_bias
        q = F.linear(query, w[:e], None if b is None else b[:e])
        k = F.linear(key, w[e : 2 * e], None if b is None else b[e : 2 * e])
        v = F.linear(value, w[2 * e :], None if b is None else b[2 * e :])
        n_q, n, _ = q.shape
        n_k = k.shape[0]
        d = e // heads
        # (L, N, E) -> (N * heads, L, d): the batch-major head order of PyTorch
        q = np.swapaxes(q.reshape(n_q, n * heads, d), 0, 1)
        k = np.swapaxes(k.reshape(n_k, n * heads, d), 0, 1)
        v = np.swapaxes(v.reshape(n_k, n * heads, d), 0, 1)
        scores = (q / math.sqrt(d)) @ np.swapaxes(k, 1, 2)
        if attn_mask is not None:
            scores = scores + additive_mask(attn_mask, scores.dtype)
        if key_padding_mask is not None:
            pad = additive_mask(key_padding_mask, scores.dtype)
            scores = scores + np.repeat(pad, heads, axis=0)[:, None, :]
        attn = F.softmax(scores, -1)
        attn = F.dropout(attn, self.dropout, self.training, self.rng)
        out = np.swapaxes(attn @ v, 0, 1).reshape(n_q, n, e)
        out = self.out_proj(out)
        if self.batch_first:
            out = np.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        weights = attn.reshape(n, heads, n_q, n_k)
        if average_attn_weights:
            return out, np.mean(weights, axis=1)
        return out, weights


def sinusoidal_encoding(max_len: int, d_model: int, dtype: Any = None) -> np.ndarray:
    """The (max_len, d_model) table of Vaswani et al.: sin(pos / 10000^(2i/d)) at even
    columns 2i, cos at odd columns 2i + 1."""
    pos = np.arange(max_len)[:, None]
    rate = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(pos * rate)
    table[:, 1::2] = np.cos(pos * rate[: d_model // 2])
    return table.astype(as_dtype(dtype))


class _Positional(Module):
    def _add(self, x, table):
        """x (T, N, E) or, with ``batch_first``, (N, T, E), plus the first T rows."""
        if self.batch_first:
            out = x + table[: x.shape[1]]
        else:
            out = x + table[: x.shape[0], None, :]
        return F.dropout(out, self.dropout, self.training, self.rng)


class PositionalEncoding(_Positional):
    """Adds the fixed sinusoidal table (a buffer ``pe`` (max_len, d_model)) to the input,
    then dropout."""

    def __init__(
        self,
        d_model: int,
        dropout: float = 0.0,
        max_len: int = 5000,
        batch_first: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        self.d_model = int(d_model)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.pe = buffer(sinusoidal_encoding(max_len, d_model, dtype))
        self.rng = _rng(rng)

    def __call__(self, x):
        x = check_input("PositionalEncoding", x, (3,), -1, self.d_model)
        return self._add(x, self.pe)


class LearnedPositionalEncoding(_Positional):
    """Adds a learned table ``weight`` (max_len, d_model), drawn from N(0, 0.02^2), to
    the input, then dropout."""

    def __init__(
        self,
        d_model: int,
        dropout: float = 0.0,
        max_len: int = 512,
        batch_first: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        rng = _rng(rng)
        self.d_model = int(d_model)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.weight = init.normal((max_len, d_model), 0.0, 0.02, rng=rng, dtype=dtype)
        self.rng = rng

    def __call__(self, x):
        x = check_input("LearnedPositionalEncoding", x, (3,), -1, self.d_model)
        return self._add(x, self.weight)
