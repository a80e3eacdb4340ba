"""srcgrad.nn recurrent layers: gradients through srcgrad.grad against central
differences in float64 for every layer and option (layers 1-3, bidirectional,
batch_first, initial states, relu, no bias, dropout), and outputs and gradients against
PyTorch with its weights copied in (skipped without PyTorch)."""

from __future__ import annotations

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


def cell_loss(cell, x, h):
    return np.sum(np.sin(cell(x, h)))


def lstm_cell_loss(cell, x, hc):
    h, c = cell(x, hc)
    return np.sum(np.sin(h)) + np.sum(c**2)


def seq_loss(model, x, hx):
    y, h = model(x, hx)
    return np.sum(np.sin(y)) + np.sum(h**2)


def lstm_loss(model, x, hx):
    y, (h, c) = model(x, hx)
    return np.sum(np.sin(y)) + np.sum(h**2) + np.sum(np.cos(c))


CELL_LOSS = {"RNN": cell_loss, "GRU": cell_loss, "LSTM": lstm_cell_loss}
SEQ_LOSS = {"RNN": seq_loss, "GRU": seq_loss, "LSTM": lstm_loss}


def seq_loss_zero_state(model, x):
    y, _ = model(x)
    return np.sum(np.sin(y))


def _state(rng, kind, shape):
    if kind == "LSTM":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    return rng.standard_normal(shape)


CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
SEQS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cell_gradients(rng, kind):
    cell = f64(CELLS[kind](3, 4, rng=rng))
    x = rng.standard_normal((2, 3))
    check_grad(CELL_LOSS[kind], cell, x, _state(rng, kind, (2, 4)), wrt=(0, 1, 2))


def test_cell_layouts_and_init(rng):
    for kind, gates in (("RNN", 1), ("LSTM", 4), ("GRU", 3)):
        cell = CELLS[kind](5, 6, rng=rng)
        assert cell.weight_ih.shape == (gates * 6, 5)
        assert cell.weight_hh.shape == (gates * 6, 6)
        assert cell.bias_ih.shape == cell.bias_hh.shape == (gates * 6,)
        assert cell.weight_ih.dtype == np.float32
        assert np.abs(cell.weight_hh).max() <= 1 / np.sqrt(6)
    assert nn.GRUCell(5, 6, bias=False, rng=rng).bias_hh is None
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize(
    "kind,opts",
    [
        ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
        pytest.param("LSTM", dict(num_layers=2), marks=pytest.mark.slow),
        pytest.param(
            "RNN",
            dict(nonlinearity="relu", bidirectional=True, bias=False),
            marks=pytest.mark.slow,
        ),
    ],
    ids=["gru-2-bi-batch-first", "lstm-2", "rnn-relu-bi-nobias"],
)
def test_sequence_gradients(rng, kind, opts):
    model = f64(SEQS[kind](3, 4, rng=rng, **opts))
    dirs = 2 if opts.get("bidirectional") else 1
    layers = opts.get("num_layers", 1)
    x = rng.standard_normal((2, 4, 3) if opts.get("batch_first") else (4, 2, 3))
    hx = _state(rng, kind, (layers * dirs, 2, 4))
    check_grad(SEQ_LOSS[kind], model, x, hx, wrt=(0, 1, 2))


@pytest.mark.slow
def test_zero_initial_state_and_dropout(rng):
    gru = f64(nn.GRU(3, 4, num_layers=2, dropout=0.4, rng=np.random.default_rng(5)))
    x = rng.standard_normal((4, 2, 3))
    y, h = gru(x)
    assert y.shape == (4, 2, 4) and h.shape == (2, 2, 4)
    np.testing.assert_array_equal(h[-1], y[-1])
    check_grad(seq_loss_zero_state, gru, x, wrt=(0, 1))
    gru.eval()
    y1, _ = gru(x)
    np.testing.assert_array_equal(y1, gru(x)[0])
    assert not np.allclose(y1, y)


def test_state_dict_names_and_attributes(rng):
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=rng)
    names = list(nn.state_dict(lstm))
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[-1] == "bias_hh_l1_reverse" and len(names) == 16
    assert lstm.weight_ih_l1_reverse.shape == (16, 8)
    assert lstm.weight_ih_l1_reverse is lstm.layers[1].reverse.weight_ih
    with pytest.raises(AttributeError):
        lstm.weight_ih_l2
    with pytest.raises(ValueError, match=r"GRU: .*3 at axis -1.*\(4, 2, 5\)"):
        nn.GRU(3, 4, rng=rng)(np.zeros((4, 2, 5)))


def _torch_compare(torch, kind, opts, rng, with_state=True):
    """Outputs, final states and gradients (weights, input, initial state) against
    PyTorch's layer with the same weights, in float64."""
    theirs = getattr(torch.nn, kind)(3, 4, **opts).double()
    ours = f64(SEQS[kind](3, 4, rng=rng, **opts))
    nn.load_state_dict(
        ours, {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    )
    dirs = 2 if opts.get("bidirectional") else 1
    x = rng.standard_normal((2, 5, 3) if opts.get("batch_first") else (5, 2, 3))
    hx = _state(rng, kind, (opts.get("num_layers", 1) * dirs, 2, 4))
    tx = torch.tensor(x, requires_grad=True)
    if kind == "LSTM":
        th = tuple(torch.tensor(a, requires_grad=True) for a in hx)
        ty, (h, c) = theirs(tx, th)
        tloss = ty.sin().sum() + (h**2).sum() + c.cos().sum()
        tstate = th[0]
    else:
        th = torch.tensor(hx, requires_grad=True)
        ty, h = theirs(tx, th)
        tloss = ty.sin().sum() + (h**2).sum()
        tstate = th
    tloss.backward()
    loss = SEQ_LOSS[kind]
    value, (g_model, g_x, g_h) = srcgrad.value_and_grad(loss, wrt=(0, 1, 2))(
        ours, x, hx
    )
    np.testing.assert_allclose(value, tloss.item(), rtol=1e-10)
    np.testing.assert_allclose(ours(x, hx)[0], ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(g_x, tx.grad.numpy(), atol=1e-10)
    g_h0 = g_h[0] if kind == "LSTM" else g_h
    np.testing.assert_allclose(g_h0, tstate.grad.numpy(), atol=1e-10)
    grads = nn.state_dict(g_model)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), atol=1e-10, err_msg=name
        )


TORCH_CASES = [
    pytest.param(
        "GRU",
        dict(num_layers=2, bidirectional=True, batch_first=True),
        marks=pytest.mark.slow,
    ),
    ("LSTM", dict(num_layers=1)),
    pytest.param("RNN", dict(nonlinearity="relu"), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("kind,opts", TORCH_CASES, ids=["gru", "lstm", "rnn-relu"])
def test_matches_pytorch(rng, kind, opts):
    torch = pytest.importorskip("torch")
    _torch_compare(torch, kind, opts, rng)


SWEEP = [
    (kind, dict(num_layers=layers, bidirectional=bi, batch_first=bf, bias=bias))
    for kind in ("RNN", "LSTM", "GRU")
    for layers in (1, 2, 3)
    for bi in (False, True)
    for bf, bias in ((False, True), (True, False))
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind,opts",
    SWEEP,
    ids=[
        f"{k}-{o['num_layers']}{'-bi' if o['bidirectional'] else ''}"
        f"{'-bf' if o['batch_first'] else ''}{'' if o['bias'] else '-nobias'}"
        for k, o in SWEEP
    ],
)
def test_sweep_against_differences_and_pytorch(rng, kind, opts):
    model = f64(SEQS[kind](3, 4, rng=rng, **opts))
    dirs = 2 if opts["bidirectional"] else 1
    x = rng.standard_normal((2, 3, 3) if opts["batch_first"] else (3, 2, 3))
    hx = _state(rng, kind, (opts["num_layers"] * dirs, 2, 4))
    check_grad(SEQ_LOSS[kind], model, x, hx, wrt=(0, 1, 2))
    torch = pytest.importorskip("torch")
    _torch_compare(torch, kind, opts, rng)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cells_match_pytorch(rng, kind):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, kind + "Cell")(3, 4).double()
    cell = f64(CELLS[kind](3, 4, rng=rng))
    nn.load_state_dict(
        cell, {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    )
    x = rng.standard_normal((2, 3))
    hx = _state(rng, kind, (2, 4))
    th = tuple(map(torch.tensor, hx)) if kind == "LSTM" else torch.tensor(hx)
    out = theirs(torch.tensor(x), th)
    ours = cell(x, hx)
    if kind == "LSTM":
        np.testing.assert_allclose(ours[0], out[0].detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours[1], out[1].detach().numpy(), atol=1e-12)
    else:
        np.testing.assert_allclose(ours, out.detach().numpy(), atol=1e-12)
