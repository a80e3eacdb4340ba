"""Tree utilities on models: ``tree.ravel`` (one vector and back), the leaves a gradient
reaches, paths as text, and ``nn.parameters`` / ``nn.num_parameters`` / ``nn.astype``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from srcgrad import nn, tree


class Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.W = rng.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)


class Net(nn.Module):
    def __init__(self, rng: np.random.Generator) -> None:
        self.blocks = [Dense(3, 4, rng), Dense(4, 2, rng)]
        self.register_buffer("running_var", np.ones(2))
        self.eps = 1e-5
        self.steps = np.arange(3)  # an integer array: no gradient reaches it
        self.act = "relu"


class State(NamedTuple):
    count: int
    mu: dict


def test_leaves_with_path_is_leaves_with_paths():
    x = {"a": [1.0, np.ones(2)], "b": State(3, {"m": 2.0})}
    assert tree.leaves_with_path(x) == tree.leaves_with_paths(x)
    assert [tree.path_string(p) for p, _ in tree.leaves_with_path(x)] == [
        "a.0",
        "a.1",
        "b.count",
        "b.mu.m",
    ]
    assert tree.path_string(()) == ""


def test_variable_leaves_leave_out_a_modules_constants(rng):
    net = Net(rng)
    every = [tree.path_string(p) for p, _ in tree.leaves_with_paths(net)]
    variable = [tree.path_string(p) for p, _ in tree.variable_leaves_with_paths(net)]
    assert set(every) - set(variable) == {"running_var", "eps"}
    assert "steps" in variable and "act" not in every  # static: not a leaf at all


# -------------------------------------------------------------------------------- ravel


def test_ravel_round_trips_dtypes_shapes_and_python_floats():
    x = {
        "W": np.arange(6.0, dtype=np.float32).reshape(2, 3),
        "scale": 0.5,
        "s": np.float32(1.25),
        "count": 3,
        "ids": np.arange(4),
        "name": "w",
        "none": None,
    }
    flat, unravel = tree.ravel(x)
    assert flat.dtype == np.float32 and flat.shape == (8,)  # 0.5 does not widen float32
    back = unravel(flat)
    assert list(back) == list(x)
    assert back["W"].dtype == np.float32 and np.array_equal(back["W"], x["W"])
    assert type(back["scale"]) is float and back["scale"] == 0.5
    assert type(back["s"]) is np.float32 and back["s"] == np.float32(1.25)
    assert back["count"] == 3 and back["ids"] is x["ids"] and back["none"] is None
    assert back["W"] is not x["W"]


def test_ravel_takes_the_common_dtype_and_unravel_restores_each():
    x = [np.ones(2, np.float32), np.ones((1, 2), np.float64)]
    flat, unravel = tree.ravel(x)
    assert flat.dtype == np.float64
    new = unravel(np.arange(4.0))
    assert [a.dtype for a in new] == [np.float32, np.float64]
    assert [a.shape for a in new] == [(2,), (1, 2)]
    assert np.array_equal(new[1], [[2.0, 3.0]])
    assert tree.ravel({"n": 3, "s": "x"})[0].dtype == np.float64  # no float leaves
    assert tree.ravel({"n": 3})[0].shape == (0,)


def test_ravel_of_a_model_and_of_its_gradient_line_up(rng):
    net = Net(rng)
    flat, unravel = tree.ravel(net)
    sizes = sum(a.size for a in (net.blocks[0].W, net.blocks[0].b))
    sizes += sum(a.size for a in (net.blocks[1].W, net.blocks[1].b))
    assert flat.shape == (sizes,)  # the buffer and eps stay out
    # a gradient holds None where the model has constants
    grads = tree.map_with_path(
        lambda p, v: None if p[-1] in ("running_var", "eps") else v, net
    )
    assert np.array_equal(tree.ravel(grads)[0], flat)
    rebuilt = unravel(flat + 1.0)
    assert type(rebuilt) is Net and type(rebuilt.blocks[1]) is Dense
    assert np.array_equal(rebuilt.blocks[1].W, net.blocks[1].W + 1.0)
    assert rebuilt.running_var is net.running_var and rebuilt.eps == net.eps


def test_unravel_refuses_a_vector_of_another_length():
    _, unravel = tree.ravel({"a": np.ones(3)})
    with pytest.raises(ValueError, match="3 values"):
        unravel(np.ones(4))


def test_ravel_drives_scipy_minimize(rng):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    target = {"W": rng.normal(size=(2, 2)), "b": rng.normal(size=3).astype(np.float32)}
    start = tree.map(np.zeros_like, target)
    flat0, unravel = tree.ravel(start)

    def loss_and_grad(v: np.ndarray) -> tuple[float, np.ndarray]:
        p = unravel(v)
        diff = tree.map(lambda a, t: a - t, p, target)
        loss = sum(float(np.sum(d.astype(np.float64) ** 2)) for d in tree.leaves(diff))
        return loss, tree.ravel(tree.map(lambda d: 2.0 * d, diff))[0].astype(np.float64)

    res = scipy_optimize.minimize(loss_and_grad, flat0, jac=True, method="L-BFGS-B")
    found = unravel(res.x)
    assert found["b"].dtype == np.float32
    assert np.allclose(found["W"], target["W"], atol=1e-5)
    assert np.allclose(found["b"], target["b"], atol=1e-5)


# --------------------------------------------------------------------------- nn helpers


def test_parameters_name_paths_and_leave_out_buffers(rng):
    net = Net(rng)
    params = nn.parameters(net)
    assert [p for p, _ in params] == [
        "blocks.0.W",
        "blocks.0.b",
        "blocks.1.W",
        "blocks.1.b",
    ]
    assert params[2][1] is net.blocks[1].W
    assert nn.num_parameters(net) == sum(a.size for _, a in params)
    assert nn.num_parameters(net) == sum(m.W.size + m.b.size for m in net.blocks)
    nested = nn.parameters((net, {"extra": np.ones(2)}))
    assert nested[0][0] == "0.blocks.0.W" and nested[-1][0] == "1.extra"
    assert nn.parameters({"k": 3, "f": 1.5}) == []


def test_astype_casts_parameters_and_buffers_into_a_new_model(rng):
    net = Net(rng)
    low = nn.astype(net, np.float32)
    assert type(low) is Net and low is not net
    assert low.blocks[0].W.dtype == np.float32 and low.running_var.dtype == np.float32
    assert np.array_equal(low.blocks[0].W, net.blocks[0].W.astype(np.float32))
    assert low.steps.dtype == net.steps.dtype and type(low.eps) is float
    assert low.act == "relu"
    assert net.blocks[0].W.dtype == np.float64  # the original is unchanged
    assert nn.field_kinds(low) == nn.field_kinds(net)
    with pytest.raises(ValueError, match="not a floating dtype"):
        nn.astype(net, np.int32)


def test_ravel_keeps_device_arrays_on_the_device():
    fakexp = pytest.importorskip("tests.fakexp")
    x = {"W": fakexp.to_device(np.ones((2, 3), np.float32)), "n": 3}
    flat, unravel = tree.ravel(x)
    assert isinstance(flat, fakexp.FakeArray) and flat.shape == (6,)
    back = unravel(flat * 2.0)
    assert isinstance(back["W"], fakexp.FakeArray) and back["W"].dtype == np.float32
    assert np.array_equal(fakexp.to_host(back["W"]), np.full((2, 3), 2.0))


class Linear(nn.Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.W = rng.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.register_buffer("shift", np.zeros(n_out))
        self.scale = 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.scale * (x @ self.W + self.b) + self.shift


def squared_error(model: Linear, x: np.ndarray, y: np.ndarray) -> float:
    return np.sum((model(x) - y) ** 2)


def test_scipy_minimize_fits_a_model_through_its_gradient(rng, tmp_path, monkeypatch):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    import srcgrad

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    model = Linear(3, 2, rng)
    flat0, unravel = tree.ravel(model)
    value_and_grad = srcgrad.value_and_grad(squared_error)

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grads = value_and_grad(unravel(v), x, y)
        flat_grads = tree.ravel(grads)[0]  # None at the buffer and at scale: left out
        assert flat_grads.shape == v.shape
        return float(loss), flat_grads

    res = scipy_optimize.minimize(fun, flat0, jac=True, method="L-BFGS-B", tol=1e-12)
    fitted = unravel(res.x)
    design = np.hstack([x, np.ones((20, 1))])
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(fitted.W, best[:3], atol=1e-5)
    np.testing.assert_allclose(fitted.b, best[3], atol=1e-5)
    assert type(fitted) is Linear and fitted.shift is model.shift
