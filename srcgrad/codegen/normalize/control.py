"""Branches and blocks: statement lists (with loops that may return and loop ``else``
clauses restructured), ``if`` statements and the SSA join after them (nested defs
too), and the short-circuit and conditional expressions lowered as branches.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _FuncChoice, _MISSING

_PART = object()  # the known value of a model's sub-model or array field: not None
from srcgrad.codegen.normalize.exits import (
    _append_tail,
    _before_breaks,
    _has_loop_return,
    _may_exit,
    _push_rest,
)
from srcgrad.codegen.normalize.syntax import _ident_key
from srcgrad.codegen.source import own_returns

_LITERAL_NAMES = {"True": True, "False": False, "None": None}


class ControlFlow:
    """Blocks, branches and joins (a mixin of :class:`Normalizer`)."""

    def block(self, stmts: list[cst.BaseStatement]) -> bool:
        """Lower a statement list into ``self.stmts``; False when it cannot fall through."""
        stmts = list(stmts)
        i = 0
        while i < len(stmts):
            st = stmts[i]
            if isinstance(st, (cst.For, cst.While)) and st.orelse is not None:
                stmts[i : i + 1] = self.split_loop_else(st)
                continue
            rest = stmts[i + 1 :]
            if rest and isinstance(st, cst.If) and _may_exit(st):
                # what follows an `if` that may leave goes into the branches that fall through
                st = _push_rest(st, rest, self.src)
                stmts = stmts[: i + 1]
                stmts[i] = st
            if isinstance(st, (cst.For, cst.While)) and own_returns(st):
                # a loop that may return: what follows runs only when it did not
                outer = self.ret_flag is None
                if outer:
                    self.ret_flag = self.names.temp("returned")
                    self.origin = self.src.origin(st)
                    self.assign_exact(self.ret_flag, cst.Name("False"))
                self.statement(st)
                self.origin = self.src.origin(st)
                leave: cst.BaseSmallStatement = (
                    cst.Break() if self.loops else cst.Pass()
                )
                rest = stmts[i + 1 :] or [cst.SimpleStatementLine([cst.Pass()])]
                guard = cst.If(
                    test=cst.Name(self.flag_at_guard(rest)),
                    body=cst.IndentedBlock([cst.SimpleStatementLine([leave])]),
                    orelse=cst.Else(cst.IndentedBlock(list(rest))),
                )
                self.src.alias(guard, st)
                falls = self.statement(guard)
                if outer and not self.loops:
                    self.ret_flag = None
                return falls
            if not self.statement(st):
                return False
            i += 1
        return True

    def split_loop_else(self, loop: cst.For | cst.While) -> list[cst.BaseStatement]:
        """``for/while ... else: E`` as ``broke = False``, the loop with ``broke = True``
        before each of its breaks, and ``if not broke: E``: the else clause is an ``if``
        like any other, so a return, break or continue in it leaves as from any ``if``
        (what follows goes into its branches), and the loop's own exits are plain ones.
        """
        flag = self.names.temp("broke")

        def set_flag(value: str, at: cst.CSTNode) -> cst.Assign:
            node = cst.Assign([cst.AssignTarget(cst.Name(flag))], cst.Name(value))
            return self.src.alias_tree(node, at)  # type: ignore[return-value]

        assert loop.orelse is not None
        stmts = list(loop.body.body)  # type: ignore[union-attr]
        body = _before_breaks(stmts, lambda brk: set_flag("True", brk), self.src)
        plain = loop.with_changes(body=loop.body.with_changes(body=body), orelse=None)
        clause = cst.If(
            test=cst.UnaryOperation(operator=cst.Not(), expression=cst.Name(flag)),
            body=loop.orelse.body,
        )
        init = cst.SimpleStatementLine([set_flag("False", loop)])
        return [self.src.alias(n, loop) for n in (init, plain, clause)]  # type: ignore[misc]

    def flag_at_guard(self, rest: list[cst.BaseStatement]) -> str:
        """The name the guard after a loop that may return tests: the return flag itself,
        or, when ``rest`` (what runs only if the loop did not return) may set the flag too (a
        return inside a loop), a copy of it as it is here.  The backward evaluates
        the guard's test again, from the value that name has at the end of the forward pass
        (or of the iteration), and must see the value the forward's guard saw."""
        flag = self.ret_flag
        assert flag is not None
        self.env.setdefault(flag, flag)

        def sets_flag(s: cst.CSTNode) -> bool:
            return bool(own_returns(s)) if self.loops else _has_loop_return(s)

        if not any(sets_flag(s) for s in rest):
            return flag
        seen = self.names.temp("returned")
        self.assign_exact(seen, cst.Name(flag))
        self.env.setdefault(seen, seen)
        return seen

    def sub_block(self, stmts: list[cst.BaseStatement]) -> tuple[list[Any], bool]:
        saved = self.stmts
        self.stmts = []
        self.in_branch += 1
        try:
            falls = self.block(stmts)
            return self.stmts, falls
        finally:
            self.stmts = saved
            self.in_branch -= 1

    def join(self, branches: list[tuple[list[Any], bool, dict[str, str]]]) -> None:
        """SSA join after a branch: names that differ get a fresh version bound in each
        branch that falls through."""
        live = [(items, env) for items, falls, env in branches if falls]
        if not live:
            self.env = branches[0][2]
            return
        if len(live) == 1:
            self.env = dict(live[0][1])
            return
        names = set().union(*(env.keys() for _, env in live))
        new_env = dict(live[0][1])
        for u in sorted(names):
            versions = [env.get(u) for _, env in live]
            if any(v is None for v in versions):
                continue  # bound on one path only: later use is the user's NameError
            if len(set(versions)) == 1:
                new_env[u] = versions[0]  # type: ignore[assignment]
                continue
            if any(v in self.lit or v in self.dyn or v in self.cont for v in versions):
                kinds = {self.lit[v][0] if v in self.lit else None for v in versions}
                keys = [
                    (
                        tuple(self.lit[v][1].keys())
                        if isinstance(self.lit[v][1], dict)
                        else len(self.lit[v][1])
                    )
                    for v in versions
                    if v in self.lit
                ]
                if len(keys) != len(versions) or len(set(keys)) != 1 or None in kinds:
                    self.fail(
                        self._node,
                        f"{u} is bound to different containers on different branches",
                        "give each branch's container its own name, or bind arrays instead",
                        "container-join",
                    )
                kind = kinds.pop()
                first = self.lit[versions[0]][1]  # type: ignore[index]
                ckeys = (
                    list(first.keys())
                    if isinstance(first, dict)
                    else list(range(len(first)))
                )
                names = [self.names.fresh(f"{u}_{_ident_key(k)}") for k in ckeys]
                for (items, env), v in zip(live, versions):
                    saved, self.stmts = self.stmts, items
                    entries = self.lit[v][1]  # type: ignore[index]
                    for k, c in zip(ckeys, names):
                        self.assign_exact(c, entries[k])
                    self.stmts = saved
                self.pending_displays.append((u, kind, ckeys, names))
                continue
            fresh = self.names.fresh(u)
            for items, env in live:
                saved, self.stmts = self.stmts, []
                self.assign_exact(fresh, cst.Name(env[u]))
                self.inherit_view(fresh, env[u])
                # into the paths that fall through, past a trailing `if` that may break
                new, self.stmts = self.stmts, saved
                _append_tail(items, new)
            if all(v in self.static for v in versions):
                self.static.add(fresh)
            new_env[u] = fresh
        self.env = new_env

    def join_funcs(
        self, branches: list[tuple[list[Any], bool, dict[str, Any]]]
    ) -> None:
        """The nested defs after an ``if``: a name the branches that fall through bind to
        different functions becomes a :class:`_FuncChoice` on a flag each branch sets (a name
        bound on one path only keeps that function: elsewhere a call is the user's error).
        """
        live = [(items, funcs) for items, falls, funcs in branches if falls]
        if len(live) != 2:
            self.local_funcs = live[0][1] if live else branches[0][2]
            return
        (items1, funcs1), (items2, funcs2) = live
        joined: dict[str, Any] = {}
        flag = None
        for name in {**funcs1, **funcs2}:
            a, b = funcs1.get(name), funcs2.get(name)
            if a is None or b is None or a == b:
                joined[name] = b if a is None else a
                continue
            if flag is None:
                flag = self.names.temp("branch")
                self.locals.add(flag)
                self.static.add(flag)
                items1.insert(0, ir.Phi(flag, cst.Name("True"), self.origin, True))
                items2.insert(0, ir.Phi(flag, cst.Name("False"), self.origin, True))
            joined[name] = _FuncChoice(flag, a, b)
        self.local_funcs = joined

    def if_statement(self, node: cst.If) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        known = self.known_truth(node.test)
        if known is not _MISSING:
            # a test that constants decide (a model's static field, a str argument
            # folded to a constant): only the branch taken is generated
            if known:
                return self.block(list(node.body.body))  # type: ignore[union-attr]
            if isinstance(node.orelse, cst.Else):
                return self.block(list(node.orelse.body.body))  # type: ignore[union-attr]
            if isinstance(node.orelse, cst.If):
                return self.block([node.orelse])
            return True
        test = self.lower_test(node.test, "cond")
        env0 = dict(self.env)
        funcs0 = self.local_funcs
        self.local_funcs = dict(funcs0)
        body, falls1 = self.sub_block(list(node.body.body))  # type: ignore[union-attr]
        env1, funcs1 = self.env, self.local_funcs
        self.env, self.local_funcs = dict(env0), dict(funcs0)
        orelse_stmts: list[cst.BaseStatement] = []
        if isinstance(node.orelse, cst.Else):
            orelse_stmts = list(node.orelse.body.body)  # type: ignore[union-attr]
        elif isinstance(node.orelse, cst.If):
            orelse_stmts = [node.orelse]
        orelse, falls2 = self.sub_block(orelse_stmts)
        env2, funcs2 = self.env, self.local_funcs
        self.origin = origin
        self.join([(body, falls1, env1), (orelse, falls2, env2)])
        self.join_funcs([(body, falls1, funcs1), (orelse, falls2, funcs2)])
        self.stmts.append(
            ir.IfNode(
                test, body, orelse, origin, self.is_static(test), (falls1, falls2)
            )
        )
        self.flush_displays()
        return falls1 or falls2

    def known_truth(self, e: cst.BaseExpression) -> Any:
        """The truth of a test that constants decide (``self.act == "tanh"``, ``not
        self.training``, ``a and b`` of such), else _MISSING.  Only str, int, bool and
        None operands: comparing them runs no user code."""
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
            inner = self.known_truth(e.expression)
            return _MISSING if inner is _MISSING else not inner
        if isinstance(e, cst.BooleanOperation):
            left = self.known_truth(e.left)
            is_and = isinstance(e.operator, cst.And)
            if left is not _MISSING and bool(left) != is_and:
                return left  # decided by its left side (``k > 0 and ...`` at k == 0)
            right = self.known_truth(e.right)
            if left is _MISSING or right is _MISSING:
                return _MISSING
            return (left and right) if is_and else (left or right)
        if isinstance(e, cst.Comparison):
            return self._known_comparison(e)
        if isinstance(e, (cst.Name, cst.Attribute)):
            value = self._known_operand(e)
            return _MISSING if value is _MISSING or value is _PART else bool(value)
        return _MISSING

    def _known_comparison(self, e: cst.Comparison) -> Any:
        ops = {
            cst.Equal: lambda a, b: a == b,
            cst.NotEqual: lambda a, b: a != b,
            cst.Is: lambda a, b: a is b,
            cst.IsNot: lambda a, b: a is not b,
            cst.LessThan: lambda a, b: a < b,
            cst.LessThanEqual: lambda a, b: a <= b,
            cst.GreaterThan: lambda a, b: a > b,
            cst.GreaterThanEqual: lambda a, b: a >= b,
        }
        ordered = (
            cst.LessThan,
            cst.LessThanEqual,
            cst.GreaterThan,
            cst.GreaterThanEqual,
        )
        left = self._known_operand(e.left)
        if left is _MISSING:
            return _MISSING
        for c in e.comparisons:
            right = self._known_operand(c.comparator)
            op = ops.get(type(c.operator))
            if right is _MISSING or op is None:
                return _MISSING
            if isinstance(c.operator, (cst.Is, cst.IsNot)) and None not in (
                left,
                right,
            ):
                return _MISSING  # identity of equal strings or ints is not a constant
            if _PART in (left, right) and not isinstance(
                c.operator, (cst.Is, cst.IsNot)
            ):
                return _MISSING  # a part compared by value runs user code
            if isinstance(c.operator, ordered) and not (
                type(left) in (int, float) and type(right) in (int, float)
            ):
                return _MISSING  # only numbers are ordered here
            if not op(left, right):
                return False
            left = right
        return True

    def _known_operand(self, e: cst.BaseExpression) -> Any:
        """The str, int, bool or None value of ``e`` that constants give, else _MISSING."""
        if isinstance(e, cst.Name):
            if e.value in _LITERAL_NAMES:
                return _MISSING if e.value in self.env else _LITERAL_NAMES[e.value]
            alias = self.galias.get(e.value) if e.value not in self.env else None
            if (
                alias is not None
                and isinstance(alias[0], cst.Name)
                and alias[0].value in _LITERAL_NAMES
            ):
                return _LITERAL_NAMES[alias[0].value]  # a callee's ``hx=None`` default
            cur = self.env.get(e.value)
            if cur in self.const and _plain(self.const[cur]):
                # a name bound to None (an inlined callee's default), to a number or to a
                # tuple of such (``stride=(2, 2)``): ``stride is None`` is decided here
                return self.const[cur]
            if cur in self.model_leaves:
                return _PART  # bound to a model's array (``bias`` of ``F.linear``)
        if isinstance(e, cst.Float) or (
            isinstance(e, cst.UnaryOperation) and isinstance(e.expression, cst.Float)
        ):
            return self.constant_value(e)  # ``label_smoothing > 0.0``
        value = self.folded(e)
        if value is None and isinstance(e, cst.Attribute):
            return None  # a model's static field holding None (``self.norm``)
        if isinstance(e, cst.Attribute) and self.is_part(e):
            return _PART  # a sub-model or array field: never None
        return value if type(value) in (bool, int, str) else _MISSING

    def flush_displays(self) -> None:
        pending, self.pending_displays = self.pending_displays, []
        for u, kind, keys, names in pending:
            self.rebuild_display(u, kind, keys, names)

    def lower_test(self, e: cst.BaseExpression, hint: str) -> cst.BaseExpression:
        """Lower a condition; comparisons, `not`, `in` and short-circuit-free `and`/`or`
        stay inline (they carry no gradient)."""
        if isinstance(e, cst.Comparison):
            left = self.lower(e.left, hint)
            comps = [
                c.with_changes(comparator=self.lower(c.comparator, hint))
                for c in e.comparisons
            ]
            return e.with_changes(left=left, comparisons=comps)
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
            return e.with_changes(expression=self.lower_test(e.expression, hint))
        if isinstance(e, cst.BooleanOperation):
            return self.boolean(e, hint, None)
        return self.lower(e, hint)

    def boolean(
        self, e: cst.BooleanOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower_test(e.left, hint)
        saved = self.stmts
        self.stmts = []
        right = self.lower_test(e.right, hint)
        right_stmts, self.stmts = self.stmts, saved
        if not right_stmts and target is None:
            return e.with_changes(left=left, right=right)
        # the right side runs only when the left one does not decide: make it a branch
        name = self.names.temp(hint) if target is None else self.define(target)
        is_and = isinstance(e.operator, cst.And)
        taken = right_stmts
        saved, self.stmts = self.stmts, taken
        self.assign_exact(name, right)
        self.stmts = []
        self.assign_exact(name, left)
        other, self.stmts = self.stmts, saved
        body, orelse = (taken, other) if is_and else (other, taken)
        return self._branched_value(name, target, left, (body, orelse), (left, right))

    def ternary(
        self, e: cst.IfExp, hint: str, target: str | None
    ) -> cst.BaseExpression:
        known = self.known_truth(e.test)
        if known is not _MISSING:  # ``2 if self.bidirectional else 1``
            return self._lower(e.body if known else e.orelse, hint, target)
        test = self.lower_test(e.test, hint)
        saved = self.stmts
        self.stmts = []
        a = self.lower(e.body, hint)
        body = self.stmts
        self.stmts = []
        b = self.lower(e.orelse, hint)
        orelse = self.stmts
        # the target's new version exists only once both branches have read the old one
        # (`h = h if c else -h`)
        name = self.names.temp(hint) if target is None else self.define(target)
        self.stmts = body
        self.assign_exact(name, a)
        self.stmts = orelse
        self.assign_exact(name, b)
        self.stmts = saved
        return self._branched_value(name, target, test, (body, orelse), (a, b))

    def _branched_value(
        self,
        name: str,
        target: str | None,
        test: cst.BaseExpression,
        branches: tuple[list[Any], list[Any]],
        values: tuple[cst.BaseExpression, cst.BaseExpression],
    ) -> cst.BaseExpression:
        """The value of an expression that picks one of two ``values`` by ``test``: the if
        node whose ``branches`` bind ``name`` to each, and ``name``, which is constant when
        both values are and may alias either."""
        body, orelse = branches
        self.stmts.append(
            ir.IfNode(test, body, orelse, self.origin, self.is_static(test))
        )
        if self.is_static(values[0]) and self.is_static(values[1]):
            self.static.add(name)
        self.alias_of_either(name, list(values))
        self.last_define = (target, name) if target is not None else None
        return cst.Name(name)


def _plain(value: Any) -> bool:
    """None, a bool, int, float or str, or a tuple of such: comparing it runs no user
    code."""
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)
