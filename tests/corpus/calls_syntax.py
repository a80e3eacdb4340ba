"""Which features of issue 5 each function of the calls corpus uses, from its syntax tree.

Issue 5 asks for at least 40 corpus functions that use its features, with at least three per
feature, coverage *computed*, not claimed. This module parses ``tests/corpus/calls.py`` and
``tests/corpus/calls_helpers.py`` with :mod:`ast`, resolves every call in a corpus function to
what it calls (a helper here, an imported helper, a nested def, a lambda, a
``functools.partial`` object, a bound method of a module-level object, a ``@custom_vjp``
function) and classifies every subscript.

The corpus functions are the public top-level functions of ``calls.py``; names starting with
``_``, classes, partial objects and instances are helpers.

How subscripts are classified, from syntax alone:

* an index is an *integer array* when it is a list display, a parameter annotated
  ``IntArray``, a call that makes integer arrays (``np.arange``, ``np.digitize``, ...,
  ``.astype(np.int64)``), arithmetic on one of those, a slice of one, a local name bound to
  one of those, or a tuple of those (``img[y0, x0 + 1]``);
* an index is a *mask* when it is a comparison, ``~``/``&``/``|`` of masks, a ``np.logical_*``
  call, a parameter annotated ``BoolArray``, or a local name bound to one of those;
* an index is *mixed* when it is a tuple with at least one slice and at least one integer
  position (``x[i, :, j]``).

"With repeats" is not a syntactic property, so it is checked: the index expression is evaluated
on the function's local variables when it returns on its sample inputs (read from the frame by
a trace function) and must pick some position twice. Only indices that pass count.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import calls, calls_helpers
from .calls_cases import CASES_BY_NAME
from .syntax import is_np_call, locals_at_return, tabulate

TITLE = "calls corpus"
LABEL = "feature"

FANCY_READ = "fancy read with repeated indices"
MASK_READ = "boolean-mask read"
MIXED_READ = "mixed index read x[i, :, j]"
WRITE_OUTSIDE = "y[i] = v outside a loop"
WRITE_INSIDE = "y[i] = v inside a loop"
ADD_WRITE = "y[i] += v"
MASK_MUL = "y[mask] *= c"
SCATTER_ADD = "h[idx] += w, idx repeated"
SAME_MODULE = "call to a helper in this module"
IMPORTED = "call to an imported helper"
KEYWORD = "keyword argument in a call"
DEFAULT = "default parameter used by a call"
NESTED = "nested def called"
LAMBDA = "lambda called"
PARTIAL = "functools.partial object called"
METHOD = "bound method called"
CUSTOM_VJP = "custom_vjp function called"
STOP_IN_CALLEE = "stop_gradient inside a callee"

FEATURES = [
    FANCY_READ,
    MASK_READ,
    MIXED_READ,
    WRITE_OUTSIDE,
    WRITE_INSIDE,
    ADD_WRITE,
    MASK_MUL,
    SCATTER_ADD,
    SAME_MODULE,
    IMPORTED,
    KEYWORD,
    DEFAULT,
    NESTED,
    LAMBDA,
    PARTIAL,
    METHOD,
    CUSTOM_VJP,
    STOP_IN_CALLEE,
]

INT_ARRAY_CALLS = {
    "arange",
    "argsort",
    "argmax",
    "argmin",
    "digitize",
    "searchsorted",
    "nonzero",
    "flatnonzero",
    "repeat",
    "tile",
}
INT_DTYPES = {"int", "int32", "int64", "intp"}
MASK_CALLS = {"logical_and", "logical_or", "logical_not", "logical_xor", "isfinite", "isnan"}


# =========================================================================== the two modules


@dataclass
class _Module:
    """What a corpus module defines at top level."""

    name: str
    tree: ast.Module
    defs: dict[str, ast.FunctionDef] = field(default_factory=dict)
    classes: dict[str, dict[str, ast.FunctionDef]] = field(default_factory=dict)
    partials: dict[str, ast.Call] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)
    customs: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> helpers-module name
    module_aliases: set[str] = field(default_factory=set)  # names bound to the helpers module


def _is_custom_decorator(dec: ast.expr) -> bool:
    return (isinstance(dec, ast.Name) and dec.id == "custom_vjp") or (
        isinstance(dec, ast.Attribute) and dec.attr == "custom_vjp"
    )


def _is_partial(value: ast.expr) -> bool:
    f = value.func if isinstance(value, ast.Call) else None
    return (isinstance(f, ast.Attribute) and f.attr == "partial") or (
        isinstance(f, ast.Name) and f.id == "partial"
    )


def _parse(module: Any) -> _Module:
    path = Path(module.__file__)
    tree = ast.parse(path.read_text(), filename=str(path))
    info = _Module(path.stem, tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            info.defs[node.name] = node
            if any(_is_custom_decorator(d) for d in node.decorator_list):
                info.customs.add(node.name)
        elif isinstance(node, ast.ClassDef):
            info.classes[node.name] = {
                m.name: m for m in node.body if isinstance(m, ast.FunctionDef)
            }
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if _is_partial(node.value):
                info.partials[target.id] = node.value
            elif isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                info.instances[target.id] = node.value.func.id
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[-1] == "calls_helpers":
                for alias in node.names:
                    info.imports[alias.asname or alias.name] = alias.name
            else:
                for alias in node.names:
                    if alias.name == "calls_helpers":
                        info.module_aliases.add(alias.asname or alias.name)
    return info


@functools.lru_cache(maxsize=1)
def _modules() -> tuple[_Module, _Module]:
    """(corpus module, helpers module)."""
    return _parse(calls), _parse(calls_helpers)


def corpus_functions() -> list[ast.FunctionDef]:
    corpus, _ = _modules()
    return [fn for name, fn in corpus.defs.items() if not name.startswith("_")]


# =========================================================================== resolving calls


@dataclass
class _Callee:
    """A user-level callee: what kind it is and the node whose parameters and body it has."""

    kind: str  # helper | imported | nested | lambda | partial | method | custom
    node: ast.FunctionDef | ast.Lambda
    module: _Module
    cls: str | None = None  # the class of a method
    bound_positional: int = 0  # for partial objects
    bound_keywords: frozenset[str] = frozenset()


@dataclass
class _Scope:
    """Where a call is resolved: a module, the enclosing function's local defs, a class."""

    module: _Module
    nested: dict[str, ast.FunctionDef] = field(default_factory=dict)
    lambdas: dict[str, ast.Lambda] = field(default_factory=dict)
    cls: str | None = None


def _scope_of(fn: ast.FunctionDef | ast.Lambda, module: _Module, cls: str | None = None) -> _Scope:
    scope = _Scope(module, cls=cls)
    for node in ast.walk(fn):
        if isinstance(node, ast.FunctionDef) and node is not fn:
            scope.nested[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope.lambdas[target.id] = node.value
    return scope


def _resolve_global(name: str, module: _Module, imported: bool = False) -> _Callee | None:
    """A module-level name of ``module`` as a callee (following imports into the helpers)."""
    corpus, helpers = _modules()
    if name in module.customs:
        return _Callee("custom", module.defs[name], module)
    if name in module.partials:
        call = module.partials[name]
        target = _resolve_global(call.args[0].id, module) if call.args else None
        if target is None:
            return None
        return _Callee(
            "partial",
            target.node,
            target.module,
            bound_positional=len(call.args) - 1,
            bound_keywords=frozenset(k.arg for k in call.keywords if k.arg),
        )
    if name in module.defs:
        return _Callee("imported" if imported else "helper", module.defs[name], module)
    if name in module.imports and module is corpus:
        return _resolve_global(module.imports[name], helpers, imported=True)
    return None


def _instance_class(name: str, module: _Module) -> tuple[str, _Module] | None:
    corpus, helpers = _modules()
    if name in module.instances and module.instances[name] in module.classes:
        return module.instances[name], module
    if module is corpus and name in module.imports:
        return _instance_class(module.imports[name], helpers)
    return None


def _resolve(func: ast.expr, scope: _Scope) -> _Callee | None:
    """What ``func`` (the callee expression of a call) is, or ``None`` for anything else."""
    _, helpers = _modules()
    if isinstance(func, ast.Name):
        if func.id in scope.nested:
            return _Callee("nested", scope.nested[func.id], scope.module)
        if func.id in scope.lambdas:
            return _Callee("lambda", scope.lambdas[func.id], scope.module)
        return _resolve_global(func.id, scope.module)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = func.value.id
        if owner in scope.module.module_aliases:
            return _resolve_global(func.attr, helpers, imported=True)
        if owner == "self" and scope.cls is not None:
            methods = scope.module.classes[scope.cls]
            if func.attr in methods:
                return _Callee("method", methods[func.attr], scope.module, cls=scope.cls)
            return None
        found = _instance_class(owner, scope.module)
        if found is not None:
            cls, module = found
            methods = module.classes[cls]
            if func.attr in methods:
                return _Callee("method", methods[func.attr], module, cls=cls)
    return None


def _calls_in(fn: ast.AST, scope: _Scope) -> Iterator[tuple[ast.Call, _Callee]]:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            callee = _resolve(node.func, scope)
            if callee is not None:
                yield node, callee


def _is_stop_gradient(call: ast.Call) -> bool:
    f = call.func
    return (isinstance(f, ast.Name) and f.id == "stop_gradient") or (
        isinstance(f, ast.Attribute) and f.attr == "stop_gradient"
    )


def _reaches(
    callee: _Callee, test: Callable[[ast.AST], bool], seen: frozenset = frozenset()
) -> bool:
    """Whether ``test`` holds for a node in the callee's body or, transitively, its callees'."""
    if id(callee.node) in seen:
        return False
    seen = seen | {id(callee.node)}
    if any(test(node) for node in ast.walk(callee.node)):
        return True
    scope = _scope_of(callee.node, callee.module, callee.cls)
    return any(_reaches(inner, test, seen) for _, inner in _calls_in(callee.node, scope))


def _uses_default(call: ast.Call, callee: _Callee) -> bool:
    """Whether ``call`` leaves a parameter with a default to that default."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return False
    params = callee.node.args
    names = [a.arg for a in params.posonlyargs + params.args]
    if callee.kind == "method":
        names = names[1:]
    defaulted = set(names[len(names) - len(params.defaults) :]) if params.defaults else set()
    defaulted |= {a.arg for a, d in zip(params.kwonlyargs, params.kw_defaults) if d is not None}
    given = set(names[: callee.bound_positional + len(call.args)])
    given |= callee.bound_keywords | {k.arg for k in call.keywords}
    return bool(defaulted - given)


# =========================================================================== subscripts


@dataclass
class _Locals:
    """What the syntax says about the names of one corpus function."""

    annotations: dict[str, str]
    bindings: dict[str, list[ast.expr]]


def locals_of(fn: ast.FunctionDef) -> _Locals:
    annotations = {
        a.arg: a.annotation.id for a in fn.args.args if isinstance(a.annotation, ast.Name)
    }
    bindings: dict[str, list[ast.expr]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bindings.setdefault(target.id, []).append(node.value)
    return _Locals(annotations, bindings)


def _name_is(
    node: ast.Name,
    loc: _Locals,
    seen: frozenset,
    annotation: str,
    test: Callable[[ast.expr, _Locals, frozenset], bool],
) -> bool:
    """Whether a name is a parameter annotated ``annotation`` or a local bound to something
    ``test`` accepts (a name already followed, in ``seen``, is not followed again)."""
    if node.id in seen:
        return False
    if loc.annotations.get(node.id) == annotation:
        return True
    return any(test(v, loc, seen | {node.id}) for v in loc.bindings.get(node.id, []))


def _is_int_array(node: ast.expr, loc: _Locals, seen: frozenset = frozenset()) -> bool:
    if isinstance(node, ast.List):
        return True
    if isinstance(node, ast.Name):
        return _name_is(node, loc, seen, "IntArray", _is_int_array)
    if is_np_call(node, INT_ARRAY_CALLS):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        dt = node.args[0]
        name = dt.attr if isinstance(dt, ast.Attribute) else getattr(dt, "id", None)
        return node.func.attr == "astype" and name in INT_DTYPES
    if isinstance(node, ast.BinOp):
        return _is_int_array(node.left, loc, seen) or _is_int_array(node.right, loc, seen)
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Slice) and _is_int_array(node.value, loc, seen)
    return False


def _is_mask(node: ast.expr, loc: _Locals, seen: frozenset = frozenset()) -> bool:
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return _is_mask(node.operand, loc, seen)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
        return _is_mask(node.left, loc, seen) and _is_mask(node.right, loc, seen)
    if is_np_call(node, MASK_CALLS):
        return True
    if isinstance(node, ast.Name):
        return _name_is(node, loc, seen, "BoolArray", _is_mask)
    return False


def _is_position(node: ast.expr) -> bool:
    """An element of a tuple index that picks one position (not a slice, None or ...)."""
    if isinstance(node, ast.Slice):
        return False
    return not (isinstance(node, ast.Constant) and (node.value is None or node.value is ...))


def index_kind(sub: ast.Subscript, loc: _Locals) -> str:
    """``mask``, ``fancy``, ``mixed`` or ``basic``."""
    idx = sub.slice
    if _is_mask(idx, loc):
        return "mask"
    if _is_int_array(idx, loc):
        return "fancy"
    if isinstance(idx, ast.Tuple) and all(_is_int_array(e, loc) for e in idx.elts):
        return "fancy"
    if isinstance(idx, ast.Tuple):
        has_slice = any(isinstance(e, ast.Slice) for e in idx.elts)
        if has_slice and any(_is_position(e) for e in idx.elts):
            return "mixed"
    return "basic"


def _parents(fn: ast.FunctionDef) -> dict[int, ast.AST]:
    parents = {}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _inside_loop(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    while id(node) in parents:
        node = parents[id(node)]
        if isinstance(node, (ast.For, ast.While)):
            return True
    return False


@functools.cache
def _sample_locals(name: str) -> dict[str, Any]:
    case = CASES_BY_NAME[name]
    return locals_at_return(case.fn, case.args(np.float64))


_PURE = (
    ast.Name,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.Slice,
    ast.Load,
    ast.operator,
    ast.unaryop,
)


def _repeats(sub: ast.Subscript, fn_name: str) -> bool:
    """Whether the integer-array index of ``sub`` picks some position twice.

    The index expression (names, constants, arithmetic, list displays, tuples of those) is
    evaluated on the function's locals when it returns on its sample inputs; a tuple of index
    arrays repeats when two of its broadcast index rows are equal.
    """
    idx = sub.slice
    if not all(isinstance(node, _PURE) for node in ast.walk(idx)):
        return False
    names = _sample_locals(fn_name) if fn_name in CASES_BY_NAME else {}
    try:
        value = eval(compile(ast.Expression(idx), "<index>", "eval"), {"np": np}, dict(names))
    except Exception:  # noqa: BLE001  (a name local to a nested def, say)
        return False
    parts = value if isinstance(value, tuple) else (value,)
    arrays = np.broadcast_arrays(*(np.asarray(p) for p in parts))
    if not all(np.issubdtype(a.dtype, np.integer) for a in arrays) or arrays[0].ndim != 1:
        return False
    rows = np.stack(arrays, axis=1)
    return np.unique(rows, axis=0).shape[0] < rows.shape[0]


# =========================================================================== features


def writes(fn: ast.AST) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
            return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
            return True
    return False


def features(fn: ast.FunctionDef) -> set[str]:
    """The features of :data:`FEATURES` that ``fn`` uses."""
    corpus, _ = _modules()
    loc = locals_of(fn)
    parents = _parents(fn)
    found: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            kind = index_kind(node, loc)
            if kind == "mask":
                found.add(MASK_READ)
            elif kind == "mixed":
                found.add(MIXED_READ)
            elif kind == "fancy" and _repeats(node, fn.name):
                found.add(FANCY_READ)
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Subscript) for t in node.targets):
                found.add(WRITE_INSIDE if _inside_loop(node, parents) else WRITE_OUTSIDE)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
            kind = index_kind(node.target, loc)
            if isinstance(node.op, ast.Add) and kind in ("basic", "mixed"):
                found.add(ADD_WRITE)
            elif isinstance(node.op, ast.Mult) and kind == "mask":
                found.add(MASK_MUL)
            elif (
                isinstance(node.op, ast.Add) and kind == "fancy" and _repeats(node.target, fn.name)
            ):
                found.add(SCATTER_ADD)
    kinds = {
        "helper": SAME_MODULE,
        "imported": IMPORTED,
        "nested": NESTED,
        "lambda": LAMBDA,
        "partial": PARTIAL,
        "method": METHOD,
        "custom": CUSTOM_VJP,
    }
    for call, callee in _calls_in(fn, _scope_of(fn, corpus)):
        found.add(kinds[callee.kind])
        if call.keywords:
            found.add(KEYWORD)
        if _uses_default(call, callee):
            found.add(DEFAULT)
        if callee.kind != "custom" and _reaches(
            callee, lambda n: isinstance(n, ast.Call) and _is_stop_gradient(n)
        ):
            found.add(STOP_IN_CALLEE)
    return found


def writes_in_callees(fn: ast.FunctionDef) -> bool:
    corpus, _ = _modules()
    return any(
        _reaches(callee, lambda n: writes(n) if isinstance(n, ast.FunctionDef) else False)
        for _, callee in _calls_in(fn, _scope_of(fn, corpus))
    )


def calls_custom(fn: ast.FunctionDef) -> bool:
    """Whether ``fn`` calls a ``@custom_vjp`` function, directly or through its callees."""
    corpus, _ = _modules()
    for _, callee in _calls_in(fn, _scope_of(fn, corpus)):
        if callee.kind == "custom":
            return True
        scope = _Scope(callee.module, cls=callee.cls)

        def is_custom_call(node: ast.AST, scope: _Scope = scope) -> bool:
            if not isinstance(node, ast.Call):
                return False
            return getattr(_resolve(node.func, scope), "kind", None) == "custom"

        if _reaches(callee, is_custom_call):
            return True
    return False


# =========================================================================== the table


@functools.lru_cache(maxsize=1)
def coverage() -> dict[str, list[str]]:
    """For every feature, the names of the corpus functions that use it."""
    per_function = {fn.name: features(fn) for fn in corpus_functions()}
    return tabulate(per_function, FEATURES)
