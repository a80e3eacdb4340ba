"""Stage 13: render the module text.

After this stage there is one black-formatted module with ``fwd_<f>``, ``bwd_<f>``,
``grad_<f>``, the ``Residuals_<f>`` NamedTuple and the ``SRCGRAD_LINES`` line table
(DESIGN §3); every backward block sits under a ``# <file>:<line>: <statement>`` comment.  This
stage only renders: what each pass does, and what the forward keeps for the backward
(:mod:`residuals`), was decided before.  The header's key and digest are filled in by
:func:`srcgrad.cache.header`.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from srcgrad import cache, linetable
from srcgrad.codegen import ir, naming
from srcgrad.codegen.activity import Activity
from srcgrad.codegen.ir import Backward, BIf, BLoop, Block, BSeg, Normalized, Segment
from srcgrad.codegen.residuals import Push, Residuals, StackInit
from srcgrad.codegen.source import indent_code
from srcgrad.errors import InternalError

_EMPTY = cst.Module([])


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def format_source(text: str) -> str:
    """Format with black (the one place black is called)."""
    import black  # slow to import: only when a module is written (not for findings)

    try:
        return black.format_str(text, mode=black_mode())
    except black.InvalidInput as exc:  # a codegen bug
        raise InternalError(f"emitted code does not parse ({exc}):\n{text}") from None


def black_mode() -> Any:
    """black's mode for emitted code (its settings are :mod:`srcgrad.cache`'s, which keys on
    them)."""
    import black  # slow to import: only when a module is written (not for findings)

    target = black.TargetVersion[cache.BLACK_TARGET.upper()]
    return black.Mode(line_length=cache.BLACK_LINE_LENGTH, target_versions={target})


@dataclass
class Emitted:
    body: str  # everything after the header
    rules: list[str]
    lines: dict[int, tuple[str, int, str]]
    calls: list[str] = field(
        default_factory=list
    )  # callees, as cache.Ref text "0:helper"


@dataclass
class _Names:
    """The emitted module's own names (suffixed where the user has them)."""

    fwd: str
    bwd: str
    grad: str
    res_cls: str
    res: str
    out: str
    d_out: str
    namespace: str
    xp: str


class Unguarded(Exception):
    """A name whose slice lengths the facts took as not 1 is not bound in the forward
    pass, where its check (``assume_not_one``) would go."""


def emit(
    norm: Normalized,
    bwd: Backward,
    activity: Activity,
    plan: Residuals,
    note: str = "",
    has_aux: bool = False,
    guards: dict[str, set[int]] | None = None,
) -> Emitted:
    """Render the passes as module text (the header left to :func:`srcgrad.cache.header`).

    ``guards``: forward name -> the axes the facts took as not 1 long; a check follows the
    statement that binds it (raises :class:`Unguarded` where none does)."""
    g = norm.names.generated
    f = norm.name
    fwd_name, bwd_name, grad_name = g(f"fwd_{f}"), g(f"bwd_{f}"), g(f"grad_{f}")
    res_cls = g(f"Residuals_{f}")
    res, out_v = g("res"), g("out")
    n = _Names(
        fwd_name,
        bwd_name,
        grad_name,
        res_cls,
        res,
        out_v,
        bwd.d_out,
        g("namespace"),
        bwd.xp,
    )
    r = _Renderer(norm, activity, plan, guards or {})
    fwd_body = _fwd_body(norm, plan, r, n, has_aux)
    if set(r.guards) - r.guarded:
        raise Unguarded(", ".join(sorted(set(r.guards) - r.guarded)))
    if r.guards:
        note += (
            "; slices of computed bounds are not 1 long (assume_not_one checks it; "
            "where one is, srcgrad makes the code without that)"
        )
    bwd_body = _bwd_body(norm, bwd, plan, r, n)
    grad_body = _grad_body(norm, n, has_aux)
    rendered = "\n".join(
        _render(fwd_body, 1) + _render(bwd_body, 1) + _render(grad_body, 1)
    )
    rename = naming.readable_names(norm, bwd, rendered)
    bare = naming.qualified_reads(norm, rendered)
    parts = _preamble(norm, bwd, note, naming.apply(rendered, rename, bare))
    parts += _residuals_class(n.res_cls, [rename.get(r, r) for r in plan.residuals])

    def func(name: str, sig: str, body: list[_Node]) -> list[str]:
        return [f"def {name}({sig}):"] + _render(body, 1) + ["", ""]

    parts += func(n.fwd, ", ".join(norm.params), fwd_body)
    parts += func(n.bwd, f"{n.res}, {n.d_out}", bwd_body)
    parts += func(n.grad, ", ".join(norm.params + [f"{n.d_out}=None"]), grad_body)
    parts += _recomputed(norm, activity)
    body, lines = _format(parts, {n.fwd: fwd_body, n.bwd: bwd_body}, rename, bare)
    calls = [str(ref) for ref in norm.refs]
    return Emitted(body=body, rules=sorted(bwd.rules_used), lines=lines, calls=calls)


def _fwd_body(
    norm: Normalized, plan: Residuals, r: "_Renderer", n: _Names, has_aux: bool
) -> list[_Node]:
    f, wrt_text = norm.name, ", ".join(norm.wrt)
    body: list[_Node] = [
        _Node(
            _doc(
                f"Forward pass of {f}; keeps what the gradient w.r.t. ({wrt_text}) needs."
            )
        ),
        _Node(f"{n.xp} = {n.namespace}({', '.join(norm.params)})"),
    ]
    if plan.prebind:
        body.append(
            _Node(" = ".join(plan.prebind) + " = None  # bound on some paths only")
        )
    body += r.fwd_items(plan.forward)
    out_code = code(norm.out)
    if has_aux:
        out_code = f"({out_code}, {code(norm.aux)})"  # type: ignore[arg-type]
    shape_dtype = norm.names.generated("shape_dtype")
    saved = [f"{shape_dtype}({r})" if r in plan.shapes else r for r in plan.residuals]
    body.append(_Node(f"return {out_code}, {n.res_cls}({', '.join(saved)})"))
    return body


def _bwd_body(
    norm: Normalized, bwd: Backward, plan: Residuals, r: "_Renderer", n: _Names
) -> list[_Node]:
    f, wrt_text = norm.name, ", ".join(norm.wrt)
    body: list[_Node] = [
        _Node(
            _doc(
                f"Gradient of {f} w.r.t. ({wrt_text}), given the residuals and the "
                "output cotangent."
            )
        )
    ]
    if plan.residuals:
        target = ", ".join(plan.residuals) + ("," if len(plan.residuals) == 1 else "")
        body.append(_Node(f"{target} = {n.res}"))
    if plan.bwd_uses_xp:
        body.append(_Node(f"{n.xp} = {n.namespace}({n.d_out}, *{n.res})"))
    last = None
    for k, st in enumerate(plan.recomputed):  # recomputed here instead of kept in res
        text = _stmt_text(st)
        if (st.origin.file, st.origin.line) != last:
            text = f"# {st.origin.file}:{st.origin.line}: {st.origin.text}\n" + text
            last = (st.origin.file, st.origin.line)
        if k == 0:
            text = f"# {RECOMPUTED}\n" + text
        body.append(_Node(text, _meta(st.origin, "recompute")))
    body += r.bwd_items(bwd.blocks)
    grads = ", ".join(code(x) for x in bwd.grads)
    body.append(_Node(f"return ({grads}{',' if len(bwd.grads) == 1 else ''})"))
    return body


RECOMPUTED = "recomputed from the forward pass (cheaper than keeping them):"


def _doc(text: str) -> str:
    """A docstring of ``text`` whose lines fit in 88 columns inside a function."""
    lines = textwrap.wrap(text, width=80)
    return '"""' + "\n".join(lines) + '"""'


def _grad_body(norm: Normalized, n: _Names, has_aux: bool) -> list[_Node]:
    seed = f"{n.out}[0]" if has_aux else n.out
    return [
        _Node(
            _doc(f"Value and gradient of {norm.name} w.r.t. ({', '.join(norm.wrt)}).")
        ),
        _Node(f"{n.out}, {n.res} = {n.fwd}({', '.join(norm.params)})"),
        _Node(
            f"if {n.d_out} is None:\n    {n.d_out} = {n.namespace}({seed}).ones_like({seed})"
        ),
        _Node(f"return {n.out}, {n.bwd}({n.res}, {n.d_out})"),
    ]


def _preamble(norm: Normalized, bwd: Backward, note: str, rendered: str) -> list[str]:
    """The specialisation comment and the imports (runtime helpers only where ``rendered``,
    the functions' code, still calls them after optimisation)."""
    g = norm.names.generated
    user_imports = [
        f"import {mod}" if alias == mod else f"import {mod} as {alias}"
        for mod, alias in sorted(norm.module_imports.items())
        if naming.reads_through(rendered, alias)
    ]
    parts = []
    if note:
        text = (
            f"Specialised to {note} (* is any length but 1; another dtype or a "
            "length-1 axis gets its own file)."
        )
        parts += ["# " + ln for ln in textwrap.wrap(text, 86, break_on_hyphens=False)]
    parts += ["from typing import NamedTuple", ""]
    if user_imports:
        parts += user_imports + [""]
    imports = []
    for h in sorted(set(bwd.helpers) | {"namespace", "shape_dtype", "assume_not_one"}):
        alias = g(h)
        if h == "namespace" or re.search(rf"\b{re.escape(alias)}\b", rendered):
            imports.append(h if alias == h else f"{h} as {alias}")
    parts += [f"from srcgrad.runtime import {', '.join(imports)}", ""]
    if norm.closure_reads:
        table = ", ".join(
            f'"{k}": "{v}"' for k, v in sorted(norm.closure_reads.items())
        )
        parts += [
            "# Closure variables of called functions, read when the code runs: name -> k:var,",
            "# the cell var of the function the k-th call in the header reaches.",
            f"{cache.CLOSURE_READS} = {{{table}}}",
            "",
        ]
    return parts + [""]


def _residuals_class(res_cls: str, residuals: list[str]) -> list[str]:
    parts = [f"class {res_cls}(NamedTuple):"]
    if residuals:
        fields: list[str] = []
        for r in residuals:
            name = r.lstrip("_") or "value"
            if not name[0].isalpha():
                name = "v" + name
            while name in fields or name in residuals and name != r:
                name += "_"
            fields.append(name)
        parts += [f"    {fld}: object" for fld in fields]
    else:
        parts.append("    pass")
    return parts + ["", ""]


def _format(
    parts: list[str],
    bodies: dict[str, list["_Node"]],
    rename: dict[str, str],
    bare: dict[str, set[str]],
) -> tuple[str, dict[int, Any]]:
    """Rename (:mod:`naming`), format with black under a placeholder header, and add the
    line table."""
    placeholder = "#\n" * cache.HEADER_LINES
    text = format_source(placeholder + naming.apply("\n".join(parts), rename, bare))
    lines = _line_table(text, bodies)
    table = "\n\n" + linetable.encode(lines)
    if any(len(ln) > 88 for ln in table.splitlines()):
        text = format_source(text + table)  # let black wrap what is too long
    else:
        text = text + table  # already in black's style: no second formatting pass
    return text.split("\n", cache.HEADER_LINES)[cache.HEADER_LINES], lines


class _Node:
    """One emitted statement; compound ones carry a body and an else body."""

    def __init__(
        self,
        text: str,
        meta: Any = None,
        body: list["_Node"] | None = None,
        orelse: list["_Node"] | None = None,
    ) -> None:
        self.text = text
        self.meta = meta
        self.body = body
        self.orelse = orelse

    def render(self, indent: int) -> list[str]:
        pad = "    " * indent
        lines = indent_code(self.text, pad)
        if self.body is not None:
            lines += _render(self.body or [_Node("pass")], indent + 1)
            if self.orelse:
                lines.append(pad + "else:")
                lines += _render(self.orelse, indent + 1)
        return lines


def _render(nodes: list[_Node], indent: int) -> list[str]:
    out: list[str] = []
    for n in nodes:
        out += n.render(indent)
    return out


def _code_only(nodes: list[_Node]) -> list[str]:
    """The rendered lines of ``nodes`` without their comments."""
    return [ln for ln in _render(nodes, 0) if not ln.lstrip().startswith("#")]


def _meta(origin: Any, label: str) -> tuple[str, int, str]:
    return (origin.file, origin.line, label)


class _Renderer:
    """Renders forward and backward items as statement nodes."""

    def __init__(
        self,
        norm: Normalized,
        activity: Activity,
        plan: Residuals,
        guards: dict[str, set[int]] | None = None,
    ) -> None:
        self.norm = norm
        self.activity = activity
        self.plan = plan
        self.guards = guards or {}
        self.guarded: set[str] = set()  # the names of guards whose check is emitted
        self.last_key: Any = None  # (file, line) of the last comment in the backward

    # -- forward --------------------------------------------------------------------------
    def fwd_items(self, items: list[Any]) -> list[_Node]:
        out: list[_Node] = []
        for it in items:
            if isinstance(it, Push):
                out.append(self.push_line(it))
            elif isinstance(it, StackInit):
                out.append(_Node(f"{it.stack} = []", _meta(it.origin, "stack")))
            elif isinstance(it, Segment):
                out += self.segment(it)
            elif isinstance(it, ir.Phi):
                out.append(
                    _Node(f"{it.target} = {code(it.source)}", _meta(it.origin, "join"))
                )
            elif isinstance(it, ir.BreakNode):
                out.append(_Node("break", _meta(it.origin, "break")))
            elif isinstance(it, ir.IfNode):
                out.append(
                    _Node(
                        f"if {code(it.test)}:",
                        _meta(it.origin, "if"),
                        self.fwd_items(it.body),
                        self.fwd_items(it.orelse),
                    )
                )
            elif isinstance(it, ir.LoopNode):
                if it.kind == "for":
                    header = f"for {it.target} in {code(it.iter)}:"  # type: ignore[arg-type]
                else:
                    header = (
                        f"while {code(it.iter) if it.iter is not None else 'True'}:"
                    )
                out.append(
                    _Node(header, _meta(it.origin, it.kind), self.fwd_items(it.body))
                )
        return out

    def segment(self, seg: Segment) -> list[_Node]:
        out: list[_Node] = []
        for st in seg.stmts:
            meta = _meta(st.origin, st.label or st.kind)
            if st.label == "assign_at" and st.node is not None:
                # a subscript write: into a fresh copy, so no earlier value changes; of
                # the same memory layout (xp.copy's order "K", not .copy()'s "C"), so
                # what reduces it later sums in the order the function's own array would
                old = code(st.bound["x"])
                xp = self.norm.names.generated("xp")
                out.append(_Node(f"{st.targets[0]} = {xp}.copy({old})", meta))
                out.append(_Node(code(st.node), meta))
                continue
            text = _stmt_text(st, self.activity, self.norm.recompute_calls)
            out.append(_Node(text, meta))
            axes = [self.guards.get(t) for t in st.targets]
            is_slice = st.rule is not None and st.rule.name == "getitem"
            if len(st.targets) == 1 and axes[0] and is_slice:
                assume = self.norm.names.generated("assume_not_one")
                out.append(
                    _Node(
                        f"{assume}({st.targets[0]}, {', '.join(map(str, sorted(axes[0])))})",
                        _meta(st.origin, "check"),
                    )
                )
                self.guarded.add(st.targets[0])
        return out

    def push_line(self, push: Push) -> _Node:
        shape_dtype = self.norm.names.generated("shape_dtype")
        names = [f"{shape_dtype}({n})" if n in push.shapes else n for n in push.names]
        value = (
            "None"
            if not names
            else names[0] if len(names) == 1 else f"({', '.join(names)})"
        )
        meta = _meta(push.origin, "push") if push.origin is not None else None
        return _Node(f"{push.stack}.append({value})", meta)

    def pop_line(self, key: Any, origin: Any) -> list[_Node]:
        push = self.plan.pops.get(id(key))
        if push is None:
            return []
        text = (
            f"{', '.join(push.names)} = {push.stack}.pop()"
            if push.names
            else f"{push.stack}.pop()"
        )
        out = [_Node(text, _meta(origin, "pop"))]
        for k, st in enumerate(push.recompute):  # computed again instead of pushed
            text = _stmt_text(st)
            if k == 0:
                text = f"# {RECOMPUTED}\n" + text
            out.append(_Node(text, _meta(st.origin, "recompute")))
        return out

    # -- backward -------------------------------------------------------------------------
    def bwd_items(self, items: list[Any]) -> list[_Node]:
        out: list[_Node] = []
        for it in items:
            if not isinstance(it, (BSeg, Block)):
                self.last_key = None
            if isinstance(it, BSeg):
                out += self.bwd_segment(it)
            elif isinstance(it, Block):
                out += self.blocks([it])
            elif isinstance(it, BIf):
                out += self.bwd_if(it)
            elif isinstance(it, BLoop):
                out += self.bwd_loop(it)
        return out

    def bwd_segment(self, it: BSeg) -> list[_Node]:
        if not ir.has_code([it]) and id(it.seg) not in self.plan.pops:
            return []
        origin = (
            it.seg.stmts[-1].origin
            if it.seg.stmts
            else (it.blocks[0].origin if it.blocks else self.norm.src.def_origin())
        )
        return self.pop_line(it.seg, origin) + self.blocks(it.blocks)

    def bwd_if(self, it: BIf) -> list[_Node]:
        body = self.bwd_items(it.body) + self.blocks(it.fills_body)
        orelse = self.bwd_items(it.orelse) + self.blocks(it.fills_orelse)
        out = self.pop_line(it.node, it.node.origin)
        if body and _code_only(body) == _code_only(orelse):
            # both branches do the same: no if (its test is pure); what only the test
            # read is popped and dropped
            push = self.plan.pops.get(id(it.node))
            used = set(re.findall(r"[A-Za-z_]\w*", "\n".join(_code_only(body))))
            if out and push is not None and not set(push.names) & used:
                out = [_Node(f"{push.stack}.pop()", out[0].meta)]
            return out + body
        if body or orelse:
            test = code(it.node.test)
            if not body:
                body, orelse = orelse, []
                test = f"not ({test})"
            o = it.node.origin
            comment = f"# {o.file}:{o.line}: {o.text}\n"
            out.append(_Node(comment + f"if {test}:", _meta(o, "if"), body, orelse))
        self.last_key = None
        return out

    def bwd_loop(self, it: BLoop) -> list[_Node]:
        node = it.node
        if id(node) not in self.plan.live_loops:
            if id(node) in self.plan.pre_only:
                return self.pop_line(node, node.origin) + self.blocks(it.pre)
            return []
        out = self.pop_line(node, node.origin)
        out += self.blocks(it.pre)
        # pop from a copy: the forward's list stays whole, so bwd can run again
        out.append(
            _Node(f"{node.stack} = list({node.stack})", _meta(node.origin, "stack"))
        )
        if node.reversible_range:
            header = f"for {node.target} in reversed({code(node.iter)}):"  # type: ignore[arg-type]
        else:
            header = f"while {node.stack}:"
        comment = f"# {node.origin.file}:{node.origin.line}: {node.origin.text}\n"
        if it.pre and self.last_key == (node.origin.file, node.origin.line):
            comment = ""  # the statements before the loop carry the same comment
        out.append(
            _Node(
                comment + header, _meta(node.origin, node.kind), self.bwd_items(it.body)
            )
        )
        self.last_key = None
        return out

    def blocks(self, blocks: list[Block]) -> list[_Node]:
        out: list[_Node] = []
        for b in blocks:
            if (
                not b.stmts
            ):  # emptied by the optimiser: it must not hide the next comment
                continue
            first = (b.origin.file, b.origin.line) != self.last_key
            self.last_key = (b.origin.file, b.origin.line)
            for st in b.stmts:
                text = code(st)
                if first:
                    text = (
                        f"# {b.origin.file}:{b.origin.line}: {b.origin.text}\n" + text
                    )
                first = False
                out.append(_Node(text, _meta(b.origin, b.label)))
        return out


def _stmt_text(
    st: Any, activity: Activity | None = None, recompute: bool = False
) -> str:
    if st.kind == ir.APPEND:
        return code(st.expr)
    if st.kind == ir.CALLVJP and recompute:  # a plain call (see _recomputed)
        args = ", ".join(f"{k}={code(v)}" for k, v in st.bound.items())
        return f"{st.targets[0]} = {code(st.expr)}({args})"
    if st.kind == ir.CALLVJP:
        wrt = activity.pullback_wrt(st) if activity is not None else []
        args = ", ".join(code(v) for v in st.bound.values())
        wrt_text = (
            "(" + ", ".join(repr(n) for n in wrt) + ("," if len(wrt) == 1 else "") + ")"
        )
        return f"{st.targets[0]}, {st.targets[1]} = call_vjp({code(st.expr)}, {wrt_text}, {args})"
    if st.kind == ir.EFFECT:
        return code(st.node) if st.node is not None else code(st.expr)
    if st.target_node is not None:
        return f"{code(st.target_node)} = {code(st.expr)}"
    return f"{', '.join(st.targets)} = {code(st.expr)}"


def _recomputed(norm: Normalized, activity: Activity) -> list[str]:
    """For a module a higher order differentiates (``norm.recompute_calls``): the table
    of the functions its recursive calls' backward calls (name -> (callee, wrt)), which
    srcgrad/recompute.py binds when it loads the module."""
    table: dict[str, str] = {}
    for st in ir.walk_stmts(norm.stmts) if norm.recompute_calls else ():
        kind = getattr(st, "kind", None)
        wrt = activity.pullback_wrt(st) if kind == ir.CALLVJP else []
        if wrt:
            wrt_text = ", ".join(repr(w) for w in wrt) + ("," if len(wrt) == 1 else "")
            table[ir.recomputed_name(st, wrt)] = f'("{code(st.expr)}", ({wrt_text}))'
    if not table:
        return []
    text = (
        "A higher order differentiates this module, so a recursive call is a plain "
        "call and its backward calls vjp_<callee>__<wrt>(d_out, *arguments), the "
        "callee's gradient in this same mode: it recomputes the callee's forward (work "
        "quadratic in the recursion's depth). srcgrad binds those names when it loads "
        "the module: name -> (callee, wrt)."
    )
    entries = ", ".join(f'"{k}": {v}' for k, v in sorted(table.items()))
    return ["# " + ln for ln in textwrap.wrap(text, 86)] + [
        f"SRCGRAD_RECOMPUTED = {{{entries}}}",
        "",
        "",
    ]


def _line_table(
    text: str, bodies: dict[str, list[_Node]]
) -> dict[int, tuple[str, int, str]]:
    tree = ast.parse(text)
    table: dict[int, tuple[str, int, str]] = {}

    def walk(nodes: list[_Node], stmts: list[ast.stmt], where: str) -> None:
        if len(nodes) != len(stmts):
            raise InternalError(f"line table mismatch in {where}")
        for n, st in zip(nodes, stmts):
            if n.body is not None:
                if n.meta is not None:
                    table[st.lineno] = n.meta
                walk(n.body or [_Node("pass")], st.body, where)  # type: ignore[attr-defined]
                if n.orelse:
                    walk(n.orelse, st.orelse, where)  # type: ignore[attr-defined]
                continue
            if n.meta is None:
                continue
            for ln in range(st.lineno, (st.end_lineno or st.lineno) + 1):
                table[ln] = n.meta

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in bodies:
            walk(bodies[node.name], node.body, node.name)
    return table
