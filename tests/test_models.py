"""Differentiating whole models (issue: Models): ``srcgrad.grad(loss)(model, x, y)`` with
``model(x)`` inside, for models built both ways, nested, with module lists, static fields
that switch branches, buffers, inheritance, shared layers and generators; the gradient is a
model of the same class; the cache keys the code by the model's static structure only.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import srcgrad
from srcgrad import nn, tree
from srcgrad.testing import check_grad
from tests.models import models_src as M


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _data(rng, n_in=4, n_out=3, n=5):
    return rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))


def test_a_net_of_blocks_in_a_list_and_a_head(rng):
    net = M.Net(rng)
    x, y = _data(rng)
    g = srcgrad.grad(M.mse)(net, x, y)
    assert type(g) is M.Net and type(g.blocks[0]) is M.Dense
    assert g.blocks[1].act == "tanh" and g.head.act == "none"
    assert g.scale is None  # a float setting: no gradient
    assert g.head.W.shape == net.head.W.shape
    check_grad(M.mse, net, x, y)
    # the static `act` decides its branches when the code is generated
    df = srcgrad.grad(M.mse)
    df(net, x, y)
    assert "tanh" in df.source and '== "tanh"' not in df.source
    assert "maximum" not in df.source  # no layer here is a relu


def test_annotated_fields_and_a_static_default(rng):
    layer = M.Affine(rng.standard_normal((4, 3)), np.zeros(3))
    x, y = _data(rng)
    check_grad(M.mse, layer, x, y)
    linear = M.Affine(layer.W, layer.b, act="none")
    g_lin = srcgrad.grad(M.mse)(linear, x, y)
    pred = x @ linear.W + linear.b
    np.testing.assert_allclose(g_lin.b, 2 * np.mean(pred - y, axis=0) / 3)


def test_inheritance_and_a_module_passed_to_a_function(rng):
    layer = M.Scaled(rng.standard_normal((4, 3)), np.zeros(3), gain=np.full(3, 2.0))
    x, y = _data(rng)
    g = srcgrad.grad(M.mse)(layer, x, y)
    assert type(g) is M.Scaled and g.gain.shape == (3,)
    check_grad(M.mse, layer, x, y)


def test_helper_methods_dict_of_layers_and_a_buffer(rng):
    enc = M.Encoder(rng)
    x, y = _data(rng, n_out=6)
    g = srcgrad.grad(M.mse)(enc, x, y)
    assert g.norm.running_mean is None and g.norm.eps is None
    assert set(g.layers) == {"inp", "out"}
    check_grad(M.mse, enc, x, y)
    enc.eval()
    assert enc.norm.training is False
    enc.norm.running_mean = rng.standard_normal(6)
    check_grad(M.mse, enc, x, y)


def test_a_layer_used_twice_gets_the_sum_of_its_gradients(rng):
    tied = M.Tied(rng)
    x, y = _data(rng, n_out=4)
    g = srcgrad.grad(M.mse)(tied, x, y)
    np.testing.assert_allclose(g.first.W, g.second.W)
    eps = 1e-6
    W = tied.first.W
    num = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        W[i] += eps
        up = M.mse(tied, x, y)
        W[i] -= 2 * eps
        down = M.mse(tied, x, y)
        W[i] += eps
        num[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(g.first.W, num, rtol=1e-5, atol=1e-8)


def test_a_generator_the_model_holds_draws_once_per_call(rng):
    drop = M.Dropout(np.random.default_rng(5))
    x, y = _data(rng, n_out=5)
    drop.rng = np.random.default_rng(5)
    value, g = srcgrad.value_and_grad(M.mse)(drop, x, y)
    drop.rng = np.random.default_rng(5)
    assert value == M.mse(drop, x, y)
    assert g.rng is None and g.p is None

    drop.rng = np.random.default_rng(9)
    g = srcgrad.grad(M.mse)(drop, x, y)
    keep = np.random.default_rng(9).random((x.shape[0], 5)) >= 0.25

    def masked(W, b):
        h = np.tanh(x @ W + b)
        return np.mean((np.where(keep, h / 0.75, 0.0) - y) ** 2)

    expected = srcgrad.grad(masked, wrt=(0, 1))(drop.lin.W, drop.lin.b)
    np.testing.assert_allclose(g.lin.W, expected[0])
    np.testing.assert_allclose(g.lin.b, expected[1])
    check_grad(masked, drop.lin.W, drop.lin.b, wrt=(0, 1))


def test_value_and_grad_vjp_and_has_aux_with_a_model(rng):
    net = M.Net(rng)
    x, y = _data(rng)
    (value, pred), g = srcgrad.value_and_grad(M.loss_with_aux, has_aux=True)(net, x, y)
    assert value == M.mse(net, x, y)
    np.testing.assert_array_equal(pred, net(x))
    out, pullback = srcgrad.vjp(M.mse)(net, x, y)
    g2 = pullback(1.0)
    for a, b in zip(tree.leaves(g), tree.leaves(g2)):
        if a is not None:
            np.testing.assert_allclose(a, b)


def test_the_cache_keys_static_fields_not_lengths_or_floats(rng, tmp_path):
    x, y = _data(rng)
    grad = srcgrad.grad(M.mse)
    grad(M.Net(rng), x, y)
    wide = M.Net(rng, sizes=(4, 16, 16, 3))
    grad(wide, x, y)
    wide.scale = 2.0
    grad(wide, x, y)
    files = sorted(p.name for p in tmp_path.rglob("*.py"))
    assert len(files) == 1, files
    relu = M.Net(rng)
    relu.blocks[0].act = "relu"
    grad(relu, x, y)
    check_grad(M.mse, relu, x, y)
    deeper = M.Net(rng, sizes=(4, 8, 8, 8, 3))
    grad(deeper, x, y)
    assert len(sorted(tmp_path.rglob("*.py"))) == 3


def test_a_changed_method_makes_new_code(rng, tmp_path, monkeypatch):
    layer = M.Affine(rng.standard_normal((4, 3)), np.zeros(3))
    x, y = _data(rng)
    g1 = srcgrad.grad(M.mse)(layer, x, y)

    def doubled(self, x):
        return 2.0 * np.tanh(x @ self.W + self.b)

    monkeypatch.setattr(M.Affine, "__call__", doubled)
    g2 = srcgrad.grad(M.mse)(layer, x, y)
    assert not np.allclose(g1.W, g2.W)
    check_grad(M.mse, layer, x, y)


def test_a_class_without_a_python_call_is_refused_at_the_users_line(rng):
    class Plain(nn.Module):
        def __init__(self):
            self.W = np.ones((4, 3))

    with pytest.raises(srcgrad.SrcgradError) as err:
        srcgrad.grad(M.mse)(Plain(), *_data(rng))
    text = str(err.value)
    assert "models_src.py:" in text and "__call__" in text and "hint:" in text


def test_buffers_updated_in_the_forward_pass_as_the_plain_call_does(rng):
    net, twin = M.BNNet(rng), None
    twin = copy.deepcopy(net)
    x, y = _data(rng, n_out=3)
    value, g = srcgrad.value_and_grad(M.mse)(net, x, y)
    assert value == M.mse(twin, x, y)
    np.testing.assert_array_equal(net.bn.running_mean, twin.bn.running_mean)
    np.testing.assert_array_equal(net.bn.running_var, twin.bn.running_var)
    assert not np.all(net.bn.running_mean == 0)
    assert g.bn.running_mean is None and g.bn.gamma.shape == (6,)
    check_grad(M.mse, net, x, y)
    net.eval()
    check_grad(M.mse, net, x, y)
    before = net.bn.running_mean.copy()
    srcgrad.grad(M.mse)(net, x, y)
    np.testing.assert_array_equal(net.bn.running_mean, before)  # eval: left alone


def test_assigning_a_parameter_in_the_forward_pass_is_refused_with_a_hint(rng):
    with pytest.raises(srcgrad.SrcgradError) as err:
        srcgrad.grad(M.mse)(M.WritesParameter(), *_data(rng))
    text = str(err.value)
    assert "models_src.py:" in text and "parameter 'W'" in text
    assert "nn.buffer" in text


def test_the_example_models_differentiate_right(rng):
    from examples import modules as ex

    small = ex.ResidualMLP(rng, n_in=6, hidden=5, n_out=3)
    x, labels = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    check_grad(lambda m: ex.cross_entropy(m(x), labels), small)
    cnn = ex.SmallCNN(rng, size=6)
    images = rng.standard_normal((3, 1, 6, 6))
    value, g = ex.cnn_loss(cnn, images, rng.integers(0, 10, 3))
    assert type(g) is ex.SmallCNN and g.conv.k == 3
    check_grad(ex.cross_entropy_of, cnn, images, np.array([1, 4, 7]))


SCRIPT = """
import numpy as np
import srcgrad
from srcgrad import nn


class Layer(nn.Module):
    def __init__(self, rng, act="tanh"):
        self.W = rng.standard_normal((3, 2))
        self.act = act

    def __call__(self, x):
        return np.tanh(x @ self.W) if self.act == "tanh" else x @ self.W


def example():
    rng = np.random.default_rng(0)
    return Layer(rng), rng.standard_normal((4, 3))


@srcgrad.grad(example=example)
def decorated(model, x):
    return np.sum(model(x) ** 2)


def called(model, x):
    return np.sum(model(x))


if __name__ == "__main__":
    print(srcgrad.grad(called, example=example)(*example()))
"""


@pytest.mark.slow
def test_gen_specialises_a_models_loss_on_its_example(tmp_path):
    from tests.test_cli import run, write

    write(tmp_path / "net.py", SCRIPT)
    cache = tmp_path / "c"
    r = run("gen", "net.py", cwd=tmp_path, cache=cache)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    names = sorted(p.name.split("__")[0] for p in (cache / "net").glob("*.py"))
    assert names == ["called", "decorated"], out
    r = run("gen", "--check", "net.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("check", "net.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0 and "2 functions can be differentiated" in r.stderr, (
        r.stdout + r.stderr
    )


def test_a_function_the_model_holds_is_called_by_its_global_name(rng, tmp_path):
    x, y = _data(rng)
    for act in (np.tanh, np.sin, M.leaky):
        layer = M.WithActivation(rng, act=act)
        check_grad(M.mse, layer, x, y)
    assert len(list(tmp_path.rglob("*.py"))) == 3  # one file per function held
    with pytest.raises(srcgrad.SrcgradError) as err:
        srcgrad.grad(M.mse)(M.WithActivation(rng, act=lambda h: h * 2.0), x, y)
    assert "models_src.py:" in str(err.value) and "static field 'act'" in str(err.value)


def test_tuples_of_sizes_and_settings_are_static(rng):
    model = M.Reshaper()
    assert nn.field_kinds(model)["size"] == "static"
    x = rng.standard_normal(6)

    def loss(m, x):
        return np.sum(m(x) ** 2)

    g = srcgrad.grad(loss)(model, x)
    assert g.size == (2, 3) and g.W.shape == (6,)
    check_grad(loss, model, x)
