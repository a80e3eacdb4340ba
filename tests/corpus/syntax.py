"""Reading the corpus's syntax: what the feature analyses of the three families share.

``tests/corpus/{straight,control,calls}_syntax.py`` each compute, from a family's syntax tree,
which features every corpus function uses (coverage *computed*, not claimed, DESIGN §10.4).
They share the parsing of a module's top-level functions, a few node tests, the table of
features to the functions that use them, and two ways of watching a function run on its sample
inputs (the lines it runs, its locals when it returns).
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from types import FrameType, ModuleType
from typing import Any


def top_level_functions(module: ModuleType) -> list[ast.FunctionDef]:
    """The top-level function definitions of ``module``, in source order."""
    tree = ast.parse(inspect.getsource(module))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)]


def is_module_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def is_call_to(node: ast.AST, name: str) -> bool:
    """A call of the plain name ``name``: ``name(...)``."""
    return isinstance(node, ast.Call) and is_module_name(node.func, name)


def is_np_call(node: ast.AST, names: Collection[str]) -> bool:
    """A call ``np.<name>(...)`` with ``name`` in ``names``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and is_module_name(node.func.value, "np")
        and node.func.attr in names
    )


def tabulate(per_function: Mapping[str, set[str]], features: Iterable[str]) -> dict[str, list[str]]:
    """For every feature, the names of the functions (keys of ``per_function``) that use it."""
    return {
        item: [name for name, used in per_function.items() if item in used] for item in features
    }


def _run_traced(
    fn: Callable[..., Any], args: tuple, on_event: Callable[[FrameType, str], None]
) -> None:
    """Run ``fn(*args)`` with ``on_event(frame, event)`` called for each event of its frame."""
    code = fn.__code__

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        on_event(frame, event)
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code is code else None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(old)


def lines_run(fn: Callable[..., Any], args: tuple) -> Counter:
    """How many times ``fn(*args)`` runs each line of its own body."""
    lines: Counter = Counter()

    def count(frame: FrameType, event: str) -> None:
        if event == "line":
            lines[frame.f_lineno] += 1

    _run_traced(fn, args, count)
    return lines


def locals_at_return(fn: Callable[..., Any], args: tuple) -> dict[str, Any]:
    """The local variables of ``fn`` when it returns on ``args``."""
    seen: dict[str, Any] = {}

    def keep(frame: FrameType, event: str) -> None:
        if event == "return":
            seen.update(frame.f_locals)

    _run_traced(fn, args, keep)
    return seen


def forbidden_constructs(
    fn: ast.FunctionDef, forbidden: Mapping[type[ast.AST], str], user_functions: Collection[str]
) -> list[str]:
    """``where: what`` for each node of ``fn`` of a ``forbidden`` type, each subscript or
    attribute assignment and each call to one of ``user_functions``."""
    found = []
    for node in ast.walk(fn):
        where = f"{fn.name}:{getattr(node, 'lineno', '?')}"
        if node is not fn and type(node) in forbidden:
            found.append(f"{where}: {forbidden[type(node)]}")
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, (ast.Subscript, ast.Attribute)) for t in targets):
                found.append(f"{where}: subscript or attribute assignment")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in user_functions:
                found.append(f"{where}: call to user function {node.func.id}")
    return found
