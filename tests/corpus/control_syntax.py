"""Which control-flow and container features each function of the control-flow corpus uses.

Issue 4 asks for at least three corpus functions per control-flow or container feature, with
coverage *computed*, not claimed. :func:`coverage` parses ``tests/corpus/control.py`` with
:mod:`ast` and lists the functions that use each feature of :data:`FEATURES`;
:func:`out_of_scope` lists what belongs to other issues and must stay out of this corpus.

Some features cannot be told apart from syntax alone: an ``if`` on data and an ``if`` on a
constant (a shape, an int or string config) are both ``If`` nodes, so they are counted together.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator

from . import control
from .syntax import forbidden_constructs, is_call_to, is_np_call, tabulate, top_level_functions

TITLE = "control-flow corpus"
LABEL = "feature"

BUILTINS = ("len", "range", "enumerate", "zip", "abs", "min", "max", "sum", "float")

FEATURES: tuple[str, ...] = (
    "if",
    "if/elif",
    "if/else",
    "ternary",
    "and/or",
    "not",
    "in on constants",
    "for",
    "for over range(...)",
    "for over a name",
    "for over enumerate(...)",
    "for over zip(...)",
    "while",
    "break",
    "continue",
    "early return",
    "return inside a loop",
    "nested loops",
    "for ... else",
    "while ... else",
    "list display of names",
    "tuple display of names",
    "dict display of names",
    "dict(...) of names",
    "np.array([...])",
    ".append(...)",
    "np.stack/np.concatenate of an appended list",
    "list comprehension",
    "dict comprehension",
    "generator expression",
    *(f"{name}()" for name in BUILTINS),
    "print inside if",
    "assert inside if",
    "raise inside if",
)

# Constructs that belong to other issues and must stay out of this corpus.
FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda",
    ast.Try: "try",
    ast.With: "with",
    ast.FunctionDef: "nested def",
    ast.SetComp: "set comprehension",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Yield: "yield",
}

_LOOPS = (ast.For, ast.While)


# --------------------------------------------------------------------------- syntax tree


def corpus_functions() -> list[ast.FunctionDef]:
    """The top-level function definitions of the corpus module, in source order."""
    return top_level_functions(control)


def _has_name(node: ast.AST) -> bool:
    """Whether a Name is read anywhere inside ``node``."""
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _walk_inside(nodes: list[ast.stmt]) -> Iterator[ast.AST]:
    for stmt in nodes:
        yield from ast.walk(stmt)


def _subscript_slices(fn: ast.FunctionDef) -> set[int]:
    """ids of the index tuples of subscripts (``U[i, j]`` is not a tuple display)."""
    return {id(n.slice) for n in ast.walk(fn) if isinstance(n, ast.Subscript)}


def _appended_names(fn: ast.FunctionDef) -> set[str]:
    """The names of lists that ``fn`` calls ``.append`` on."""
    return {
        n.func.value.id
        for n in ast.walk(fn)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "append"
        and isinstance(n.func.value, ast.Name)
    }


def _final_return(fn: ast.FunctionDef) -> ast.Return | None:
    last = fn.body[-1]
    return last if isinstance(last, ast.Return) else None


def _loop_iter_kind(node: ast.For) -> str | None:
    it = node.iter
    if isinstance(it, ast.Name):
        return "for over a name"
    for name in ("range", "enumerate", "zip"):
        if is_call_to(it, name):
            return f"for over {name}(...)"
    return None


def features(fn: ast.FunctionDef) -> set[str]:
    """The features one corpus function uses, read from its syntax tree."""
    found: set[str] = set()
    slices = _subscript_slices(fn)
    appended = _appended_names(fn)
    final = _final_return(fn)
    loops = [n for n in ast.walk(fn) if isinstance(n, _LOOPS)]
    for node in ast.walk(fn):
        if isinstance(node, ast.If):
            found.add("if")
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                found.add("if/elif")
            elif node.orelse:
                found.add("if/else")
            inside = list(_walk_inside(node.body + node.orelse))
            if any(is_call_to(n, "print") for n in inside):
                found.add("print inside if")
            if any(isinstance(n, ast.Assert) for n in inside):
                found.add("assert inside if")
            if any(isinstance(n, ast.Raise) for n in inside):
                found.add("raise inside if")
        elif isinstance(node, ast.IfExp):
            found.add("ternary")
        elif isinstance(node, ast.BoolOp):
            found.add("and/or")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.add("not")
        elif isinstance(node, ast.Compare):
            if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                found.add("in on constants")
        elif isinstance(node, ast.For):
            found.add("for")
            kind = _loop_iter_kind(node)
            if kind:
                found.add(kind)
            if node.orelse:
                found.add("for ... else")
        elif isinstance(node, ast.While):
            found.add("while")
            if node.orelse:
                found.add("while ... else")
        elif isinstance(node, ast.Break):
            found.add("break")
        elif isinstance(node, ast.Continue):
            found.add("continue")
        elif isinstance(node, ast.Return):
            if node is not final:
                found.add("early return")
        elif isinstance(node, ast.List) and isinstance(node.ctx, ast.Load):
            if _has_name(node):
                found.add("list display of names")
        elif isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load):
            if id(node) not in slices and _has_name(node):
                found.add("tuple display of names")
        elif isinstance(node, ast.Dict):
            if _has_name(node):
                found.add("dict display of names")
        elif isinstance(node, ast.ListComp):
            found.add("list comprehension")
        elif isinstance(node, ast.DictComp):
            found.add("dict comprehension")
        elif isinstance(node, ast.GeneratorExp):
            found.add("generator expression")
        elif isinstance(node, ast.Call):
            if is_call_to(node, "dict") and any(_has_name(k.value) for k in node.keywords):
                found.add("dict(...) of names")
            elif is_np_call(node, ("array",)) and node.args and isinstance(node.args[0], ast.List):
                found.add("np.array([...])")
            elif is_np_call(node, ("stack", "concatenate")) and node.args:
                if isinstance(node.args[0], ast.Name) and node.args[0].id in appended:
                    found.add("np.stack/np.concatenate of an appended list")
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "append":
                found.add(".append(...)")
            elif isinstance(node.func, ast.Name) and node.func.id in BUILTINS:
                found.add(f"{node.func.id}()")
    for loop in loops:
        if any(isinstance(n, _LOOPS) for n in _walk_inside(loop.body) if n is not loop):
            found.add("nested loops")
        if any(isinstance(n, ast.Return) for n in _walk_inside(loop.body)):
            found.add("return inside a loop")
    return found


def out_of_scope(fn: ast.FunctionDef) -> list[str]:
    """Everything in ``fn`` that belongs to another issue (see the module docstring)."""
    return forbidden_constructs(fn, FORBIDDEN_NODES, {f.name for f in corpus_functions()})


@functools.lru_cache(maxsize=1)
def coverage() -> dict[str, list[str]]:
    """For every feature, the names of the corpus functions that use it."""
    return tabulate({fn.name: features(fn) for fn in corpus_functions()}, FEATURES)
