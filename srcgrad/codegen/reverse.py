"""Stage 7: build the backward pass.

After this stage there is a backward list of blocks, one per forward statement that carries an
adjoint, in reverse order, nested like the forward's branches and loops (:class:`ir.Backward`).
Each block holds the rule's body inlined with the call site's names (:mod:`templates`): ``g``
is the result's adjoint ``d_<name>``, ``ans`` the result, operands the call's atoms, rule
locals get fresh names, and ``np`` is ``xp``.  How contributions accumulate into adjoints is
:mod:`adjoints`.  The forward pass is read, never changed.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.activity import Activity
from srcgrad.codegen.adjoints import nth
from srcgrad.codegen.rule_bodies import RuleBodies
from srcgrad.codegen.ir import (
    Backward,
    BIf,
    BLoop,
    Block,
    BSeg,
    Normalized,
    Segment,
    Stmt,
)
from srcgrad.rules.registry import Rule


def reverse(norm: Normalized, activity: Activity) -> Backward:
    """The backward pass of the segmented ``norm`` (see the module docstring)."""
    return Reverser(norm, activity).run()


class Reverser(RuleBodies):
    """Walks the forward items backwards and builds the backward items."""

    def __init__(self, norm: Normalized, activity: Activity) -> None:
        super().__init__(norm)
        self.activity = activity
        self.active = activity.active
        self.rules_used: dict[str, Rule] = {}
        self.def_count: dict[str, int] = {}
        # list -> the counter of its entries left, in a loop that only appends to it
        self.list_tops: dict[str, str] = {}

    def run(self) -> Backward:
        norm = self.norm
        seed = self.seed()
        self.def_count = ir.def_counts(norm.stmts)
        blocks = seed + self.rev_items(norm.stmts)
        grads = [self.gradient(p) for p in norm.wrt]
        return Backward(
            blocks,
            grads,
            self.adjoints,
            self.d_out,
            self.xp,
            self.helpers,
            self.rules_used,
        )

    def seed(self) -> list[Block]:
        """The output's adjoint is the seed ``d_out``; a copy of it when the output is rebound
        in a branch or loop."""
        norm = self.norm
        out = norm.out
        if not (isinstance(out, cst.Name) and out.value in self.active):
            return []
        top = [st for it in norm.stmts if isinstance(it, Segment) for st in it.stmts]
        if out.value in norm.params or any(out.value in st.targets for st in top):
            # defined once: its adjoint is the seed itself
            self.adjoints[out.value] = self.d_out
            self.adj_var[self.d_out] = cst.Name(out.value)
            self.assigned.add(self.d_out)
            return []
        blk = Block(norm.src.def_origin(), "seed")
        self.contribute(blk, self.adj(out.value), cst.Name(self.d_out))
        return [blk]

    def gradient(self, p: str) -> cst.BaseExpression:
        """What bwd returns for the ``wrt`` parameter ``p``."""
        norm = self.norm
        if p in norm.containers and norm.containers[p] != ("static",):
            self.helpers.add("tree_cotangent")
            tree_cotangent = self.names.generated("tree_cotangent")
            # tree_cotangent(p, (path, ...), [d_leaf, ...]): the paths a constant, the
            # cotangents a list operand (its rule differentiates them: higher orders)
            read = [
                (tuple(path), adj)
                for (param, path), adj in self.path_adjoints.items()
                if param == p and adj in self.assigned
            ]
            paths = cst.parse_expression(repr(tuple(path for path, _ in read)))
            values = cst.List([cst.Element(cst.Name(adj)) for _, adj in read])
            return cst.Call(
                func=cst.Name(tree_cotangent),
                args=[cst.Arg(cst.Name(p)), cst.Arg(paths), cst.Arg(values)],
            )
        if p in self.adjoints and self.adjoints[p] in self.assigned:
            return cst.Name(self.adjoints[p])
        self.helpers.add("zeros_cotangent")
        return cst.Call(
            func=cst.Name(self.names.generated("zeros_cotangent")),
            args=[cst.Arg(cst.Name(p))],
        )

    # -- control flow ----------------------------------------------------------------------
    def rev_items(self, items: list[Any], scope: bool = False) -> list[Any]:
        out: list[Any] = []
        fills = (
            self.list_fills(items, None)
            if scope
            or (items and isinstance(items[-1], Segment) and not items[-1].stmts)
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
                tops, reads = self.loop_lists(it)
                # the zeros a read list's entries add into, before the loop's backward
                # (not in it: a loop whose backward does nothing is dropped, and the
                # sum after it still reads them)
                out += self.read_list_zeros(reads, it.origin)
                out.append(self.rev_loop(it, tops, reads))
                out += self.after_loop_lists(tops, reads, it.origin)
        return out

    def loop_lists(self, node: ir.LoopNode) -> tuple[dict[str, str], dict[str, str]]:
        """The lists whose cotangent the backward of the loop ``node`` keeps without
        rebinding it in the loop, which a higher order needs (it differentiates lists
        read by index, not lists rebound in a loop):

        * lists that hold a cotangent here and that the loop (nested ones too) only
          appends to: their entries are read by a counter moving down one per append
          undone (``d_hs[d_hs_top]``) instead of dropping the last entry each time;
        * lists the loop only reads by index (``lst[k]``, ``item_cotangent(lst, k, x)``):
          their entries' cotangents are added in place into zeros the loop owns
          (``add_at``), then into the list's cotangent.

        Returns ({list: its counter}, {list: its accumulator})."""
        touched: set[str] = set()
        appended: set[str] = set()
        read: set[str] = set()
        for it in ir.walk_stmts(node.body):
            if isinstance(it, Stmt) and it.kind == ir.APPEND and it.label != "extend":
                appended.add(it.container)  # type: ignore[arg-type]
                touched.update(it.operands)
                continue
            if isinstance(it, Stmt) and it.kind == ir.LISTGET:
                read.add(it.container)  # type: ignore[arg-type]
                touched.update(it.targets)
                continue
            entry = _item_cotangent_list(it)
            if entry is not None:  # item_cotangent(d_list, i, like): a read too
                read.add(entry)
                touched.update(set(it.targets) | (set(it.operands) - {entry}))
                continue
            flow = ir.flow_of(it)
            names = set(ir.targets_of(it)) | set(flow[1] if flow else ())
            if isinstance(it, Stmt) and it.container is not None:
                names.add(it.container)
            touched.update(names)
        touched.update(c.name for c in node.carried)
        tops, reads = {}, {}
        for lst in sorted((appended - read) - touched):
            if lst in self.active and lst not in self.list_tops:
                d = self.adj(lst)
                if d in self.assigned:
                    tops[lst] = self.list_tops[lst] = self.names.fresh(d + "_top")
        for lst in sorted((read - appended) - touched):
            if lst in self.active and lst not in self.list_reads:
                acc = self.names.fresh(self.adj(lst) + "_at")
                reads[lst] = self.list_reads[lst] = acc
        return tops, reads

    def read_list_zeros(self, reads: dict[str, str], origin: Any) -> list[Block]:
        """Zeros shaped like each read list (``reads``: list -> accumulator), which the
        loop's backward adds the cotangents of the entries it read into."""
        blocks = []
        for lst, acc in reads.items():
            like: cst.BaseExpression = cst.Name(lst)
            d = self.adj(lst)
            if d in self.assigned:  # as long as the list is here (it may grow later)
                like = self.helper_call("filled", cst.Name(d), like)
            zeros = self.helper_call("zeros_cotangent", like)
            block = Block(origin, "zeros")
            block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(acc))], zeros))
            blocks.append(block)
        return blocks

    def after_loop_lists(
        self, tops: dict[str, str], reads: dict[str, str], origin: Any
    ) -> list[Block]:
        """After the loop's backward (``tops``, ``reads``: from :meth:`loop_lists`): each
        counted list's cotangent without the entries the loop appended, and each read
        list's accumulated cotangent added into the list's."""
        if not tops and not reads:
            return []
        block = Block(origin, "drop")
        for lst, top in tops.items():
            del self.list_tops[lst]
            d = cst.Name(self.adj(lst))
            count = cst.BinaryOperation(
                self.helper_call("list_length", d), cst.Subtract(), cst.Name(top)
            )
            drop = self.helper_call("drop_cotangents", d, count)
            block.stmts.append(cst.Assign([cst.AssignTarget(d)], drop))
        for lst, acc in reads.items():
            del self.list_reads[lst]
            d = self.adj(lst)
            value: cst.BaseExpression = cst.Name(acc)
            if d in self.assigned:  # entry by entry
                add = (
                    "add_list_cotangents"
                    if lst in self.norm.lists
                    else "add_cotangents"
                )
                value = self.helper_call(add, cst.Name(d), value)
            self.assigned.add(d)
            block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(d))], value))
        return [block]

    def rev_segment(self, seg: Segment) -> list[Block]:
        blocks: list[Block] = []
        for st in reversed(seg.stmts):
            if st.kind == ir.APPEND:
                block = Block(st.origin, st.label)
                self.rev_append(
                    st, block
                )  # an append defines nothing: nothing to consume
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

    def _rev_copy(self, st: Stmt, block: Block, g: str) -> None:
        self.contribute(block, self.adj(st.operands[0]), cst.Name(g))

    def _rev_read(self, st: Stmt, block: Block, g: str) -> None:
        assert st.read is not None
        a = self.path_adj(*st.read)
        self.adj_var.setdefault(
            a, st.expr
        )  # what a zero fill of this leaf is shaped like
        self.contribute(block, a, cst.Name(g))

    def _rev_callvjp(self, st: Stmt, block: Block, g: str) -> None:
        """``r, r_pullback = call_vjp(...)``: the pullback gives the arguments' cotangents."""
        wrt = self.activity.pullback_wrt(st)
        if not wrt:
            return
        call = cst.Call(func=cst.Name(st.targets[1]), args=[cst.Arg(cst.Name(g))])
        if self.norm.recompute_calls:  # the callee's gradient, its forward recomputed
            args = [cst.Arg(cst.Name(g))] + [cst.Arg(v) for v in st.bound.values()]
            call = cst.Call(func=cst.Name(ir.recomputed_name(st, wrt)), args=args)
        whole = self.names.fresh(f"_d_{st.targets[0].lstrip('_')}")
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(whole))], call))
        start = "0"
        for k, n in enumerate(wrt):
            v = st.bound[n].value
            item = nth(whole, k) if len(wrt) > 1 else cst.Name(whole)
            if self.norm.recompute_calls and len(wrt) > 1:
                # one flat array of the cotangents (recompute.py): v's part, v's shape
                stop = f"{start} + {self.xp}.size({v})".removeprefix("0 + ")
                item = cst.parse_expression(
                    f"{self.xp}.reshape({whole}[{start}:{stop}], {self.xp}.shape({v}))"
                )
                start = stop
            if v in self.active:
                self.contribute(block, self.adj(v), item)

    def _rev_listnew(self, st: Stmt, block: Block, g: str) -> None:
        """``lst = [a, b]`` that later grows: each item gets its entry of the list's cotangent."""
        for i, a in enumerate(st.bound["items"]):
            if isinstance(a, cst.Name) and a.value in self.active:
                item = self.helper_call(
                    "item_cotangent", cst.Name(g), cst.Integer(str(i)), a
                )
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
            self.contribute(block, a, nth(g, i))

    def _rev_listget(self, st: Stmt, block: Block, g: str) -> None:
        """``x = lst[key]``: add ``d_x`` at ``key`` of the list's cotangent."""
        lst = st.container
        if lst not in self.active:
            return
        acc = self.list_reads.get(lst)  # type: ignore[arg-type]
        if acc is not None:  # in a loop that only reads the list: add in place
            key = self.index_key(st.bound["key"])
            add = self.helper_call("add_at", cst.Name(acc), key, cst.Name(g))
            block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(acc))], add))
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
        top = self.list_tops.get(lst)  # type: ignore[arg-type]
        if top is not None:  # in a loop that reads the entries by index
            step = cst.BinaryOperation(cst.Name(top), cst.Subtract(), cst.Integer("1"))
            block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(top))], step))
            if st.operands and st.operands[0] in self.active:
                at = self.index_key(cst.Name(top))
                item = self.helper_call("item_cotangent", cst.Name(d), at, value)
                self.contribute(block, self.adj(st.operands[0]), item)
            return
        # undone without writing into the list's cotangent: the appended entry is read at
        # -1 and the list's cotangent rebound to a shorter copy, so that a higher order
        # can differentiate the backward pass
        if st.label == "extend":  # lst.extend(constants): they carry nothing back
            count: cst.BaseExpression = self.helper_call("list_length", value)
        else:
            count = cst.Integer("1")
            if st.operands and st.operands[0] in self.active:
                last = cst.UnaryOperation(cst.Minus(), cst.Integer("1"))
                item = self.helper_call("item_cotangent", cst.Name(d), last, value)
                self.contribute(block, self.adj(st.operands[0]), item)
        drop = self.helper_call("drop_cotangents", cst.Name(d), count)
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(d))], drop))

    def list_fills(self, items: list[Any], origin: Any) -> list[Block]:
        """Zero cotangents for the lists built at this level, where the reverse sweep
        starts: each append then drops its entry."""
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
            if (
                g in self.assigned
                and isinstance(src, cst.Name)
                and src.value in self.active
            ):
                self.contribute(block, self.adj(src.value), cst.Name(g))
        self.consume([phi.target])
        return block if block.stmts else None

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
        for fills, assigned, other_locals in (
            (b.fills_body, s1, local_orelse),
            (b.fills_orelse, s2, local_body),
        ):
            for a in sorted(union - assigned):
                if self.primal_name(a) in other_locals:
                    dead.add(a)
                    continue
                self.assigned = set()
                fills.append(self.zero_fill(a, node.origin))
        self.assigned = union - dead
        return b

    def branch_locals(self, items: list[Any]) -> set[str]:
        """Names every definition of which lies in ``items`` (so nothing outside reads them)."""
        counts = ir.def_counts(items)
        return {n for n, c in counts.items() if c == self.def_count.get(n, 0)}

    def rev_loop(
        self, node: ir.LoopNode, tops: dict[str, str], reads: dict[str, str]
    ) -> BLoop:
        body_defs = {t for it in ir.walk_stmts(node.body) for t in ir.targets_of(it)}
        if node.target:
            body_defs.add(node.target)
        needed = []
        for it in ir.walk_stmts(node.body):
            flow = ir.flow_of(it)
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
        for lst, top in tops.items():  # the entries of the lists counted here
            count = self.helper_call("list_length", cst.Name(self.adj(lst)))
            block = Block(node.origin, "stack")
            block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(top))], count))
            pre.append(block)
        self.owned.update(owned_here)
        s_in = set(self.assigned)
        outer = self.carried_out
        self.carried_out = (outer - {c.name for c in node.carried if c.before}) | {
            c.name for c in node.carried if not c.before
        }
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
        self.carried_out = outer
        self.assigned = s_in
        self.owned.difference_update(owned_here)
        return BLoop(node, pre, body)


def _item_cotangent_list(it: Any) -> str | None:
    """The list ``L`` that ``item_cotangent(L, i, like)`` (a statement of emitted code
    differentiated again) reads an entry of, else None."""
    if not (isinstance(it, Stmt) and it.kind == ir.PRIM and it.rule is not None):
        return None
    if it.rule.name != "item_cotangent":
        return None
    d_list = it.bound.get("d_list")
    return d_list.value if isinstance(d_list, cst.Name) else None
