"""``srcgrad.nn.Module``: a model as a pytree whose gradient is the same kind of model.

A Module is an ordinary mutable Python object.  Its attributes are sorted into four kinds
each time the model is taken apart (:func:`srcgrad.tree.flatten`, a gradient call):

* **parameters**: floating arrays (numpy, cupy, anything with ``dtype`` and ``shape``), and
  sub-modules and lists, tuples and dicts that hold them: children of the tree, and what
  :func:`srcgrad.grad` differentiates;
* **buffers** (``nn.buffer(value)`` or :meth:`Module.register_buffer`, e.g. BatchNorm's
  running statistics), Python floats (hyperparameters such as ``eps``) and random
  generators: children no gradient flows to (a gradient holds None there), read when the
  code runs, so changing them never makes new code;
* **static fields**: str, bool, int, None, tuples and lists of those, functions and classes,
  and anything wrapped in ``nn.static(value)``: not children but part of the tree's
  structure (:class:`srcgrad.tree.TreeDef` aux data), so the generated code is specialised on
  their values (``if self.act == "tanh":`` is decided when the code is generated, and
  another value gets its own file);
* **private** attributes (``_name``) are left out of the tree: a model rebuilt from its
  leaves (a gradient, a loaded checkpoint) does not have them.

A subclass either assigns its attributes in ``__init__`` (PyTorch's habit; calling
``super().__init__()`` is optional) or declares annotated fields, for which a dataclass-like
``__init__`` is generated (equinox's habit)::

    class Affine(nn.Module):
        W: np.ndarray
        b: np.ndarray
        act: str = nn.static("tanh")

        def __call__(self, x):
            return np.tanh(x @ self.W + self.b)
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from srcgrad import tree

__all__ = ["Module", "static", "buffer", "field_kinds"]

_MISSING = object()
_STATIC, _BUFFER = "static", "buffer"
_CHILD = "child"  # kept a parameter child whatever its value (see _unflatten)


class _Declared:
    """``nn.static(v)`` / ``nn.buffer(v)``: a field declared of a kind, with its default."""

    __slots__ = ("kind", "default")

    def __init__(self, kind: str, default: Any) -> None:
        self.kind = kind
        self.default = default

    def __repr__(self) -> str:
        return f"nn.{self.kind}({'' if self.default is _MISSING else self.default!r})"


def static(default: Any = _MISSING) -> Any:
    """Declare a static field (an annotated field's default, or a value assigned in
    ``__init__``: ``self.fn = nn.static(my_activation)``): part of the model's structure,
    never differentiated; the generated code is specialised on its value."""
    return _Declared(_STATIC, default)


def buffer(default: Any = _MISSING) -> Any:
    """Declare a buffer: an array of the model that is not differentiated (running
    statistics), read when the code runs; a gradient holds None there."""
    return _Declared(_BUFFER, default)


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) or (
        hasattr(v, "dtype") and type(getattr(v, "shape", None)) is tuple
    )


def _is_static_value(v: Any) -> bool:
    """str, bool, int, None, functions and classes, and tuples and lists of them."""
    if v is None or type(v) in (str, bool, int):
        return True
    if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, type, np.ufunc)):
        return True
    if type(v) in (tuple, list):
        return all(_is_static_value(x) for x in v)
    return False


def _is_plain_sequence(v: Any) -> bool:
    """A tuple or list of static values and Python floats, nested (kernel sizes, strides,
    betas): part of the structure, never arrays."""
    return all(
        type(x) is float
        or (type(x) in (tuple, list) and _is_plain_sequence(x))
        or _is_static_value(x)
        for x in v
    )


def _is_constant_leaf(v: Any) -> bool:
    """A Python or numpy float, or a random generator: a leaf no gradient flows to."""
    return type(v) is float or isinstance(
        v, (np.floating, np.random.Generator, np.random.RandomState)
    )


class Module:
    """Base class of models: see the module docstring for how attributes are sorted."""

    _srcgrad_fields: ClassVar[tuple[str, ...]] = ()
    _srcgrad_declared: ClassVar[dict[str, str]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        self = super().__new__(cls)
        object.__setattr__(self, "_kinds", {})
        object.__setattr__(self, "training", True)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = dict(getattr(cls, "_srcgrad_declared", {}))
        fields = list(getattr(cls, "_srcgrad_fields", ()))
        own = cls.__dict__.get("__annotations__", {})
        added = False
        for name, ann in own.items():
            if name.startswith("_") or "ClassVar" in str(ann):
                continue
            added = True
            if name not in fields:
                fields.append(name)
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Declared):
                declared[name] = value.kind
                if value.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value.default)
        cls._srcgrad_fields = tuple(fields)
        cls._srcgrad_declared = declared
        if added and "__init__" not in cls.__dict__:
            cls.__init__ = _fields_init(cls)  # type: ignore[method-assign]

    def __init__(self) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _Declared):
            self._kinds[name] = value.kind
            value = value.default
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._kinds.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any) -> None:
        """Set the buffer ``name`` (PyTorch's spelling of ``self.name = nn.buffer(value)``)."""
        setattr(self, name, buffer(value))

    # -- modes --------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this model and every sub-module, in place; returns it."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``); returns the model."""
        return self.train(False)

    def modules(self) -> Iterator[Module]:
        """This model and every sub-module, depth first."""
        yield self
        for _, v in _public(self):
            yield from _modules_in(v)

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        return _repr(self, 0)


def _modules_in(v: Any) -> Iterator[Module]:
    if isinstance(v, Module):
        yield from v.modules()
    elif type(v) in (list, tuple) or isinstance(v, tuple):
        for x in v:
            yield from _modules_in(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _modules_in(x)


def _fields_init(cls: type) -> Any:
    """A dataclass-like ``__init__`` for the annotated fields (positional and keyword)."""
    fields = cls._srcgrad_fields  # type: ignore[attr-defined]

    def __init__(self: Module, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(fields):
            raise TypeError(
                f"{cls.__name__}() takes {len(fields)} positional arguments but "
                f"{len(args)} were given"
            )
        for name, value in zip(fields, args):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got two values for {name!r}")
            kwargs[name] = value
        for name in fields:
            if name in kwargs:
                value = kwargs.pop(name)
            else:
                value = getattr(type(self), name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}() missing the field {name!r}")
            if isinstance(value, _Declared):
                self._kinds[name] = value.kind
                value = value.default
            object.__setattr__(self, name, value)
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unknown fields {sorted(kwargs)}")
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _public(m: Module) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in vars(m).items() if not k.startswith("_")]


def field_kinds(m: Module) -> dict[str, str]:
    """Each public attribute's kind: ``"parameter"`` (an array, or a container or sub-module:
    a child of the tree), ``"constant"`` (a buffer, float or generator: a child no gradient
    reaches) or ``"static"`` (part of the structure)."""
    declared = type(m)._srcgrad_declared
    if m._kinds:
        declared = {**declared, **m._kinds}
    return {
        name: _kind(name, declared.get(name), v)
        for name, v in vars(m).items()
        if not name.startswith("_")
    }


def _kind(name: str, declared: str | None, v: Any) -> str:
    """The kind of the attribute ``name`` holding ``v``, declared ``declared``."""
    if declared is None and name != "training":
        if type(v) is np.ndarray or isinstance(v, Module):
            return "parameter"  # the common case, sorted before the tests below
    if name == "training" or declared == _STATIC:
        return "static"
    if declared == _BUFFER or _is_constant_leaf(v):
        return "constant"
    if declared != _CHILD and type(v) in (tuple, list) and _is_plain_sequence(v):
        return "static"  # (2, 3), [4, 16, 3], (0.9, 0.999): sizes and settings
    if declared == _CHILD or _is_array(v) or tree.is_node(v):
        return "parameter"
    return "static"  # str, int, None, functions, other objects: compared by their text


class _Statics(tuple):
    """The static part of a Module, ``((name, value), ...)`` plus the instance's declared
    kinds: compared and hashed by a stable text (no memory addresses of functions)."""

    kinds: dict[str, str]
    order: tuple[str, ...]  # every public attribute, in the instance's order
    constants: frozenset[str]  # the children no gradient reaches

    def __repr__(self) -> str:
        return "statics(" + ", ".join(f"{k}={_stable(v)}" for k, v in self) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Statics) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


def _stable(v: Any) -> str:
    if isinstance(v, (types.FunctionType, type)):
        return f"{v.__module__}.{v.__qualname__}"
    if isinstance(v, (types.BuiltinFunctionType, np.ufunc)):
        return f"{getattr(v, '__module__', None) or 'numpy'}.{v.__name__}"
    if type(v) in (tuple, list):
        inner = ",".join(_stable(x) for x in v)
        return f"[{inner}]" if type(v) is list else f"({inner})"
    return repr(v)


def _flatten(m: Module) -> tuple[list[str], list[Any]]:
    kinds = field_kinds(m)
    keys = [k for k, kind in kinds.items() if kind != "static"]
    return keys, [getattr(m, k) for k in keys]


def _aux(m: Module) -> _Statics:
    kinds = field_kinds(m)  # once: the statics and the constants both read it
    out = _Statics((k, getattr(m, k)) for k, kind in kinds.items() if kind == "static")
    out.kinds = dict(m._kinds)
    out.order = tuple(kinds)
    out.constants = frozenset(k for k, kind in kinds.items() if kind == "constant")
    return out


def _constants(m: Module) -> frozenset[str]:
    return frozenset(k for k, kind in field_kinds(m).items() if kind == "constant")


def _unflatten(
    cls: type, keys: list[str], kids: list[Any], aux: _Statics | None = None
) -> Module:
    """A model of class ``cls`` built without calling ``__init__``."""
    m = object.__new__(cls)
    kinds = dict(getattr(aux, "kinds", {}))
    _keep_children(cls, keys, kids, kinds, getattr(aux, "constants", None))
    object.__setattr__(m, "_kinds", kinds)
    object.__setattr__(m, "training", True)
    values = {**dict(aux or ()), **dict(zip(keys, kids))}
    order = [k for k in getattr(aux, "order", ()) if k in values]
    for k in order + [k for k in values if k not in order]:
        object.__setattr__(m, k, values[k])
    return m


def _keep_children(
    cls: type,
    keys: list[str],
    kids: list[Any],
    kinds: dict[str, str],
    constants: frozenset[str] | None,
) -> None:
    """Declare the kind of each child whose new value would be sorted otherwise (a
    gradient's None where the model has a float setting, a leaf mapped to an int), so
    that the rebuilt model has the structure it was built with: flattening it gives the
    same keys, aux data and constants."""
    declared = {**cls._srcgrad_declared, **kinds}  # type: ignore[attr-defined]
    for k, v in zip(keys, kids):
        if constants is None:
            want = _kind(k, declared.get(k), v)
            want = "parameter" if want == "static" else want
        else:
            want = "constant" if k in constants else "parameter"
        if _kind(k, declared.get(k), v) != want:
            kinds[k] = _BUFFER if want == "constant" else _CHILD


def _child(m: Module, key: Any) -> Any:
    if not isinstance(key, str) or key.startswith("_") or key not in vars(m):
        raise KeyError(key)
    return getattr(m, key)


MODULE = tree.register(
    Module,
    _flatten,
    _unflatten,
    name="module",
    child=_child,
    aux=_aux,
    constants=_constants,
)


def _repr(v: Any, depth: int) -> str:
    pad = "  " * (depth + 1)
    if isinstance(v, Module):
        kinds = field_kinds(v)
        lines = []
        for name, x in _public(v):
            if name == "training":
                continue
            tag = " (buffer)" if kinds[name] == "constant" and _is_array(x) else ""
            lines.append(f"{pad}{name}={_repr(x, depth + 1)}{tag}")
        if not lines:
            return f"{type(v).__name__}()"
        return f"{type(v).__name__}(\n" + ",\n".join(lines) + f"\n{'  ' * depth})"
    if _is_array(v):
        return f"{np.dtype(v.dtype).name}{list(v.shape)}"
    if type(v) in (list, tuple, dict) and _holds_arrays(v):
        items = list(v.items()) if type(v) is dict else [(None, x) for x in v]
        shown = [
            ("" if k is None else f"{k!r}: ") + _repr(x, depth + 1) for k, x in items
        ]
        o, c = {list: "[]", tuple: "()", dict: "{}"}[type(v)]
        if not any(isinstance(x, Module) for _, x in items):
            return (
                o
                + ", ".join(shown)
                + ("," if type(v) is tuple and len(v) == 1 else "")
                + c
            )
        inner = ",\n".join(pad + x for x in shown)
        return f"{o}\n{inner}\n{'  ' * depth}{c}"
    return _stable(v) if _is_static_value(v) else repr(v)


def _holds_arrays(v: Any) -> bool:
    """Whether a container holds an array or a Module (then it is shown by shapes)."""
    stop = lambda x: isinstance(x, Module)  # noqa: E731
    return any(_is_array(x) or stop(x) for x in tree.leaves(v, is_leaf=stop))
