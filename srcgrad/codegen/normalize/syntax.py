"""Pure queries and small rewrites of the libcst tree, with no normalizer state: the
names a node reads, binds or writes in place, constant keys, nested-def bindings, and
the transformers that rename or swap nodes.
"""

from __future__ import annotations

import operator

import re
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen.normalize.base import _MISSING


def _strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    if getattr(node, "lpar", None):
        return node.with_changes(lpar=[], rpar=[])
    return node


def _paren(e: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(e, (cst.Name, cst.Call, cst.Attribute, cst.Subscript)) or getattr(
        e, "lpar", None
    ):
        return e
    return e.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _readable(class_name: str) -> str:
    """``GeneratorExp`` -> ``generator exp``: a libcst class name in words."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", class_name).lower()


def _dotted_node(root: str, dotted: str) -> cst.BaseExpression:
    node: cst.BaseExpression = cst.Name(root)
    for p in dotted.split("."):
        node = cst.Attribute(value=node, attr=cst.Name(p))
    return node


def _constant_key(node: cst.BaseExpression) -> Any:
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        k = _constant_key(node.expression)
        return -k if isinstance(k, int) else _MISSING
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    return _MISSING


def _ident_key(k: Any) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in str(k))


def _all_names(tree: cst.CSTNode) -> list[cst.Name]:
    return [n for n in m.findall(tree, m.Name()) if isinstance(n, cst.Name)]


def _all_stmts(node: cst.CSTNode) -> list[cst.CSTNode]:
    return list(m.findall(node, m.SimpleStatementLine() | m.For() | m.If() | m.Expr()))


def _target_names(target: cst.CSTNode) -> list[str]:
    """The names an assignment target binds: its names, and the array a subscript or
    attribute target writes into (``alpha`` of ``alpha[t, j] = v``; ``t`` and ``j`` are only
    read)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _target_names(el.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    if isinstance(target, (cst.Subscript, cst.Attribute)):
        return _target_names(target.value)
    return [n.value for n in m.findall(target, m.Name()) if isinstance(n, cst.Name)]


def _call_written(node: cst.CSTNode) -> list[str]:
    """The arrays calls inside ``node`` write into in place, as the normalizer lowers them
    to writes: ``y`` of ``np.add.at(y, ...)`` / ``np.subtract.at(y, ...)``,
    ``np.fill_diagonal(y, ...)`` and ``f(..., out=y)`` (or ``out=(y,)``).  Read from the
    syntax alone, so a name is never missed (one more is harmless)."""
    out = []
    for call in m.findall(node, m.Call()):
        assert isinstance(call, cst.Call)
        f = call.func
        first = call.args[0].value if call.args else None
        at = (
            isinstance(f, cst.Attribute)
            and f.attr.value == "at"
            and isinstance(f.value, cst.Attribute)
            and f.value.attr.value in ("add", "subtract")
        )
        fill = isinstance(f, cst.Attribute) and f.attr.value == "fill_diagonal"
        if (at or fill) and isinstance(first, cst.Name):
            out.append(first.value)
        for a in call.args:
            if a.keyword is None or a.keyword.value != "out":
                continue
            v = a.value
            if isinstance(v, cst.Tuple) and len(v.elements) == 1:
                v = v.elements[0].value
            if isinstance(v, cst.Name):
                out.append(v.value)
    return out


def _assigned_in(stmt: cst.CSTNode) -> list[str]:
    out = _call_written(stmt)
    for node in m.findall(
        stmt,
        m.AssignTarget()
        | m.AugAssign()
        | m.For()
        | m.AnnAssign()
        | m.NamedExpr()
        | m.CompFor()
        | m.AsName(),
    ):
        target = getattr(node, "target", None) or getattr(node, "name", None)
        if target is not None:
            out += _target_names(target)
    for node in m.findall(stmt, m.Import() | m.ImportFrom()):
        names = getattr(node, "names", ())
        for alias in names if isinstance(names, (list, tuple)) else ():
            if alias.asname is None:
                dotted = alias.name
                while isinstance(dotted, cst.Attribute):
                    dotted = dotted.value
                if isinstance(dotted, cst.Name):
                    out.append(dotted.value)
    for node in m.findall(
        stmt, m.ClassDef() | m.FunctionDef() | m.MatchAs() | m.MatchStar()
    ):
        name = getattr(node, "name", None)
        if isinstance(name, cst.Name):
            out.append(name.value)
    return out


class _FreeReads(cst.CSTVisitor):
    """Collects the names a function reads that none of its own bindings provide."""

    def __init__(self) -> None:
        self.read: set[str] = set()
        self.bound: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.read.add(node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self.bound.add(node.name.value)


def _free_reads(fdef: cst.CSTNode) -> set[str]:
    """The names ``fdef`` (nested defs included) may read as globals, closure cells or
    builtins: every name it mentions, less those it assigns or takes as parameters (an
    over-approximation is harmless: it only renames an inlined callee's local)."""
    v = _FreeReads()
    fdef.visit(v)
    return v.read - v.bound - set(_assigned_in(fdef))


def _functions_bound(node: cst.CSTNode) -> dict[str, list[cst.CSTNode]]:
    """The names ``node`` binds to a nested def or a lambda (``g = lambda u: ...``), each
    with the statements that do, in order (nested defs' bodies are not looked into)."""
    out: dict[str, list[cst.CSTNode]] = {}

    def visit(n: cst.CSTNode) -> None:
        if isinstance(n, cst.FunctionDef):
            out.setdefault(n.name.value, []).append(n)
            return
        if isinstance(n, (cst.ClassDef, cst.Lambda)):
            return
        if (
            isinstance(n, cst.Assign)
            and isinstance(n.value, cst.Lambda)
            and len(n.targets) == 1
            and isinstance(n.targets[0].target, cst.Name)
        ):
            out.setdefault(n.targets[0].target.value, []).append(n)
            return
        for c in n.children:
            visit(c)

    visit(node)
    return out


def _subscript_written(node: cst.CSTNode) -> set[str]:
    """Names written in place inside ``node``: through a subscript (``y[k] = v``,
    ``y[k] += v``) or by an augmented assignment (``y += v``, in place on an array)."""
    out = set()
    for t in m.findall(node, m.AssignTarget() | m.AugAssign()):
        target = getattr(t, "target", None)
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            out.add(target.value.value)
        elif isinstance(t, cst.AugAssign) and isinstance(target, cst.Name):
            out.add(target.value)
    return out | set(_call_written(node))


def _grown_lists(node: cst.CSTNode) -> dict[str, list[cst.BaseExpression]]:
    """The names ``node`` grows as lists (``u.append(..)``, ``u.extend(..)``, ``u += ..``),
    each with what it grows by, in order."""
    out: dict[str, list[cst.BaseExpression]] = {}
    for found in m.findall(
        node,
        m.Call(
            func=m.Attribute(value=m.Name(), attr=m.Name("append") | m.Name("extend"))
        )
        | m.AugAssign(target=m.Name(), operator=m.AddAssign())
        | m.Assign(),
    ):
        if isinstance(found, cst.Assign):
            grown = _concatenated(found)
            if grown is not None:  # `u = u + [items]`
                out.setdefault(grown[0], []).append(grown[1])
            continue
        if isinstance(found, cst.Call):
            user = cst.ensure_type(
                cst.ensure_type(found.func, cst.Attribute).value, cst.Name
            ).value
            out.setdefault(user, []).extend(a.value for a in found.args)
        else:
            aug = cst.ensure_type(found, cst.AugAssign)
            out.setdefault(cst.ensure_type(aug.target, cst.Name).value, []).append(
                aug.value
            )
    return out


def _extended_in_place(body: cst.CSTNode) -> set[str]:
    """The names ``body`` binds only by ``u += ...`` (for a list: grown in place)."""
    bound: dict[str, int] = {}
    for u in _assigned_in(body):
        bound[u] = bound.get(u, 0) + 1
    extended: dict[str, int] = {}
    for aug in m.findall(body, m.AugAssign(target=m.Name(), operator=m.AddAssign())):
        u = cst.ensure_type(cst.ensure_type(aug, cst.AugAssign).target, cst.Name).value
        extended[u] = extended.get(u, 0) + 1
    for assign in m.findall(body, m.Assign()):
        grown = _concatenated(cst.ensure_type(assign, cst.Assign))
        if grown is not None:  # `u = u + [items]` (a list with no other name: in place)
            extended[grown[0]] = extended.get(grown[0], 0) + 1
    return {u for u, k in extended.items() if bound.get(u) == k}


def _concatenated(node: cst.Assign) -> tuple[str, cst.List] | None:
    """``(u, [items])`` for ``u = u + [items]``, else None."""
    if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
        return None
    u = node.targets[0].target.value
    v = node.value
    if (
        isinstance(v, cst.BinaryOperation)
        and isinstance(v.operator, cst.Add)
        and isinstance(v.left, cst.Name)
        and v.left.value == u
        and isinstance(v.right, cst.List)
    ):
        return u, v.right
    return None


def _written_first(body: list[cst.BaseStatement], name: str) -> bool:
    """Is ``name`` bound by a plain ``name = <expr without name>`` at the top of ``body``
    before anything else in ``body`` mentions it?"""
    for st in body:
        mentions = any(n.value == name for n in _all_names(st))
        if not mentions:
            continue
        if isinstance(st, (cst.For, cst.While)) and st.orelse is None:
            # a nested loop that binds it first (if it runs no iteration, Python leaves the
            # name unbound as well)
            return _written_first(list(st.body.body), name)  # type: ignore[union-attr]
        if isinstance(st, cst.SimpleStatementLine) and len(st.body) == 1:
            small = st.body[0]
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == name
                and not any(n.value == name for n in _all_names(small.value))
            ):
                return True
        return False
    return False


def _range_len(seqs: list[cst.BaseExpression]) -> cst.BaseExpression:
    lens = [f"len({cst.Module([]).code_for_node(s)})" for s in seqs]
    inner = lens[0] if len(lens) == 1 else f"min({', '.join(lens)})"
    return cst.parse_expression(f"range({inner})")


class _NameMap(cst.CSTTransformer):
    """Rename plain names (not attributes or keywords)."""

    def __init__(self, mapping: dict[str, str]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return cst.Name(self.mapping.get(original.value, original.value))

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)


class _SwapNodes(cst.CSTTransformer):
    """Replace given nodes (by identity) with other expressions."""

    def __init__(self, swap: dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self.swap = swap

    def on_leave(self, original: Any, updated: Any) -> Any:
        rep = self.swap.get(id(original))
        if rep is not None:
            return rep
        return updated


_ARITHMETIC = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
}


def _constant_arithmetic(node: cst.BinaryOperation, left: Any, right: Any) -> Any:
    """``left op right`` for ints and strings known here (``t - 1``, ``"W" + k``,
    ``"b%d" % i``), else ``_MISSING``: keys and indices computed from constants stay
    constants."""
    op = _ARITHMETIC.get(type(node.operator))
    known = (int, str, bool)
    if op is None or type(left) not in known or type(right) not in known:
        return _MISSING
    try:
        value = op(left, right)
    except (TypeError, ValueError, ZeroDivisionError):
        return _MISSING
    if type(value) not in (int, str) or (type(value) is str and len(value) > 200):
        return _MISSING
    return value
