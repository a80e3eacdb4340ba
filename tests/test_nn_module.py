"""srcgrad.nn.Module as a Python object and as a pytree: both ways of writing one
(assign in ``__init__``, annotated fields), inheritance, copying, modes, repr, and
taking a model apart and rebuilding it.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np
import pytest

from srcgrad import nn, tree


class Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.W = rng.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W + self.b


class Net(nn.Module):
    """PyTorch's habit, calling ``super().__init__()``."""

    def __init__(self, rng: np.random.Generator, act: str = "tanh") -> None:
        super().__init__()
        self.blocks = [Dense(4, 5, rng), Dense(5, 3, rng)]
        self.act = act
        self.register_buffer("running_mean", np.zeros(3))
        self.eps = 1e-5

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for block in self.blocks:
            x = block(x)
        return np.tanh(x) if self.act == "tanh" else x


class Affine(nn.Module):
    """equinox's habit: annotated fields and a generated ``__init__``."""

    W: np.ndarray
    b: np.ndarray
    act: str = nn.static("tanh")
    scale: np.ndarray = nn.buffer(None)
    count: ClassVar[int] = 0

    def __post_init__(self) -> None:
        self.n_in = self.W.shape[0]


class Scaled(Affine):
    gain: np.ndarray


@pytest.fixture
def net(rng: np.random.Generator) -> Net:
    return Net(rng)


# ----------------------------------------------------------------------- the two habits


def test_init_habit_without_super_sorts_fields_into_kinds(rng):
    class NoSuper(nn.Module):
        def __init__(self) -> None:
            self.W = rng.normal(size=(2, 2))
            self.size = 2
            self.fn = nn.static(np.tanh)
            self.gen = rng

    m = NoSuper()
    assert m.training is True
    assert nn.field_kinds(m) == {
        "training": "static",
        "W": "parameter",
        "size": "static",
        "fn": "static",
        "gen": "constant",
    }


def test_init_habit_with_super_and_buffers(net):
    kinds = nn.field_kinds(net)
    assert kinds["blocks"] == "parameter"
    assert kinds["act"] == "static"
    assert kinds["running_mean"] == "constant"
    assert kinds["eps"] == "constant"
    leaves, treedef = tree.flatten(net)
    # W, b of each block, the buffer and eps; the strings and ints are structure
    assert len(leaves) == 6 and dict(treedef.aux)["act"] == "tanh"


def test_annotated_fields_positional_keyword_defaults_and_post_init():
    W, b = np.ones((2, 3)), np.zeros(3)
    by_position = Affine(W, b)
    by_keyword = Affine(b=b, W=W, act="relu", scale=np.ones(3))
    assert (
        by_position.W is W and by_position.act == "tanh" and by_position.scale is None
    )
    assert by_keyword.act == "relu" and by_keyword.n_in == 2 == by_position.n_in
    assert nn.field_kinds(by_keyword)["scale"] == "constant"
    assert nn.field_kinds(by_keyword)["act"] == "static"
    assert "count" not in vars(by_keyword)
    with pytest.raises(TypeError, match="missing the field 'b'"):
        Affine(W)
    with pytest.raises(TypeError, match="two values"):
        Affine(W, b, W=W)
    with pytest.raises(TypeError, match="unknown fields"):
        Affine(W, b, bias=b)
    with pytest.raises(TypeError, match="positional"):
        Affine(W, b, "relu", None, 1)


def test_inheritance_adds_the_fields_of_base_classes():
    assert Scaled._srcgrad_fields == ("W", "b", "act", "scale", "gain")
    s = Scaled(np.ones((2, 2)), np.zeros(2), "relu", None, np.ones(2))
    assert s.act == "relu" and s.n_in == 2  # the base's __post_init__ runs
    assert [k for k, kind in nn.field_kinds(s).items() if kind == "parameter"] == [
        "W",
        "b",
        "gain",
    ]


def test_a_class_var_annotation_keeps_the_inherited_init(rng):
    class Wider(Net):
        scale: ClassVar[float] = 2.0

    m = Wider(rng, act="relu")
    assert m.act == "relu" and len(m.blocks) == 2


def test_declared_kinds_as_arguments_to_a_generated_init():
    a = Affine(
        np.ones(2), np.ones(2), act=nn.static("relu"), scale=nn.buffer(np.ones(2))
    )
    assert a.act == "relu" and isinstance(a.scale, np.ndarray)
    assert nn.field_kinds(a)["scale"] == "constant"


# ------------------------------------------------------------------------- as an object


def test_deepcopy_copies_arrays_and_keeps_kinds(net):
    twin = copy.deepcopy(net)
    assert type(twin) is Net and twin.blocks[0].W is not net.blocks[0].W
    assert np.array_equal(twin.blocks[0].W, net.blocks[0].W)
    assert nn.field_kinds(twin) == nn.field_kinds(net)
    twin.blocks[0].W[0, 0] += 1.0
    assert twin.blocks[0].W[0, 0] != net.blocks[0].W[0, 0]


def test_attribute_assignment_and_object_setattr(net, rng):
    net.extra = rng.normal(size=3)
    object.__setattr__(net, "offset", np.ones(3))
    net.running_mean = np.ones(3)  # a buffer stays a buffer when reassigned
    kinds = nn.field_kinds(net)
    assert kinds["extra"] == kinds["offset"] == "parameter"
    assert kinds["running_mean"] == "constant"
    del net.running_mean
    net.running_mean = np.ones(3)  # deleted: its declaration went with it
    assert nn.field_kinds(net)["running_mean"] == "parameter"
    net._cache = np.ones(3)  # private: not in the tree
    assert "_cache" not in nn.field_kinds(net)


def test_train_and_eval_set_the_flag_in_place_on_every_sub_module(net):
    assert net.eval() is net
    assert [m.training for m in net.modules()] == [False, False, False]
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.blocks[1].eval()
    assert net.training and net.blocks[0].training and not net.blocks[1].training
    # the flag is structure: a model in eval mode has another tree
    assert tree.flatten(net.eval())[1] != tree.flatten(copy.deepcopy(net).train())[1]


def test_modules_in_dicts_and_tuples_follow_the_mode(rng):
    class Holder(nn.Module):
        def __init__(self) -> None:
            self.heads = {"a": Dense(2, 2, rng), "b": (Dense(2, 1, rng),)}

    h = Holder().eval()
    assert not h.heads["a"].training and not h.heads["b"][0].training


def test_repr_shows_the_tree_with_shapes_and_dtypes(net):
    net.blocks[1].W = net.blocks[1].W.astype(np.float32)
    text = repr(net)
    assert text.splitlines()[0] == "Net("
    assert "W=float64[4, 5]" in text and "W=float32[5, 3]" in text
    assert "running_mean=float64[3] (buffer)" in text
    assert "act='tanh'" in text and "eps=1e-05" in text
    assert text.index("Dense(") < text.index("act=")  # in attribute order
    assert "0." not in text.replace("1e-05", "")  # no array values


def test_repr_of_containers_of_arrays_is_by_shape():
    class P(nn.Module):
        def __init__(self) -> None:
            self.params = {"W": np.ones((2, 3)), "b": (np.zeros(2, np.float32),)}

    assert "params={'W': float64[2, 3], 'b': (float32[2],)}" in repr(P())


# -------------------------------------------------------------------------- as a pytree


def test_unflatten_rebuilds_the_class_without_calling_init():
    calls = []

    class Counted(Net):
        def __init__(self, rng: np.random.Generator) -> None:
            calls.append(1)
            super().__init__(rng, act="relu")

    model = Counted(np.random.default_rng(1)).eval()
    leaves, treedef = tree.flatten(model)
    rebuilt = tree.unflatten(treedef, leaves)
    assert calls == [1]
    assert type(rebuilt) is Counted and type(rebuilt.blocks[0]) is Dense
    assert rebuilt.act == "relu" and rebuilt.training is False
    assert rebuilt.blocks[0].W is model.blocks[0].W
    assert nn.field_kinds(rebuilt) == nn.field_kinds(model)
    assert list(vars(rebuilt)) == list(vars(model))
    assert tree.flatten(rebuilt)[1] == treedef


def test_map_over_a_model_returns_a_model(net):
    doubled = tree.map(lambda x: 2 * x if isinstance(x, np.ndarray) else x, net)
    assert type(doubled) is Net and doubled is not net
    assert np.array_equal(doubled.blocks[1].W, 2 * net.blocks[1].W)
    assert doubled.act == net.act and doubled.eps == net.eps
    assert nn.field_kinds(doubled) == nn.field_kinds(net)
    x = np.ones((2, 4))
    assert np.allclose(doubled.blocks[0](x), x @ (2 * net.blocks[0].W))


def test_map_over_two_models_pairs_their_leaves(net, rng):
    other = Net(rng)
    summed = tree.map(
        lambda a, b: a + b if isinstance(a, np.ndarray) else a, net, other
    )
    assert np.array_equal(summed.blocks[0].b, net.blocks[0].b + other.blocks[0].b)


def test_a_changed_static_field_changes_the_structure(rng):
    a, b = Net(np.random.default_rng(0)), Net(np.random.default_rng(0), act="relu")
    assert tree.flatten(a)[1] != tree.flatten(b)[1]
    assert tree.flatten(a)[1] == tree.flatten(Net(rng))[1]  # arrays are not structure


def test_a_rebuilt_model_keeps_its_structure_whatever_its_leaves(net):
    leaves, treedef = tree.flatten(net)
    # a gradient's None at the float setting and the buffer, ints where arrays were
    for new in ([None] * len(leaves), list(range(len(leaves)))):
        rebuilt = tree.unflatten(treedef, new)
        assert tree.flatten(rebuilt)[1] == treedef
        assert nn.field_kinds(rebuilt) == nn.field_kinds(net)
        assert tree.leaves(rebuilt) == new
