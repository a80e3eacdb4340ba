"""The model-sized functions of examples/models (committed under generated/ for review):
each gradient agrees with central differences in float64 (two run by default, all ten
with the slow tests)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from srcgrad.testing import check_grad

rng = np.random.default_rng(0)


def _r(*shape, scale=0.5):
    return scale * rng.normal(size=shape)


def _onehot(n, k):
    return np.eye(k)[rng.integers(0, k, size=n)]


MODELS = {
    "mlp_params.mlp_params_loss": lambda: (
        *(_r(3, 5), _r(5), _r(5, 4), _r(4), _r(4, 3), _r(3)),
        _r(4, 3, scale=1.0),
        _onehot(4, 3),
    ),
    "convnet.conv_loss": lambda: (_r(3), _r(3), _r(1, 2), _r(4, 10, scale=1), _r(4, 2)),
    "lstm.lstm_loss": lambda: (
        _r(3, 16),
        _r(4, 16),
        _r(16),
        _r(4, 2),
        _r(5, 2, 3),
        _r(2, 2),
    ),
    "transformer.block_loss": lambda: (
        *(_r(8, 8) for _ in range(4)),
        _r(8, 16),
        _r(16, 8),
        1 + _r(8),
        1 + _r(8),
        _r(2, 3, 8, scale=1.0),
        _r(2, 3, 8),
    ),
    "simulation.spring_chain_loss": lambda: (
        3.0,
        0.4,
        np.arange(5.0) * 1.1,
        _r(5),
        np.arange(5.0) * 1.05,
    ),
    "gru.gru_loss": lambda: (
        *(m for _ in range(3) for m in (_r(3, 4), _r(4, 4))),
        _r(4, 2),
        _r(4, 2, 3, scale=1.0),
        _r(4, 2, 2),
    ),
    "vae.vae_loss": lambda: (
        *(_r(6, 5), _r(5), _r(5, 2), _r(5, 2), _r(2, 6), _r(6)),
        rng.uniform(size=(4, 6)),
        _r(4, 2, scale=1.0),
    ),
    "attention.attention_loss": lambda: (
        *(_r(4, 3) for _ in range(3)),
        _r(5, 4, scale=1.0),
        np.tril(np.ones((5, 5), dtype=bool)),
        _r(5, 3),
    ),
    "layernorm_mlp.layernorm_mlp_loss": lambda: (
        *(_r(3, 6), _r(6), _r(6, 5), _r(5), _r(5, 2), 1 + _r(6), 1 + _r(5)),
        _r(4, 3, scale=1.0),
        _r(4, 2),
    ),
    "rnn_classifier.rnn_classifier_loss": lambda: (
        *(_r(2, 5), _r(5, 5), _r(5), _r(5, 3), _r(3)),
        _r(4, 3, 2, scale=1.0),
        _onehot(3, 3),
    ),
}


FAST = {"transformer.block_loss", "simulation.spring_chain_loss"}


@pytest.mark.parametrize(
    "name",
    [
        n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
        for n in sorted(MODELS)
    ],
)
def test_model_gradient_matches_central_differences(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    module, func = name.split(".")
    df = getattr(importlib.import_module(f"examples.models.{module}"), func)
    args = MODELS[name]()
    check_grad(df.forward, *args, wrt=df.wrt)
