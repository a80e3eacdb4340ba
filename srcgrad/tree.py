"""Pytrees: which values are containers, and the one way to take them apart and rebuild them.

A *node* is a value whose children belong to the tree: a dict (children keyed by its keys, in
insertion order), a NamedTuple or a user's dataclass (keyed by field name, in field order), a
list or a tuple (keyed by position), or an instance of a type given to :func:`register`.  Everything else is a *leaf*,
``None`` included; an empty container is a node without leaves.  A *path* is the tuple of keys
from the root to a value.

Everything in srcgrad that walks an argument, a gradient or a result container goes through
this module: flatten/unflatten, leaves with their paths, map over one or several trees, and the
two encodings of a tree that other code keys on:

* :func:`signature`: an argument's typed signature (the specialisation key of ``api``):
  ``("d", type, ((key, sig), ...))`` for dicts, ``("n", type, ((field, sig), ...))`` for
  NamedTuples, ``("s", type, (sig, ...))`` for lists and tuples, the leaf function's result
  for leaves.  Its text is part of cache keys: the encoding must not change.
* :func:`skeleton`: a container argument's structure for the normalizer, types and keys only:
  ``("dict", {key: skel}, name)``, ``("nt", {field: skel}, qualname)``, ``("seq", [skel],
  name)``, ``None`` for a leaf.

Nothing here imports the rest of srcgrad: the runtime that emitted code imports uses it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "NodeType",
    "TreeDef",
    "register",
    "node_type",
    "is_node",
    "children",
    "rebuild",
    "flatten",
    "unflatten",
    "leaves",
    "leaves_with_paths",
    "leaves_with_path",
    "variable_leaves_with_paths",
    "path_string",
    "ravel",
    "constant_paths",
    "zip_leaves",
    "map",
    "map_with_path",
    "get",
    "replace",
    "signature",
    "signature_node",
    "signature_at",
    "skeleton",
    "skeleton_children",
    "skeleton_child",
    "canonical_key",
    "DICT",
    "NAMEDTUPLE",
    "SEQUENCE",
]

Path = tuple[Any, ...]
_map = map  # the builtin, before this module's ``map`` hides it


@dataclass(frozen=True, eq=False)
class NodeType:
    """How one kind of container is taken apart and rebuilt.

    ``flatten(x)`` gives ``(keys, children)``; ``unflatten(cls, keys, children)`` builds an
    instance of ``cls`` (the type of the value flattened, maybe a subclass of the registered
    one) from them.  ``child(x, key)`` is one child (raising ``KeyError``, ``IndexError`` or
    ``TypeError`` when there is none).  ``positional``: the children pair by position when
    several trees are walked together (lists, tuples, NamedTuples), else by key.  ``name`` is
    the kind in :func:`skeleton`, ``tag`` in :func:`signature`.

    ``aux(x)``, when given, is what a node holds besides its children (a Module's static
    fields): hashable, part of :func:`signature` and :func:`skeleton`, kept in a
    :class:`TreeDef`, and passed to ``unflatten`` as a fourth argument.  ``constants(x)``,
    when given, names the children that are leaves no gradient flows to (a Module's buffers
    and float settings): a gradient of ``x`` holds None there.
    """

    name: str
    tag: str
    flatten: Callable[[Any], tuple[Sequence[Any], Sequence[Any]]]
    unflatten: Callable[[type, Sequence[Any], list[Any]], Any]
    child: Callable[[Any, Any], Any]
    positional: bool = False
    qualified_name: bool = (
        True  # the skeleton names the type by __qualname__, else __name__
    )
    aux: Callable[[Any], Any] | None = None
    constants: Callable[[Any], Any] | None = None

    def build(self, cls: type, keys: Sequence[Any], kids: list[Any], aux: Any) -> Any:
        """A node of type ``cls`` from its keys, children and aux data."""
        if self.aux is None:
            return self.unflatten(cls, keys, kids)
        return self.unflatten(cls, keys, kids, aux)  # type: ignore[call-arg]

    def like(self, x: Any, keys: Sequence[Any], kids: list[Any]) -> Any:
        """A node like ``x`` (its type and aux data) with the children ``kids``."""
        return self.build(
            type(x), keys, kids, None if self.aux is None else self.aux(x)
        )


def _dict_flatten(x: dict) -> tuple[Sequence[Any], Sequence[Any]]:
    return tuple(x), tuple(x.values())


def _dict_unflatten(cls: type, keys: Sequence[Any], kids: list[Any]) -> Any:
    return cls(zip(keys, kids))


def _namedtuple_flatten(x: tuple) -> tuple[Sequence[Any], Sequence[Any]]:
    return type(x)._fields, x  # type: ignore[attr-defined]


def _namedtuple_unflatten(cls: type, keys: Sequence[Any], kids: list[Any]) -> Any:
    return cls(*kids)


def _namedtuple_child(x: tuple, key: Any) -> Any:
    if isinstance(key, str):
        try:
            return getattr(x, key)
        except AttributeError as err:
            raise KeyError(key) from err
    return x[key]


def _sequence_flatten(x: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    return range(len(x)), x


def _sequence_unflatten(cls: type, keys: Sequence[Any], kids: list[Any]) -> Any:
    return cls(kids)


def _item(x: Any, key: Any) -> Any:
    return x[key]


DICT = NodeType(
    "dict", "d", _dict_flatten, _dict_unflatten, _item, qualified_name=False
)
NAMEDTUPLE = NodeType(
    "nt",
    "n",
    _namedtuple_flatten,
    _namedtuple_unflatten,
    _namedtuple_child,
    positional=True,
)
SEQUENCE = NodeType(
    "seq",
    "s",
    _sequence_flatten,
    _sequence_unflatten,
    _item,
    positional=True,
    qualified_name=False,
)

_BUILTIN = {"dict", "d", "nt", "n", "seq", "s"}
_REGISTERED: dict[type, NodeType] = {dict: DICT, list: SEQUENCE, tuple: SEQUENCE}
_AUTOMATIC: set[type] = set()  # dataclasses made nodes when first seen
_BY_TYPE: dict[type, NodeType | None] = (
    {}
)  # every type seen: its node type, None for leaves


def register(
    cls: type,
    flatten: Callable[[Any], tuple[Sequence[Any], Sequence[Any]]],
    unflatten: Callable[[type, Sequence[Any], list[Any]], Any],
    *,
    name: str | None = None,
    child: Callable[[Any, Any], Any] | None = None,
    aux: Callable[[Any], Any] | None = None,
    constants: Callable[[Any], Any] | None = None,
) -> NodeType:
    """Make ``cls`` (and its subclasses) a node of every tree.

    Args:
        cls: the container type.
        flatten: ``x -> (keys, children)``: one hashable key per child, children in order.
        unflatten: ``(cls, keys, children) -> x``: the inverse (``cls`` is the type of the
            value that was flattened).
        name: the kind in signatures and skeletons (default: ``cls.__qualname__``).
        child: ``(x, key) -> child``; default: looked up in ``flatten(x)``.
        aux: ``x -> hashable``: what the node holds besides its children; ``unflatten`` then
            takes it as a fourth argument (see :class:`NodeType`).
        constants: ``x -> keys`` of the children no gradient flows to.

    Returns:
        the new :class:`NodeType`.
    """
    kind = name or cls.__qualname__
    if kind in _BUILTIN:
        raise ValueError(f"pytree node name {kind!r} is taken by a built-in container")
    if cls in _REGISTERED and cls not in _AUTOMATIC:
        raise ValueError(f"{cls.__qualname__} is already a pytree node")
    _AUTOMATIC.discard(cls)  # a dataclass registered by hand: its own functions

    def lookup(x: Any, key: Any) -> Any:
        keys, kids = flatten(x)
        for k, v in zip(keys, kids):
            if k == key:
                return v
        raise KeyError(key)

    node = NodeType(
        kind, kind, flatten, unflatten, child or lookup, aux=aux, constants=constants
    )
    _REGISTERED[cls] = node
    _BY_TYPE.clear()
    return node


def _lookup(t: type) -> NodeType | None:
    node = _REGISTERED.get(t)
    if node is None and issubclass(t, tuple) and hasattr(t, "_fields"):
        node = NAMEDTUPLE
    if node is None:
        node = next((_REGISTERED[b] for b in t.__mro__ if b in _REGISTERED), None)
    if node is None and _user_dataclass(t):
        node = _dataclass_node(t)
    _BY_TYPE[t] = node
    return node


def _user_dataclass(t: type) -> bool:
    """A dataclass of the user's (srcgrad's own dataclasses are not containers)."""
    return dataclasses.is_dataclass(t) and not (t.__module__ or "").startswith(
        "srcgrad."
    )


def _dataclass_node(t: type) -> NodeType:
    """A dataclass: a node whose children are its fields, keyed by name in field order
    (like a NamedTuple's, read as attributes).  Rebuilt without calling ``__init__`` or
    ``__post_init__`` (a gradient holds gradients in those fields), frozen or not."""
    names = tuple(f.name for f in dataclasses.fields(t))

    def flatten(x: Any) -> tuple[Sequence[Any], Sequence[Any]]:
        return names, tuple(getattr(x, n) for n in names)

    def unflatten(cls: type, keys: Sequence[Any], kids: list[Any]) -> Any:
        obj = object.__new__(cls)
        for k, v in zip(keys, kids):
            object.__setattr__(obj, k, v)
        return obj

    def child(x: Any, key: Any) -> Any:
        if key not in names:
            raise KeyError(key)
        return getattr(x, key)

    node = NodeType(t.__qualname__, t.__qualname__, flatten, unflatten, child)
    _REGISTERED[t] = node
    _AUTOMATIC.add(t)
    return node


def node_type(x: Any) -> NodeType | None:
    """The :class:`NodeType` of ``x``, or None when ``x`` is a leaf."""
    t = type(x)
    try:
        return _BY_TYPE[t]
    except KeyError:
        return _lookup(t)


def is_node(x: Any) -> bool:
    """Whether ``x`` is a container of the tree (not a leaf)."""
    return node_type(x) is not None


def children(x: Any) -> tuple[Sequence[Any], Sequence[Any]] | None:
    """``(keys, children)`` of a node, None for a leaf."""
    node = node_type(x)
    return None if node is None else node.flatten(x)


def rebuild(like: Any, kids: Sequence[Any]) -> Any:
    """A node of ``like``'s type and keys with the children ``kids``."""
    node = node_type(like)
    if node is None:
        raise TypeError(f"{type(like).__qualname__} is not a pytree node")
    return node.like(like, node.flatten(like)[0], list(kids))


# --------------------------------------------------------------------------- flatten


@dataclass(frozen=True)
class TreeDef:
    """The structure of a tree without its leaves: ``node`` None for a leaf."""

    node: NodeType | None
    type: type | None = None
    keys: tuple[Any, ...] = ()
    children: tuple[TreeDef, ...] = ()
    aux: Any = None

    @property
    def num_leaves(self) -> int:
        if self.node is None:
            return 1
        return sum(c.num_leaves for c in self.children)


_LEAF = TreeDef(None)
_END = object()  # the end of the leaves given to unflatten
IsLeaf = Callable[[Any], bool] | None


def flatten(x: Any, is_leaf: IsLeaf = None) -> tuple[list[Any], TreeDef]:
    """The leaves of ``x`` in order, and its structure (``is_leaf`` may stop at a node)."""
    out: list[Any] = []
    return out, _flatten(x, is_leaf, out)


def _flatten(x: Any, is_leaf: IsLeaf, out: list[Any]) -> TreeDef:
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(x)):
        out.append(x)
        return _LEAF
    keys, kids = node.flatten(x)
    return TreeDef(
        node,
        type(x),
        tuple(keys),
        tuple(_flatten(v, is_leaf, out) for v in kids),
        None if node.aux is None else node.aux(x),
    )


def unflatten(treedef: TreeDef, new_leaves: Sequence[Any]) -> Any:
    """The tree of structure ``treedef`` with ``new_leaves`` in leaf order."""
    it = iter(new_leaves)
    out = _unflatten(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError("unflatten: more leaves than the structure holds")
    return out


def _unflatten(treedef: TreeDef, it: Iterator[Any]) -> Any:
    if treedef.node is None:
        try:
            return next(it)
        except StopIteration:
            raise ValueError(
                "unflatten: fewer leaves than the structure holds"
            ) from None
    kids = [_unflatten(c, it) for c in treedef.children]
    return treedef.node.build(treedef.type, treedef.keys, kids, treedef.aux)  # type: ignore[arg-type]


def leaves(x: Any, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of ``x`` in order."""
    return flatten(x, is_leaf)[0]


def leaves_with_paths(x: Any, is_leaf: IsLeaf = None) -> list[tuple[Path, Any]]:
    """``(path, leaf)`` for every leaf of ``x``, in order."""
    out: list[tuple[Path, Any]] = []
    _with_paths(x, (), is_leaf, out)
    return out


def _with_paths(
    x: Any, path: Path, is_leaf: IsLeaf, out: list[tuple[Path, Any]]
) -> None:
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(x)):
        out.append((path, x))
        return
    keys, kids = node.flatten(x)
    for k, v in zip(keys, kids):
        _with_paths(v, path + (k,), is_leaf, out)


leaves_with_path = leaves_with_paths  # the spelling other pytree libraries use


def variable_leaves_with_paths(
    x: Any, is_leaf: IsLeaf = None
) -> list[tuple[Path, Any]]:
    """``(path, leaf)`` for every leaf of ``x`` a gradient may reach: the leaves of
    :func:`leaves_with_paths` less those under a child that its node names a constant (a
    Module's buffers, float settings and random generators)."""
    out: list[tuple[Path, Any, bool]] = []
    _marked(x, (), True, is_leaf, out)
    return [(path, leaf) for path, leaf, variable in out if variable]


def _marked(
    x: Any,
    path: Path,
    variable: bool,
    is_leaf: IsLeaf,
    out: list[tuple[Path, Any, bool]],
) -> None:
    """Every leaf in :func:`flatten`'s order, with its path and whether no node on the
    way names it (or a container above it) a constant."""
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(x)):
        out.append((path, x, variable))
        return
    keys, kids = node.flatten(x)
    constant = frozenset(node.constants(x)) if node.constants is not None else ()
    for k, v in zip(keys, kids):
        _marked(v, path + (k,), variable and k not in constant, is_leaf, out)


def path_string(path: Path) -> str:
    """A path as text, its keys joined by dots: ``("blocks", 0, "W")`` ->
    ``"blocks.0.W"`` (the root's empty path is ``""``)."""
    return ".".join(str(k) for k in path)


def constant_paths(x: Any) -> set[Path]:
    """The paths of the children that nodes of ``x`` name constants (a model's buffers and
    float settings): leaves no gradient flows to."""
    out: set[Path] = set()
    _constant_paths(x, (), out)
    return out


def _constant_paths(x: Any, path: Path, out: set[Path]) -> None:
    node = node_type(x)
    if node is None:
        return
    keys, kids = node.flatten(x)
    constants = node.constants(x) if node.constants is not None else ()
    for k, v in zip(keys, kids):
        if k in constants:
            out.add(path + (k,))
        else:
            _constant_paths(v, path + (k,), out)


def _rest_children(
    node: NodeType, keys: Sequence[Any], rest: tuple[Any, ...]
) -> list[list]:
    """The children of each of ``rest`` that pair with ``keys`` of a ``node``."""
    if node.positional:
        return [[r[i] for i in range(len(keys))] for r in rest]
    return [[node.child(r, k) for k in keys] for r in rest]


def zip_leaves(x: Any, *rest: Any, is_leaf: IsLeaf = None) -> list[tuple[Any, ...]]:
    """For every leaf of ``x``: the leaf and the values at its place in each of ``rest``
    (walked along ``x``'s structure: they may hold whole subtrees where ``x`` has a leaf).
    """
    out: list[tuple[Any, ...]] = []
    _zip(x, rest, is_leaf, out)
    return out


def _zip(
    x: Any, rest: tuple[Any, ...], is_leaf: IsLeaf, out: list[tuple[Any, ...]]
) -> None:
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(x)):
        out.append((x, *rest))
        return
    keys, kids = node.flatten(x)
    for v, *others in zip(kids, *_rest_children(node, keys, rest)):
        _zip(v, tuple(others), is_leaf, out)


def map(fn: Callable[..., Any], x: Any, *rest: Any, is_leaf: IsLeaf = None) -> Any:
    """``x`` with each leaf replaced by ``fn(leaf, *values)``, ``values`` the values at the
    leaf's place in ``rest`` (see :func:`zip_leaves`); containers rebuilt in their type.
    """
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(x)):
        return fn(x, *rest)
    keys, kids = node.flatten(x)
    if rest:
        pairs = zip(kids, *_rest_children(node, keys, rest))
        new = [map(fn, v, *others, is_leaf=is_leaf) for v, *others in pairs]
    else:
        new = [map(fn, v, is_leaf=is_leaf) for v in kids]
    return node.like(x, keys, new)


PathIsLeaf = Callable[[Path, Any], bool] | None


def map_with_path(
    fn: Callable[..., Any],
    x: Any,
    *rest: Any,
    is_leaf: PathIsLeaf = None,
    path: Path = (),
) -> Any:
    """Like :func:`map`, with ``fn(path, leaf, *values)`` and ``is_leaf(path, value)``."""
    node = node_type(x)
    if node is None or (is_leaf is not None and is_leaf(path, x)):
        return fn(path, x, *rest)
    keys, kids = node.flatten(x)
    others = _rest_children(node, keys, rest) if rest else []
    new = [
        map_with_path(fn, v, *(o[i] for o in others), is_leaf=is_leaf, path=path + (k,))
        for i, (k, v) in enumerate(zip(keys, kids))
    ]
    return node.like(x, keys, new)


def get(x: Any, path: Path) -> Any:
    """The value at ``path`` in ``x`` (``KeyError``/``IndexError``/``TypeError`` if none)."""
    for key in path:
        node = node_type(x)
        if node is None:
            raise TypeError(f"{type(x).__qualname__} has no children (key {key!r})")
        x = node.child(x, key)
    return x


def replace(x: Any, path: Path, new: Any) -> Any:
    """A copy of ``x`` with the value at ``path`` replaced (the nodes on the path rebuilt)."""
    if not path:
        return new
    node = node_type(x)
    if node is None:
        raise TypeError(f"{type(x).__qualname__} has no children (key {path[0]!r})")
    keys, kids = node.flatten(x)
    keys = list(keys)
    at = keys.index(path[0]) if path[0] in keys else _position(path[0], len(keys))
    kids = list(kids)
    kids[at] = replace(kids[at], path[1:], new)
    return node.like(x, keys, kids)


def _position(key: Any, n: int) -> int:
    if isinstance(key, int) and -n <= key < n:
        return key % n
    raise KeyError(key)


# --------------------------------------------------------------------------- ravel


def _inexact(v: Any) -> bool:
    """A floating or complex leaf: a Python float or complex, or an array or numpy
    scalar of such a dtype."""
    if type(v) in (float, complex):
        return True
    dtype = getattr(v, "dtype", None)
    return (
        dtype is not None
        and type(getattr(v, "shape", None)) is tuple
        and np.dtype(dtype).kind in "fc"
    )


def ravel(x: Any) -> tuple[Any, Callable[[Any], Any]]:
    """One flat vector of the floating leaves of ``x`` that a gradient may reach, and
    the function back (for ``scipy.optimize`` and other code that wants one vector).

    The vector holds, in leaf order, every float or complex array, numpy scalar and
    Python float of ``x`` outside the children its nodes name constants (a Module's
    buffers and float settings stay out, so ``ravel(model)`` and ``ravel(grads)`` line
    up).  Its dtype is the leaves' common dtype (Python floats do not widen float32
    arrays; float64 when there are no leaves).  ``unravel(vector)`` returns a tree of
    ``x``'s structure with new leaves cut from ``vector``, each of its own shape and
    dtype (a Python float stays a float); every other leaf is ``x``'s own.

    Returns:
        ``(vector, unravel)``.

    Raises:
        ValueError: from ``unravel``, for a vector of another length.
    """
    marked: list[tuple[Path, Any, bool]] = []
    _marked(x, (), True, None, marked)
    old = [leaf for _, leaf, _ in marked]
    treedef = flatten(x)[1]
    picked = [i for i, (_, leaf, var) in enumerate(marked) if var and _inexact(leaf)]
    values = [old[i] for i in picked]
    kinds = [v if type(v) in (float, complex) else np.dtype(v.dtype) for v in values]
    dtype = np.result_type(*kinds) if kinds else np.dtype(np.float64)
    xp = _array_module(values)
    parts = [xp.asarray(v, dtype=dtype).reshape(-1) for v in values]
    vector = xp.concatenate(parts) if parts else xp.zeros(0, dtype=dtype)
    shapes = [np.shape(v) if type(v) in (float, complex) else v.shape for v in values]
    sizes = [int(np.prod(shape)) for shape in shapes]

    def unravel(flat: Any) -> Any:
        if tuple(getattr(flat, "shape", (-1,))) != (sum(sizes),):
            raise ValueError(
                f"unravel: expected a vector of {sum(sizes)} values, "
                f"got shape {getattr(flat, 'shape', type(flat).__name__)}"
            )
        new = list(old)
        start = 0
        for i, v, shape, n in zip(picked, values, shapes, sizes):
            piece = flat[start : start + n]
            start += n
            if type(v) in (float, complex):
                new[i] = type(v)(piece[0])
            elif isinstance(v, np.generic):
                new[i] = v.dtype.type(piece[0])
            else:
                new[i] = piece.reshape(shape).astype(v.dtype)
        return unflatten(treedef, new)

    return vector, unravel


def _array_module(values: list[Any]) -> Any:
    """The namespace of the first array among ``values`` that is not numpy's (cupy),
    else numpy."""
    for v in values:
        if not isinstance(v, (np.ndarray, np.generic, float, complex)):
            get = getattr(v, "__array_namespace__", None)
            if get is not None:
                return get()
    return np


# --------------------------------------------------------------------------- encodings


def signature(x: Any, leaf: Callable[[Any], Any]) -> Any:
    """The typed signature of ``x``: nodes encoded as the module docstring says, each leaf as
    ``leaf(value)``."""
    node = node_type(x)
    if node is None:
        return leaf(x)
    keys, kids = node.flatten(x)
    sigs = tuple(signature(v, leaf) for v in kids)
    if node is SEQUENCE:
        return ("s", type(x), sigs)
    if node.aux is not None:  # (a Module: its static fields are part of the signature)
        return (node.tag, type(x), tuple(zip(keys, sigs)), node.aux(x))
    return (node.tag, type(x), tuple(zip(keys, sigs)))


_TAGS = {"d": DICT, "n": NAMEDTUPLE, "s": SEQUENCE}


def signature_node(
    sig: Any,
) -> tuple[NodeType, type, tuple[Any, ...], tuple[Any, ...]] | None:
    """``(node type, container type, keys, child signatures)`` of a container's signature,
    None for a leaf's."""
    if (
        not isinstance(sig, tuple)
        or len(sig) not in (3, 4)
        or not isinstance(sig[0], str)
    ):
        return None
    node = _TAGS.get(sig[0])
    if node is None:
        node = next((n for n in _REGISTERED.values() if n.tag == sig[0]), None)
        if node is None:
            return None
    if node is SEQUENCE:
        return node, sig[1], tuple(range(len(sig[2]))), tuple(sig[2])
    keys = tuple(k for k, _ in sig[2])
    return node, sig[1], keys, tuple(s for _, s in sig[2])


def signature_at(sig: Any, path: Path) -> Any:
    """The signature of the value at ``path`` (``path`` as in the code that reads it: a
    NamedTuple's children by field name, a sequence's by index, negative ones too), or None.
    """
    for key in path:
        parts = signature_node(sig)
        if parts is None:
            return None
        node, _, keys, kids = parts
        if node is SEQUENCE:
            if not isinstance(key, int) or not -len(kids) <= key < len(kids):
                return None
            sig = kids[key]
        else:
            sig = dict(zip(keys, kids)).get(key)
    return sig


def skeleton(x: Any) -> Any:
    """The structure of ``x``: kinds, types (by name) and keys, never values or shapes."""
    node = node_type(x)
    if node is None:
        return None
    keys, kids = node.flatten(x)
    t = type(x)
    name = t.__qualname__ if node.qualified_name else t.__name__
    if node is SEQUENCE:
        return ("seq", [skeleton(v) for v in kids], name)
    skel = {k: skeleton(v) for k, v in zip(keys, kids)}
    if node.aux is None:
        return (node.name, skel, name)
    # a node with aux data (a Module): its type, aux and the children no gradient reaches
    constants = frozenset(node.constants(x) if node.constants else ())
    extra = {
        "type": t,
        "aux": node.aux(x),
        "constants": constants,
        "constant_types": {k: type(v) for k, v in zip(keys, kids) if k in constants},
    }
    return (node.name, skel, name, extra)


def skeleton_children(skel: Any) -> list[Any]:
    """The child skeletons of a container's skeleton, in order."""
    kids = skel[1]
    return list(kids.values()) if isinstance(kids, dict) else list(kids)


def canonical_key(skel: Any, key: Any) -> Any:
    """One key per child of a skeleton: NamedTuple positions become field names, negative
    sequence indices positive; other keys as given."""
    kind, kids = skel[0], skel[1]
    if isinstance(key, int) and kind == "nt":
        fields = list(kids)
        return fields[key] if -len(fields) <= key < len(fields) else key
    if isinstance(key, int) and kind == "seq" and -len(kids) <= key < 0:
        return key + len(kids)
    return key


def skeleton_child(skel: Any, key: Any, missing: Any = None) -> Any:
    """The skeleton of child ``key`` (a NamedTuple's by field name or position), else
    ``missing``."""
    kind, kids = skel[0], skel[1]
    if kind == "seq":
        if isinstance(key, int) and -len(kids) <= key < len(kids):
            return kids[key]
        return missing
    if kind == "nt" and isinstance(key, int):
        vals = list(kids.values())
        return vals[key] if -len(vals) <= key < len(vals) else missing
    if isinstance(kids, dict) and (kind != "nt" or isinstance(key, str)):
        return kids.get(key, missing)
    return missing
