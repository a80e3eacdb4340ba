"""``benchmarks/gpu.py`` runs end to end before it meets a GPU: a stand-in for cupy (numpy
arrays, no-op synchronisation) drives every workload once, and each srcgrad gradient equals
its central differences on a few coordinates."""

from __future__ import annotations

import types

import numpy as np
import pytest

from benchmarks import gpu


def _fake_cupy() -> types.SimpleNamespace:
    device = types.SimpleNamespace(synchronize=lambda: None)
    cuda = types.SimpleNamespace(Device=lambda *a: device)
    return types.SimpleNamespace(asarray=np.asarray, asnumpy=np.asarray, cuda=cuda)


@pytest.mark.parametrize(
    "build", ["mlp", "rnn", pytest.param("lenet", marks=pytest.mark.slow)]
)
def test_every_workload_runs_with_a_stand_in_for_cupy(build, monkeypatch, tmp_path):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    cp = _fake_cupy()
    if build == "mlp":
        impls = gpu._mlp_impls(cp, 8, (12, 6, 3))
    elif build == "rnn":
        impls = gpu._rnn_impls(cp)
    else:
        impls = gpu._lenet_impls(cp)
    medians = gpu._interleaved(impls, reps=1)
    assert set(medians) == set(impls) and all(v > 0 for v in medians.values())
    rows = gpu._rows(build, medians)
    assert len(rows) == len(impls) and all(r.startswith(f"| {build} |") for r in rows)


def test_the_mlp_gradient_matches_central_differences(monkeypatch, tmp_path):
    import srcgrad

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    params = [
        (rng.normal(size=(5, 4)), rng.normal(size=4)),
        (rng.normal(size=(4, 3)), rng.normal(size=3)),
    ]
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    _, grads = srcgrad.value_and_grad(gpu.mlp_loss, wrt="params")(params, x, y)
    for layer in range(2):
        for k in range(2):
            W = params[layer][k]
            idx = (1,) * W.ndim
            eps, old = 1e-6, W[idx]
            W[idx] = old + eps
            up = gpu.mlp_loss(params, x, y)
            W[idx] = old - eps
            down = gpu.mlp_loss(params, x, y)
            W[idx] = old
            assert np.isclose(grads[layer][k][idx], (up - down) / (2 * eps), rtol=1e-6)
