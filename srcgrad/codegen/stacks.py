"""Loop stacks of emitted code, read back by index (part of the source stage, for a
function of an emitted module that is differentiated again: higher order).

An emitted forward pass pushes what a loop's backward pass needs, one tuple per
iteration, and the backward pass pops it (``codegen/emit.py``)::

    stack_y = []                                  stack_y = list(stack_y)
    for ...:                                      for ... reversed ...:
        stack_y.append((shape_dtype(t), y))           t, y = stack_y.pop()

srcgrad differentiates lists that grow by ``append`` of arrays and are read by index, so
the module text is rewritten, line for line, into that form before it is parsed: a push
appends each part on its own, the copy becomes a counter of the items left, and a pop
moves the counter down and reads the parts by index::

    stack_y.append(shape_dtype(t)); stack_y.append(y)
    stack_y_top = len(stack_y)
    stack_y_top = stack_y_top - 2; t = stack_y[stack_y_top]; y = stack_y[stack_y_top + 1]

The values are the same: a pop reads the items the matching push appended, whatever the
control flow between them.  A rewritten statement keeps the first line of the statement it
replaces and the lines it spanned stay (blank), so every other statement keeps its line
and the ``# file:line`` comments of the next order point into the emitted file as it is.
"""

from __future__ import annotations

import ast
import functools
from typing import Any

PREFIX = "stack_"  # the names emit.py gives the stacks of loops


def _stack(node: ast.AST | None, method: str) -> str | None:
    """``S`` when ``node`` is ``S.<method>(...)`` on a stack name."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id.startswith(PREFIX)
    ):
        return node.func.value.id
    return None


@functools.lru_cache(maxsize=64)
def indexed(text: str) -> str:
    """``text`` (an emitted module) with its loop stacks read by index (see the module
    docstring); ``text`` itself when it has none or does not parse."""
    if PREFIX not in text:
        return text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(True)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    arity: dict[str, int] = {}
    for node in ast.walk(tree):
        s = _stack(node, "append")
        if s is not None and len(node.args) == 1:  # type: ignore[attr-defined]
            value = node.args[0]  # type: ignore[attr-defined]
            arity[s] = len(value.elts) if isinstance(value, ast.Tuple) else 1
    tops: dict[str, str] = {}

    def top(s: str) -> str:
        if s not in tops:
            name = f"{s}_top"
            while name in names:
                name += "_"
            names.add(name)
            tops[s] = name
        return tops[s]

    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.While)
            and isinstance(node.test, ast.Name)
            and node.test.id.startswith(PREFIX)
        ):  # `while stack:` runs until the pops have read every item
            line = lines[node.lineno - 1]
            head = f"while {node.test.id}:"
            if line.strip() == head:
                lines[node.lineno - 1] = line.replace(
                    head, f"while {top(node.test.id)} > 0:"
                )
            continue
        if not isinstance(node, (ast.Expr, ast.Assign)):
            continue
        new = _rewrite(node, text, arity, top)
        if new is not None:
            edits.append((node.lineno, node.end_lineno or node.lineno, new))
    for first, last, new in edits:
        pad = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
        lines[first - 1] = pad + new + "\n"
        for k in range(first, last):
            lines[k] = "\n"
    return "".join(lines)


def _rewrite(
    node: ast.Expr | ast.Assign, text: str, arity: dict[str, int], top: Any
) -> str | None:
    value = node.value
    pushed = _stack(value, "append")
    if isinstance(node, ast.Expr) and pushed is not None:
        arg = value.args[0]  # type: ignore[attr-defined]
        parts = arg.elts if isinstance(arg, ast.Tuple) else None
        if parts is None:
            return None
        return "; ".join(f"{pushed}.append({_one_line(text, p)})" for p in parts)
    popped = _stack(value, "pop")
    if popped is not None and not value.args:  # type: ignore[attr-defined]
        k = arity.get(popped, 1)
        t = top(popped)
        out = [f"{t} = {t} - {k}"]
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                return None
            target = node.targets[0]
            items = target.elts if isinstance(target, ast.Tuple) else [target]
            if len(items) != k and not (k == 1 and not isinstance(target, ast.Tuple)):
                return None
            if k == 1:
                items = [target]
            for i, item in enumerate(items):
                at = t if i == 0 else f"{t} + {i}"
                out.append(f"{_one_line(text, item)} = {popped}[{at}]")
        return "; ".join(out)
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.startswith(PREFIX)
        and isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "list"
        and len(value.args) == 1
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == node.targets[0].id
    ):
        s = node.targets[0].id
        return f"{top(s)} = len({s})"
    return None


def _one_line(text: str, node: ast.AST) -> str:
    seg = ast.get_source_segment(text, node) or ""
    return "(" + " ".join(seg.split("\n")) + ")" if "\n" in seg else seg
