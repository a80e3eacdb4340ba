"""The generated/ cache (DESIGN §7).

A generated module lives at ``<cache>/<module>/<qualname>__wrt-<names>[__<mode>][__<spec8>].py``.
Its header holds a key over everything the text depends on (the function's source and where it
starts, the rules it uses, every callee the generator reached, ``CODEGEN_FORMAT``, a digest of
the generator's own source, black's version and mode) and a digest of the body.  A file is
read once, checked, and only then compiled and executed: no importlib, no ``.pyc``.  Writes go
to a temporary file in the same directory and are moved into place with ``os.replace``.  This
module must not import libcst or black: a cache hit needs neither.

Callees are recorded as :class:`Ref` paths (``0:helper``, ``1:other.deep``,
``0:model.forward.__func__``): how each one is reached from the differentiated function
through closure cells, globals and attributes.  A later process follows the same paths (dict
lookups, no parsing) and keys each callee by what it is and by its source (for a function of
an emitted module, that module's text; without source, its code object's contents).  Nothing
is ever keyed by a placeholder: a path that leads nowhere, or a rule no longer registered,
makes the file invalid.  Every call re-follows the paths and checks the objects' identity.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import inspect
import linecache
import math
import os
import tempfile
import textwrap
import types
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from srcgrad.custom import CustomVJP
from srcgrad.errors import SourceNotFoundError, SrcgradError
from srcgrad.rules import registry
from srcgrad.shipped import (
    own_display_path,
    shipped_path,
    user_cache_dir,
    writable_path,
)

CODEGEN_FORMAT = 7
HEADER_LINES = 5  # see header()
BLACK_LINE_LENGTH = 88  # black's mode for emitted code: codegen.emit formats with it
BLACK_TARGET = "py311"
_warned_fallback = False
_rule_prints: dict[int, tuple[Any, str]] = {}  # id(adjoint) -> (adjoint, print)


def cache_enabled() -> bool:
    return os.environ.get("SRCGRAD_CACHE", "on").lower() not in (
        "off",
        "0",
        "false",
        "no",
    )


def cache_dir() -> Path:
    """``$SRCGRAD_CACHE_DIR``, else ``./generated``; the user cache if that is not writable."""
    global _warned_fallback
    env = os.environ.get("SRCGRAD_CACHE_DIR")
    base = Path(env) if env else Path.cwd() / "generated"
    if _writable(base):
        return base
    if not _warned_fallback:
        _warned_fallback = True
        warnings.warn(
            f"srcgrad: {base} is not writable; caching generated code in "
            f"{user_cache_dir()}",
            stacklevel=3,
        )
    return user_cache_dir()


def _writable(path: Path) -> bool:
    p = path
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return os.access(p, os.W_OK)


def module_dirname(fn: Callable[..., Any]) -> str:
    """The folder of ``fn``'s files: its module's dotted name, or for a script run by path
    (``python model.py``: ``__main__``; ``runpy.run_path``: ``<run_path>``; any module name
    that is not a dotted identifier) the script's file stem, ``model``.  Two scripts of the
    same stem share the folder, never a file's validity: the key covers where the function
    starts (``file:line``, see :func:`source_and_line`)."""
    mod = getattr(fn, "__module__", None) or "unknown"
    if mod == "__main__" or not all(p.isidentifier() for p in mod.split(".")):
        file = getattr(getattr(fn, "__code__", None), "co_filename", "main")
        stem = Path(file).stem
        mod = (
            stem
            if stem.isidentifier()
            else "".join(c if c.isalnum() or c in "_-" else "_" for c in stem).strip(
                "_"
            )
            or "main"
        )
    return mod


def file_name(
    fn: Callable[..., Any],
    wrt: list[str],
    mode: str | None = None,
    spec: str | None = None,
) -> str:
    qual = getattr(fn, "__qualname__", fn.__name__).replace("<locals>", "locals")
    if getattr(fn, "__name__", "") == "<lambda>":  # several lambdas share a qualname
        qual = qual.replace("<lambda>", f"lambda_L{fn.__code__.co_firstlineno}")
    qual = "".join(c if c.isalnum() or c in "._-" else "_" for c in qual)
    name = f"{qual}__wrt-{'-'.join(wrt)}"
    if mode:
        name += f"__{mode}"
    if spec:
        name += f"__{hashlib.sha256(spec.encode()).hexdigest()[:8]}"
    return name + ".py"


def cache_path(
    fn: Callable[..., Any],
    wrt: list[str],
    mode: str | None = None,
    spec: str | None = None,
) -> Path:
    dirname, name = module_dirname(fn), file_name(fn, wrt, mode, spec)
    shipped = shipped_path(dirname, name)
    return shipped if shipped is not None else cache_dir() / dirname / name


def function_source(fn: Callable[..., Any]) -> str:
    """The function's source text (no parsing: cheap enough for a cache hit)."""
    lines, _ = source_lines(fn)
    return textwrap.dedent("".join(lines))


def rule_fingerprint(name: str) -> str | None:
    """A hash of the source of the rule registered under ``name`` (memoised per function),
    and whether it is still the rule of its primitive; None when no rule has that name.
    """
    rule = registry.lookup_name(name)
    if rule is None:
        return None
    hit = _rule_prints.get(id(rule.adjoint))
    if (
        hit is None or hit[0] is not rule.adjoint
    ):  # the id of a freed function is reused
        try:
            text = inspect.getsource(rule.adjoint)
        except (OSError, TypeError):
            code = getattr(rule.adjoint, "__code__", None)
            if code is None:
                return None
            text = "code " + code_digest(code)
        hit = _rule_prints[id(rule.adjoint)] = (
            rule.adjoint,
            hashlib.sha256(text.encode()).hexdigest()[:16],
        )
    current = registry.lookup(rule.primitive) is rule  # not overridden by a later rule
    return hit[1] if current else hit[1] + "/superseded"


def black_fingerprint() -> str:
    try:
        v = version("black")
    except PackageNotFoundError:  # pragma: no cover
        v = "none"
    return f"black={v};line_length={BLACK_LINE_LENGTH};target={BLACK_TARGET}"


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A digest of the generator's own source (every module of ``srcgrad/codegen``, and
    ``srcgrad/linetable.py``): what the emitted text depends on besides the function, its
    rules and its callees.  Any
    change to the generator makes every cached module stale, so a fixed generator never
    runs a module an older one wrote (read once per process; no parsing)."""
    root = Path(__file__).resolve().parent / "codegen"
    h = hashlib.sha256()
    # linetable.py writes the SRCGRAD_LINES table of every module
    for path in sorted(root.rglob("*.py")) + [root.parent / "linetable.py"]:
        h.update(path.relative_to(root.parent).as_posix().encode() + b"\0")
        h.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return h.hexdigest()[:16]


def compute_key(
    source: str,
    parts: dict[str, Any],
    rules: list[str],
    refs: list[Ref] | None = None,
    objs: list[Any] | None = None,
) -> str | None:
    """The key over everything the emitted text depends on, or None when it cannot be
    computed now (a rule it used is no longer registered): such a file is never valid.

    ``refs`` are the callees the generator reached (see :class:`Ref`) and ``objs`` the objects
    they resolve to now, one per ref.
    """
    h = hashlib.sha256()
    h.update(f"format={CODEGEN_FORMAT}\n{black_fingerprint()}\n".encode())
    h.update(f"engine={engine_fingerprint()}\n".encode())
    for k in sorted(parts):
        h.update(f"{k}={parts[k]!r}\n".encode())
    h.update(source.encode())
    for r in rules:
        fp = rule_fingerprint(r)
        if fp is None:
            return None
        h.update(f"\nrule {r} {fp}".encode())
    refs = refs or []
    objs = objs or []
    if len(objs) != len(refs):
        return None
    for ref, obj in zip(refs, objs):
        h.update(f"\ncall {ref} {callee_kind(obj)}\n{callee_text(obj, ref)}".encode())
    return h.hexdigest()[:32]


class Ref(NamedTuple):
    """How the generator reached one callee, so that a later process (or call) finds the same
    object again without parsing anything.

    ``owner`` is 0 for the differentiated function, or ``k`` for the function that the k-th ref
    (1-based) inlines: the name ``path[0]`` is looked up the way Python looks up a free name
    of that function (its closure cells, then its globals, then builtins; for the
    differentiated function, also its parameters bound to functions passed in), and the
    rest of ``path`` are attributes (``model.forward.__func__``, a ``functools.partial``'s
    object) or entries of a table (``ACTIVATIONS.['tanh']``, ``LAYERS.[2]``, see
    :func:`table_step`).
    """

    owner: int
    path: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.owner}:{'.'.join(self.path)}"

    @staticmethod
    def parse(text: str) -> "Ref | None":
        """The ref written as ``<owner>:<name>[.<attr>...]``, or None when malformed."""
        owner, sep, dotted = text.strip().partition(":")
        path = tuple(dotted.split("."))
        if not sep or not owner.isdigit() or not all(is_step(p) for p in path[1:]):
            return None
        if not path[0].isidentifier():
            return None
        return Ref(int(owner), path)


_NOTHING = object()


def table_step(key: Any) -> str | None:
    """The path step that reads entry ``key`` of a dict, list or tuple (``['tanh']``,
    ``[2]``), or None for a key a step cannot spell (only identifier strings and ints).
    """
    if type(key) is int or (type(key) is str and key.isidentifier()):
        return f"[{key!r}]"
    return None


def is_step(p: str) -> bool:
    """Whether ``p`` is a step of a :class:`Ref` path: an attribute or a table entry."""
    return p.isidentifier() or _table_key(p) is not _NOTHING


def _table_key(p: str) -> Any:
    """The key a ``[key]`` step reads, else _NOTHING."""
    if len(p) < 3 or p[0] != "[" or p[-1] != "]":
        return _NOTHING
    inner = p[1:-1]
    if inner.lstrip("-").isdigit():
        return int(inner)
    if len(inner) > 2 and inner[0] == inner[-1] == "'" and inner[1:-1].isidentifier():
        return inner[1:-1]
    return _NOTHING


def _step(obj: Any, p: str) -> Any:
    """``obj.p``, or the entry of the table ``obj`` a ``[key]`` step reads."""
    key = _table_key(p)
    if key is _NOTHING:
        return getattr(obj, p)
    if not isinstance(obj, (dict, list, tuple)):
        raise TypeError("not a table")
    return obj[key]


_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    functools.partial,
    CustomVJP,
)


def is_function_argument(x: Any) -> bool:
    """A function passed as an argument (``np.tanh``, a user's function, a lambda, a
    ``functools.partial``): generated code is specialised on it."""
    return isinstance(x, (*_FUNCTION_TYPES, np.ufunc))


def function_argument_name(x: Any) -> str:
    """A stable name of a function argument for the specialisation key (its identity and
    code are checked through the callee refs)."""
    if isinstance(x, functools.partial):
        return f"partial({function_argument_name(x.func)})"
    fn = inlined_function(x)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return f"{getattr(fn, '__module__', None)}.{name}"


def _free_name(fn: Any, name: str) -> Any:
    """``name`` as ``fn``'s body would read it: a closure cell, a global, or a builtin."""
    code = fn.__code__
    if name in code.co_freevars:
        cells = fn.__closure__ or ()
        i = code.co_freevars.index(name)
        if i < len(cells):
            try:
                return cells[i].cell_contents
            except ValueError:  # an empty cell: Python raises; the generator looks on
                pass
    g = fn.__globals__
    if name in g:
        return g[name]
    # an emitted module's: its user's names, read through
    if isinstance(g, UserGlobals):
        try:
            return g[name]
        except (KeyError, NameError):
            pass
    return getattr(builtins, name, _NOTHING)


def inlined_function(obj: Any) -> Any:
    """The function whose body the generator inlines for a callee ``obj`` (its names are looked
    up in that function's closure and globals)."""
    if type(obj) is types.FunctionType:
        return obj
    if isinstance(obj, functools.partial):
        return obj.func
    if isinstance(obj, CustomVJP):
        return obj.fn
    return obj


def _parameters(fn: Any) -> tuple[str, ...]:
    code = fn.__code__
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def _root_name(root: Any, name: str, args: dict[str, Any] | None) -> Any:
    """``name`` as the differentiated function ``root`` sees it: one of its parameters (an
    argument the code is specialised on, from ``args``), else a free name."""
    if name in _parameters(root):
        return _NOTHING if args is None else args.get(name, _NOTHING)
    return _free_name(root, name)


def resolve_refs(
    root: Callable[..., Any],
    refs: list[Ref] | tuple[Ref, ...],
    args: dict[str, Any] | None = None,
) -> list[Any] | None:
    """The objects ``refs`` reach now from ``root`` (one per ref), or None when one of them
    cannot be reached any more.  Cheap: dict lookups and attribute reads, no parsing.
    ``args`` are the call's arguments by parameter (a ref may start at a function passed
    in)."""
    owners: list[Any] = [root]
    objs: list[Any] = []
    for ref in refs:
        if ref.owner >= len(owners):
            return None
        owner = owners[ref.owner]
        if not hasattr(owner, "__code__") or not hasattr(owner, "__globals__"):
            return None
        if ref.owner == 0:
            obj = _root_name(owner, ref.path[0], args)
        else:
            obj = _free_name(owner, ref.path[0])
        if obj is _NOTHING:
            return None
        for attr in ref.path[1:]:
            try:
                obj = _step(obj, attr)
            except Exception:  # noqa: BLE001  (any failure means: not the same callee)
                return None
        objs.append(obj)
        owners.append(inlined_function(obj))
    return objs


def callee_codes(objs: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    """The code object of each callee's inlined function (None when it has none); for a
    table of functions, its keys."""
    return tuple(_code_of(o) for o in objs)


def is_constant_sequence(obj: Any) -> bool:
    """A list or tuple of numbers, strings, None and tuples of such (``shapes``, layer
    names): a loop over it runs once per item, so the cache keys it by value."""
    return type(obj) in (list, tuple) and len(obj) <= 64 and all(map(is_constant, obj))


def is_constant(v: Any, literal: bool = False) -> bool:
    """A number, string, None or tuple of such: immutable, keyed by its text.  With
    ``literal``, one that a literal in emitted code can spell (no nan or inf)."""
    if type(v) is float:
        return not literal or math.isfinite(v)
    if type(v) in (int, bool, str, type(None)):
        return True
    return type(v) is tuple and all(is_constant(x, literal) for x in v)


def value_spec(obj: Any) -> Any:
    """The abstract signature of a free value the generator specialised on (an array or a
    Python number read from a global or closure): ``(dtype, which axes have length 1)`` or
    ``"f"``/``"i"``/``"c"``; None for other objects.  Compared at every call instead of the
    object's identity, so a global rebound to an array of the same kind keeps its code.
    """
    t = type(obj)
    if t is float:
        return "f"
    if t is int:
        return "i"
    if t is complex:
        return "c"
    if t is np.ndarray:
        return (obj.dtype.str, tuple(n == 1 for n in obj.shape))
    return None


def without_values(objs: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    """``objs`` with the free values (arrays, numbers) left out (None): a loaded module
    keeps their signatures (:func:`callee_codes`), never the arrays themselves."""
    return tuple(None if value_spec(o) is not None else o for o in objs)


def _code_of(obj: Any) -> Any:
    spec = value_spec(obj)
    if spec is not None:
        return ("value", spec)
    if is_constant_sequence(obj):
        return ("constant", _const_text(obj))  # its value, compared at every call
    if type(obj) in (dict, list, tuple):
        return _table_keys(obj)
    return getattr(inlined_function(obj), "__code__", None)


def _table_keys(obj: Any) -> tuple[Any, ...]:
    """The keys of a table of functions (a dict's, or a list's or tuple's positions)."""
    return tuple(obj) if type(obj) is dict else tuple(range(len(obj)))


def refs_current(
    root: Callable[..., Any],
    refs: tuple[Ref, ...],
    objs: tuple[Any, ...],
    codes: tuple[Any, ...],
    args: dict[str, Any] | None = None,
) -> bool:
    """Whether every ref still reaches the same object, with the same code (the per-call
    freshness check: a rebound global, a redefined helper, a new closure cell or another
    function passed in fails it).  The refs are checked in order, so an owner is one
    already found unchanged."""
    for ref, obj, code in zip(refs, objs, codes):
        if ref.owner == 0:
            now = _root_name(root, ref.path[0], args)
        else:
            now = _free_name(inlined_function(objs[ref.owner - 1]), ref.path[0])
        for attr in ref.path[1:]:
            try:
                now = _step(now, attr)
            except Exception:  # noqa: BLE001  (any failure means: not the same callee)
                return False
        is_value = type(code) is tuple and code[:1] == ("value",)
        if (
            now is not obj
            and not (type(now) is types.MethodType and now == obj)
            and not is_value  # a value: compared by its signature below
        ):
            return False
        now_code = _code_of(now)
        if now_code is not code and not (type(code) is tuple and now_code == code):
            return False
    return True


def callee_kind(obj: Any) -> str:
    """What the generator made of a callee: inlined, a rule, non-differentiable, custom."""
    if isinstance(obj, CustomVJP):
        kind = "custom" if obj.vjp is not None else "custom-without-rule"
        return kind + ("+jvp" if obj.jvp is not None else "")
    spec = value_spec(obj)
    if spec is not None:  # a free value the code is specialised on: its signature
        return f"value:{spec!r}"
    if isinstance(obj, functools.partial):
        return f"partial/{len(obj.args)}/{','.join(sorted(obj.keywords))}"
    rule = registry.lookup(obj)
    if rule is not None:
        return f"rule:{rule.name}"
    if registry.is_nondiff(obj):
        return "nondiff"
    if isinstance(obj, types.FunctionType):
        return "function"
    if isinstance(obj, types.MethodType):
        return "method"
    if is_constant_sequence(obj):  # a sequence of constants a loop ran over: its value
        return f"constant:{type(obj).__name__}:{_const_text(obj)}"
    if type(obj) in (dict, list, tuple):  # a table of functions, looked up by key
        return f"table:{type(obj).__name__}:{_const_text(_table_keys(obj))}"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"object:{type(obj).__qualname__}:{getattr(obj, '__module__', None)}.{name}"


def callee_text(obj: Any, ref: Any = None) -> str:
    """What the key hashes for a callee: its source and where it starts; for a function of
    an emitted module, that module's whole text (by digest); without source, the full
    contents of its code object.  Never a placeholder: with neither, a SourceNotFoundError.
    """
    kind = callee_kind(obj)
    if kind.startswith(
        ("rule:", "nondiff", "object:", "table:", "constant:", "value:")
    ):
        return ""  # called by name, never inlined: what it is is all (a rule has a fingerprint)
    fn = inlined_function(obj)
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    g = getattr(fn, "__globals__", None)
    if isinstance(g, UserGlobals):
        digest = dict.get(g, "__srcgrad_digest__")
        if digest is not None:
            return f"emitted {fn.__qualname__} of {digest}"
    code = getattr(fn, "__code__", None)
    try:
        lines, first = source_lines(fn)
    except (OSError, TypeError):
        lines = None
    # default values are fixed when the def runs (a recursive callee's are folded in)
    defaults = _const_text(
        (getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None))
    )
    if lines is not None and code is not None:
        where = f"{display_path(code.co_filename)}:{first}"
        return f"{where} defaults={defaults}\n{textwrap.dedent(''.join(lines))}"
    if code is not None:
        return f"code {code_digest(code)} defaults={defaults}"
    name = (
        getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    )
    if kind.startswith("custom"):
        # a custom_vjp of a compiled function (a ufunc): the generator uses only its signature
        try:
            sig = str(inspect.signature(fn))
        except (TypeError, ValueError):
            sig = None
        if sig is not None:
            return f"compiled {getattr(fn, '__module__', None)}.{name}{sig}"
    raise SourceNotFoundError(
        f"cannot key the cached gradient on {name}"
        + (f" (reached as {'.'.join(ref.path)})" if ref is not None else "")
        + ": it has neither source nor a code object",
        construct="callee",
        hint=f"call {name} from a function defined with def in a .py file, and use that",
    )


def _const_text(v: Any) -> str:
    """``v`` as text when it is a constant the generator may fold (numbers, strings, None,
    and tuples, lists and dicts of them); other objects by their type only."""
    if v is None or type(v) in (bool, int, float, complex, str, bytes):
        return repr(v)
    if type(v) in (tuple, list):
        return type(v).__name__ + "(" + ",".join(_const_text(e) for e in v) + ")"
    if type(v) is dict:
        return (
            "{"
            + ",".join(f"{_const_text(k)}:{_const_text(e)}" for k, e in v.items())
            + "}"
        )
    return f"<{type(v).__module__}.{type(v).__qualname__}>"


def code_digest(code: types.CodeType) -> str:
    """A digest of everything a code object runs: bytecode, constants (nested code objects
    included), names, signature counts, flags and positions."""
    h = hashlib.sha256()

    def feed(c: types.CodeType) -> None:
        h.update(c.co_code)
        h.update(
            repr(
                (
                    c.co_names,
                    c.co_varnames,
                    c.co_freevars,
                    c.co_cellvars,
                    c.co_argcount,
                    c.co_posonlyargcount,
                    c.co_kwonlyargcount,
                    c.co_flags,
                    c.co_qualname if hasattr(c, "co_qualname") else c.co_name,
                    c.co_firstlineno,
                )
            ).encode()
        )
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                h.update(b"<code>")
                feed(k)
            else:
                h.update(f"{type(k).__qualname__}:{k!r};".encode())

    feed(code)
    return h.hexdigest()[:32]


def display_path(path: str) -> str:
    """A path relative to the working directory when it lies under it (as emitted);
    srcgrad's own files as ``srcgrad/...`` wherever srcgrad is (:mod:`srcgrad.shipped`).
    """
    own = own_display_path(path)
    if own is not None:
        return own
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def source_lines(fn: Callable[..., Any]) -> tuple[list[str], int]:
    """``inspect.getsourcelines(fn)``, except for a function of an emitted module: its lines
    come from the text it was compiled from.  (Two texts emitted for one file name, e.g. two
    closures of one factory, share a ``linecache`` entry; only the text is exact.)"""
    g = getattr(fn, "__globals__", None)
    text = dict.get(g, "__srcgrad_text__") if isinstance(g, UserGlobals) else None
    code = getattr(fn, "__code__", None)
    if text is None or code is None:
        return inspect.getsourcelines(fn)
    first = code.co_firstlineno
    lines = text.splitlines(True)
    return inspect.getblock(lines[first - 1 :]), first


def source_and_line(fn: Callable[..., Any]) -> tuple[str, str]:
    """The function's source (as :func:`function_source`) and where it starts,
    ``<file>:<line>`` as the emitted comments show it."""
    lines, first = source_lines(fn)
    where = f"{display_path(fn.__code__.co_filename)}:{first}"
    return textwrap.dedent("".join(lines)), where


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def header(
    file: str,
    line: int,
    qualname: str,
    key: str,
    rules: list[str],
    digest: str,
    calls: list[str] | None = None,
) -> str:
    """The ``HEADER_LINES`` comment lines that open a generated file (read by
    :func:`parse_header`)."""
    uses = ", ".join(rules) if rules else "-"
    if calls:
        uses += "; calls: " + ", ".join(calls)
    return (
        f"# Generated by srcgrad from {file}:{line} ({qualname}). Do not edit:\n"
        "# rebuilt when the source, the rules it uses or the formatter change.\n"
        f"# key: {key}\n"
        f"# rules: {uses}\n"
        f"# digest: {digest}\n"
    )


def parse_header(text: str) -> tuple[str, list[str], str, str, list[Ref]] | None:
    """(key, rules, digest, body, callee refs) of a cached file, or None when it is
    malformed."""
    head = text.split("\n", HEADER_LINES)
    if len(head) <= HEADER_LINES:
        return None
    key_line, rules_line, digest_line = head[2], head[3], head[4]
    if not (
        key_line.startswith("# key: ")
        and rules_line.startswith("# rules: ")
        and digest_line.startswith("# digest: ")
    ):
        return None
    rules_text = rules_line[len("# rules: ") :].strip()
    rules_text, _, calls_text = rules_text.partition("; calls: ")
    rules = [] if rules_text == "-" else [r.strip() for r in rules_text.split(",")]
    calls = [Ref.parse(c) for c in calls_text.split(",")] if calls_text else []
    if any(c is None for c in calls):
        return None
    refs: list[Ref] = calls  # type: ignore[assignment]
    return (
        key_line[7:].strip(),
        rules,
        digest_line[10:].strip(),
        head[HEADER_LINES],
        refs,
    )


def read_valid(
    path: Path,
    source: str,
    parts: dict[str, Any],
    fn: Callable[..., Any] | None = None,
    args: dict[str, Any] | None = None,
) -> str | None:
    """The file's text if its key and digest check out against the current inputs.

    ``fn`` is the differentiated function: the callees the header names are found again from
    it (and from ``args``, the call's arguments by parameter).  Without it, a file that calls
    other functions cannot be verified (None).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    parsed = parse_header(text)
    if parsed is None:
        return None
    key, rules, digest, body, calls = parsed
    objs: list[Any] | None = []
    if calls:
        objs = resolve_refs(fn, calls, args) if fn is not None else None
        if objs is None:
            return None
    try:
        expected = compute_key(source, parts, rules, calls, objs)
    except SrcgradError:  # a callee that cannot be keyed: regenerate (and report it)
        return None
    if expected is None or key != expected:
        return None
    if digest != body_digest(body):
        return None
    return text


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (moved to the user cache when ``path`` is shipped in
    an installed package, see :func:`writable_path`) so that readers never see a
    partial file; returns where it was written."""
    path = writable_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


CLOSURE_READS = "SRCGRAD_CLOSURE_READS"  # an emitted module's table of closure reads
# builtins emitted code calls on its own: the builtins whatever the user's module binds
EMITTED_BUILTINS = frozenset({"len", "list", "min", "range", "reversed", "tuple"})


class UserGlobals(dict):  # type: ignore[type-arg]
    """Globals of an emitted module: its own names first, then the closure variables of
    called functions that its :data:`CLOSURE_READS` table names, then the user's closure
    cells and module globals, all read at call time (never folded into the file).

    A table entry ``"D": "1:D"`` is the variable ``D`` as the function that the first
    callee ref reaches reads it: that function is found by following ``refs`` from ``fn``
    once (the caller re-checks them before each call, :func:`refs_current`), its cell is
    read at every use."""

    __slots__ = ("_fn", "_fn_globals", "_cells", "_refs", "_owners")

    def __init__(
        self,
        fn: Callable[..., Any],
        refs: tuple[Ref, ...] = (),
        callees: tuple[Any, ...] | None = None,
    ) -> None:
        super().__init__()
        self._fn = fn
        self._fn_globals = fn.__globals__
        code = fn.__code__
        self._cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        self._refs = refs
        self._owners: dict[int, Any] = {}
        if callees is not None:  # what the refs reach (found from the call's arguments)
            for k, obj in enumerate(callees, 1):
                self._owners[k] = inlined_function(obj)

    def __missing__(self, key: str) -> Any:
        reads = dict.get(self, CLOSURE_READS)
        if reads is not None and key in reads:
            return self._closure_read(key, reads[key])
        cell = self._cells.get(key)
        if cell is not None:
            return cell.cell_contents
        if key in EMITTED_BUILTINS:
            return getattr(builtins, key)
        return self._fn_globals[key]

    def __contains__(self, key: object) -> bool:
        """Whether a bare ``key`` in the module's code finds a value (its own names, the
        closure reads, the function's cells and module): the generator resolves the names
        of an emitted function it differentiates again the way the code reads them."""
        if dict.__contains__(self, key):
            return True
        reads = dict.get(self, CLOSURE_READS)
        if reads is not None and key in reads:
            return True
        cell = self._cells.get(key)  # type: ignore[call-overload]
        if cell is not None:
            try:
                cell.cell_contents  # noqa: B018  (an empty cell holds nothing)
            except ValueError:
                return False
            return True
        return key in self._fn_globals

    def get(self, key: Any, default: Any = None) -> Any:
        if not self.__contains__(key):
            return default
        try:
            return self[key]
        except (KeyError, NameError):
            return default

    def _closure_read(self, key: str, text: str) -> Any:
        ref = Ref.parse(text)
        owner = None if ref is None else self._owners.get(ref.owner)
        if ref is not None and owner is None:
            if ref.owner == 0:
                owner = self._fn
            elif ref.owner <= len(self._refs):
                objs = resolve_refs(self._fn, self._refs[: ref.owner])
                owner = None if objs is None else inlined_function(objs[-1])
            if owner is not None:
                self._owners[ref.owner] = owner
        code = getattr(owner, "__code__", None)
        g = getattr(owner, "__globals__", None)  # an emitted module's (recompute.py)
        if ref is not None and isinstance(g, UserGlobals) and ref.path[0] in g.keys():
            return dict.__getitem__(g, ref.path[0])
        if ref is None or code is None or ref.path[0] not in code.co_freevars:
            raise NameError(f"the closure variable {text} ({key}) cannot be found")
        cell = owner.__closure__[code.co_freevars.index(ref.path[0])]  # type: ignore[union-attr]
        try:
            return cell.cell_contents
        except ValueError:
            raise NameError(
                f"free variable {ref.path[0]!r} of {owner.__qualname__} referenced "  # type: ignore[union-attr]
                "before assignment"
            ) from None


def load_module(
    text: str,
    filename: str,
    fn: Callable[..., Any],
    callees: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """Compile and execute verified module text; register it with linecache.  ``callees``
    are the objects its header's refs reach now (found again lazily without them)."""
    parsed = parse_header(text)
    ns = UserGlobals(fn, tuple(parsed[4]) if parsed is not None else (), callees)
    ns["__builtins__"] = builtins
    ns["__name__"] = f"srcgrad.generated.{Path(filename).stem}"
    ns["__file__"] = filename
    ns["__srcgrad_digest__"] = hashlib.sha256(text.encode()).hexdigest()[:32]
    ns["__srcgrad_text__"] = (
        text  # the exact source of its functions (see source_lines)
    )
    code = compile(text, filename, "exec", dont_inherit=True)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(code, ns)
    return ns
