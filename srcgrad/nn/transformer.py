"""TransformerEncoderLayer and TransformerEncoder with PyTorch's arguments, defaults and
sub-module names (``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``), so a
PyTorch encoder's state dict loads as it is."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from srcgrad.nn import functional as F
from srcgrad.nn.attention import MultiheadAttention
from srcgrad.nn.layers import Dropout, Linear
from srcgrad.nn.module import Module
from srcgrad.nn.norm import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]


def _rng(rng: Any) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block (linear, relu or gelu, dropout, linear),
    each with dropout and a residual connection, layer-normalised after the residual add
    (post-norm, PyTorch's default) or before the block (``norm_first``).  Inputs are
    (T, N, E) ((N, T, E) with ``batch_first``)."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        if activation not in ("relu", "gelu"):
            raise ValueError(
                f"TransformerEncoderLayer: activation must be 'relu' or 'gelu', got "
                f"{activation!r}"
            )
        rng = _rng(rng)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first, rng=rng, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias, rng=rng, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.activation = activation

    def __call__(self, src, src_mask=None, src_key_padding_mask=None):
        x = src
        if self.norm_first:
            x = x + _attention_block(
                self, self.norm1(x), src_mask, src_key_padding_mask
            )
            x = x + _feed_forward_block(self, self.norm2(x))
        else:
            x = self.norm1(
                x + _attention_block(self, x, src_mask, src_key_padding_mask)
            )
            x = self.norm2(x + _feed_forward_block(self, x))
        return x


def _attention_block(layer, x, attn_mask, key_padding_mask):
    out, _ = layer.self_attn(
        x,
        x,
        x,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        attn_mask=attn_mask,
    )
    return layer.dropout1(out)


def _feed_forward_block(layer, x):
    h = layer.linear1(x)
    if layer.activation == "gelu":
        h = F.gelu(h)
    else:
        h = F.relu(h)
    return layer.dropout2(layer.linear2(layer.dropout(h)))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.<i>``) applied in order, then
    ``norm`` when given.  Each copy's dropout draws from its own generator, spawned from
    ``rng``."""

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Any = None,
        *,
        rng: Any = None,
    ) -> None:
        rng = _rng(rng)
        layers = []
        for _ in range(int(num_layers)):
            layer = copy.deepcopy(encoder_layer)
            for m in layer.modules():
                if isinstance(m, (Dropout, MultiheadAttention)):
                    m.rng = rng.spawn(1)[0]
            layers.append(layer)
        self.layers = layers
        self.num_layers = int(num_layers)
        self.norm = norm

    def __call__(self, src, mask=None, src_key_padding_mask=None):
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask)
        return _final_norm(self.norm, x)


def _final_norm(norm, x):
    """``norm(x)``, or ``x`` without a norm (a test on a parameter bound to None is
    decided when the code is generated)."""
    if norm is None:
        return x
    return norm(x)
