"""The hand-written benchmark baselines against central differences (small shapes, float64).

The baselines in ``benchmarks/baselines.py`` are the references every benchmark ratio is taken
against, and the runner checks every implementation's gradient against them before timing, so
they must be right. The framework versions of the models (autograd, PyTorch, JAX) are checked
against them too, and skipped when the framework is not installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# `benchmarks` lives at the repository root, next to `tests`; plain `pytest` does not put the
# root on sys.path unless the project's pytest configuration does.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import baselines, models

EPS = 1e-6


def _leaves(tree: Any) -> list[np.ndarray]:
    """The arrays of a nest of dicts (sorted keys), tuples and lists, in a fixed order."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _central_differences(
    f: Callable[[], Any], arrays: list[np.ndarray]
) -> list[np.ndarray]:
    """d f / d each element of each array, by central differences; arrays are restored."""
    out = []
    for a in arrays:
        g = np.empty_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + EPS
            up = float(f())
            flat[i] = orig - EPS
            down = float(f())
            flat[i] = orig
            gflat[i] = (up - down) / (2 * EPS)
        out.append(g)
    return out


def _small_mlp(rng: np.random.Generator):
    return models.mlp_inputs(rng, sizes=(7, 6, 5, 4), batch=5, dtype=np.float64)


def _small_rnn(rng: np.random.Generator):
    return models.rnn_inputs(rng, steps=6, hidden=4, n_in=3, batch=2)


def _small_layernorm(rng: np.random.Generator):
    return models.layernorm_inputs(rng, n=4, d=6, d_out=3)


CASES = {
    "mlp": (_small_mlp, models.mlp_loss, baselines.mlp_value_and_grad, (0,)),
    "rnn": (_small_rnn, models.rnn_loss, baselines.rnn_value_and_grad, (0,)),
    "rnn_hoisted": (
        _small_rnn,
        models.rnn_loss,
        baselines.rnn_value_and_grad_hoisted,
        (0,),
    ),
    "layernorm": (
        _small_layernorm,
        models.layernorm_mse_loss,
        baselines.layernorm_mse_value_and_grad,
        (0, 1),
    ),
    "tiny": (models.tiny_inputs, models.tiny_loss, baselines.tiny_value_and_grad, (0,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_baseline_matches_central_differences(name: str) -> None:
    make, model, hand, wrt = CASES[name]
    args = make(np.random.default_rng(0))
    loss, grads = hand(*args)
    assert np.isclose(float(loss), float(model(*args)), rtol=1e-12, atol=1e-14)
    expected = _central_differences(
        lambda: model(*args), _leaves(tuple(args[i] for i in wrt))
    )
    got = _leaves(grads)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_baseline_leaves_inputs_alone_and_returns_fresh_arrays(name: str) -> None:
    make, _, hand, _ = CASES[name]
    args = make(np.random.default_rng(1))
    before = [a.copy() for a in _leaves(args)]
    _, grads = hand(*args)
    for a, b in zip(_leaves(args), before):
        np.testing.assert_array_equal(a, b)
    got = _leaves(grads)
    for i, g in enumerate(got):
        assert not any(np.shares_memory(g, a) for a in _leaves(args))
        assert not any(np.shares_memory(g, h) for h in got[i + 1 :])


def test_mlp_baseline_keeps_float32() -> None:
    args = models.mlp_inputs(np.random.default_rng(2), sizes=(7, 6, 5, 4), batch=5)
    loss, grads = baselines.mlp_value_and_grad(*args)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert np.isclose(float(loss), float(models.mlp_loss(*args)), rtol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "rnn", "layernorm", "tiny"])
def test_autograd_version_matches_baseline(name: str) -> None:
    autograd = pytest.importorskip("autograd")
    make, model, hand, wrt = CASES[name]
    args = make(np.random.default_rng(3))
    loss, grads = autograd.value_and_grad(
        models.autograd_version(model), wrt if len(wrt) > 1 else wrt[0]
    )(*args)
    ref_loss, ref = hand(*args)
    assert np.isclose(float(loss), float(ref_loss), rtol=1e-12)
    for g, r in zip(_leaves(grads), _leaves(ref), strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)


@pytest.fixture
def jax_x64() -> Any:
    """jax with float64 enabled for the test, restored afterwards."""
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("name", ["mlp", "rnn", "layernorm", "tiny"])
def test_jax_version_matches_baseline(name: str, jax_x64: Any) -> None:
    jax = jax_x64
    make, model, hand, wrt = CASES[name]
    args = make(np.random.default_rng(4))
    loss, grads = jax.value_and_grad(
        models.jax_version(model), wrt if len(wrt) > 1 else wrt[0]
    )(*args)
    ref_loss, ref = hand(*args)
    assert np.isclose(float(loss), float(ref_loss), rtol=1e-12)
    for g, r in zip(_leaves(grads), _leaves(ref), strict=True):
        np.testing.assert_allclose(np.asarray(g), r, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["mlp", "rnn", "layernorm", "tiny"])
def test_torch_version_matches_baseline(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, model, hand, wrt = CASES[name]
    args = make(np.random.default_rng(5))

    def to_torch(tree: Any, grad: bool) -> Any:
        if isinstance(tree, dict):
            return {k: to_torch(v, grad) for k, v in tree.items()}
        return torch.tensor(tree, requires_grad=grad)

    targs = [to_torch(a, i in wrt) for i, a in enumerate(args)]
    loss = models.torch_models()[model.__name__](*targs)
    leaves = [_ for i in wrt for _ in _leaves(targs[i])]
    grads = torch.autograd.grad(loss, leaves)
    ref_loss, ref = hand(*args)
    assert np.isclose(float(loss.detach()), float(ref_loss), rtol=1e-12)
    for g, r in zip(grads, _leaves(ref), strict=True):
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-9, atol=1e-12)
