"""Gradient targets: the functions a command generates for (what a file differentiates, or
one FILE::func) with the ``wrt``/``has_aux`` they are generated with, and the cache entry the
API would use for each."""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from srcgrad import cache
from srcgrad.api import GradFunction, grad
from srcgrad.higher import ElementwiseGrad, HigherGrad, is_derivative
from srcgrad.cli.exits import UsageError
from srcgrad.cli.loading import dotted_name, load_module, resolve_attr, split_spec
from srcgrad.cli.output import Out, display
from srcgrad.cli.requests import Requests, read_requests

_CONTAINER_ANNOTATIONS = {
    "dict", "list", "tuple", "Dict", "List", "Tuple", "Mapping", "MutableMapping", "Sequence",
}  # fmt: skip


@dataclass
class Target:
    """One gradient to generate: a function and the ``wrt``/``has_aux`` it is generated with."""

    fn: Callable[..., Any]
    wrt: Any  # what srcgrad.grad receives
    has_aux: bool
    label: str  # FILE::qualname
    example: Callable[[], Any] | None = None  # builds arguments to specialise on
    mode: str = "rev"  # "fwd": the forward-mode module (srcgrad.jvp) instead
    made: Any = None  # a higher order (srcgrad.higher): the object itself

    def grad_function(self) -> Any:
        if self.made is not None:
            return self.made
        if self.mode == "fwd":
            from srcgrad.forward import JvpFunction

            jf = JvpFunction(self.fn, wrt=self.wrt)
            jf.example = self.example
            return jf
        return grad(self.fn, wrt=self.wrt, has_aux=self.has_aux, example=self.example)

    def example_args(self) -> tuple[Any, ...] | None:
        """The arguments the example builder gives (None without one)."""
        if self.example is None:
            return None
        args = self.example()
        return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def parse_wrt(text: str | None) -> Any:
    """--wrt's comma-separated names and positions, as srcgrad.grad's ``wrt``."""
    if text is None:
        return None
    items: list[Any] = []
    for tok in text.replace(" ", ",").split(","):
        if not tok:
            continue
        items.append(int(tok) if tok.lstrip("-").isdigit() else tok)
    if not items:
        raise UsageError("--wrt needs at least one parameter name or position")
    return items[0] if len(items) == 1 else tuple(items)


def _target_of(obj: Any, label: str, wrt: Any, default_wrt: Any = 0) -> Target:
    if isinstance(obj, GradFunction):
        return Target(
            obj.forward,
            wrt if wrt is not None else obj.wrt,
            bool(obj._has_aux),
            label,
            obj.example,
        )
    fn = inspect.unwrap(obj) if callable(obj) else obj
    if not inspect.isfunction(fn):
        raise UsageError(f"{label} is not a Python function ({type(obj).__name__})")
    return Target(fn, wrt if wrt is not None else default_wrt, False, label)


def grad_targets(
    path: Path,
    func: str | None,
    wrt: Any,
    explicit: bool,
    diagnostics: list[str] | None = None,
) -> list[Target]:
    """The targets of ``FILE::func``, or of ``FILE``: its @srcgrad.grad functions and the
    module-level functions it passes to ``grad(f, ...)``; the calls whose function cannot be
    named statically go into ``diagnostics``."""
    if func is not None:
        mod = load_module(path)
        return [
            _target_of(resolve_attr(mod, func, path), f"{display(path)}::{func}", wrt)
        ]
    requests = read_requests(path)
    if requests is not None and diagnostics is not None:
        diagnostics.extend(u.diagnostic(path) for u in requests.unnamed)
    if not explicit and (
        requests is None
        or not (requests.decorated or requests.calls or requests.nested_decorated)
    ):
        return []
    mod = load_module(path)
    seen: set[int] = set()
    out = []
    for obj in vars(mod).values():
        if isinstance(obj, (HigherGrad, ElementwiseGrad)) and id(obj) not in seen:
            seen.add(id(obj))
            found = _higher_target(obj, mod, path)
            if found is not None:
                out.append(found)
            continue
        if not isinstance(obj, GradFunction) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if getattr(obj.forward, "__module__", None) != mod.__name__:
            continue  # imported from elsewhere: generated with its own module
        out.append(_target_of(obj, f"{display(path)}::{obj.forward.__qualname__}", wrt))
    if requests is not None:
        out.extend(_called_targets(mod, path, requests, wrt))
    return _distinct(out)


def _higher_target(obj: Any, mod: Any, path: Path) -> Target | None:
    """The target of a higher order (or an elementwise_grad) bound in a module: the
    function its module differentiates, for its example's arguments (an order without
    an example is generated when it is called)."""
    if obj.example is None:
        return None
    base = obj
    while isinstance(base, HigherGrad):
        base = base.lower
    base_fn = (
        base.forward if isinstance(base, (GradFunction, ElementwiseGrad)) else None
    )
    if getattr(base_fn, "__module__", None) != mod.__name__:
        return None  # imported from elsewhere: generated with its own module
    args = obj.example()
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    fn = obj.target_function(args)
    label = f"{display(path)}::{fn.__qualname__}"
    return Target(fn, obj.wrt, False, label, obj.example, obj)


def _called_targets(mod: Any, path: Path, requests: Requests, wrt: Any) -> list[Target]:
    """The targets of the ``grad(f, ...)`` calls of a file, ``f`` looked up in its module."""
    out = []
    for r in requests.calls:
        label = f"{display(path)}::{r.name}"
        obj = getattr(mod, r.name, None)
        if is_derivative(obj):
            continue  # grad of a gradient: the higher order's own variable names it
        fn = obj.forward if isinstance(obj, GradFunction) else obj
        fn = inspect.unwrap(fn) if callable(fn) else fn
        if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
            Out.info(f"skipped {label}: not a function of the module after import")
            continue
        if wrt is None:
            wrt_here = 0 if r.wrt is None else r.wrt
        else:
            wrt_here = wrt
        example = getattr(mod, r.example, None) if r.example else None
        out.append(Target(fn, wrt_here, r.has_aux, label, example))
    return out


def wrt_names(fn: Callable[..., Any], wrt: Any) -> tuple[Any, ...]:
    """``wrt`` as a tuple of parameter names of ``fn`` (positions out of range kept)."""
    code = fn.__code__
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    return tuple(
        params[w] if isinstance(w, int) and -len(params) <= w < len(params) else w
        for w in items
    )


def _distinct(targets: list[Target]) -> list[Target]:
    """``targets`` without repeats (a function decorated and also passed to grad, or passed
    to grad twice with the same wrt), first occurrence kept."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for t in targets:
        key = (id(t.fn), wrt_names(t.fn, t.wrt), t.has_aux)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def one_target(spec: str, wrt_text: str | None) -> Target:
    """The single target a FILE::func (or a file with one decorated function) names."""
    path, func = split_spec(spec)
    wrt = parse_wrt(wrt_text)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    found = grad_targets(path, func, wrt, explicit=True)
    if len(found) != 1:
        names = ", ".join(t.label for t in found) or "none"
        raise UsageError(
            f"{spec}: name one function as FILE::func (decorated functions here: {names})"
        )
    return found[0]


def container_note(fn: Callable[..., Any], label: str, wrt: Any = None) -> str | None:
    """The note that ``fn`` is left to its first call (a parameter that looks like a
    container: its gradient module is specialised on the structure passed), else None.
    A parameter whose fields are read (a NamedTuple or dataclass) counts only when it is
    differentiated (``wrt``: positions or names; None: the first parameter): a settings
    object read by attribute is no container of gradients."""
    names = list(inspect.signature(fn).parameters)
    wanted = [0] if wrt is None else wrt if isinstance(wrt, (tuple, list)) else [wrt]
    differentiated = {
        w if isinstance(w, str) else names[w]
        for w in wanted
        if isinstance(w, str) or w < len(names)
    }
    containers = {
        k: v
        for k, v in container_params(fn).items()
        if _FIELD not in v or k in differentiated
    }
    if not containers:
        return None
    why = ", ".join(f"{k!r} ({v})" for k, v in containers.items())
    return (
        f"skipped {label}: parameter {why} looks like a container; its gradient module is "
        "specialised on (and checked for) the structure passed on the first call"
    )


def container_params(fn: Callable[..., Any], depth: int = 0) -> dict[str, str]:
    """Parameters that look like containers: the first call specialises their gradient module
    (a different file name), so it cannot be generated ahead of time.  A parameter passed on
    to a function of the user's that uses it as a container counts too."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return {}
    node = next(
        (
            n
            for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ),
        None,
    )
    if node is None:
        return {}
    params = {
        a.arg: a for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs
    }
    out: dict[str, str] = {}
    for name, a in params.items():
        if a.annotation is not None:
            ann = dotted_name(
                a.annotation.value
                if isinstance(a.annotation, ast.Subscript)
                else a.annotation
            )
            if ann.rsplit(".", 1)[-1] in _CONTAINER_ANNOTATIONS:
                out[name] = f"annotated {ann}"
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name)
            and n.value.id in params
            and isinstance(n.slice, ast.Constant)
            and isinstance(n.slice.value, str)
        ):
            out.setdefault(n.value.id, f"indexed by the key {n.slice.value!r}")
        used = _container_call(n, params)
        if used is not None:
            out.setdefault(*used)
        if (
            isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Name)
            and n.value.id in params
            and any(
                isinstance(t, (ast.Tuple, ast.List))
                and any(isinstance(el, ast.Starred) for el in t.elts)
                for t in n.targets
            )
        ):
            out.setdefault(n.value.id, "unpacked with a starred name")
        for name, why in _uses_as_containers(fn, n, node, params, depth).items():
            out.setdefault(name, why)
        if isinstance(n, (ast.For, ast.comprehension)):
            found = _iterated_as_tuples(n.iter, n.target, params)
            if found is not None:
                out.setdefault(found, "iterated as tuples")
            found = _sorted_keys(n, node, params)
            if found is not None:
                out.setdefault(found, "indexed by its keys in sorted(...) order")
    return out


def _container_call(n: ast.AST, params: dict[str, Any]) -> tuple[str, str] | None:
    """(parameter, why) when the call ``n`` uses a parameter as a container:
    ``p.items()`` / ``.keys()`` / ``.values()`` or ``zip(*p)``; else None."""
    if not isinstance(n, ast.Call):
        return None
    f, args = n.func, n.args
    if (
        isinstance(f, ast.Attribute)
        and f.attr in ("items", "keys", "values")
        and isinstance(f.value, ast.Name)
        and f.value.id in params
    ):
        return f.value.id, f"uses .{f.attr}()"
    if not (isinstance(f, ast.Name) and len(args) >= 1):
        return None
    if (
        f.id == "zip"
        and len(args) == 1
        and isinstance(args[0], ast.Starred)
        and isinstance(args[0].value, ast.Name)
        and args[0].value.id in params
    ):
        return args[0].value.id, "unpacked into zip(*...)"
    return None


def _sorted_keys(loop: Any, fn: ast.AST, params: dict[str, Any]) -> str | None:
    """The parameter ``p`` of ``for k in sorted(p)`` (a loop or comprehension) when the
    function reads ``p[k]``: a dict whose keys are known on the first call; else None
    (``sorted(x)`` of an array's values is no container)."""
    it, target = loop.iter, loop.target
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "sorted"
        and len(it.args) == 1
        and isinstance(it.args[0], ast.Name)
        and it.args[0].id in params
        and isinstance(target, ast.Name)
    ):
        return None
    name = it.args[0].id
    for n in ast.walk(fn):
        if (
            isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name)
            and n.value.id == name
            and isinstance(n.slice, ast.Name)
            and n.slice.id == target.id
        ):
            return name
    return None


def _built_containers(fn: ast.AST) -> set[str]:
    """Names the function binds to a dict or list display (``xs, hs = {}, {}``)."""
    out: set[str] = set()
    for n in ast.walk(fn):
        if not isinstance(n, ast.Assign):
            continue
        for t in n.targets:
            pairs = (
                zip(t.elts, n.value.elts)
                if isinstance(t, ast.Tuple) and isinstance(n.value, ast.Tuple)
                else [(t, n.value)]
            )
            for name, value in pairs:
                if isinstance(name, ast.Name) and isinstance(
                    value, (ast.Dict, ast.List)
                ):
                    out.add(name.id)
    return out


def _steps_filling_containers(
    loop: ast.For, fn: ast.AST, params: dict[str, Any]
) -> dict[str, str]:
    """``for t in range(len(inputs)): xs[t] = ...``: the loop fills a dict or list built in
    the function entry by entry, which srcgrad does by running it once per step, so it needs
    the length of ``inputs`` (a list of indices, say) that only the first call gives."""
    it = loop.iter
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and isinstance(loop.target, ast.Name)
    ):
        return {}
    lengths = [
        a.args[0].id
        for a in it.args
        if isinstance(a, ast.Call)
        and isinstance(a.func, ast.Name)
        and a.func.id == "len"
        and len(a.args) == 1
        and isinstance(a.args[0], ast.Name)
        and a.args[0].id in params
    ]
    if not lengths:
        return {}
    built = _built_containers(fn)
    step = loop.target.id
    filled = sorted(
        {
            n.value.id
            for st in loop.body
            for n in ast.walk(st)
            if isinstance(n, ast.Subscript)
            and isinstance(n.ctx, ast.Store)
            and isinstance(n.value, ast.Name)
            and n.value.id in built
            and any(isinstance(k, ast.Name) and k.id == step for k in ast.walk(n.slice))
        }
    )
    if not filled:
        return {}
    why = (
        f"its length sets the steps of a loop that fills {', '.join(map(repr, filled))} "
        "step by step (run once per step, with the length the first call gives)"
    )
    return {name: why for name in lengths}


def _uses_as_containers(
    fn: Callable[..., Any],
    n: ast.AST,
    fdef: ast.AST,
    params: dict[str, Any],
    depth: int,
) -> dict[str, str]:
    """The parameters the node ``n`` uses as containers: a loop filling them step by
    step, a call passing them to a function of the user's that does, a field read
    (``hyp.log_ell``), itself or through the items of a loop over them."""
    out: dict[str, str] = {}
    if isinstance(n, ast.For):
        out.update(_steps_filling_containers(n, fdef, params))
    if isinstance(n, ast.Call) and depth < 3:
        out.update(
            {k: v for k, v in _passed_on(fn, n, params, depth).items() if k not in out}
        )
    field = _field_read(n, fdef)
    if field is not None and field[0] in params:
        out.setdefault(field[0], f"reads the {_FIELD} .{field[1]}")
    if isinstance(n, ast.For) and depth < 3:
        found = _items_with_fields(fn, n, fdef, params, depth)
        if found is not None:
            out.setdefault(found, f"its items' {_FIELD}s are read")
    return out


_FIELD = "field"  # the word in the reasons that come from field reads


def _field_read(n: ast.AST, fdef: ast.AST) -> tuple[str, str] | None:
    """(name, field) for ``name.field`` read as a value (not called) where ``field`` is no
    attribute of an array or a random generator: a NamedTuple or dataclass field."""
    if not (
        isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and isinstance(n.ctx, ast.Load)
    ):
        return None
    if any(isinstance(c, ast.Call) and c.func is n for c in ast.walk(fdef)):
        return None  # a method call
    if any(
        hasattr(t, n.attr)
        for t in (np.ndarray, np.random.Generator, np.random.RandomState)
    ):
        return None
    return n.value.id, n.attr


def _items_with_fields(
    fn: Callable[..., Any],
    loop: ast.For,
    fdef: ast.AST,
    params: dict[str, Any],
    depth: int,
) -> str | None:
    """The parameter a loop iterates (``for layer in layers``, ``enumerate(layers)``)
    whose items have fields read, here or by a function of the user's they are passed to
    (``coupling(layer, x)`` reading ``layer.W``), else None."""
    it, target = loop.iter, loop.target
    if (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "enumerate"
        and it.args
        and isinstance(target, ast.Tuple)
        and len(target.elts) == 2
    ):
        it, target = it.args[0], target.elts[1]
    if not (
        isinstance(it, ast.Name) and it.id in params and isinstance(target, ast.Name)
    ):
        return None
    item = target.id
    for n in ast.walk(loop):
        field = _field_read(n, fdef)
        if field is not None and field[0] == item:
            return it.id
        if isinstance(n, ast.Call):
            passed = _passed_on(fn, n, {item: None}, depth)
            if item in passed:
                return it.id
    return None


def _passed_on(
    fn: Callable[..., Any], call: ast.Call, params: dict[str, Any], depth: int
) -> dict[str, str]:
    """The parameters ``call`` passes (by position, as a bare name) to a Python function
    of the user's that uses that argument as a container."""
    if not isinstance(call.func, ast.Name):
        return {}
    callee = getattr(fn, "__globals__", {}).get(call.func.id)
    if not inspect.isfunction(callee) or callee is fn:
        return {}
    if (callee.__module__ or "").split(".")[0] in ("numpy", "scipy", "srcgrad"):
        return {}
    names = callee.__code__.co_varnames[: callee.__code__.co_argcount]
    inner = container_params(callee, depth + 1)
    out: dict[str, str] = {}
    for arg, pname in zip(call.args, names):
        if isinstance(arg, ast.Name) and arg.id in params and pname in inner:
            out[arg.id] = (
                f"passed to {callee.__name__}, which uses {pname!r} as a container: "
                f"{inner[pname]}"
            )
    return out


def _iterated_as_tuples(
    it: ast.expr, target: ast.expr, params: dict[str, Any]
) -> str | None:
    """The parameter a loop unpacks items of into several names (``for W, b in params``,
    ``params[:-1]``, ``reversed(params)``, ``for i, (W, b) in enumerate(params)``), else
    None."""
    if not isinstance(target, (ast.Tuple, ast.List)):
        return None
    if isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice):
        it = it.value
    if isinstance(it, ast.Name):
        return it.id if it.id in params else None
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)):
        return None
    if it.func.id == "reversed" and len(it.args) == 1:
        return _iterated_as_tuples(it.args[0], target, params)
    if it.func.id in ("enumerate", "zip"):
        parts = target.elts[1:] if it.func.id == "enumerate" else target.elts
        seqs = it.args if it.func.id == "zip" else it.args[:1]
        for a, t in zip(seqs, parts):
            found = _iterated_as_tuples(a, t, params)
            if found is not None:
                return found
    return None


@contextlib.contextmanager
def environ(**values: str | None) -> Iterator[None]:
    """Set (a str) or unset (None) environment variables for the duration of a block."""
    old = {k: os.environ.get(k) for k in values}
    try:
        _set_environ(values)
        yield
    finally:
        _set_environ(old)


def _set_environ(values: dict[str, str | None]) -> None:
    """Set each variable to its str, or unset it where its value is None."""
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def cache_entry(t: Target) -> tuple[Path, str, dict[str, Any]]:
    """(path, source, key parts) of the module ``srcgrad.grad`` would use (specialised on
    the example's arguments where the target has an example builder, else unspecialised),
    as ``GradFunction._prepare`` computes them."""
    df = t.grad_function()
    args = t.example_args()
    if args is not None:
        return df.cache_entry(args)
    wrt = list(df.wrt)
    if t.mode == "fwd":
        parts = df._key_parts(None, None)[1]
        source, parts["origin"] = cache.source_and_line(t.fn)
        return cache.cache_path(t.fn, wrt, "fwd", None), source, parts
    mode = "aux" if t.has_aux else None
    parts = {
        "qualname": t.fn.__qualname__,
        "wrt": tuple(wrt),
        "has_aux": t.has_aux,
        "spec": "",
    }
    source, parts["origin"] = cache.source_and_line(t.fn)
    return cache.cache_path(t.fn, wrt, mode, None), source, parts


def fresh_text(t: Target) -> str:
    """The module text the generator emits now, without reading or writing the cache."""
    with environ(SRCGRAD_CACHE="off"):
        df = t.grad_function()
        args = t.example_args()
        return df.source if args is None else df.prepare(args).text
