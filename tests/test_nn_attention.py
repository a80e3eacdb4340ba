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


@pytest.mark.slow
def test_attention_float_mask_gradients(rng):
    mha = f64(nn.MultiheadAttention(4, 2, batch_first=True, rng=rng))
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    _, _, floats = _masks(rng, 2, 2, 3, 5)
    check_grad(mha_loss, mha, q, kv, kv, floats, None, wrt=(0, 1, 2))


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


@pytest.mark.slow
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
        pytest.param(
            dict(norm_first=True, activation="gelu", batch_first=True),
            marks=pytest.mark.slow,
        ),
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


@pytest.mark.slow
def test_dropout_draws_from_the_generator(rng):
    layer = f64(nn.TransformerEncoderLayer(4, 2, 6, dropout=0.3, rng=rng))
    x = rng.standard_normal((3, 2, 4))
    a, b = layer(x), layer(x)
    assert not np.allclose(a, b)
    check_grad(enc_loss, layer, x, None, None, wrt=(0, 1))
    layer.eval()
    np.testing.assert_array_equal(layer(x), layer(x))


def _load(ours, theirs):
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    return nn.load_state_dict(ours, sd)


def _grads_match(torch_module, g_model):
    grads = nn.state_dict(g_model)
    for name, p in torch_module.named_parameters():
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), atol=1e-10, err_msg=name
        )


@pytest.mark.slow
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_attention_matches_pytorch(rng, batch_first):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=batch_first).double()
    with torch.no_grad():
        theirs.in_proj_bias.normal_()
        theirs.out_proj.bias.normal_()
    mha = _load(
        f64(nn.MultiheadAttention(4, 2, batch_first=batch_first, rng=rng)), theirs
    )
    shape_q, shape_k = ((2, 3, 4), (2, 5, 4)) if batch_first else ((3, 2, 4), (5, 2, 4))
    q, k, v = (rng.standard_normal(s) for s in (shape_q, shape_k, shape_k))
    causal, pad, floats = _masks(rng, 2, 2, 3, 5)
    for attn_mask, kpm in ((causal, pad), (floats, None)):
        for m in (theirs,):
            m.zero_grad()
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        t_mask = torch.from_numpy(attn_mask)
        t_kpm = None if kpm is None else torch.from_numpy(kpm)
        out, w = theirs(tq, tk, tv, key_padding_mask=t_kpm, attn_mask=t_mask)
        tloss = out.sin().sum() + (w**2).sum()
        tloss.backward()
        value, (g_model, g_q, g_k, g_v) = srcgrad.value_and_grad(
            mha_loss, wrt=(0, 1, 2, 3)
        )(mha, q, k, v, attn_mask, kpm)
        np.testing.assert_allclose(value, tloss.item(), rtol=1e-10)
        for ours, t in ((g_q, tq), (g_k, tk), (g_v, tv)):
            np.testing.assert_allclose(ours, t.grad.numpy(), atol=1e-10)
        _grads_match(theirs, g_model)


@pytest.mark.parametrize(
    "norm_first,activation,batch_first,layers,final_norm",
    [
        pytest.param(False, "relu", False, 2, False, marks=pytest.mark.slow),
        (True, "gelu", True, 1, True),
    ],
    ids=["post-relu-2", "pre-gelu-batch-first-norm"],
)
def test_encoder_matches_pytorch(
    rng, norm_first, activation, batch_first, layers, final_norm
):
    torch = pytest.importorskip("torch")
    opts = dict(
        dim_feedforward=6,
        dropout=0.0,
        activation=activation,
        batch_first=batch_first,
        norm_first=norm_first,
    )
    t_layer = torch.nn.TransformerEncoderLayer(4, 2, **opts)
    t_norm = torch.nn.LayerNorm(4) if final_norm else None
    theirs = torch.nn.TransformerEncoder(
        t_layer, layers, norm=t_norm, enable_nested_tensor=False
    ).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    layer = nn.TransformerEncoderLayer(4, 2, rng=rng, **opts)
    norm = nn.LayerNorm(4) if final_norm else None
    ours = _load(f64(nn.TransformerEncoder(layer, layers, norm=norm, rng=rng)), theirs)
    x = rng.standard_normal((2, 3, 4) if batch_first else (3, 2, 4))
    causal, pad, _ = _masks(rng, 2, 2, 3, 3)
    tx = torch.tensor(x, requires_grad=True)
    out = theirs(tx, torch.from_numpy(causal), torch.from_numpy(pad))
    tloss = out.sin().sum()
    tloss.backward()
    value, (g_model, g_x) = srcgrad.value_and_grad(enc_loss, wrt=(0, 1))(
        ours, x, causal, pad
    )
    np.testing.assert_allclose(value, tloss.item(), rtol=1e-10)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), atol=1e-10)
    _grads_match(theirs, g_model)


ENCODER_SWEEP = [
    (nf, act, bf, layers)
    for nf in (False, True)
    for act in ("relu", "gelu")
    for bf in (False, True)
    for layers in (1, 2, 3)
]


@pytest.mark.slow
@pytest.mark.parametrize("norm_first,activation,batch_first,layers", ENCODER_SWEEP)
def test_encoder_sweep_against_differences(
    rng, norm_first, activation, batch_first, layers
):
    layer = nn.TransformerEncoderLayer(
        4,
        2,
        6,
        dropout=0.0,
        activation=activation,
        batch_first=batch_first,
        norm_first=norm_first,
        rng=rng,
    )
    model = f64(nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(4), rng=rng))
    x = rng.standard_normal((2, 3, 4) if batch_first else (3, 2, 4))
    causal, pad, floats = _masks(rng, 2, 2, 3, 3)
    check_grad(enc_loss, model, x, causal, pad, wrt=(0, 1))
    check_grad(enc_loss, model, x, floats, None, wrt=(0, 1))
