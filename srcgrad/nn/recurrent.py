"""Recurrent layers with PyTorch's arguments, parameter names, gate layouts, shapes and
initialisation: RNNCell, LSTMCell, GRUCell, and RNN, LSTM, GRU over whole sequences.

The forward passes are plain numpy loops over time; srcgrad generates backpropagation
through time from them.  A sequence layer computes the input projections of all steps with
one product before its loop (``x @ weight_ih.T`` over (T, N, in)), so that only the
recurrent product stays inside it, and a reversed direction runs the same loop over the
time-reversed input.

Gate layouts (rows of ``weight_ih`` / ``weight_hh`` / the biases, as PyTorch's):

- LSTM: ``i, f, g, o``; c' = f * c + i * g, h' = o * tanh(c');
- GRU: ``r, z, n``; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h.

Every weight and bias is drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).  A
sequence layer keeps one cell per layer and direction; :func:`srcgrad.nn.state_dict` names
them as PyTorch does (``weight_ih_l0``, ``bias_hh_l1_reverse``), and the same names read
them as attributes (``rnn.weight_hh_l0``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from srcgrad.nn import functional as F
from srcgrad.nn import init
from srcgrad.nn._checks import as_dtype, check_input
from srcgrad.nn.module import Module

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _rng(rng: Any) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


# -- one step, given the input projection gi = x @ weight_ih.T + bias_ih -------------------
def _rnn_step(gi, h, weight_hh, bias_hh, nonlinearity):
    a = gi + F.linear(h, weight_hh, bias_hh)
    if nonlinearity == "relu":
        return np.maximum(a, 0.0)
    return np.tanh(a)


def _lstm_step(gi, h, c, weight_hh, bias_hh):
    gates = gi + F.linear(h, weight_hh, bias_hh)
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * np.tanh(g)
    return F.sigmoid(o) * np.tanh(c), c


def _gru_step(gi, h, weight_hh, bias_hh):
    i_r, i_z, i_n = np.split(gi, 3, axis=-1)
    h_r, h_z, h_n = np.split(F.linear(h, weight_hh, bias_hh), 3, axis=-1)
    r = F.sigmoid(i_r + h_r)
    z = F.sigmoid(i_z + h_z)
    c = np.tanh(i_n + r * h_n)
    return c + z * (h - c)


# -- cells -----------------------------------------------------------------------------
class _Cell(Module):
    """The four parameters of one recurrent cell (biases None without ``bias``)."""

    def __init__(
        self, input_size, hidden_size, bias, mode, rng, dtype, nonlinearity="tanh"
    ) -> None:
        rng, dtype = _rng(rng), as_dtype(dtype)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.nonlinearity = nonlinearity
        rows = _GATES[mode] * self.hidden_size
        k = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size else 0.0
        shapes = [(rows, self.input_size), (rows, self.hidden_size), rows, rows]
        for name, shape in zip(_NAMES, shapes):
            value = init.uniform(shape, -k, k, rng=rng, dtype=dtype)
            setattr(self, name, value if bias or name.startswith("weight") else None)

    def _zeros(self, x):
        return np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=x.dtype)


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); ``hx`` defaults to
    zeros."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        _check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(
            input_size, hidden_size, bias, "RNN_TANH", rng, dtype, nonlinearity
        )

    def __call__(self, x, hx=None):
        x = check_input("RNNCell", x, (1, 2), -1, self.input_size)
        h = self._zeros(x) if hx is None else hx
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        return _rnn_step(gi, h, self.weight_hh, self.bias_hh, self.nonlinearity)


class LSTMCell(_Cell):
    """One LSTM step (gates i, f, g, o); ``hx = (h, c)`` defaults to zeros; returns
    ``(h', c')``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "LSTM", rng, dtype)

    def __call__(self, x, hx=None):
        x = check_input("LSTMCell", x, (1, 2), -1, self.input_size)
        if hx is None:
            h = self._zeros(x)
            c = self._zeros(x)
        else:
            h, c = hx
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        return _lstm_step(gi, h, c, self.weight_hh, self.bias_hh)


class GRUCell(_Cell):
    """One GRU step (gates r, z, n); ``hx`` defaults to zeros."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "GRU", rng, dtype)

    def __call__(self, x, hx=None):
        x = check_input("GRUCell", x, (1, 2), -1, self.input_size)
        h = self._zeros(x) if hx is None else hx
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        return _gru_step(gi, h, self.weight_hh, self.bias_hh)


def _check_nonlinearity(layer: str, nonlinearity: str) -> None:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
        )


# -- one layer and direction over a whole sequence (T, N, features) ---------------------
def _scan(cell, x, h):
    """Outputs (T, N, H) and the last state of an RNN or GRU cell over ``x``."""
    gi = F.linear(x, cell.weight_ih, cell.bias_ih)
    ys = []
    for t in range(x.shape[0]):
        if cell.nonlinearity == "gru":
            h = _gru_step(gi[t], h, cell.weight_hh, cell.bias_hh)
        else:
            h = _rnn_step(gi[t], h, cell.weight_hh, cell.bias_hh, cell.nonlinearity)
        ys.append(h)
    return np.stack(ys), h


def _scan_lstm(cell, x, h, c):
    """Outputs (T, N, H) and the last (h, c) of an LSTM cell over ``x``."""
    gi = F.linear(x, cell.weight_ih, cell.bias_ih)
    ys = []
    for t in range(x.shape[0]):
        h, c = _lstm_step(gi[t], h, c, cell.weight_hh, cell.bias_hh)
        ys.append(h)
    return np.stack(ys), h, c


class _Layer(Module):
    """One layer of a sequence model: a cell for each direction (``reverse`` None when
    unidirectional)."""

    def __init__(self, forward: _Cell, reverse: _Cell | None, lstm: bool) -> None:
        self.forward = forward
        self.reverse = reverse
        self.lstm = lstm

    def __call__(self, x, h0, c0):
        """x (T, N, in); h0, c0 (directions, N, H) -> y (T, N, directions * H), and the
        last states (directions, N, H) (c None without LSTM)."""
        if self.lstm:
            y, h, c = _scan_lstm(self.forward, x, h0[0], c0[0])
        else:
            y, h = _scan(self.forward, x, h0[0])
            c = h
        if self.reverse is None:
            return y, h[None], c[None]
        if self.lstm:
            yr, hr, cr = _scan_lstm(self.reverse, x[::-1], h0[1], c0[1])
        else:
            yr, hr = _scan(self.reverse, x[::-1], h0[1])
            cr = hr
        y = np.concatenate([y, yr[::-1]], axis=-1)
        return y, np.stack([h, hr]), np.stack([c, cr])


# -- sequence layers -------------------------------------------------------------------
class _RNNBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        nonlinearity: str,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        rng: Any,
        dtype: Any,
    ) -> None:
        name = type(self).__name__
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        rng = _rng(rng)
        self.mode = mode
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.rng = rng
        dirs = 2 if bidirectional else 1
        nl = "gru" if mode == "GRU" else nonlinearity
        layers = []
        for k in range(self.num_layers):
            n_in = self.input_size if k == 0 else dirs * self.hidden_size
            cells = [
                _Cell(n_in, hidden_size, bias, mode, rng, dtype, nl)
                for _ in range(dirs)
            ]
            layers.append(
                _Layer(cells[0], cells[1] if dirs == 2 else None, mode == "LSTM")
            )
        self.layers = layers

    def _state_names(self) -> list[tuple[str, Any, str]]:
        """(PyTorch's name, cell, attribute) of every parameter, in PyTorch's order."""
        out = []
        for k, layer in enumerate(self.layers):
            for cell, suffix in ((layer.forward, ""), (layer.reverse, "_reverse")):
                if cell is None:
                    continue
                for name in _NAMES:
                    if getattr(cell, name) is not None:
                        out.append((f"{name}_l{k}{suffix}", cell, name))
        return out

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("weight_", "bias_")) and "layers" in vars(self):
            for full, cell, attr in self._state_names():
                if full == name:
                    return getattr(cell, attr)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def _run(self, x, h0, c0):
        """x (T, N, in) -> y, h_n, c_n with the states (layers * directions, N, H)."""
        dirs = 2 if self.bidirectional else 1
        hs = []
        cs = []
        for k, layer in enumerate(self.layers):
            if k > 0 and self.training and self.dropout > 0.0:
                x = F.dropout(x, self.dropout, True, self.rng)
            x, h, c = layer(
                x, h0[k * dirs : (k + 1) * dirs], c0[k * dirs : (k + 1) * dirs]
            )
            hs.append(h)
            cs.append(c)
        return x, np.concatenate(hs, axis=0), np.concatenate(cs, axis=0)

    def _input(self, layer, x):
        x = check_input(layer, x, (3,), -1, self.input_size)
        if self.batch_first:
            return np.swapaxes(x, 0, 1)
        return x

    def _output(self, y):
        if self.batch_first:
            return np.swapaxes(y, 0, 1)
        return y

    def _zeros(self, x):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, x.shape[1], self.hidden_size)
        return np.zeros(shape, dtype=x.dtype)


class RNN(_RNNBase):
    """An Elman RNN (tanh or relu) of ``num_layers`` layers over (T, N, input_size) input
    ((N, T, input_size) with ``batch_first``); ``hx`` (num_layers * directions, N, H)
    defaults to zeros.  Returns ``(output, h_n)``.  ``dropout`` applies to the outputs of
    every layer but the last in training mode, drawn from ``rng``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        _check_nonlinearity("RNN", nonlinearity)
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, nonlinearity, bias,
            batch_first, dropout, bidirectional, rng, dtype,
        )  # fmt: skip

    def __call__(self, x, hx=None):
        x = self._input("RNN", x)
        h0 = self._zeros(x) if hx is None else hx
        y, h, _ = self._run(x, h0, h0)
        return self._output(y), h


class GRU(_RNNBase):
    """A GRU (gates r, z, n) of ``num_layers`` layers; arguments, input and output as
    :class:`RNN`'s."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, "tanh", bias,
            batch_first, dropout, bidirectional, rng, dtype,
        )  # fmt: skip

    def __call__(self, x, hx=None):
        x = self._input("GRU", x)
        h0 = self._zeros(x) if hx is None else hx
        y, h, _ = self._run(x, h0, h0)
        return self._output(y), h


class LSTM(_RNNBase):
    """An LSTM (gates i, f, g, o) of ``num_layers`` layers; ``hx = (h0, c0)``, each
    (num_layers * directions, N, H), defaults to zeros.  Returns
    ``(output, (h_n, c_n))``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, "tanh", bias,
            batch_first, dropout, bidirectional, rng, dtype,
        )  # fmt: skip

    def __call__(self, x, hx=None):
        x = self._input("LSTM", x)
        if hx is None:
            h0 = self._zeros(x)
            c0 = self._zeros(x)
        else:
            h0, c0 = hx
        y, h, c = self._run(x, h0, c0)
        return self._output(y), (h, c)
