"""srcgrad.tree: flatten/unflatten round trips, paths, map, the registration API and the two
encodings (argument signature, skeleton), by example and as properties of random trees.
"""

from __future__ import annotations

import collections
import operator
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcgrad import tree as pytree


class Pair(NamedTuple):
    a: Any
    b: Any


class Triple(NamedTuple):
    x: Any
    y: Any
    z: Any


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (arrays by content)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    kids_a, kids_b = pytree.children(a), pytree.children(b)
    if kids_a is None or kids_b is None:
        return kids_a is kids_b and a == b
    return list(kids_a[0]) == list(kids_b[0]) and all(map(_same, kids_a[1], kids_b[1]))


EXAMPLE = {
    "w": np.arange(3.0),
    "layers": [Pair(1.0, None), (2, "s")],
    "empty": (),
    "nested": {"deep": [[], {}]},
}


# --------------------------------------------------------------------------- by example


def test_flatten_orders_leaves_and_keeps_none():
    leaves, treedef = pytree.flatten(EXAMPLE)
    assert [type(v) for v in leaves] == [np.ndarray, float, type(None), int, str]
    assert treedef.num_leaves == 5
    assert _same(pytree.unflatten(treedef, leaves), EXAMPLE)


def test_unflatten_checks_the_number_of_leaves():
    _, treedef = pytree.flatten([1.0, (2.0, 3.0)])
    with pytest.raises(ValueError, match="fewer"):
        pytree.unflatten(treedef, [1.0, 2.0])
    with pytest.raises(ValueError, match="more"):
        pytree.unflatten(treedef, [1.0, 2.0, 3.0, 4.0])


def test_leaves_and_empty_containers():
    assert pytree.leaves([]) == []
    assert pytree.leaves({}) == []
    assert pytree.leaves(None) == [None]
    assert pytree.leaves(3.0) == [3.0]
    assert (
        pytree.is_node(())
        and not pytree.is_node("ab")
        and not pytree.is_node(np.ones(2))
    )


def test_paths_name_dict_keys_fields_and_positions():
    paths = [p for p, _ in pytree.leaves_with_paths(EXAMPLE)]
    assert paths == [
        ("w",),
        ("layers", 0, "a"),
        ("layers", 0, "b"),
        ("layers", 1, 0),
        ("layers", 1, 1),
    ]
    for path, leaf in pytree.leaves_with_paths(EXAMPLE):
        assert pytree.get(EXAMPLE, path) is leaf


def test_get_raises_for_a_missing_entry():
    with pytest.raises(KeyError):
        pytree.get({"a": 1}, ("b",))
    with pytest.raises(IndexError):
        pytree.get([1], (3,))
    with pytest.raises(KeyError):
        pytree.get(Pair(1, 2), ("c",))
    with pytest.raises(TypeError):
        pytree.get(1.0, (0,))
    assert pytree.get(Pair(1, 2), (1,)) == 2  # a NamedTuple also by position


def test_replace_rebuilds_only_the_path():
    new = pytree.replace(EXAMPLE, ("layers", 0, "a"), 5.0)
    assert new["layers"][0] == Pair(5.0, None)
    assert EXAMPLE["layers"][0] == Pair(1.0, None)
    assert new["w"] is EXAMPLE["w"] and new["nested"] is EXAMPLE["nested"]
    assert pytree.replace([1, [2, 3]], (1, -1), 9) == [1, [2, 9]]
    assert pytree.replace(7, (), 8) == 8


def test_map_keeps_types_and_key_order():
    d = collections.OrderedDict([("z", 1.0), ("a", [2.0, Pair(3.0, 4)])])
    out = pytree.map(lambda v: v * 2, d)
    assert type(out) is collections.OrderedDict and list(out) == ["z", "a"]
    assert out["a"][1] == Pair(6.0, 8) and type(out["a"][1]) is Pair


def test_map_over_several_trees_walks_the_first():
    a = {"x": [1.0, 2.0], "y": Pair(3.0, 4.0)}
    b = {
        "y": (30.0, 40.0),
        "x": [10.0, 20.0],
    }  # other key order, a plain tuple for Pair
    out = pytree.map(lambda u, v: u + v, a, b)
    assert out == {"x": [11.0, 22.0], "y": Pair(33.0, 44.0)}
    # the others may hold a whole subtree where the first has a leaf
    assert pytree.zip_leaves([1.0, 2.0], [[5], (6,)]) == [(1.0, [5]), (2.0, (6,))]


def test_map_with_path_and_stopping_at_a_path():
    tree = {"a": [1.0, 2.0], "b": Pair(3.0, 4.0)}
    seen = pytree.map_with_path(lambda path, v: path, tree)
    assert seen == {"a": [("a", 0), ("a", 1)], "b": Pair(("b", "a"), ("b", "b"))}
    cut = pytree.map_with_path(
        lambda path, v: "cut", tree, is_leaf=lambda path, v: path == ("a",)
    )
    assert cut == {"a": "cut", "b": Pair("cut", "cut")}


def test_is_leaf_stops_flattening():
    leaves = pytree.leaves([(1, 2), [3]], is_leaf=lambda v: isinstance(v, tuple))
    assert leaves == [(1, 2), 3]


def test_signature_encoding_is_stable():
    leaf = lambda v: type(v).__name__  # noqa: E731
    assert pytree.signature({"a": 1.0, "b": [2, None]}, leaf) == (
        "d",
        dict,
        (("a", "float"), ("b", ("s", list, ("int", "NoneType")))),
    )
    assert pytree.signature(Pair(1.0, (2,)), leaf) == (
        "n",
        Pair,
        (("a", "float"), ("b", ("s", tuple, ("int",)))),
    )
    assert pytree.signature(3.0, leaf) == "float"


def test_signature_at_follows_paths():
    leaf = lambda v: type(v).__name__  # noqa: E731
    sig = pytree.signature({"a": [1.0, Pair(2, "s")]}, leaf)
    assert pytree.signature_at(sig, ("a", 0)) == "float"
    assert pytree.signature_at(sig, ("a", -1, "b")) == "str"
    assert pytree.signature_at(sig, ("a", 5)) is None
    assert pytree.signature_at(sig, ("b",)) is None
    assert pytree.signature_at(sig, ("a", 0, 0)) is None  # below a leaf
    node, typ, keys, kids = pytree.signature_node(pytree.signature_at(sig, ("a", 1)))
    assert node is pytree.NAMEDTUPLE and typ is Pair and keys == ("a", "b")
    assert pytree.signature_node("float") is None


def test_skeleton_encoding_is_stable():
    skel = pytree.skeleton({"a": [1.0, Pair(2, None)], "t": ()})
    assert skel == (
        "dict",
        {
            "a": ("seq", [None, ("nt", {"a": None, "b": None}, "Pair")], "list"),
            "t": ("seq", [], "tuple"),
        },
        "dict",
    )
    assert pytree.skeleton(np.ones(2)) is None


def test_skeleton_accessors():
    skel = pytree.skeleton(Triple(1.0, [2.0, 3.0], {"k": 4.0}))
    assert pytree.skeleton_children(skel) == [
        None,
        ("seq", [None, None], "list"),
        ("dict", {"k": None}, "dict"),
    ]
    assert (
        pytree.canonical_key(skel, 1) == "y" and pytree.canonical_key(skel, -1) == "z"
    )
    seq = pytree.skeleton_child(skel, "y")
    assert pytree.canonical_key(seq, -1) == 1 and pytree.canonical_key(seq, 5) == 5
    missing = object()
    assert pytree.skeleton_child(skel, 0, missing) is None
    assert pytree.skeleton_child(skel, 3, missing) is missing
    assert pytree.skeleton_child(seq, 2, missing) is missing
    assert pytree.skeleton_child(pytree.skeleton_child(skel, "z"), "k", missing) is None


# --------------------------------------------------------------------------- registration


class Box:
    """A parameter container: its attributes in ``names`` are the tree's children."""

    def __init__(self, **items: Any) -> None:
        self.names = tuple(items)
        for k, v in items.items():
            setattr(self, k, v)

    def __eq__(self, other: Any) -> bool:
        return (
            type(other) is type(self)
            and all(getattr(self, k) == getattr(other, k) for k in self.names)
            and self.names == other.names
        )


class SubBox(Box):
    pass


def _box_flatten(b: Box) -> tuple[tuple[str, ...], list[Any]]:
    return b.names, [getattr(b, k) for k in b.names]


def _box_unflatten(cls: type, keys: Any, kids: list[Any]) -> Box:
    return cls(**dict(zip(keys, kids)))


@pytest.fixture
def box_node():
    node = pytree.register(Box, _box_flatten, _box_unflatten, name="box")
    yield node
    pytree._REGISTERED.pop(Box)
    pytree._BY_TYPE.clear()


def test_registered_type_is_a_node(box_node):
    b = Box(w=1.0, inner=[2.0, SubBox(c=3.0)])
    assert pytree.node_type(b) is box_node and pytree.node_type(SubBox()) is box_node
    assert pytree.leaves(b) == [1.0, 2.0, 3.0]
    assert [p for p, _ in pytree.leaves_with_paths(b)] == [
        ("w",),
        ("inner", 0),
        ("inner", 1, "c"),
    ]
    doubled = pytree.map(lambda v: v * 2, b)
    assert type(doubled.inner[1]) is SubBox and doubled == Box(
        w=2.0, inner=[4.0, SubBox(c=6.0)]
    )
    leaves, treedef = pytree.flatten(b)
    assert pytree.unflatten(treedef, leaves) == b
    assert pytree.get(b, ("inner", 1, "c")) == 3.0
    assert pytree.replace(b, ("w",), 0.0) == Box(w=0.0, inner=[2.0, SubBox(c=3.0)])
    assert pytree.map(lambda u, v: u + v, b, b) == doubled  # paired by key


def test_registered_type_encodings(box_node):
    b = Box(w=1.0, t=(2.0,))
    sig = pytree.signature(b, lambda v: "leaf")
    assert sig == ("box", Box, (("w", "leaf"), ("t", ("s", tuple, ("leaf",)))))
    assert pytree.signature_at(sig, ("t", 0)) == "leaf"
    assert pytree.skeleton(b) == (
        "box",
        {"w": None, "t": ("seq", [None], "tuple")},
        "Box",
    )


def test_register_refuses_builtin_names_and_twice(box_node):
    with pytest.raises(ValueError, match="taken"):
        pytree.register(SubBox, _box_flatten, _box_unflatten, name="dict")
    with pytest.raises(ValueError, match="already"):
        pytree.register(Box, _box_flatten, _box_unflatten)


def test_runtime_cotangents_walk_registered_types(box_node):
    from srcgrad.runtime import add_cotangents, tree_cotangent, zeros_cotangent

    b = Box(w=np.ones(2), n=3)
    z = zeros_cotangent(b)
    assert type(z) is Box and np.array_equal(z.w, np.zeros(2)) and z.n is None
    part = tree_cotangent(b, (("w",),), [np.full(2, 5.0)])
    assert np.array_equal(part.w, np.full(2, 5.0))
    total = add_cotangents(part, part)
    assert np.array_equal(total.w, np.full(2, 10.0))


# --------------------------------------------------------------------------- properties

_leaf = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=2),
    st.builds(lambda n: np.arange(float(n)), st.integers(0, 3)),
)
_key = st.one_of(st.text(max_size=3), st.integers(-3, 3))


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_key, children, max_size=4),
        st.builds(Pair, children, children),
        st.builds(Triple, children, children, children),
    )


trees = st.recursive(_leaf, _containers, max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_flatten_unflatten_round_trip(tree):
    leaves, treedef = pytree.flatten(tree)
    assert _same(pytree.unflatten(treedef, leaves), tree)
    assert treedef.num_leaves == len(leaves)
    with_paths = [v for _, v in pytree.leaves_with_paths(tree)]
    assert len(with_paths) == len(leaves) and all(map(operator.is_, with_paths, leaves))


@settings(max_examples=150, deadline=None)
@given(trees)
def test_paths_reach_their_leaves(tree):
    pairs = pytree.leaves_with_paths(tree)
    assert len({p for p, _ in pairs}) == len(pairs)
    for path, leaf in pairs:
        assert pytree.get(tree, path) is leaf
        marked = pytree.replace(tree, path, "MARK")
        assert pytree.get(marked, path) == "MARK"
        assert pytree.skeleton(marked) == pytree.skeleton(tree)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_map_identity_and_structure(tree):
    assert _same(pytree.map(lambda v: v, tree), tree)
    assert pytree.skeleton(pytree.map(lambda v: 0, tree)) == pytree.skeleton(tree)
    by_path = pytree.map_with_path(lambda path, v: path, tree)
    for path, _ in pytree.leaves_with_paths(tree):
        assert pytree.get(by_path, path) == path


@settings(max_examples=100, deadline=None)
@given(trees)
def test_map_of_two_trees_pairs_leaves(tree):
    ids = pytree.map(id, tree)
    pairs = pytree.zip_leaves(tree, ids)
    assert [b for _, b in pairs] == [id(v) for v in pytree.leaves(tree)]
    assert _same(pytree.map(lambda v, i: v, tree, ids), tree)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_signature_matches_paths(tree):
    leaf = lambda v: ("leaf", type(v).__name__)  # noqa: E731
    sig = pytree.signature(tree, leaf)
    for path, value in pytree.leaves_with_paths(tree):
        assert pytree.signature_at(sig, path) == leaf(value)
    assert pytree.signature_at(sig, ()) == sig
