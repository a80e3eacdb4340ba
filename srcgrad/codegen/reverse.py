"""Stage 6: build the backward pass.

After this stage there is a forward statement list (the normal form, unchanged) and a backward
list of blocks, one per forward statement that carries an adjoint, in reverse order.  Each
block holds the rule's body inlined with the call site's names: ``g`` is the result's adjoint
``d_<name>``, ``ans`` the result, operands the call's atoms, rule locals get fresh names, and
``np`` is ``xp``.  The first contribution to an adjoint assigns it; later ones rebind it with
``d = d + v`` (never ``+=``: identity rules return the very array they were given).
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import libcst.matchers as m

import srcgrad.runtime as runtime
from srcgrad.codegen import ir
from srcgrad.codegen.ir import Normalized, Stmt
from srcgrad.codegen.source import Origin
from srcgrad.errors import InternalError, SourceNotFoundError, UnsupportedSyntaxError
from srcgrad.rules.registry import Rule, lookup_name


@dataclass
class Template:
    """A rule body ready to inline."""

    rule: Rule
    body: list[cst.BaseSmallStatement]
    slots: list[cst.BaseExpression]  # one cotangent expression per operand slot
    whole: cst.BaseExpression | None  # the return value when it is not a tuple literal
    locals: set[str]
    helpers: dict[str, str]  # name in rule body -> name in srcgrad.runtime


_TEMPLATES: dict[int, tuple[Any, Template]] = {}  # id(adjoint) -> (adjoint, template)


def template(rule: Rule) -> Template:
    """Parse (once) the body of ``rule`` into an inlinable template."""
    hit = _TEMPLATES.get(id(rule.adjoint))
    if hit is None or hit[0] is not rule.adjoint:  # the id of a freed function is reused
        hit = _TEMPLATES[id(rule.adjoint)] = (rule.adjoint, _parse_template(rule))
    return hit[1]


def _parse_template(rule: Rule) -> Template:
    fn = rule.adjoint
    name = fn.__qualname__
    code = getattr(fn, "__code__", None)
    where = {
        "filename": getattr(code, "co_filename", None),
        "lineno": getattr(code, "co_firstlineno", None),
        "col": 1,
    }

    def bad_rule(what: str, hint: str) -> UnsupportedSyntaxError:
        # a rule registered by the user: its body is a template srcgrad inlines
        return UnsupportedSyntaxError(
            f"the adjoint rule {name}: {what}", construct="rule", hint=hint, **where
        )

    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise SourceNotFoundError(
            f"cannot read the source of the adjoint rule {name}: {exc}",
            construct="rule",
            hint="define the rule with def in a .py file (srcgrad inlines its body)",
            **where,
        ) from None
    mod = cst.parse_module(text)
    fdef = next(s for s in mod.body if isinstance(s, cst.FunctionDef))
    stmts = list(cst.ensure_type(fdef.body, cst.IndentedBlock).body)
    body: list[cst.BaseSmallStatement] = []
    ret: cst.BaseExpression | None = None
    local_names: set[str] = set()
    for i, st in enumerate(stmts):
        if not isinstance(st, cst.SimpleStatementLine):
            raise bad_rule(
                "only straight-line bodies can be inlined",
                "write the body as straight-line numpy code (np.where instead of if)",
            )
        for small in st.body:
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString):
                continue  # docstring
            if isinstance(small, cst.Return):
                if i != len(stmts) - 1 or small.value is None:
                    raise bad_rule(
                        "one return, at the end",
                        "bind the cotangents to names and return them once, at the end",
                    )
                ret = small.value
            elif isinstance(small, cst.Assign):
                for t in small.targets:
                    for n in _target_names(t.target, name):
                        local_names.add(n)
                body.append(small)
            else:
                raise bad_rule(
                    "a statement a rule body cannot hold",
                    "use assignments to plain names and one return",
                )
    if ret is None:
        raise bad_rule("no return", "return the cotangents, one per operand")
    nslots = len(_slot_params(rule))
    slots: list[cst.BaseExpression]
    whole = None
    if nslots == 1:
        slots = [ret]
    elif isinstance(ret, cst.Tuple) and len(ret.elements) == nslots:
        slots = [e.value for e in ret.elements]
    else:
        whole = ret
        slots = [
            cst.Subscript(
                value=cst.Name("__whole__"),
                slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
            )
            for k in range(nslots)
        ]
    params = set(rule.params) | {"g", "ans"}
    helpers: dict[str, str] = {}
    for node in m.findall(cst.Module(body=list(stmts)), m.Name()):
        n = cst.ensure_type(node, cst.Name).value
        if n in params or n in local_names or n == "np" or hasattr(builtins, n):
            continue
        obj = fn.__globals__.get(n)
        rt_name = getattr(obj, "__name__", n)
        if obj is not None and getattr(runtime, rt_name, None) is obj:
            helpers[n] = rt_name
    # names that are attributes or keywords were collected too; keep only real free names
    return Template(rule, body, slots, whole, local_names, helpers)


def _slot_params(rule: Rule) -> list[str]:
    """The operands a rule returns cotangents for, in order (``*varargs`` included)."""
    slots = list(rule.operands)
    if rule.varargs and rule.varargs not in slots:
        slots.append(rule.varargs)
    return slots


def _target_names(t: cst.BaseExpression, rule_name: str) -> list[str]:
    if isinstance(t, cst.Name):
        return [t.value]
    if isinstance(t, (cst.Tuple, cst.List)):
        return [n for e in t.elements for n in _target_names(e.value, rule_name)]
    raise InternalError(f"rule {rule_name}: assign to plain names only")


_ATOMS = (
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.Call,
    cst.Attribute,
    cst.Subscript,
    cst.Tuple,
    cst.List,
    cst.Ellipsis,
)


def parenthesize(node: cst.BaseExpression) -> cst.BaseExpression:
    """Wrap a non-atomic expression in parentheses (templates never add them)."""
    if isinstance(node, _ATOMS) or getattr(node, "lpar", None):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _Substitute(cst.CSTTransformer):
    """Replace names by expressions, leaving attribute names and keywords alone."""

    def __init__(self, mapping: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        rep = self.mapping.get(original.value)
        if rep is None:
            return updated
        return parenthesize(rep)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        value = updated.value
        if not isinstance(value, cst.Tuple) and getattr(value, "lpar", None):
            value = value.with_changes(lpar=[], rpar=[])
        return updated.with_changes(keyword=original.keyword, value=value)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        value = updated.value
        if not isinstance(value, cst.Tuple) and getattr(value, "lpar", None):
            value = value.with_changes(lpar=[], rpar=[])
        return updated.with_changes(value=value)


def substitute(node: Any, mapping: dict[str, cst.BaseExpression]) -> Any:
    return node.visit(_Substitute(mapping))


@dataclass
class Block:
    """The backward statements of one forward statement."""

    origin: Origin
    label: str
    stmts: list[cst.BaseSmallStatement] = field(default_factory=list)


@dataclass
class Segment:
    """A run of forward statements (inside a loop it pushes what its backward reads)."""

    stmts: list[Stmt]
    head: bool = False  # the empty segment at the start of a loop body


@dataclass
class BSeg:
    """The backward of one forward segment."""

    seg: Segment
    blocks: list[Block]


@dataclass
class BIf:
    node: ir.IfNode
    body: list[Any]
    orelse: list[Any]
    fills_body: list[Block] = field(default_factory=list)
    fills_orelse: list[Block] = field(default_factory=list)


@dataclass
class BLoop:
    node: ir.LoopNode
    pre: list[Block]
    body: list[Any]


def segment(items: list[Any]) -> list[Any]:
    """Group runs of statements into Segments, recursively."""
    out: list[Any] = []
    run: list[Stmt] = []
    for it in items:
        if isinstance(it, Stmt):
            run.append(it)
            continue
        if run:
            out.append(Segment(run))
            run = []
        if isinstance(it, ir.IfNode):
            it.body = segment(it.body)
            it.orelse = segment(it.orelse)
        elif isinstance(it, ir.LoopNode):
            it.body = [Segment([], head=True)] + segment(it.body) + [Segment([])]
        out.append(it)
    if run:
        out.append(Segment(run))
    return out


@dataclass
class Reversed:
    """Forward and backward passes of a function."""

    norm: Normalized
    active: set[str]
    blocks: list[Any]  # backward items, in backward order: BSeg, BIf, BLoop, Block
    grads: list[cst.BaseExpression]  # returned by bwd, in wrt order
    adjoints: dict[str, str]
    d_out: str
    xp: str
    helpers: set[str]
    rules_used: dict[str, Rule]
    facts: Any = None  # the shape/dtype inference, when specialised (facts.py)
    note: str = ""  # the signature it is specialised to, in words


class Reverser:
    def __init__(self, norm: Normalized, active: set[str]) -> None:
        self.norm = norm
        self.active = active
        self.names = norm.names
        self.xp = self.names.generated("xp")
        self.d_out = self.names.generated("d_out")
        self.adjoints: dict[str, str] = {}
        self.assigned: set[str] = set()
        self.blocks: list[Block] = []
        self.helpers: set[str] = set(norm.runtime_imports)
        self.rules_used: dict[str, Rule] = {}
        self.path_adjoints: dict[tuple[str, tuple[Any, ...]], str] = {}
        self.adj_var: dict[str, cst.BaseExpression] = {}
        self.owned: set[str] = set()  # loop accumulators the backward allocated itself

    def adj(self, name: str) -> str:
        a = self.adjoints.get(name)
        if a is None:
            a = self.adjoints[name] = self.names.fresh("d_" + name.lstrip("_"))
            self.adj_var[a] = cst.Name(name)
        return a

    def path_adj(self, param: str, path: tuple[Any, ...]) -> str:
        key = (param, path)
        a = self.path_adjoints.get(key)
        if a is None:
            parts = [param] + [_ident(p) for p in path]
            a = self.path_adjoints[key] = self.names.fresh("d_" + "_".join(parts))
        return a

    def contribute(self, block: Block, adj: str, expr: cst.BaseExpression) -> None:
        """Add ``expr`` to the adjoint ``adj``: the first contribution assigns it, later
        ones add with ``+``, except for the adjoint of a list (a list of cotangents), which
        adds entry by entry through ``add_cotangents``: ``+`` would concatenate."""
        var = self.adj_var.get(adj)
        if adj not in self.assigned:
            self.assigned.add(adj)
            value = expr
        elif isinstance(var, cst.Name) and var.value in self.norm.lists:
            value = self.helper_call("add_cotangents", cst.Name(adj), expr)
        else:
            if isinstance(expr, cst.BinaryOperation) and isinstance(
                expr.operator, (cst.Add, cst.Subtract)
            ):
                expr = parenthesize(expr.with_changes(lpar=[], rpar=[]))
            else:
                expr = parenthesize(expr)
            value = cst.BinaryOperation(left=cst.Name(adj), operator=cst.Add(), right=expr)
        if getattr(value, "lpar", None) and not isinstance(value, cst.Tuple):
            value = value.with_changes(lpar=[], rpar=[])
        block.stmts.append(cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value))

    def run(self) -> Reversed:
        norm = self.norm
        out = norm.out
        seed: list[Any] = []
        if isinstance(out, cst.Name) and out.value in self.active:
            straight = out.value in norm.params or any(
                out.value in st.targets for st in norm.stmts if isinstance(st, Stmt)
            )
            if straight:  # defined once: its adjoint is the seed itself
                self.adjoints[out.value] = self.d_out
                self.adj_var[self.d_out] = cst.Name(out.value)
                self.assigned.add(self.d_out)
            else:  # rebound in a branch or loop: start from a copy of the seed
                blk = Block(norm.src.def_origin(), "seed")
                self.contribute(blk, self.adj(out.value), cst.Name(self.d_out))
                seed.append(blk)
        norm.stmts = segment(norm.stmts) + [Segment([])]
        self.def_count = _def_counts(norm.stmts)
        self.blocks = seed + self.rev_items(norm.stmts)
        grads: list[cst.BaseExpression] = []
        for p in norm.wrt:
            if p in norm.containers and norm.containers[p] != ("static",):
                self.helpers.add("tree_cotangent")
                tree_cotangent = self.names.generated("tree_cotangent")
                entries = [
                    cst.DictElement(
                        _path_node(path),
                        cst.Name(adj) if adj in self.assigned else cst.Name("None"),
                    )
                    for (param, path), adj in self.path_adjoints.items()
                    if param == p and adj in self.assigned
                ]
                grads.append(
                    cst.Call(
                        func=cst.Name(tree_cotangent),
                        args=[cst.Arg(cst.Name(p)), cst.Arg(cst.Dict(entries))],
                    )
                )
            elif p in self.adjoints and self.adjoints[p] in self.assigned:
                grads.append(cst.Name(self.adjoints[p]))
            else:
                self.helpers.add("zeros_cotangent")
                grads.append(
                    cst.Call(
                        func=cst.Name(self.names.generated("zeros_cotangent")),
                        args=[cst.Arg(cst.Name(p))],
                    )
                )
        return Reversed(
            norm,
            self.active,
            self.blocks,
            grads,
            self.adjoints,
            self.d_out,
            self.xp,
            self.helpers,
            self.rules_used,
        )

    # -- control flow ----------------------------------------------------------------------
    def rev_items(self, items: list[Any], scope: bool = False) -> list[Any]:
        out: list[Any] = []
        fills = (
            self.list_fills(items, None)
            if scope or (items and isinstance(items[-1], Segment) and not items[-1].stmts)
            else []
        )
        for it in reversed(items):
            if isinstance(it, Segment):
                blocks = self.rev_segment(it)
                if fills and not it.stmts:
                    blocks = fills + blocks
                    fills = []
                out.append(BSeg(it, blocks))
            elif isinstance(it, ir.Phi):
                blk = self.rev_phi(it)
                if blk is not None:
                    out.append(blk)
            elif isinstance(it, ir.IfNode):
                out.append(self.rev_if(it))
            elif isinstance(it, ir.LoopNode):
                out.append(self.rev_loop(it))
        return out

    def consume(self, targets: list[str]) -> None:
        """After a definition is reversed, its adjoint belongs to an older value (if any)."""
        for t in targets:
            a = self.adjoints.get(t)
            if a is not None:
                self.assigned.discard(a)

    def rev_segment(self, seg: Segment) -> list[Block]:
        blocks: list[Block] = []
        for st in reversed(seg.stmts):
            if st.kind == ir.APPEND:
                block = Block(st.origin, st.label)
                self.rev_append(st, block)  # an append defines nothing: nothing to consume
            elif st.kind in ir.DIFF_KINDS and any(t in self.active for t in st.targets):
                block = Block(st.origin, st.label)
                g = self.adj(st.targets[0])
                if st.kind in (ir.PRIM,):
                    self.inline(st, block)
                elif g in self.assigned:
                    self._REVERSE[st.kind](self, st, block, g)
                self.consume(st.targets[:1] if st.kind == ir.CALLVJP else st.targets)
            else:
                continue
            if block.stmts:
                blocks.append(block)
        return blocks

    def helper_call(self, name: str, *args: cst.BaseExpression) -> cst.Call:
        """A call of the runtime helper ``name`` (imported into the emitted module)."""
        self.helpers.add(name)
        return cst.Call(func=cst.Name(self.names.generated(name)), args=[cst.Arg(a) for a in args])

    def _rev_copy(self, st: Stmt, block: Block, g: str) -> None:
        self.contribute(block, self.adj(st.operands[0]), cst.Name(g))

    def _rev_read(self, st: Stmt, block: Block, g: str) -> None:
        assert st.read is not None
        a = self.path_adj(*st.read)
        self.adj_var.setdefault(a, st.expr)  # what a zero fill of this leaf is shaped like
        self.contribute(block, a, cst.Name(g))

    def _rev_callvjp(self, st: Stmt, block: Block, g: str) -> None:
        """``r, r_pullback = call_vjp(...)``: the pullback gives the arguments' cotangents."""
        varied = getattr(self.norm, "varied", set())
        wrt = [n for n, v in st.bound.items() if isinstance(v, cst.Name) and v.value in varied]
        if not wrt:
            return
        call = cst.Call(func=cst.Name(st.targets[1]), args=[cst.Arg(cst.Name(g))])
        whole = self.names.fresh(f"_d_{st.targets[0].lstrip('_')}")
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(whole))], call))
        for k, n in enumerate(wrt):
            v = st.bound[n].value
            if v in self.active:
                item = _item(whole, k) if len(wrt) > 1 else cst.Name(whole)
                self.contribute(block, self.adj(v), item)

    def _rev_listnew(self, st: Stmt, block: Block, g: str) -> None:
        """``lst = [a, b]`` that later grows: each item gets its entry of the list's cotangent."""
        for i, a in enumerate(st.bound["items"]):
            if isinstance(a, cst.Name) and a.value in self.active:
                item = self.helper_call("item_cotangent", cst.Name(g), cst.Integer(str(i)), a)
                self.contribute(block, self.adj(a.value), item)

    def _rev_listfrom(self, st: Stmt, block: Block, g: str) -> None:
        """``items = list(arg)``: each entry goes back to its argument leaf."""
        if st.read is None:
            return
        param, path = st.read
        for i in range(st.bound["n"]):
            a = self.path_adj(param, path + (i,))
            seq = st.expr.args[0].value  # type: ignore[union-attr]  (`list(seq)`)
            leaf = cst.Subscript(
                value=seq, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))]
            )
            self.adj_var.setdefault(a, leaf)  # what a zero fill is shaped like
            self.contribute(block, a, _item(g, i))

    def _rev_listget(self, st: Stmt, block: Block, g: str) -> None:
        """``x = lst[key]``: add ``d_x`` at ``key`` of the list's cotangent."""
        lst = st.container
        if lst not in self.active:
            return
        d = self.adj(lst)  # type: ignore[arg-type]
        call = self.helper_call(
            "list_cotangent_at",
            cst.Name(d) if d in self.assigned else cst.Name("None"),
            cst.Name(lst),  # type: ignore[arg-type]
            st.bound["key"],
            cst.Name(g),
        )
        self.assigned.add(d)
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(d))], call))

    _REVERSE = {
        ir.COPY: _rev_copy,
        ir.READ: _rev_read,
        ir.CALLVJP: _rev_callvjp,
        ir.LISTNEW: _rev_listnew,
        ir.LISTFROM: _rev_listfrom,
        ir.LISTGET: _rev_listget,
    }

    def rev_append(self, st: Stmt, block: Block) -> None:
        lst = st.container
        if lst not in self.active:
            return
        d = self.adj(lst)  # type: ignore[arg-type]
        if d not in self.assigned:
            return  # nothing read the list after this append
        value = st.expr.args[0].value  # type: ignore[union-attr]
        if st.label == "extend":  # lst.extend(constants): their entries carry nothing back
            drop = self.helper_call("drop_cotangents", cst.Name(d), value)
            block.stmts.append(cst.Expr(drop))
            return
        if st.operands and st.operands[0] in self.active:
            self.helpers.add("pop_cotangent")
            pop = cst.Call(
                func=cst.Name(self.names.generated("pop_cotangent")),
                args=[cst.Arg(cst.Name(d)), cst.Arg(value)],
            )
            self.contribute(block, self.adj(st.operands[0]), pop)
        else:
            pop = cst.Call(func=cst.Attribute(cst.Name(d), cst.Name("pop")), args=[])
            block.stmts.append(cst.Expr(pop))

    def contribute_list(self, block: Block, adj: str, expr: cst.BaseExpression) -> None:
        if adj not in self.assigned:
            self.assigned.add(adj)
            value: cst.BaseExpression = cst.Call(func=cst.Name("list"), args=[cst.Arg(expr)])
        else:
            self.helpers.add("add_list_cotangents")
            value = cst.Call(
                func=cst.Name(self.names.generated("add_list_cotangents")),
                args=[cst.Arg(cst.Name(adj)), cst.Arg(expr)],
            )
        block.stmts.append(cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value))

    def list_fills(self, items: list[Any], origin: Any) -> list[Block]:
        """Zero cotangents for the lists built at this level, where the reverse sweep
        starts: each append then pops its entry back off."""
        out = []
        for it in items:
            if not isinstance(it, Segment):
                continue
            for st in it.stmts:
                for t in st.targets:
                    if t in self.norm.lists and t in self.active:
                        a = self.adj(t)
                        if a not in self.assigned:
                            out.append(self.zero_fill(a, st.origin))
        return out

    def rev_phi(self, phi: ir.Phi) -> Block | None:
        block = Block(phi.origin, "join")
        if phi.target in self.active:
            g = self.adj(phi.target)
            src = phi.source
            if g in self.assigned and isinstance(src, cst.Name) and src.value in self.active:
                self.contribute(block, self.adj(src.value), cst.Name(g))
        self.consume([phi.target])
        return block if block.stmts else None

    def zero_fill(self, adj: str, origin: Any) -> Block:
        var = self.adj_var[adj]
        self.helpers.add("zeros_cotangent")
        value = cst.Call(
            func=cst.Name(self.names.generated("zeros_cotangent")), args=[cst.Arg(var)]
        )
        block = Block(origin, "zeros")
        block.stmts.append(cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value))
        self.assigned.add(adj)
        return block

    def rev_if(self, node: ir.IfNode) -> BIf:
        s0 = set(self.assigned)
        body = self.rev_items(node.body)
        s1 = self.assigned
        self.assigned = set(s0)
        orelse = self.rev_items(node.orelse)
        s2 = self.assigned
        union = s1 | s2
        b = BIf(node, body, orelse)
        # An adjoint whose primal is defined only inside the other branch is dead once that
        # branch's backward has run (nothing outside reads the primal), so this branch needs no
        # zero fill for it, and could not build one: the primal does not exist on this path
        # (a `continue` or `break` branch beside a later assignment in the same iteration).
        local_body = self.branch_locals(node.body)
        local_orelse = self.branch_locals(node.orelse)
        dead = set()
        for a in sorted(union - s1):
            if self.primal_name(a) in local_orelse:
                dead.add(a)
                continue
            self.assigned = set()
            b.fills_body.append(self.zero_fill(a, node.origin))
        for a in sorted(union - s2):
            if self.primal_name(a) in local_body:
                dead.add(a)
                continue
            self.assigned = set()
            b.fills_orelse.append(self.zero_fill(a, node.origin))
        self.assigned = union - dead
        return b

    def primal_name(self, adj: str) -> str | None:
        var = self.adj_var.get(adj)
        return var.value if isinstance(var, cst.Name) else None

    def branch_locals(self, items: list[Any]) -> set[str]:
        """Names every definition of which lies in ``items`` (so nothing outside reads them)."""
        counts = _def_counts(items)
        return {n for n, c in counts.items() if c == self.def_count.get(n, 0)}

    def rev_loop(self, node: ir.LoopNode) -> BLoop:
        body_defs = {t for it in ir.walk_stmts(node.body) for t in _defined(it)}
        if node.target:
            body_defs.add(node.target)
        needed = []
        for it in ir.walk_stmts(node.body):
            flow = _flow_of(it)
            if flow is None:
                continue
            targets, operands = flow
            if not any(t in self.active for t in targets):
                continue
            for o in operands:
                if o in self.active and o not in body_defs and o not in needed:
                    needed.append(o)
            if isinstance(it, Stmt) and it.kind == ir.READ and it.read is not None:
                a = self.path_adj(*it.read)
                if a not in needed:
                    needed.append(("path", it))  # type: ignore[arg-type]
        for c in node.carried:
            if c.name in self.active and c.name not in needed:
                needed.append(c.name)
        pre: list[Block] = []
        owned_here = []
        for v in needed:
            if isinstance(v, tuple):
                st = v[1]
                a = self.path_adj(*st.read)
                self.adj_var.setdefault(a, st.expr)
            else:
                a = self.adj(v)
            if a not in self.assigned:
                pre.append(self.zero_fill(a, node.origin))
                if not isinstance(v, tuple) and v not in self.norm.lists:
                    owned_here.append(a)  # fresh zeros that only accumulate in the loop
        self.owned.update(owned_here)
        s_in = set(self.assigned)
        body = self.rev_items(node.body)
        tail: list[Block] = []
        for c in node.carried:
            if c.name in self.active:
                a = self.adj(c.name)
                if a not in self.assigned:
                    tail.append(self.zero_fill(a, node.origin))
        # the head segment's backward carries the fills of the carried adjoints
        head = body[-1]
        assert isinstance(head, BSeg) and head.seg.head
        head.blocks.extend(tail)
        self.assigned = s_in
        self.owned.difference_update(owned_here)
        return BLoop(node, pre, body)

    def inline(self, st: Stmt, block: Block) -> None:
        rule = st.rule
        assert rule is not None
        if len(st.targets) > 1:
            gs = [self.adj(t) for t in st.targets]
            if not any(g in self.assigned for g in gs):
                return
            g_expr: cst.BaseExpression = cst.List(
                [cst.Element(cst.Name(g) if g in self.assigned else cst.Name("None")) for g in gs]
            )
            ans: cst.BaseExpression = cst.List([cst.Element(cst.Name(t)) for t in st.targets])
        else:
            g = self.adj(st.targets[0])
            if g not in self.assigned:
                return
            g_expr = cst.Name(g)
            ans = cst.Name(st.targets[0])
        if rule.extra.get("custom"):
            self.inline_custom(st, block, g_expr, ans)
            return
        if rule.name == "getitem":
            x = st.bound.get("x")
            if isinstance(x, cst.Name) and x.value in self.active:
                d = self.adj(x.value)
                if d in self.owned and d in self.assigned:
                    # accumulate into the loop's own zeros in place: O(slice), not O(array)
                    self.helpers.add("add_at")
                    self.rules_used[rule.name] = rule
                    call = cst.Call(
                        func=cst.Name(self.names.generated("add_at")),
                        args=[cst.Arg(cst.Name(d)), cst.Arg(st.bound["key"]), cst.Arg(g_expr)],
                    )
                    block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(d))], call))
                    return
        x1, x2 = st.bound.get("x1"), st.bound.get("x2")
        if (
            rule.name == "multiply"
            and isinstance(x1, cst.Name)
            and isinstance(x2, cst.Name)
            and x1.value == x2.value
        ):
            # x * x: one contribution g * (2 * x) (the square rule), not two of g * x
            square = lookup_name("square")
            if square is not None:
                st = Stmt(st.kind, st.targets, st.expr, st.origin, square, {"x": x1}, [x1.value])
                rule = square
        tpl = template(rule)
        self.rules_used[rule.name] = rule
        mapping: dict[str, cst.BaseExpression] = {"g": g_expr, "ans": ans, "np": cst.Name(self.xp)}
        for p in rule.params:
            if p in st.bound:
                mapping[p] = st.bound[p]
            elif p in rule.defaults:
                mapping[p] = cst.parse_expression(repr(rule.defaults[p]))
            elif p == rule.varargs:
                mapping[p] = cst.Tuple([])
        for n, rt in tpl.helpers.items():
            self.helpers.add(rt)
            mapping[n] = cst.Name(self.names.generated(rt))
        tname = st.targets[0].lstrip("_")
        for loc in sorted(tpl.locals):
            mapping[loc] = cst.Name(self.names.fresh(f"_{tname}_{loc}"))
        slot_params = _slot_params(rule)
        wanted = [self._active_elements(st, p) for p in slot_params]
        if not any(wanted):
            return
        for small in tpl.body:
            block.stmts.append(substitute(small, mapping))
        if tpl.whole is not None:
            whole = self.names.fresh(f"_d_{tname}")
            block.stmts.append(
                cst.Assign(
                    targets=[cst.AssignTarget(cst.Name(whole))],
                    value=substitute(tpl.whole, mapping),
                )
            )
            mapping["__whole__"] = cst.Name(whole)
        for p, slot, elems in zip(slot_params, tpl.slots, wanted):
            if not elems:
                continue
            expr = substitute(slot, mapping)
            if isinstance(expr, cst.Name) and expr.value == "None":
                continue
            if elems == [None]:  # a plain operand
                name = st.bound[p].value
                if name in self.norm.lists:
                    self.contribute_list(block, self.adj(name), expr)
                else:
                    self.contribute(block, self.adj(name), expr)
                continue
            seq = self.names.fresh(f"_d_{tname}_{p}")
            block.stmts.append(cst.Assign(targets=[cst.AssignTarget(cst.Name(seq))], value=expr))
            for k, name in elems:
                item = cst.Subscript(
                    value=cst.Name(seq),
                    slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
                )
                self.contribute(block, self.adj(name), item)

    def inline_custom(
        self, st: Stmt, block: Block, g_expr: cst.BaseExpression, ans: cst.BaseExpression
    ) -> None:
        """``<f>.vjp(g, ans, *args)`` for a ``@custom_vjp`` function."""
        rule = st.rule
        assert rule is not None
        slots = list(rule.operands)
        wanted = [self._active_elements(st, p) for p in slots]
        if not any(wanted):
            return
        callee = st.bound["__callee__"]
        args = [cst.Arg(g_expr), cst.Arg(ans)]
        for p in rule.params:
            if p in st.bound:
                args.append(cst.Arg(st.bound[p], keyword=None if p in slots else cst.Name(p)))
        call = cst.Call(func=cst.Attribute(callee, cst.Name("vjp")), args=args)
        tname = st.targets[0].lstrip("_")
        if len(slots) == 1:
            self.contribute(block, self.adj(st.bound[slots[0]].value), call)
            return
        whole = self.names.fresh(f"_d_{tname}")
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(whole))], call))
        for k, (p, elems) in enumerate(zip(slots, wanted)):
            if elems == [None]:
                item = cst.Subscript(
                    value=cst.Name(whole),
                    slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
                )
                self.contribute(block, self.adj(st.bound[p].value), item)

    def _active_elements(self, st: Stmt, p: str) -> list[Any]:
        v = st.bound.get(p)
        if v is None:
            return []
        if isinstance(v, (cst.Tuple, cst.List)) and (
            p in st.rule.sequence or p == st.rule.varargs  # type: ignore[union-attr]
        ):
            return [
                (k, e.value.value)
                for k, e in enumerate(v.elements)
                if isinstance(e.value, cst.Name) and e.value.value in self.active
            ]
        if isinstance(v, cst.Name) and v.value in self.active:
            return [None]
        return []


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _def_counts(items: list[Any]) -> dict[str, int]:
    """How many statements (and loop heads) define each name in ``items``, nested included."""
    counts: dict[str, int] = {}
    for it in ir.walk_stmts(items):
        for t in _defined(it):
            counts[t] = counts.get(t, 0) + 1
    for loop in _loops_in(items):
        if loop.target:
            counts[loop.target] = counts.get(loop.target, 0) + 1
    return counts


def _loops_in(items: list[Any]) -> list[Any]:
    out = []
    for it in items:
        if isinstance(it, ir.LoopNode):
            out.append(it)
            out += _loops_in(it.body)
        elif isinstance(it, ir.IfNode):
            out += _loops_in(it.body) + _loops_in(it.orelse)
    return out


def _defined(it: Any) -> list[str]:
    if isinstance(it, ir.Phi):
        return [it.target]
    return list(it.targets)


def _flow_of(it: Any) -> tuple[list[str], list[str]] | None:
    if isinstance(it, ir.Phi):
        return [it.target], [it.source.value] if isinstance(it.source, cst.Name) else []
    if it.kind == ir.APPEND:
        return [it.container], it.operands
    if it.kind == ir.CALLVJP:
        return it.targets[:1], it.operands
    if it.kind in ir.DIFF_KINDS:
        return it.targets, it.operands
    return None


def _item(name: str, k: int) -> cst.Subscript:
    """``name[k]``."""
    return cst.Subscript(
        value=cst.Name(name), slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))]
    )


def _ident(p: Any) -> str:
    s = str(p)
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in s)
    return out or "k"


def _path_node(path: tuple[Any, ...]) -> cst.BaseExpression:
    return cst.parse_expression(repr(tuple(path)))


def reverse(norm: Normalized, active: set[str]) -> Reversed:
    """Build the backward pass of ``norm`` (see the module docstring)."""
    return Reverser(norm, active).run()
