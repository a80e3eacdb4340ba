"""Finding and loading user code: FILE::func specs, the *.py files under a directory, importing
a file as the module an import would make of it, and reading a file's syntax tree."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from srcgrad.cli.exits import LoadError, UsageError
from srcgrad.cli.output import display

_SKIP_DIRS = {"__pycache__", "build", "dist", "generated", "node_modules", "venv"}


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
    if (
        mod is not None
        and Path(getattr(mod, "__file__", "") or "").resolve() == path.resolve()
    ):
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
            raise LoadError(f"cannot import {display(path)}")
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
        raise LoadError(
            f"cannot import {display(path)}: {type(exc).__name__}: {exc}"
        ) from exc


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``FILE::func`` as (FILE, func); a plain FILE or DIR as (path, None)."""
    file, sep, func = spec.partition("::")
    if sep and not func:
        raise UsageError(f"{spec}: give a function name after '::'")
    return Path(file), (func or None)


def _excluded_dirs(path: Path) -> set[Path]:
    """The directories ``[tool.srcgrad] exclude`` names in the nearest pyproject.toml at or
    above ``path`` (paths relative to that file, like black's ``exclude``): a directory walk
    leaves them out, a path given on the command line is always read."""
    start = path.resolve()
    for folder in (start, *start.parents):
        config = folder / "pyproject.toml"
        if config.is_file():
            try:
                with open(config, "rb") as fh:
                    table = tomllib.load(fh).get("tool", {}).get("srcgrad", {})
            except (OSError, tomllib.TOMLDecodeError):
                return set()
            names = table.get("exclude", [])
            if not isinstance(names, list):
                raise UsageError(f"{config}: [tool.srcgrad] exclude must be a list")
            return {(folder / str(n)).resolve() for n in names}
    return set()


def iter_py(path: Path) -> Iterator[Path]:
    """``path`` itself, or the *.py files under a directory (hidden and build dirs, and
    those ``[tool.srcgrad] exclude`` names, skipped)."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise UsageError(f"no such file or directory: {path}")
    excluded = _excluded_dirs(path)
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and (Path(root) / d).resolve() not in excluded
        )
        for f in sorted(files):
            if f.endswith(".py"):
                yield Path(root) / f


def dotted_name(node: ast.expr) -> str:
    """``a.b.c`` for the expression ``a.b.c`` or the call ``a.b.c(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.insert(0, node.id)
    return ".".join(parts)


def parse_file(path: Path) -> ast.Module | None:
    """The syntax tree of ``path``, or None when it does not parse."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


def module_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined at the top level of a module."""
    return [
        n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def resolve_attr(mod: Any, qualname: str, path: Path) -> Any:
    """The object ``qualname`` names in the module loaded from ``path``."""
    obj = mod
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"{display(path)} has no function {qualname!r}") from None
    return obj
