"""An emitted gradient module's loop stacks, rewritten as per-field lists read by index, so
that forward mode can read the module (forward over reverse, :func:`srcgrad.hvp`).

The forward pass of a loop pushes a tuple per iteration (``stack_h.append((a, b))``) and
the backward pass pops it (``a, b = stack_h.pop()`` after ``stack_h = list(stack_h)``).
The rewrite computes the same values with constructs the front end reads: one list per
field (``stack_h__0.append(a)``), carried through the residuals as a tuple of lists, and
read back at a counter (``stack_h_k = stack_h_k - 1``; ``a = stack_h__0[stack_h_k]``).
Anything else done with a stack leaves the module as it was (:func:`rewrite` returns None).

A container or model gradient, rebuilt by ``tree_cotangent(model, (path, ...), [d_leaf,
...])``,
becomes the flat vector of its leaves (``_flat.concatenate([_flat.ravel(d_leaf), ...])``,
``_flat`` numpy); :func:`rewrite` returns the leaves' paths, which rebuild it after.
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst


class _Unsupported(Exception):
    pass


def _push(stmt: cst.BaseSmallStatement) -> tuple[str, list[cst.BaseExpression]] | None:
    """(stack, pushed values) of ``stack.append(value)``."""
    if not isinstance(stmt, cst.Expr) or not isinstance(stmt.value, cst.Call):
        return None
    call = stmt.value
    f = call.func
    if not (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value.startswith("stack_")
        and f.attr.value == "append"
        and len(call.args) == 1
    ):
        return None
    v = call.args[0].value
    values = [e.value for e in v.elements] if isinstance(v, cst.Tuple) else [v]
    return f.value.value, values


class _Fields(cst.CSTVisitor):
    """How many fields each stack's pushes hold."""

    def __init__(self) -> None:
        self.fields: dict[str, int] = {}

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        for stmt in node.body:
            got = _push(stmt)
            if got is None:
                continue
            name, values = got
            if self.fields.setdefault(name, len(values)) != len(values):
                raise _Unsupported(name)


def _line(code: str) -> cst.SimpleStatementLine:
    return cst.parse_statement(code)  # type: ignore[return-value]


class _Rewrite(cst.CSTTransformer):
    def __init__(self, fields: dict[str, int]) -> None:
        self.fields = fields

    def parts(self, name: str) -> list[str]:
        return [f"{name}__{k}" for k in range(self.fields[name])]

    def leave_SimpleStatementLine(
        self, orig: cst.SimpleStatementLine, node: cst.SimpleStatementLine
    ) -> Any:
        if len(node.body) != 1:
            return node
        stmt = node.body[0]
        lines = self.statement(stmt)
        if lines is None:
            return node
        lines[0] = lines[0].with_changes(leading_lines=node.leading_lines)
        return cst.FlattenSentinel(lines)

    def statement(self, stmt: Any) -> list[cst.SimpleStatementLine] | None:
        code = cst.Module([]).code_for_node
        got = _push(stmt)
        if got is not None:
            name, values = got
            return [
                _line(f"{p}.append({code(v)})")
                for p, v in zip(self.parts(name), values)
            ]
        if not isinstance(stmt, (cst.Assign, cst.Expr)):
            return None
        value = stmt.value
        target = stmt.targets[0].target if isinstance(stmt, cst.Assign) else None
        if isinstance(target, cst.Name) and target.value in self.fields:
            name = target.value
            if isinstance(value, cst.List) and not value.elements:  # stack = []
                return [_line(f"{p} = []") for p in self.parts(name)]
            if (  # stack = list(stack): the backward's own copy; a counter instead
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Name)
                and value.func.value == "list"
            ):
                return [_line(f"{name}_k = len({self.parts(name)[0]})")]
            raise _Unsupported(name)
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and isinstance(value.func.value, cst.Name)
            and value.func.value.value in self.fields
            and value.func.attr.value == "pop"
        ):
            name = value.func.value.value
            out = [_line(f"{name}_k = {name}_k - 1")]
            if target is None:
                return out
            names = (
                [e.value for e in target.elements]
                if isinstance(target, (cst.Tuple, cst.List))
                else [target]
            )
            if len(names) != self.fields[name]:
                raise _Unsupported(name)
            for t, p in zip(names, self.parts(name)):
                out.append(_line(f"{code(t)} = {p}[{name}_k]"))
            return out
        if isinstance(stmt, cst.Assign) and isinstance(target, cst.Tuple):
            # x, stack_h = res: the residuals' tuple of lists, unpacked after
            held = [
                e.value.value
                for e in target.elements
                if isinstance(e.value, cst.Name) and e.value.value in self.fields
            ]
            if held:
                after = [
                    (
                        _line(f"{', '.join(self.parts(n))}, = {n}")
                        if self.fields[n] == 1
                        else _line(f"{', '.join(self.parts(n))} = {n}")
                    )
                    for n in held
                ]
                return [cst.SimpleStatementLine([stmt])] + after
        return None

    def leave_While(self, orig: cst.While, node: cst.While) -> cst.While:
        t = node.test
        if isinstance(t, cst.Name) and t.value in self.fields:
            return node.with_changes(test=cst.parse_expression(f"{t.value}_k > 0"))
        return node

    def leave_Arg(self, orig: cst.Arg, node: cst.Arg) -> cst.Arg:
        # Residuals_f(x, stack_h): the tuple of the stack's lists
        v = node.value
        if isinstance(v, cst.Name) and v.value in self.fields:
            parts = self.parts(v.value)
            text = f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"
            return node.with_changes(value=cst.parse_expression(text))
        return node


class _Flat(cst.CSTTransformer):
    """``tree_cotangent(param, (path, ...), [leaf, ...])`` -> the flat vector of the
    leaves."""

    def __init__(self) -> None:
        self.layouts: list[tuple[str, list[tuple[Any, ...]]]] = []

    def leave_Call(self, orig: cst.Call, node: cst.Call) -> Any:
        f = node.func
        if not (isinstance(f, cst.Name) and f.value == "tree_cotangent"):
            return node
        if len(node.args) != 3 or not isinstance(node.args[2].value, cst.List):
            raise _Unsupported("tree_cotangent")
        param = node.args[0].value
        if not isinstance(param, cst.Name):
            raise _Unsupported("tree_cotangent")
        code = cst.Module([]).code_for_node
        paths = [tuple(p) for p in ast.literal_eval(code(node.args[1].value))]
        values = node.args[2].value.elements
        if len(paths) != len(values) or any(
            not isinstance(el, cst.Element) for el in values
        ):
            raise _Unsupported("tree_cotangent")
        leaves = [f"_flat.ravel({code(el.value)})" for el in values]
        self.layouts.append((param.value, paths))
        return cst.parse_expression(f"_flat.concatenate([{', '.join(leaves)}])")


def rewrite(text: str) -> tuple[str, list[tuple[str, list[Any]]]] | None:
    """``text`` (an emitted gradient module) with its loop stacks as per-field lists and
    its container gradients flat, and the containers' leaf paths; None when it has
    neither, or uses a stack otherwise than push, copy and pop."""
    module = cst.parse_module(text)
    fields = _Fields()
    flat = _Flat()
    try:
        module.visit(fields)
        out = module.visit(_Rewrite(fields.fields)) if fields.fields else module
        out = out.visit(flat)
    except (_Unsupported, ValueError, SyntaxError):
        return None
    if not fields.fields and not flat.layouts:
        return None
    return out.code, flat.layouts
