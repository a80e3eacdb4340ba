"""The forward-mode stage: each forward statement, then the statement of its tangent.

The tangent of ``v`` is ``t_<v>``.  A primitive whose operands all carry a tangent and that
is linear in them is written as itself applied to the tangents (``t_h = t_x[i]``,
``t_s = t_h.sum(axis=0)``); a product or quotient gets its product rule written out; every
other primitive calls its rule's JVP (declared with its adjoint, read through
:mod:`srcgrad.rules.tangents`), bound once at the top of the module as ``jvp_<rule>``.  A
value that carries no tangent where one is needed (a loop-carried sum that starts at
``0.0``) gets ``zero_tangent(value)``.
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from srcgrad.codegen import ir, naming
from srcgrad.codegen.activity import Activity
from srcgrad.codegen.emit import (
    Emitted,
    _doc,
    _format,
    _meta,
    _Node,
    _preamble,
    _render,
    _stmt_text,
    code,
)
from srcgrad.codegen.ir import Normalized, Stmt
from srcgrad.codegen.templates import bindings, substitute, template
from srcgrad.errors import MissingRuleError, UnsupportedSyntaxError
from srcgrad.rules import tangents as jvps

# linear rules never written as themselves applied to the tangents
_NOT_SUBSTITUTED = frozenset({"builtin_sum", "assign_at", "full", "full_like"})


def _substitutes(rule: Any, bound: dict[str, Any]) -> bool:
    """Whether a call of ``rule`` with the arguments ``bound`` may be written as itself
    applied to the tangents: a linear rule, without an offset (``np.sum``'s
    ``initial``, whose tangent is 0) passed."""
    offsets = rule.extra.get("offsets", ())
    return (
        jvps.how(rule) == "linear"
        and rule.name not in _NOT_SUBSTITUTED
        and not any(p in bound for p in offsets)
    )


class _Tangents:
    def __init__(self, norm: Normalized, activity: Activity) -> None:
        self.norm = norm
        self.active = set(activity.active)
        self.tangent: dict[str, str] = {}
        self.jvps: dict[str, str] = {}  # rule name -> the module's name for its JVP
        self.rules: set[str] = set()
        self.helpers: set[str] = set()  # runtime helpers the inlined rule bodies call
        self.last: Any = None

    # -- names ----------------------------------------------------------------------------
    def t(self, name: str) -> str:
        got = self.tangent.get(name)
        if got is None:
            got = self.tangent[name] = self.norm.names.fresh("t_" + name.lstrip("_"))
        return got

    def dot(self, node: Any) -> str:
        """The tangent of an operand expression: ``t_<name>``, or ``None``."""
        if isinstance(node, cst.Name) and node.value in self.active:
            return self.t(node.value)
        return "None"

    def dot_or_zero(self, node: Any) -> str:
        if isinstance(node, cst.Name) and node.value in self.active:
            return self.t(node.value)
        return f"{self.g('zero_tangent')}({code(node)})"

    def g(self, helper: str) -> str:
        return self.norm.names.generated(helper)

    def jvp_name(self, rule: Any) -> str:
        if not rule.extra.get("forward_only"):  # a helper's is keyed with its table
            self.rules.add(rule.name)
        got = self.jvps.get(rule.name)
        if got is None:
            jvps.jvp_rule(rule)  # refuses here, at generation, where it has none
            word = re.sub(r"\W", "_", rule.name)
            got = self.jvps[rule.name] = self.g(f"jvp_{word}")
        return got

    # -- items ----------------------------------------------------------------------------
    def items(self, items: list[Any]) -> list[_Node]:
        out: list[_Node] = []
        for it in items:
            if isinstance(it, ir.Stmt):
                out += self.stmt(it)
            elif isinstance(it, ir.Phi):
                out += self.phi(it)
            elif isinstance(it, ir.BreakNode):
                out.append(_Node("break", _meta(it.origin, "break")))
            elif isinstance(it, ir.IfNode):
                self.last = None
                node = _Node(
                    self.comment(it.origin) + f"if {code(it.test)}:",
                    _meta(it.origin, "if"),
                    self.items(it.body),
                    self.items(it.orelse),
                )
                self.last = None
                out.append(node)
            elif isinstance(it, ir.LoopNode):
                out.append(self.loop(it))
            elif isinstance(getattr(it, "stmts", None), list):
                out += self.items(it.stmts)
        return out

    def loop(self, it: ir.LoopNode) -> _Node:
        if it.target and it.target in self.active:
            raise UnsupportedSyntaxError(
                "forward mode: a loop variable that carries a tangent",
                filename=it.origin.file,
                lineno=it.origin.line,
                col=it.origin.col,
                construct="loop",
                hint="loop over indices: for i in range(len(xs)): x = xs[i]",
            )
        if it.kind == "for":
            header = f"for {it.target} in {code(it.iter)}:"  # type: ignore[arg-type]
        else:
            header = f"while {code(it.iter) if it.iter is not None else 'True'}:"
        self.last = None
        text = self.comment(it.origin) + header
        self.last = None
        node = _Node(text, _meta(it.origin, it.kind), self.items(it.body))
        self.last = None
        return node

    def comment(self, origin: Any) -> str:
        key = (origin.file, origin.line)
        if key == self.last:
            return ""
        self.last = key
        return f"# {origin.file}:{origin.line}: {origin.text}\n"

    def phi(self, it: ir.Phi) -> list[_Node]:
        meta = _meta(it.origin, "join")
        out = [_Node(f"{it.target} = {code(it.source)}", meta)]
        if it.target in self.active:
            out.append(
                _Node(f"{self.t(it.target)} = {self.dot_or_zero(it.source)}", meta)
            )
        return out

    def stmt(self, st: Stmt) -> list[_Node]:
        meta = _meta(st.origin, st.label or st.kind)
        first = self.comment(st.origin)
        lines = self.primal(st) + self.tangent_lines(st)
        return [
            _Node((first if k == 0 else "") + ln, meta) for k, ln in enumerate(lines)
        ]

    def primal(self, st: Stmt) -> list[str]:
        if st.kind == ir.CALLVJP:
            return self.recursive(st)
        if st.label == "assign_at" and st.node is not None:
            # a copy of the array's own layout (xp.copy's order "K"; emit.py)
            x = code(st.bound["x"])
            return [f"{st.targets[0]} = {self.g('xp')}.copy({x})", code(st.node)]
        return [_stmt_text(st)]

    def recursive(self, st: Stmt) -> list[str]:
        """A recursive call: ``r, t_r = call_jvp(f, wrt, args, dots)``, the callee's own
        forward-mode module w.r.t. the parameters bound to names that carry a tangent
        (``r = f(*args)`` where the result carries none)."""
        r = st.targets[0]
        callee = code(st.expr)
        args = [code(v) for v in st.bound.values()]
        wrt = [
            p
            for p, v in st.bound.items()
            if isinstance(v, cst.Name) and v.value in self.active
        ]
        if r not in self.active or not wrt:
            return [f"{r} = {callee}({', '.join(args)})"]
        dots = [self.t(st.bound[p].value) for p in wrt]  # type: ignore[attr-defined]

        def tup(items: list[str]) -> str:
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

        call = self.g("call_jvp")
        spec = tup([repr(p) for p in wrt])
        return [
            f"{r}, {self.t(r)} = {call}({callee}, {spec}, {tup(args)}, {tup(dots)})"
        ]

    def tangent_lines(self, st: Stmt) -> list[str]:
        if st.kind == ir.CALLVJP:
            return []  # written with the call (recursive)
        outs = [t for t in st.targets if t in self.active]
        if st.kind == ir.APPEND:
            if st.container not in self.active:
                return []
            (v,) = [a.value for a in st.expr.args]  # type: ignore[union-attr]
            return [f"{self.t(st.container)}.append({self.dot_or_zero(v)})"]
        if not outs:
            return []
        if st.kind == ir.READ and st.read is not None:
            param, path = st.read
            at = self.g("tangent_at")
            return [f"{self.t(outs[0])} = {at}({self.t(param)}, {path!r})"]
        if st.kind in (ir.COPY, ir.READ, ir.LISTGET, ir.LISTFROM):
            return [f"{self.t(outs[0])} = {self.substituted(st.expr)}"]
        if st.kind == ir.LISTNEW:
            elems = [self.dot_or_zero(e.value) for e in st.expr.elements]  # type: ignore[union-attr]
            return [f"{self.t(outs[0])} = [{', '.join(elems)}]"]
        if st.kind != ir.PRIM:
            zero = self.g("zero_tangent")
            return [f"{self.t(o)} = {zero}({o})" for o in outs]
        return self.prim(st)

    def substituted(self, expr: Any) -> str:
        """``expr`` with every name that carries a tangent replaced by its tangent."""

        class Swap(cst.CSTTransformer):
            def leave_Name(_s, orig: cst.Name, new: cst.Name) -> cst.Name:  # noqa: N805
                if orig.value in self.active:
                    return cst.Name(self.t(orig.value))
                return new

            def leave_Attribute(_s, orig: Any, new: Any) -> Any:  # noqa: N805
                return new.with_changes(attr=orig.attr)  # never rename an attribute

        return code(expr.visit(Swap()))

    # -- primitives -----------------------------------------------------------------------
    def prim(self, st: Stmt) -> list[str]:
        rule = st.rule
        assert rule is not None
        if rule.extra.get("custom"):
            return self.custom(st)
        target = ", ".join(self.t(t) for t in st.targets)
        if rule.name == "assign_at" and st.node is not None:
            return self.assign_at(st)
        written = self.written(st)
        if written is not None:
            if not rule.extra.get("forward_only"):
                self.rules.add(rule.name)
            return [f"{target} = {written}"]
        try:
            name = self.jvp_name(rule)
        except MissingRuleError as err:  # at the line that calls it
            raise MissingRuleError(
                err.message,
                filename=st.origin.file,
                lineno=st.origin.line,
                col=st.origin.col,
                construct=rule.name,
                hint=err.hint,
            ) from None
        dots = []
        for p in rule.operands:
            v = st.bound.get(p)
            if v is None:
                dots.append("None")
            elif isinstance(v, (cst.Tuple, cst.List)) and (
                p in rule.sequence or p == rule.varargs
            ):
                inner = [self.dot(e.value) for e in v.elements]
                dots.append(
                    "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
                )
            else:
                dots.append(self.dot(v))
        dtext = "(" + ", ".join(dots) + ("," if len(dots) == 1 else "") + ")"
        args = ", ".join(f"{k}={code(v)}" for k, v in st.bound.items())
        ans = (
            st.targets[0] if len(st.targets) == 1 else "[" + ", ".join(st.targets) + "]"
        )
        return [f"{target} = {name}({ans}, {dtext}{', ' if args else ''}{args})"]

    def custom(self, st: Stmt) -> list[str]:
        """A ``@custom_vjp`` function's tangent: its ``.jvp(dots, ans, *args)`` (one tangent
        per positional operand); refused at the call's line where none is attached (its
        adjoint says nothing of its forward derivative, and its body may be what the
        custom rule replaces)."""
        rule = st.rule
        assert rule is not None
        name = st.label or rule.name
        if getattr(rule.primitive, "jvp", None) is None:
            raise MissingRuleError(
                f"forward mode: the custom_vjp function {name} has no tangent rule",
                filename=st.origin.file,
                lineno=st.origin.line,
                col=st.origin.col,
                construct=name,
                hint=f"attach one with @{name}.defjvp (rule(dots, ans, *args) returns "
                "the tangent of the result; dots holds one tangent per positional "
                "parameter, None where it has none), or differentiate it in reverse "
                "mode (srcgrad.grad)",
            )
        dots = [
            self.dot(st.bound[p]) if p in st.bound else "None" for p in rule.operands
        ]
        args = [
            code(st.bound[p]) if p in rule.operands else f"{p}={code(st.bound[p])}"
            for p in rule.params
            if p in st.bound
        ]
        dtext = "(" + ", ".join(dots) + ("," if len(dots) == 1 else "") + ")"
        callee = code(st.bound["__callee__"])
        target = ", ".join(self.t(t) for t in st.targets)
        call = ", ".join([dtext, st.targets[0], *args])
        return [f"{target} = {callee}.jvp({call})"]

    def assign_at(self, st: Stmt) -> list[str]:
        x, v = st.bound["x"], st.bound["v"]
        y = st.targets[0]
        first = (
            f"{self.t(x.value)}.copy()"  # type: ignore[attr-defined]
            if isinstance(x, cst.Name) and x.value in self.active
            else f"{self.g('zero_tangent')}({y})"
        )
        node = st.node
        assert node is not None
        write = self.substituted(node.body[0] if hasattr(node, "body") else node)
        if not (isinstance(v, cst.Name) and v.value in self.active):
            write = re.sub(r"=.*$", "= 0.0", write, count=1, flags=re.S)
        write = re.sub(rf"^\s*{re.escape(y)}\b", self.t(y), write)
        return [f"{self.t(y)} = {first}", write]

    def written(self, st: Stmt) -> str | None:
        """The tangent as an expression of its own, where it reads plainly."""
        rule = st.rule
        assert rule is not None
        b = st.bound
        name = rule.same_as or rule.name
        x1, x2 = b.get("x1"), b.get("x2")
        on = [isinstance(v, cst.Name) and v.value in self.active for v in (x1, x2)]
        if name in ("multiply", "matmul") and any(on):
            op = "*" if name == "multiply" else "@"
            if len(st.targets) != 1 or st.expr is None:
                return None
            parts = []
            if on[0]:
                parts.append(f"{self.dot(x1)} {op} {_paren(x2)}")
            if on[1]:
                parts.append(f"{_paren(x1)} {op} {self.dot(x2)}")
            return " + ".join(parts) if parts else None
        if name in ("add", "subtract") and on[0] != on[1]:
            other = x2 if on[0] else x1
            if _number(other):  # a Python number: the result has the operand's shape
                t = self.dot(x1 if on[0] else x2)
                return f"-{t}" if name == "subtract" and on[1] else t
        if name == "divide" and on[0] and not on[1]:
            return f"{self.dot(x1)} / {_paren(x2)}"
        substitutes = _substitutes(rule, b)
        if rule.kind == "unary" and not substitutes:
            return self.unary(st)
        if substitutes and self.substitutable(st):
            return self.substituted(st.expr)
        return None

    def unary(self, st: Stmt) -> str | None:
        """An elementwise function's tangent: its adjoint rule's body inlined with the
        operand's tangent as the cotangent (the Jacobian is diagonal), e.g.
        ``t_h = t_z * (1 - h * h)``."""
        rule = st.rule
        assert rule is not None
        (p,) = rule.operands
        v = st.bound.get(p)
        if not (isinstance(v, cst.Name) and v.value in self.active):
            return None
        tpl = template(rule)
        if tpl.body or tpl.whole is not None or len(tpl.slots) != 1:
            return None
        mapping = bindings(
            tpl,
            st.bound,
            cst.Name(self.t(v.value)),
            cst.Name(st.targets[0]),
            self.g("xp"),
            self.helper,
            lambda loc: self.norm.names.fresh(loc),
        )
        return code(substitute(tpl.slots[0], mapping))

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        return self.g(name)

    def substitutable(self, st: Stmt) -> bool:
        """Whether every operand leaf is a name that carries a tangent and is read once."""
        rule = st.rule
        assert rule is not None
        leaves: list[Any] = []
        for p in rule.operands:
            v = st.bound.get(p)
            if v is None:
                continue
            if isinstance(v, (cst.Tuple, cst.List)) and (
                p in rule.sequence or p == rule.varargs
            ):
                leaves += [e.value for e in v.elements]
            else:
                leaves.append(v)
        if not leaves or st.expr is None or len(st.targets) != 1:
            return False
        if not all(isinstance(v, cst.Name) and v.value in self.active for v in leaves):
            return False
        text = code(st.expr)
        return all(
            len(re.findall(rf"(?<![\w.]){re.escape(v.value)}\b", text)) == 1
            for v in leaves
        )


def _number(node: Any) -> bool:
    """Whether ``node`` is a number literal (``1``, ``0.5``, ``-2.0``)."""
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _paren(node: Any) -> str:
    text = code(node)
    return text if re.fullmatch(r"[\w.]+", text) else f"({text})"


class _Helpers:
    """What emit's preamble reads of a backward pass: the runtime helpers called."""

    def __init__(self, helpers: set[str]) -> None:
        self.helpers = helpers


def emit_tangents(norm: Normalized, activity: Activity) -> Emitted:
    """The forward-mode module text (the header left to :func:`srcgrad.cache.header`)."""
    tg = _Tangents(norm, activity)
    g = norm.names.generated
    f = norm.name
    jvp_fn = g(f"jvp_{f}")
    tangents = [tg.t(p) for p in norm.wrt]
    params = ", ".join(norm.params + tangents)
    body = [
        _Node(
            _doc(
                f"Value of {f} and its tangent along ({', '.join(tangents)}), "
                f"forward mode w.r.t. ({', '.join(norm.wrt)})."
            )
        ),
        _Node(f"{g('xp')} = {g('namespace')}({', '.join(norm.params)})"),
    ]
    if norm.prebind:
        pre = sorted(norm.prebind)
        pre += [tg.t(n) for n in pre if n in tg.active]
        body.append(_Node(" = ".join(pre) + " = None  # bound on some paths only"))
    body += tg.items(norm.stmts)
    out = norm.out
    t_out = tg.dot_or_zero(out)
    body.append(_Node(f"return {code(out)}, {t_out}"))
    rendered = "\n".join(_render(body, 1))
    # a recursive call is call_jvp's (rules/tangents.py), never call_vjp's
    helpers = set(norm.runtime_imports) - {"call_vjp"} | tg.helpers | {"zero_tangent"}
    empty = ir.Backward([], [], {}, g("d_out"), g("xp"), helpers, {})
    rename = naming.readable_names(norm, empty, rendered)
    taken = naming.identifiers(rendered)
    for name, t in tg.tangent.items():
        new = rename.get(name, name)
        cand = ("t" if new.startswith("_") else "t_") + new
        if cand != t and cand not in taken and cand not in rename.values():
            rename[t] = cand
    bare = naming.qualified_reads(norm, rendered)
    parts = _preamble(
        norm,
        _Helpers(helpers - {"zero_tangent"}),
        "",
        naming.apply(rendered, rename, bare),
    )
    parts = [p for p in parts if p != "from typing import NamedTuple"]
    parts = _tangent_imports(parts, tg, rendered)
    parts += [f"def {jvp_fn}({params}):"] + _render(body, 1) + ["", ""]
    text, lines = _format(parts, {jvp_fn: body}, rename, bare)
    return Emitted(
        body=text,
        rules=sorted(tg.rules),
        lines=lines,
        calls=[str(ref) for ref in norm.refs],
    )


def _tangent_imports(parts: list[str], tg: _Tangents, rendered: str) -> list[str]:
    """The preamble with the JVPs the module calls bound by name, and ``zero_tangent``."""
    names = ["jvp_by_name"] if tg.jvps else []
    for helper in ("call_jvp", "tangent_at", "zero_tangent"):
        if re.search(rf"\b{re.escape(tg.g(helper))}\b", rendered):
            names.append(helper)
    extra: list[str] = []
    if names:
        extra.append(f"from srcgrad.rules.tangents import {', '.join(names)}")
        extra.append("")
    for rule, alias in sorted(tg.jvps.items()):
        extra.append(f'{alias} = jvp_by_name("{rule}")')
    if tg.jvps:
        extra.append("")
    return parts[:-1] + extra + ["", ""]
