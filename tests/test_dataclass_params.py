"""User dataclasses are pytree nodes: their fields are children, read as attributes in
the differentiated function, and a gradient is an instance of the same class holding
the gradients (None for settings such as strings).  Such a parameter object was refused
("attribute .W of a value that carries a gradient")."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad import tree
from srcgrad.testing import check_grad
from tests.trust import dataclass_params_src as S


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def _net(rng):
    first = S.Layer(rng.normal(size=(3, 4)), rng.normal(size=4))
    second = S.Layer(rng.normal(size=(4, 2)), rng.normal(size=2), act="relu")
    return S.Net(first, second)


def test_nested_frozen_dataclasses():
    rng = np.random.default_rng(0)
    net, x = _net(rng), rng.normal(size=(5, 3))
    check_grad(S.net_loss, net, x, wrt=(0, 1))
    value, g = srcgrad.value_and_grad(S.net_loss)(net, x)
    assert value == pytest.approx(S.net_loss(net, x), rel=1e-12)
    assert type(g) is S.Net and type(g.first) is S.Layer
    assert g.first.W.shape == (3, 4) and g.second.act is None
    # d loss / d scale = sum(h**2) = loss / scale
    assert g.scale == pytest.approx(value / net.scale, rel=1e-10)


def test_gradient_is_built_without_post_init():
    rng = np.random.default_rng(1)
    p, x = S.Checked(rng.normal(size=(3, 2))), rng.normal(size=(4, 3))
    check_grad(S.checked_loss, p, x)
    assert type(srcgrad.grad(S.checked_loss)(p, x)) is S.Checked


def test_a_list_of_dataclass_layers():
    rng = np.random.default_rng(2)
    layers = [S.Layer(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    check_grad(S.list_of_layers_loss, layers, rng.normal(size=(2, 3)))


def test_tree_functions_and_a_dataclass_registered_by_hand():
    rng = np.random.default_rng(3)
    net = _net(rng)
    leaves, treedef = tree.flatten(net)
    assert len(leaves) == 7  # W, b, act twice and scale
    back = tree.unflatten(treedef, leaves)
    assert type(back) is S.Net and back.second.act == "relu"
    doubled = tree.map(lambda v: v * 2 if isinstance(v, np.ndarray) else v, net)
    np.testing.assert_array_equal(doubled.first.W, 2 * net.first.W)

    class Local:
        pass

    from dataclasses import dataclass

    @dataclass
    class Pair:
        a: np.ndarray
        b: np.ndarray

    tree.flatten(Pair(np.ones(1), np.ones(1)))  # made a node when first seen
    tree.register(  # and its own functions may replace that
        Pair, lambda p: (("a",), (p.a,)), lambda cls, keys, kids: cls(kids[0], None)
    )
    assert len(tree.flatten(Pair(np.ones(1), np.ones(1)))[0]) == 1
    assert tree.is_node(Local()) is False
