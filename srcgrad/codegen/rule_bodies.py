"""Rule bodies in the backward pass: a primitive's adjoint rule (or a custom rule's
backward) inlined at its call site, each slot's cotangent accumulated into its operand's
adjoint, the result cotangent of multi-output primitives, and element-wise accumulation into
containers (part of stage 7, :mod:`reverse`)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen.adjoints import Adjoints, nth
from srcgrad.codegen.ir import Block, Stmt
from srcgrad.codegen.templates import bindings, slot_params, substitute, template
from srcgrad.rules.registry import lookup_name


class RuleBodies(Adjoints):
    """Inlining adjoint rules at their call sites (mixed into :class:`reverse.Reverser`)."""

    # -- primitives ------------------------------------------------------------------------
    def inline(self, st: Stmt, block: Block) -> None:
        """The backward of a primitive: its rule's template inlined at this call site."""
        rule = st.rule
        assert rule is not None
        seed = self.result_cotangent(st)
        if seed is None:
            return
        g_expr, ans = seed
        if rule.extra.get("custom"):
            self.inline_custom(st, block, g_expr, ans)
            return
        if rule.name == "getitem" and self.accumulate_at(st, block, g_expr):
            return
        if rule.name == "item_cotangent" and self.accumulate_at(
            st, block, g_expr, "d_list", "i"
        ):  # an entry of a list's cotangent read in a loop (higher order)
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
                st = Stmt(
                    st.kind,
                    st.targets,
                    st.expr,
                    st.origin,
                    square,
                    {"x": x1},
                    [x1.value],
                )
        self.inline_template(st, block, g_expr, ans)

    def result_cotangent(
        self, st: Stmt
    ) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
        """(``g``, ``ans``) of a primitive statement, or None when no result has an adjoint."""
        if len(st.targets) > 1:
            gs = [self.adj(t) for t in st.targets]
            if not any(g in self.assigned for g in gs):
                return None
            g_expr: cst.BaseExpression = cst.List(
                [
                    cst.Element(cst.Name(g) if g in self.assigned else cst.Name("None"))
                    for g in gs
                ]
            )
            return g_expr, cst.List([cst.Element(cst.Name(t)) for t in st.targets])
        g = self.adj(st.targets[0])
        if g not in self.assigned:
            return None
        return cst.Name(g), cst.Name(st.targets[0])

    def accumulate_at(
        self,
        st: Stmt,
        block: Block,
        g_expr: cst.BaseExpression,
        operand: str = "x",
        key: str = "key",
    ) -> bool:
        """``x[key]`` inside a loop that owns ``x``'s adjoint: add into it in place, O(slice)
        rather than O(array).  Returns whether it did."""
        x = st.bound.get(operand)
        if not (isinstance(x, cst.Name) and x.value in self.active):
            return False
        d = self.list_reads.get(x.value) or self.adj(x.value)
        if d not in self.list_reads.values() and (
            d not in self.owned or d not in self.assigned
        ):
            return False
        rule = st.rule
        assert rule is not None
        self.helpers.add("add_at")
        self.rules_used[rule.name] = rule
        call = cst.Call(
            func=cst.Name(self.names.generated("add_at")),
            args=[
                cst.Arg(cst.Name(d)),
                cst.Arg(
                    st.bound[key] if key == "key" else self.index_key(st.bound[key])
                ),
                cst.Arg(g_expr),
            ],
        )
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(d))], call))
        return True

    def inline_template(
        self,
        st: Stmt,
        block: Block,
        g_expr: cst.BaseExpression,
        ans: cst.BaseExpression,
    ) -> None:
        rule = st.rule
        assert rule is not None
        tpl = template(rule)
        self.rules_used[rule.name] = rule
        tname = st.targets[0].lstrip("_")
        mapping = bindings(
            tpl,
            st.bound,
            g_expr,
            ans,
            self.xp,
            self.helper_name,
            lambda loc: self.names.of_target(
                f"_{tname}_{loc}", st.targets[0], f"local:{loc}"
            ),
        )
        slots = slot_params(rule)
        wanted = [self._active_elements(st, p) for p in slots]
        if not any(wanted):
            return
        for small in tpl.body:
            block.stmts.append(substitute(small, mapping))
        if tpl.whole is not None:
            whole = self.names.of_target(f"_d_{tname}", st.targets[0], "all")
            block.stmts.append(
                cst.Assign(
                    targets=[cst.AssignTarget(cst.Name(whole))],
                    value=substitute(tpl.whole, mapping),
                )
            )
            mapping["__whole__"] = cst.Name(whole)
        for p, slot, elems in zip(slots, tpl.slots, wanted):
            if elems:
                self.contribute_slot(
                    st, block, p, substitute(slot, mapping), elems, tname
                )

    def contribute_slot(
        self,
        st: Stmt,
        block: Block,
        p: str,
        expr: cst.BaseExpression,
        elems: list[Any],
        tname: str,
    ) -> None:
        """Add a slot's cotangent ``expr`` to its operand, or to each active element of a
        sequence operand."""
        if isinstance(expr, cst.Name) and expr.value == "None":
            return
        if elems == [None]:  # a plain operand
            name = st.bound[p].value  # type: ignore[attr-defined]
            if name in self.norm.lists:
                self.contribute_list(block, self.adj(name), expr)
                return
            if p in st.rule.sequence or p == st.rule.varargs:  # type: ignore[union-attr]
                self.list_adjoints.add(
                    self.adj(name)
                )  # a list whole: its cotangent too
            self.contribute(block, self.adj(name), expr)
            return
        seq = self.names.of_target(f"_d_{tname}_{p}", st.targets[0], f"seq:{p}")
        block.stmts.append(
            cst.Assign(targets=[cst.AssignTarget(cst.Name(seq))], value=expr)
        )
        for k, name in elems:
            self.contribute(block, self.adj(name), nth(seq, k))

    def inline_custom(
        self,
        st: Stmt,
        block: Block,
        g_expr: cst.BaseExpression,
        ans: cst.BaseExpression,
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
                args.append(
                    cst.Arg(st.bound[p], keyword=None if p in slots else cst.Name(p))
                )
        call = cst.Call(func=cst.Attribute(callee, cst.Name("vjp")), args=args)
        tname = st.targets[0].lstrip("_")
        if len(slots) == 1:
            self.contribute(block, self.adj(st.bound[slots[0]].value), call)
            return
        whole = self.names.of_target(f"_d_{tname}", st.targets[0], "all")
        block.stmts.append(cst.Assign([cst.AssignTarget(cst.Name(whole))], call))
        for k, (p, elems) in enumerate(zip(slots, wanted)):
            if elems == [None]:
                self.contribute(block, self.adj(st.bound[p].value), nth(whole, k))

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
