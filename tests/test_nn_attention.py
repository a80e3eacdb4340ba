"""srcgrad.nn attention layers: MultiheadAttention (boolean and float attention masks,
key padding masks, batch_first), positional encodings, TransformerEncoderLayer (post- and
pre-norm, relu and gelu, dropout) and TransformerEncoder, with gradients through
srcgrad.grad against central differences in float64, and outputs and gradients against
PyTorch with its weights copied in (skipped without PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import srcgrad
from srcgrad import nn
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def f64(model):
    return nn.astype(model, np.float64)


def mha_loss(mha, q, k, v, attn_mask, key_padding_mask):
    out, w = mha(q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask)
    return np.sum(np.sin(out)) + np.sum(w**2)


def enc_loss(model, x, mask, key_padding_mask):
    return np.sum(np.sin(model(x, mask, key_padding_mask)))


def _masks(rng, n, heads, l, s):
    causal = np.triu(np.ones((l, s), dtype=bool), 1)
    pad = np.zeros((n, s), dtype=bool)
    pad[0, -1] = True
    floats = rng.standard_normal((n * heads, l, s))
    return causal, pad, floats


def _reference_attention(mha, q, k, v):
    """Per-head loops over the batch with the formula written out (seq-first input)."""
    e, h = mha.embed_dim, mha.num_heads
    d = e // h
    w, b = mha.in_proj_weight, mha.in_proj_bias
    out = np.zeros(q.shape)
    for i in range(q.shape[1]):
        heads = []
        for j in range(h):
            rows = slice(j * d, (j + 1) * d)
            qi = q[:, i] @ w[:e][rows].T + b[:e][rows]
            ki = k[:, i] @ w[e : 2 * e][rows].T + b[e : 2 * e][rows]
            vi = v[:, i] @ w[2 * e :][rows].T + b[2 * e :][rows]
            s = qi @ ki.T / math.sqrt(d)
            p = np.exp(s - s.max(axis=1, keepdims=True))
            heads.append((p / p.sum(axis=1, keepdims=True)) @ vi)
        out[:, i] = np.concatenate(heads, axis=1) @ mha.out_proj.weight.T
    return out + mha.out_proj.bias


def test_attention_layout_forward_and_gradients(rng):
    mha = f64(nn.MultiheadAttention(4, 2, rng=rng))
    assert mha.in_proj_weight.shape == (12, 4) and np.all(mha.in_proj_bias == 0)
    assert sorted(nn.state_dict(mha)) == [
        "in_proj_bias", "in_proj_weight", "out_proj.bias", "out_proj.weight"
    ]  # fmt: skip
    mha.in_proj_bias = rng.standard_normal(12)
    mha.out_proj.bias = rng.standard_normal(4)
    q, k = rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4))
    v = rng.standard_normal((5, 2, 4))
    out, w = mha(q, k, v)
    np.testing.assert_allclose(out, _reference_attention(mha, q, k, v), atol=1e-12)
    assert w.shape == (2, 3, 5)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    causal, pad, floats = _masks(rng, 2, 2, 3, 5)
    check_grad(mha_loss, mha, q, k, v, causal, pad, wrt=(0, 1, 2, 3))
    check_grad(mha_loss, mha, q, k, v, floats, None, wrt=(0, 1))


def test_masks_zero_the_masked_weights(rng):
    mha = nn.MultiheadAttention(4, 2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((3, 2, 4))
    causal, pad, _ = _masks(rng, 2, 2, 3, 3)
    _, w = mha(x, x, x, key_padding_mask=pad, attn_mask=causal)
    assert np.all(w[:, causal] == 0) and np.all(w[0, :, -1] == 0)
    _, w_all = mha(x, x, x, attn_mask=causal, average_attn_weights=False)
    assert w_all.shape == (2, 2, 3, 3)
    out, none = mha(x, x, x, need_weights=False)
    assert none is None and out.shape == (3, 2, 4)


def test_positional_encodings(rng):
    pe = nn.PositionalEncoding(6, max_len=10, dtype=np.float64)
    x = rng.standard_normal((4, 2, 6))
    pos, i = 3, 1
    assert math.isclose(pe.pe[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 6)))
    assert math.isclose(pe.pe[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 6)))
    np.testing.assert_allclose(pe(x), x + pe.pe[:4, None, :])
    g = srcgrad.grad(lambda m, x: np.sum(m(x) ** 2), wrt=(0, 1))(pe, x)
    assert g[0].pe is None
    learned = f64(
        nn.LearnedPositionalEncoding(6, max_len=10, batch_first=True, rng=rng)
    )
    check_grad(lambda m, x: np.sum(np.sin(m(x))), learned, x, wrt=(0, 1))


@pytest.mark.parametrize(
    "opts",
    [
        dict(norm_first=False, activation="relu", batch_first=False),
        dict(norm_first=True, activation="gelu", batch_first=True),
    ],
    ids=["post-norm-relu", "pre-norm-gelu-batch-first"],
)
def test_encoder_layer_gradients(rng, opts):
    layer = f64(
        nn.TransformerEncoderLayer(
            4, 2, dim_feedforward=6, dropout=0.0, rng=rng, **opts
        )
    )
    for m in (layer.norm1, layer.norm2):
        m.weight = rng.standard_normal(4)
        m.bias = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 4) if opts["batch_first"] else (3, 2, 4))
    causal, pad, _ = _masks(rng, 2, 2, 3, 3)
    check_grad(enc_loss, layer, x, causal, pad, wrt=(0, 1))


def test_dropout_draws_from_the_generator(rng):
    layer = f64(nn.TransformerEncoderLayer(4, 2, 6, dropout=0.3, rng=rng))
    x = rng.standard_normal((3, 2, 4))
    a, b = layer(x), layer(x)
    assert not np.allclose(a, b)
    check_grad(enc_loss, layer, x, None, None, wrt=(0, 1))
    layer.eval()
    np.testing.assert_array_equal(layer(x), layer(x))
