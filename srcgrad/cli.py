"""The ``srcgrad`` command line (DESIGN §2).

Subcommands follow black's conventions: messages about files go to stderr, the payload (a
gradient module, a diff, findings, a table) to stdout, and the exit code says what happened:

* 0: clean (nothing to report, nothing stale, the check passed);
* 1: findings (unsupported constructs, stale or missing generated files, a gradient mismatch);
* 2: usage (bad arguments, a file or function that does not exist);
* 123: internal error (a module that fails to import, a bug in srcgrad); the traceback is
  shown with ``--verbose``.

Every subcommand generates through the API (:class:`srcgrad.api.GradFunction` and its cache),
so the files it writes are byte-identical to the ones ``srcgrad.grad`` writes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import importlib
import importlib.util
import inspect
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 123
_GRAD_DECORATORS = {"grad", "value_and_grad", "vjp"}
_SKIP_DIRS = {"__pycache__", "build", "dist", "generated", "node_modules", "venv"}
_CONTAINER_ANNOTATIONS = {
    "dict", "list", "tuple", "Dict", "List", "Tuple", "Mapping", "MutableMapping", "Sequence",
}  # fmt: skip


class UsageError(Exception):
    """Bad command-line input: exit code 2."""


class LoadError(Exception):
    """A user module that cannot be imported: exit code 123 (black's "cannot parse")."""


# --------------------------------------------------------------------------- output helpers


class _Out:
    quiet = False
    verbose = False

    @classmethod
    def err(cls, msg: str) -> None:
        print(msg, file=sys.stderr)

    @classmethod
    def info(cls, msg: str) -> None:
        if not cls.quiet:
            print(msg, file=sys.stderr)


def _display(path: Path | str) -> str:
    p = Path(path)
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return str(p)
    return str(p) if rel.startswith("..") else rel


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- loading user code


def _module_name(path: Path) -> tuple[str, Path]:
    """The dotted module name of ``path`` and the directory to put on sys.path: a file inside
    packages (directories with ``__init__.py``) gets its full dotted name, as an import of it
    would."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    d = path.parent
    while (d / "__init__.py").is_file():
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts), d


def load_module(path: Path) -> Any:
    """Import the module at ``path`` (its root directory goes on sys.path first)."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    name, root = _module_name(path)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    mod = sys.modules.get(name)
    if mod is not None and Path(getattr(mod, "__file__", "") or "").resolve() == path.resolve():
        return mod
    try:
        if mod is None:
            try:
                return importlib.import_module(name)
            except ImportError as exc:
                if getattr(exc, "name", None) not in (name, name.split(".")[0]):
                    raise
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover
            raise LoadError(f"cannot import {_display(path)}")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    except (UsageError, LoadError):
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        sys.modules.pop(name, None)
        raise LoadError(f"cannot import {_display(path)}: {type(exc).__name__}: {exc}") from exc


def _split_spec(spec: str) -> tuple[Path, str | None]:
    file, sep, func = spec.partition("::")
    if sep and not func:
        raise UsageError(f"{spec}: give a function name after '::'")
    return Path(file), (func or None)


def _iter_py(path: Path) -> Iterator[Path]:
    """``path`` itself, or the *.py files under a directory (hidden and build dirs skipped)."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise UsageError(f"no such file or directory: {path}")
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for f in sorted(files):
            if f.endswith(".py"):
                yield Path(root) / f


def _decorator_names(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.insert(0, node.id)
    return ".".join(parts)


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _marks_grad(tree: ast.Module) -> bool:
    """Does the file decorate a function with srcgrad.grad / value_and_grad / vjp?"""
    imported = {
        (a.asname or a.name)
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "srcgrad"
        for a in n.names
        if a.name in _GRAD_DECORATORS
    }
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in n.decorator_list:
                name = _decorator_names(d)
                if name.startswith("srcgrad.") and name.rsplit(".", 1)[-1] in _GRAD_DECORATORS:
                    return True
                if name in imported:
                    return True
    return False


def _resolve(mod: Any, qualname: str, path: Path) -> Any:
    obj = mod
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"{_display(path)} has no function {qualname!r}") from None
    return obj


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One gradient to generate: a function and the ``wrt``/``has_aux`` it is generated with."""

    fn: Callable[..., Any]
    wrt: Any  # what srcgrad.grad receives
    has_aux: bool
    label: str  # FILE::qualname

    def grad_function(self) -> Any:
        import srcgrad

        return srcgrad.grad(self.fn, wrt=self.wrt, has_aux=self.has_aux)


def _parse_wrt(text: str | None) -> Any:
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
    from srcgrad.api import GradFunction

    if isinstance(obj, GradFunction):
        return Target(
            obj.forward,
            wrt if wrt is not None else obj.wrt,
            bool(obj._has_aux),
            label,
        )
    fn = inspect.unwrap(obj) if callable(obj) else obj
    if not inspect.isfunction(fn):
        raise UsageError(f"{label} is not a Python function ({type(obj).__name__})")
    return Target(fn, wrt if wrt is not None else default_wrt, False, label)


def _grad_targets(path: Path, func: str | None, wrt: Any, explicit: bool) -> list[Target]:
    """The targets of ``FILE`` (its @srcgrad.grad functions) or ``FILE::func``."""
    from srcgrad.api import GradFunction

    if func is None and not explicit:
        tree = _parse(path)
        if tree is None or not _marks_grad(tree):
            return []
    mod = load_module(path)
    if func is not None:
        return [_target_of(_resolve(mod, func, path), f"{_display(path)}::{func}", wrt)]
    seen: set[int] = set()
    out = []
    for obj in vars(mod).values():
        if not isinstance(obj, GradFunction) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if getattr(obj.forward, "__module__", None) != mod.__name__:
            continue  # imported from elsewhere: generated with its own module
        out.append(_target_of(obj, f"{_display(path)}::{obj.forward.__qualname__}", wrt))
    return out


def _container_params(fn: Callable[..., Any]) -> dict[str, str]:
    """Parameters that look like containers: the first call specialises their gradient module
    (a different file name), so it cannot be generated ahead of time."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return {}
    node = next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None
    )
    if node is None:
        return {}
    params = {a.arg: a for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    out: dict[str, str] = {}
    for name, a in params.items():
        if a.annotation is not None:
            ann = _decorator_names(
                a.annotation.value if isinstance(a.annotation, ast.Subscript) else a.annotation
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
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("items", "keys", "values")
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id in params
        ):
            out.setdefault(n.func.value.id, f"uses .{n.func.attr}()")
    return out


# --------------------------------------------------------------------------- the cache entry


@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def cache_entry(t: Target) -> tuple[Path, str, dict[str, Any]]:
    """(path, source, key parts) of the unspecialised module ``srcgrad.grad`` would use, as
    ``GradFunction._prepare`` computes them."""
    from srcgrad import cache

    df = t.grad_function()
    wrt = list(df.wrt)
    mode = "aux" if t.has_aux else None
    parts = {"qualname": t.fn.__qualname__, "wrt": tuple(wrt), "has_aux": t.has_aux, "spec": ""}
    source, parts["origin"] = cache.source_and_line(t.fn)
    return cache.cache_path(t.fn, wrt, mode, None), source, parts


def fresh_text(t: Target) -> str:
    """The module text the generator emits now, without reading or writing the cache."""
    with _env(SRCGRAD_CACHE="off"):
        return t.grad_function().source


# --------------------------------------------------------------------------- gen


def _gen_targets(ns: argparse.Namespace) -> tuple[list[Target], list[str], int]:
    """(targets, notes, status) for the gen command's arguments."""
    wrt = _parse_wrt(ns.wrt)
    targets: list[Target] = []
    notes: list[str] = []
    status = EXIT_CLEAN
    for spec in ns.src:
        path, func = _split_spec(spec)
        if func is None and path.is_dir():
            files = list(_iter_py(path))
            explicit = False
        else:
            if not path.exists():
                raise UsageError(f"no such file or directory: {path}")
            files, explicit = [path], True
        for f in files:
            try:
                found = _grad_targets(f, func, wrt, explicit)
            except LoadError as exc:
                _load_failed(exc)
                notes.append(f"{_display(f)}: failed to import")
                status = EXIT_INTERNAL
                continue
            if explicit and not found:
                notes.append(f"{_display(f)}: no function decorated with @srcgrad.grad here")
            for t in found:
                containers = _container_params(t.fn)
                if containers:
                    why = ", ".join(f"{k!r} ({v})" for k, v in containers.items())
                    notes.append(
                        f"skipped {t.label}: parameter {why} looks like a container; its "
                        "gradient module is specialised on the first call"
                    )
                    continue
                targets.append(t)
    return targets, notes, status


def cmd_gen(ns: argparse.Namespace) -> int:
    from srcgrad import cache
    from srcgrad.errors import SrcgradError

    out_dir = str(Path(ns.out).resolve()) if ns.out else None
    with _env(SRCGRAD_CACHE_DIR=out_dir) if out_dir else contextlib.nullcontext():
        targets, notes, status = _gen_targets(ns)
        for note in notes:
            if not note.endswith(": failed to import"):
                _Out.info(note)
        changed = unchanged = failed = 0
        for t in targets:
            try:
                path, source, parts = cache_entry(t)
                valid = (not ns.force) and cache.read_valid(path, source, parts, t.fn) is not None
                if valid and ns.exact:
                    valid = path.read_text(encoding="utf-8") == fresh_text(t)
                if valid:
                    unchanged += 1
                    if _Out.verbose:
                        _Out.info(f"unchanged {_display(path)}")
                    continue
                if ns.check or ns.diff:
                    new = fresh_text(t)
                    old = path.read_text(encoding="utf-8") if path.exists() else ""
                    if ns.diff:
                        rel = _display(path)
                        sys.stdout.writelines(
                            difflib.unified_diff(
                                old.splitlines(True),
                                new.splitlines(True),
                                fromfile=f"a/{rel}" if old else "/dev/null",
                                tofile=f"b/{rel}",
                            )
                        )
                    if ns.check:
                        what = "regenerate" if path.exists() else "generate (missing)"
                        _Out.info(f"would {what} {_display(path)}  ({t.label})")
                    changed += 1
                    continue
                if ns.force:
                    text = fresh_text(t)
                    cache.write_atomic(path, text)
                else:
                    df = t.grad_function()
                    df.source  # noqa: B018  (generates and writes through the API's cache)
                    path = df.path
                _Out.info(f"generated {_display(path)}  ({t.label})")
                changed += 1
            except SrcgradError as err:
                print(str(err))
                failed += 1
                status = max(status, EXIT_FINDINGS)
            except (UsageError, LoadError):
                raise
            except Exception as exc:  # noqa: BLE001
                _internal(f"{t.label}: {type(exc).__name__}: {exc}", exc)
                failed += 1
                status = EXIT_INTERNAL
    bad_imports = sum(1 for n in notes if n.endswith(": failed to import"))
    _gen_summary(ns, changed, unchanged, failed, bad_imports, len(targets))
    if ns.check and changed:
        status = max(status, EXIT_FINDINGS)
    return status


def _gen_summary(
    ns: argparse.Namespace, changed: int, unchanged: int, failed: int, bad_imports: int, n: int
) -> None:
    parts = []
    if ns.check or ns.diff:
        if changed:
            parts.append(f"{_plural(changed, 'file')} would be regenerated")
    elif changed:
        parts.append(f"{_plural(changed, 'file')} generated")
    if unchanged:
        parts.append(
            f"{_plural(unchanged, 'file')} {'would be ' if ns.check or ns.diff else ''}left unchanged"
        )
    if failed:
        parts.append(f"{_plural(failed, 'function')} failed to generate")
    if bad_imports:
        parts.append(f"{_plural(bad_imports, 'file')} failed to import")
    if not n and not failed and not bad_imports:
        parts.append("no @srcgrad.grad functions found")
    head = "Oh no! " if (ns.check and changed) or failed or bad_imports else "All done! "
    _Out.info(head + ", ".join(parts) + ".")


# --------------------------------------------------------------------------- show


def _one_target(spec: str, wrt_text: str | None) -> Target:
    path, func = _split_spec(spec)
    wrt = _parse_wrt(wrt_text)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    found = _grad_targets(path, func, wrt, explicit=True)
    if len(found) != 1:
        names = ", ".join(t.label for t in found) or "none"
        raise UsageError(
            f"{spec}: name one function as FILE::func (decorated functions here: {names})"
        )
    return found[0]


def _highlight(text: str) -> str:
    if not sys.stdout.isatty():
        return text
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return highlight(text, PythonLexer(), TerminalFormatter())


def _parse_shape(text: str) -> Any:
    text = text.strip()
    if text in ("float", "scalar"):
        return "float"
    if text in ("()", "0d", ""):
        return ()
    try:
        return tuple(int(p) for p in text.replace("*", "x").replace(",", "x").split("x") if p)
    except ValueError:
        raise UsageError(f"bad shape {text!r}: write it like 3x4 (or () or float)") from None


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        for piece in item.split():
            name, sep, value = piece.partition("=")
            if not sep or not name:
                raise UsageError(f"{what} expects NAME=VALUE, got {piece!r}")
            out[name] = value
    return out


def make_args(fn: Callable[..., Any], ns: argparse.Namespace) -> tuple[Any, ...]:
    """Random float64 inputs of the --shape shapes, --arg literals and defaults, in parameter
    order."""
    import numpy as np

    shapes = {k: _parse_shape(v) for k, v in _pairs(ns.shape, "--shape").items()}
    literals = {}
    for k, v in _pairs(getattr(ns, "arg", None), "--arg").items():
        try:
            literals[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            raise UsageError(f"--arg {k}={v}: not a Python literal") from None
    lo, hi = _domain(getattr(ns, "domain", None))
    rng = np.random.default_rng(ns.seed)
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    unknown = sorted((set(shapes) | set(literals)) - set(params))
    if unknown:
        raise UsageError(f"{fn.__qualname__} has no parameter {', '.join(map(repr, unknown))}")
    sig = inspect.signature(fn)
    args = []
    for p in params:
        if p in shapes:
            shape = shapes[p]

            def draw(shape: Any) -> Any:
                if lo is None:
                    return rng.standard_normal(shape)
                return rng.uniform(lo, hi, size=shape)

            args.append(
                float(draw(None)) if shape == "float" else np.asarray(draw(shape), dtype=np.float64)
            )
        elif p in literals:
            args.append(literals[p])
        elif sig.parameters[p].default is not inspect.Parameter.empty:
            args.append(sig.parameters[p].default)
        else:
            raise UsageError(
                f"{fn.__qualname__}: give parameter {p!r} a shape (--shape {p}=3x4) or a value "
                f"(--arg {p}=5)"
            )
    return tuple(args)


def _domain(text: str | None) -> tuple[float | None, float | None]:
    if not text:
        return None, None
    lo, _sep, hi = text.partition(":")
    try:
        return float(lo), float(hi)
    except ValueError:
        raise UsageError(f"--domain expects LO:HI, got {text!r}") from None


def cmd_show(ns: argparse.Namespace) -> int:
    from srcgrad.errors import SrcgradError

    t = _one_target(ns.target, ns.wrt)
    if not ns.residuals:
        if ns.shape or ns.arg:
            _Out.info("note: --shape and --arg are used with --residuals")
        try:
            text = t.grad_function().source
        except SrcgradError as err:
            print(str(err))
            return EXIT_FINDINGS
        sys.stdout.write(_highlight(text))
        return EXIT_CLEAN
    from srcgrad import diagnose

    args = make_args(t.fn, ns)
    df = t.grad_function()
    try:
        fields = diagnose.residual_report(df, *args)
    except SrcgradError as err:
        print(str(err))
        return EXIT_FINDINGS
    given = " ".join(
        f"{p}={'x'.join(map(str, a.shape)) or '()'}"
        for p, a in zip(df._params, args)
        if hasattr(a, "shape")
    )
    print(f"residuals of {t.label} w.r.t. ({', '.join(df.wrt)}) for {given}")
    print(f"(the fields of Residuals_{t.fn.__name__} in {_display(df.path)})")
    print(diagnose.format_residuals(fields))
    return EXIT_CLEAN


# --------------------------------------------------------------------------- check


def _module_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def cmd_check(ns: argparse.Namespace) -> int:
    from srcgrad.api import GradFunction
    from srcgrad.errors import SrcgradError

    if getattr(ns, "grad", False):
        if len(ns.src) != 1 or "::" not in ns.src[0]:
            raise UsageError("check --grad takes one FILE::func")
        ns.target = ns.src[0]
        return cmd_gradcheck(ns)

    wrt_override = _parse_wrt(ns.wrt)
    status = EXIT_CLEAN
    n_funcs = n_bad = n_findings = 0
    for spec in ns.src:
        path, func = _split_spec(spec)
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
        for f in _iter_py(path):
            tree = _parse(f)
            if tree is None:
                _Out.err(f"error: cannot parse {_display(f)}")
                status = EXIT_INTERNAL
                continue
            names = [func] if func else [n.name for n in _module_functions(tree)]
            if not names:
                continue
            try:
                mod = load_module(f)
            except LoadError as exc:
                _load_failed(exc)
                status = EXIT_INTERNAL
                continue
            for name in names:
                label = f"{_display(f)}::{name}"
                if func is not None:
                    obj = _resolve(mod, name, f)
                else:
                    obj = getattr(mod, name, None)
                    if obj is None:
                        _Out.info(f"skipped {label}: not in the module after import")
                        continue
                if isinstance(obj, GradFunction):
                    fn = obj.forward
                    wrt = list(obj.wrt) if wrt_override is None else None
                    has_aux = bool(obj._has_aux)
                else:
                    fn = inspect.unwrap(obj) if callable(obj) else obj
                    wrt, has_aux = None, False
                if not inspect.isfunction(fn):
                    _Out.info(f"skipped {label}: not a Python function")
                    continue
                code = fn.__code__
                params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
                if wrt is None:
                    if wrt_override is None:
                        wrt = params  # undecorated: as if every parameter were differentiated
                    else:
                        items = wrt_override if isinstance(wrt_override, tuple) else (wrt_override,)
                        bad = [
                            w
                            for w in items
                            if (
                                w not in params
                                if isinstance(w, str)
                                else not -len(params) <= w < len(params)
                            )
                        ]
                        if bad:
                            _Out.info(f"skipped {label}: no parameter {bad[0]!r}")
                            continue
                        wrt = [w if isinstance(w, str) else params[w] for w in items]
                if not wrt and not (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)):
                    _Out.info(f"skipped {label}: no parameters to differentiate")
                    continue
                n_funcs += 1
                findings = _check_function(fn, wrt, has_aux, label)
                if findings is None:
                    status = EXIT_INTERNAL
                    continue
                if findings:
                    n_bad += 1
                    n_findings += len(findings)
                    for e in findings:
                        print(e.line() if isinstance(e, SrcgradError) else str(e))
                elif _Out.verbose:
                    _Out.info(f"ok {label}")
    if n_findings:
        _Out.info(
            f"Oh no! {_plural(n_findings, 'problem')} in {n_bad} of "
            f"{_plural(n_funcs, 'function')}."
        )
        return max(status, EXIT_FINDINGS)
    _Out.info(f"All done! {_plural(n_funcs, 'function')} can be differentiated.")
    return status


def _check_function(
    fn: Callable[..., Any], wrt: list[str], has_aux: bool, label: str
) -> list[Any] | None:
    """Every finding of the generator on ``fn`` (no user code runs), or None on an internal
    error."""
    from srcgrad.errors import SrcgradError

    try:
        from srcgrad.codegen.pipeline import generate

        generate(fn, list(wrt), {}, has_aux)
    except SrcgradError as err:
        return list(err.errors)
    except Exception as exc:  # noqa: BLE001
        _internal(f"{label}: {type(exc).__name__}: {exc}", exc)
        return None
    return []


# --------------------------------------------------------------------------- gradcheck


def _max_error(
    df: Any, fn: Callable[..., Any], args: tuple[Any, ...], seed: int
) -> tuple[float, float]:
    """(max absolute, max relative) error of <grad, v> against central differences over a few
    random directions per wrt argument (the best of three steps, as check_grad does)."""
    import numpy as np

    grads = df(*args)
    grads = grads if isinstance(grads, tuple) and not df._single else (grads,)
    rng = np.random.default_rng(seed + 1)
    worst_abs = worst_rel = 0.0
    for pos, g in zip(df._wrt_pos, grads):
        x = args[pos]
        if not isinstance(x, (np.ndarray, float)):
            continue
        for _ in range(3):
            v = rng.standard_normal(np.shape(x))
            v = float(v) if isinstance(x, float) else v
            analytic = float(np.sum(np.asarray(g, dtype=np.float64) * v))
            best = None
            for eps in (1e-4, 1e-5, 1e-6):
                plus = list(args)
                minus = list(args)
                plus[pos] = x + eps * v
                minus[pos] = x - eps * v
                num = (float(np.sum(fn(*plus))) - float(np.sum(fn(*minus)))) / (2 * eps)
                err = abs(analytic - num)
                rel = err / max(abs(analytic), abs(num), 1e-12)
                if best is None or err < best[0]:
                    best = (err, rel)
            assert best is not None
            worst_abs = max(worst_abs, best[0])
            worst_rel = max(worst_rel, best[1])
    return worst_abs, worst_rel


def cmd_gradcheck(ns: argparse.Namespace) -> int:
    import numpy as np

    import srcgrad
    from srcgrad import diagnose
    from srcgrad.errors import SrcgradError

    t = _one_target(ns.target, ns.wrt)
    args = make_args(t.fn, ns)
    if t.has_aux:
        raise UsageError(f"{t.label} has has_aux=True; gradcheck needs a scalar-valued function")
    df = t.grad_function()
    label = f"{t.label} w.r.t. ({', '.join(df.wrt)})"
    try:
        with np.errstate(all="ignore"):
            max_abs, max_rel = _max_error(df, t.fn, args, ns.seed)
    except SrcgradError as err:
        print(str(err))
        return EXIT_FINDINGS
    ok = True
    reason = ""
    try:
        with np.errstate(all="ignore"):
            srcgrad.testing.check_grad(
                t.fn, *args, wrt=t.wrt, rtol=ns.rtol, atol=ns.atol, seed=ns.seed
            )
    except AssertionError as exc:
        ok = False
        reason = str(exc)
    if ok:
        print(f"PASS {label}: max error {max_abs:.3g} (relative {max_rel:.3g})")
        return EXIT_CLEAN
    print(f"FAIL {label}: max error {max_abs:.3g} (relative {max_rel:.3g})")
    print(f"  {reason}")
    if not np.isfinite(max_abs):
        origin = diagnose.find_nonfinite(df, *args)
        if origin is not None:
            print(f"  {origin.file}:{origin.line}: {origin.message()}; hint: {origin.hint}")
            return EXIT_FINDINGS
    mismatches = diagnose.localise(df, *args, seed=ns.seed)
    if mismatches:
        first = mismatches[0]
        print(
            f"  first wrong backward statement: {_display(df.path)}:{','.join(map(str, first.backward_lines)) or '?'}"
        )
        for m in mismatches:
            print(f"  {m}")
    else:
        print(
            "  every rule agrees with central differences at the operands it ran on; the "
            "mismatch is in how the emitted code combines them"
        )
    return EXIT_FINDINGS


# --------------------------------------------------------------------------- rules


def _short(x: Any) -> str:
    if x is None:
        return "-"
    if callable(x):
        return getattr(x, "__name__", type(x).__name__)
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        if all(isinstance(v, str) for v in x):
            return ", ".join(x)
        return _plural(len(x), "case")
    return str(x)


def cmd_rules(ns: argparse.Namespace) -> int:
    from srcgrad.rules import registry

    describe = getattr(registry, "describe", None)
    if callable(describe) and not ns.nondiff:
        try:
            text = describe()
        except TypeError:
            text = None
        if isinstance(text, str):
            print(text.rstrip("\n"))
            return EXIT_CLEAN
        if text is not None and not isinstance(text, (bytes, dict)):
            print("\n".join(map(str, text)))
            return EXIT_CLEAN
    if ns.nondiff:
        registry.all_rules()  # loads every rule module
        names = sorted(set(registry.NONDIFF.values()))
        for n in names:
            print(n)
        _Out.info(f"{_plural(len(names), 'non-differentiable function')}.")
        return EXIT_CLEAN
    rules = registry.all_rules()
    head = ("primitive", "operator", "module", "operands", "nondiff", "domain", "shapes")
    rows = [
        (
            r.name,
            r.operator or "-",
            r.module.replace("srcgrad.rules.", ""),
            ", ".join(r.operands) or "-",
            ", ".join(r.nondiff) or "-",
            _short(r.domain),
            _short(list(r.shapes) if isinstance(r.shapes, dict) else r.shapes),
        )
        for r in rules
    ]
    rows = [tuple(c if len(c) <= 40 else c[:39] + "…" for c in row) for row in rows]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    for row in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    _Out.info(f"{_plural(len(rules), 'rule')} registered.")
    return EXIT_CLEAN


# --------------------------------------------------------------------------- clean


def _function_source(file: Path, qualname: str) -> str | None:
    """The source ``inspect.getsource`` would give for ``qualname`` in ``file``, found without
    importing it; None when there is no such function."""
    try:
        text = file.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    body: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        body = node.body  # type: ignore[attr-defined]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = text.splitlines(True)
    return textwrap.dedent("".join(inspect.getblock(lines[first - 1 :])))


def _source_file(header_file: str, module: str, cache_root: Path) -> Path | None:
    """The forward's source file: the header's path (relative to where it was generated: the
    cwd or the cache directory's parent), else where the module would be imported from."""
    p = Path(header_file)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, cache_root.parent / p]
    for c in candidates:
        if c.is_file():
            return c
    origin = _locate(module)
    return Path(origin) if origin and Path(origin).is_file() else None


def _locate(module: str) -> str | None:
    """Where ``module`` would be imported from, found without importing anything (not even
    its parent packages)."""
    from importlib.machinery import PathFinder

    parts = module.split(".")
    path: list[str] | None = None
    spec = None
    for i in range(len(parts)):
        try:
            spec = PathFinder.find_spec(".".join(parts[: i + 1]), path)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        path = list(spec.submodule_search_locations or [])
    return spec.origin if spec is not None else None


@dataclass
class _Entry:
    path: Path
    verdict: str  # "current", "stale", "orphaned", "unverified", "foreign"
    why: str


def _classify(path: Path, cache_root: Path) -> _Entry:
    import re

    from srcgrad import cache
    from srcgrad.rules import registry

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _Entry(path, "foreign", "unreadable")
    parsed = cache.parse_header(text)
    m = re.match(r"# Generated by srcgrad from (.*):(\d+) \((.*)\)\. ", text)
    if parsed is None and m is not None and "\n# key: " in text[:400]:
        return _Entry(path, "stale", "its header is in an older format")
    if parsed is None or m is None:
        return _Entry(path, "foreign", "not a srcgrad module")
    file, qualname = m.group(1), m.group(3)
    module = path.parent.name
    stem = path.stem
    if "__wrt-" not in stem:
        return _Entry(path, "foreign", "unexpected file name")
    _, rest = stem.rsplit("__wrt-", 1)
    names, *extras = rest.split("__")
    spec8 = next((e for e in extras if re.fullmatch(r"[0-9a-f]{8}", e)), None)
    mode = next((e for e in extras if e != spec8), None)
    src_file = _source_file(file, module, cache_root)
    if src_file is None:
        return _Entry(path, "orphaned", f"{file} no longer exists")
    if "<locals>" in qualname:
        return _Entry(path, "unverified", "a nested function")
    source = _function_source(src_file, qualname)
    if source is None:
        return _Entry(path, "orphaned", f"{_display(src_file)} has no function {qualname}")
    if spec8 is not None:
        return _Entry(path, "unverified", "specialised on its arguments (the key needs them)")
    if mode not in (None, "aux"):
        return _Entry(path, "unverified", f"mode {mode!r}")
    rules = parsed[1]
    calls = parsed[4] if len(parsed) > 4 else []  # type: ignore[misc]
    missing = [r for r in rules if registry.lookup_name(r) is None]
    if missing:
        return _Entry(path, "unverified", f"uses rules not registered here: {', '.join(missing)}")
    if calls:  # the key covers the callees' sources, and clean imports no user module
        return _Entry(
            path, "unverified", f"calls {', '.join(map(str, calls))} (found only when imported)"
        )
    parts = {
        "qualname": qualname,
        "wrt": tuple(names.split("-")),
        "has_aux": mode == "aux",
        "spec": "",
        "origin": f"{file}:{m.group(2)}",
    }
    if cache.read_valid(path, source, parts) is None:
        return _Entry(
            path, "stale", "its key no longer matches (source, rules or formatter changed)"
        )
    return _Entry(path, "current", "")


def cmd_clean(ns: argparse.Namespace) -> int:
    from srcgrad import cache

    root = Path(ns.dir) if ns.dir else cache.cache_dir()
    if not root.exists():
        _Out.info(f"nothing to clean: {_display(root)} does not exist")
        return EXIT_CLEAN
    if not root.is_dir():
        raise UsageError(f"not a directory: {root}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    removed = kept = 0
    now = time.time()
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(sub.iterdir()):
            if f.name.startswith(".") and f.name.endswith(".tmp"):
                if now - f.stat().st_mtime < ns.tmp_age:
                    continue  # a write in progress
                _remove(f, "leftover temporary", ns)
                removed += 1
                continue
            if f.suffix != ".py" or not f.is_file():
                continue
            e = _classify(f, root)
            if e.verdict in ("stale", "orphaned"):
                _remove(f, f"{e.verdict}: {e.why}", ns)
                removed += 1
            else:
                kept += 1
                if _Out.verbose and e.verdict != "current":
                    _Out.info(f"kept {_display(f)} ({e.verdict}: {e.why})")
        if not ns.dry_run and sub.exists() and not any(sub.iterdir()):
            sub.rmdir()
    verb = "would remove" if ns.dry_run else "removed"
    _Out.info(f"All done! {verb} {_plural(removed, 'file')}, kept {kept}.")
    return EXIT_CLEAN


def _remove(path: Path, why: str, ns: argparse.Namespace) -> None:
    _Out.info(f"{'would remove' if ns.dry_run else 'removed'} {_display(path)} ({why})")
    if not ns.dry_run:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# --------------------------------------------------------------------------- main


def _load_failed(exc: LoadError) -> None:
    _Out.err(f"error: {exc}")
    if _Out.verbose and exc.__cause__ is not None:
        import traceback

        traceback.print_exception(exc.__cause__, file=sys.stderr)


def _internal(msg: str, exc: BaseException | None = None) -> None:
    if _Out.verbose and exc is not None:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    _Out.err(
        f"error: internal error: {msg}" + ("" if _Out.verbose else " (--verbose for the traceback)")
    )


def build_parser() -> argparse.ArgumentParser:
    from srcgrad import __version__

    top = argparse.ArgumentParser(add_help=False)
    common = argparse.ArgumentParser(add_help=False)
    for p, default in ((top, False), (common, argparse.SUPPRESS)):
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=default,
            help="say more; show tracebacks of internal errors",
        )
        p.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=default,
            help="only errors and the payload",
        )

    parser = argparse.ArgumentParser(
        prog="srcgrad",
        description="Reverse-mode AD by source transformation: generate, inspect and check "
        "readable gradient modules.",
        epilog="Exit codes: 0 clean, 1 findings, 2 usage error, 123 internal error.",
        parents=[top],
    )
    parser.add_argument("--version", action="version", version=f"srcgrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser(
        "gen",
        parents=[common],
        help="generate the gradient modules of FILE, DIR or FILE::func",
        description="Generate (into the cache, ./generated by default) the gradient modules "
        "of the functions decorated with @srcgrad.grad / value_and_grad / vjp in FILE or in "
        "the *.py files under DIR, or of FILE::func.  The files are the ones the API writes.",
    )
    gen.add_argument(
        "src",
        nargs="*",
        default=["."],
        metavar="FILE|DIR|FILE::func",
        help="what to generate for (default: the current directory, like black)",
    )
    gen.add_argument(
        "--wrt",
        help="parameter names or positions, comma-separated (default: the decorator's, else 0)",
    )
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated file is stale or missing",
    )
    gen.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print a unified diff of what would change",
    )
    gen.add_argument("--out", metavar="DIR", help="the cache directory (sets SRCGRAD_CACHE_DIR)")
    gen.add_argument(
        "--force", action="store_true", help="regenerate even files whose key is current"
    )
    gen.add_argument(
        "--exact",
        action="store_true",
        help="also regenerate current files in memory and compare them byte for byte "
        "(catches codegen changes that did not bump CODEGEN_FORMAT)",
    )
    gen.set_defaults(func=cmd_gen)

    def shapes(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--shape",
            action="append",
            metavar="NAME=3x4",
            help="a random float64 input of that shape (() for 0-d, float for a Python float); repeatable",
        )
        p.add_argument(
            "--arg",
            action="append",
            metavar="NAME=VALUE",
            help="a non-array argument, as a Python literal (e.g. n=5); repeatable",
        )
        p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
        p.add_argument(
            "--domain",
            metavar="LO:HI",
            help="draw inputs uniformly from [LO, HI] instead of N(0, 1)",
        )

    show = sub.add_parser(
        "show",
        parents=[common],
        help="print the emitted gradient module of FILE::func",
        description="Print the emitted gradient module (syntax-highlighted on a terminal), or "
        "with --residuals what its forward pass keeps for the backward pass.",
    )
    show.add_argument("target", metavar="FILE::func")
    show.add_argument("--wrt", help="parameter names or positions, comma-separated")
    show.add_argument(
        "--residuals",
        action="store_true",
        help="run the forward pass on random inputs and list the saved residuals",
    )
    shapes(show)
    show.set_defaults(func=cmd_show)

    check = sub.add_parser(
        "check",
        parents=[common],
        help="list every construct srcgrad cannot differentiate (a pre-flight lint)",
        description="Run the generator in check mode over every module-level function of "
        "each FILE (or FILE::func, or the *.py files under DIR) and list every unsupported "
        "construct at file:line:col with a hint.  Undecorated functions are checked as if "
        "every parameter were differentiated.  The module is imported; no function is called.",
    )
    check.add_argument("src", nargs="+", metavar="FILE|DIR|FILE::func")
    check.add_argument("--wrt", help="check with these parameters differentiated instead")
    check.add_argument(
        "--grad",
        action="store_true",
        help="for one FILE::func, also compare its gradient with central differences on "
        "random inputs and name the first wrong rule (as gradcheck)",
    )
    check.add_argument("--rtol", type=float, default=1e-5)
    check.add_argument("--atol", type=float, default=1e-6)
    shapes(check)
    check.set_defaults(func=cmd_check)

    gc = sub.add_parser(
        "gradcheck",
        parents=[common],
        help="compare the gradient of FILE::func with central differences on random inputs",
        description="Check the gradient against central differences (float64) on random "
        "inputs.  On a mismatch, check every rule where it ran and name the forward line "
        "whose adjoint is wrong.",
    )
    gc.add_argument("target", metavar="FILE::func")
    gc.add_argument("--wrt", help="parameter names or positions, comma-separated")
    gc.add_argument("--rtol", type=float, default=1e-5)
    gc.add_argument("--atol", type=float, default=1e-6)
    shapes(gc)
    gc.set_defaults(func=cmd_gradcheck)

    rules = sub.add_parser(
        "rules",
        parents=[common],
        help="list the registered primitives and their rules",
        description="List every primitive with an adjoint rule: its operator, rule module, "
        "differentiable and non-differentiable parameters, and test domain and shapes.",
    )
    rules.add_argument(
        "--nondiff", action="store_true", help="list the non-differentiable functions instead"
    )
    rules.set_defaults(func=cmd_rules)

    clean = sub.add_parser(
        "clean",
        parents=[common],
        help="remove stale and orphaned files from the cache",
        description="Remove generated modules whose key no longer matches (the source, a rule "
        "or the formatter changed), whose source file or function is gone, and leftover "
        "temporary files.  No user module is imported.",
    )
    clean.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="the cache directory (default: $SRCGRAD_CACHE_DIR, else ./generated)",
    )
    clean.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    clean.add_argument(
        "--tmp-age", type=float, default=60.0, metavar="SECONDS", help=argparse.SUPPRESS
    )
    clean.set_defaults(func=cmd_clean)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    _Out.quiet = bool(ns.quiet)
    _Out.verbose = bool(ns.verbose)
    try:
        return int(ns.func(ns))
    except UsageError as exc:
        _Out.err(f"error: {exc}")
        return EXIT_USAGE
    except LoadError as exc:
        _load_failed(exc)
        return EXIT_INTERNAL
    except BrokenPipeError:  # the reader went away (srcgrad rules | head): not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as exc:  # noqa: BLE001
        _internal(f"{type(exc).__name__}: {exc}", exc)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
