"""Loops: ``for`` and ``while`` lowered to loop nodes with their carried names, carried
displays item by item, nested defs bound in a body, the phis at the end of an
iteration and at each ``break``.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, NamedTuple

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _Bail, _FuncFromLoop
from srcgrad.codegen.normalize.exits import _append_tail, _may_exit
from srcgrad.codegen.normalize.keys import _only_rebound
from srcgrad.codegen.normalize.syntax import (
    _all_names,
    _assigned_in,
    _extended_in_place,
    _functions_bound,
    _grown_lists,
    _ident_key,
    _paren,
    _subscript_written,
    _written_first,
)


class _Header(NamedTuple):
    """What a loop's header says: the loop ``node``, its ``kind`` (``"for"`` or
    ``"while"``), the ``for`` target's name and the iterable it runs over (a ``while``
    loop: None and its test), the names the ``for`` target's index reads before the body
    (``prelude``), and where the loop stands (``origin``)."""

    node: cst.For | cst.While
    kind: str
    target: str | None
    iterable: cst.BaseExpression | None
    prelude: list[tuple[str, Any]]
    origin: Any


class Loops:
    """Loops and their carried names (a mixin of :class:`Normalizer`)."""

    def for_statement(self, node: cst.For) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        if node.asynchronous is not None:
            self.fail(node, "async for", "use a plain for loop", "async-for")
        self._refuse_iterating_what_the_loop_writes(node)
        values = self.static_values(node.iter)
        if values is not None and node.orelse is None and not _may_exit(node.body):
            with self._iterating(node.iter):
                return self.unrolled(node.target, values, list(node.body.body))  # type: ignore[union-attr]
        keyed = self.unroll_values(node)
        if keyed is not None:  # the body reads a container by the loop's index
            return self.unrolled(node.target, keyed, list(node.body.body))  # type: ignore[union-attr]
        if self._reads_poisoned(node.iter):
            raise _Bail(None)  # a loop over a list already reported
        node = self._bind_iterated_displays(node)
        exprs = self.container_values(node.iter)
        if exprs is not None and node.orelse is None and not _may_exit(node.body):
            return self._unrolled_items(node, exprs)
        plan = self.iteration_plan(node)
        header_target, header_iter, prelude, reversible = plan
        header = _Header(node, "for", header_target, header_iter, prelude, origin)
        return self.loop(header, reversible)

    def _unrolled_items(self, node: cst.For, exprs: list[cst.BaseExpression]) -> bool:
        """A loop over a list/tuple argument or a dict's items: one copy of the body per
        item.  A dict the loop iterates over may not gain keys in it (Python raises)."""
        with self._iterating(node.iter):
            for v in exprs:
                self.readable_by_name(v)  # an emitted item
                self.assign(node.target, v)
                if not self.block(list(node.body.body)):  # type: ignore[union-attr]
                    return False
        return True

    @contextlib.contextmanager
    def _iterating(self, it: cst.BaseExpression) -> Iterator[None]:
        """While an unrolled loop runs over ``d``, ``d.items()``, ``d.keys()`` or
        ``d.values()``, ``d`` is in ``iterated_dicts``."""
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute):
            it = it.func.value
        name = it.value if isinstance(it, cst.Name) else None
        if name is not None:
            self.iterated_dicts.append(name)
        try:
            yield
        finally:
            if name is not None:
                self.iterated_dicts.pop()

    def while_statement(self, node: cst.While) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        return self.loop(_Header(node, "while", None, node.test, [], origin), False)

    def loop(self, header: _Header, reversible: bool) -> bool:
        """Lower a ``for`` loop (its header from :meth:`iteration_plan`) or a ``while`` loop to
        a loop node: the names it carries (displays item by item), its body, and the phis
        that carry the names into the next iteration."""
        node, kind, header_target, header_iter, prelude, origin = header
        self.grow_before_loop(node)
        extra = [t for t, _ in prelude]
        for u in _subscript_written(node.body):
            if u in self.env:
                self.mark_stale(self.env[u])  # a later iteration reads after the write
        before = set(self.env.values())
        funcs = self.enter_loop_funcs(node)
        # a tuple/list/dict display carried around the loop is carried item by item
        comps, plain_users = self._carry_displays(self._carried(node, extra), node)
        self._unbind_on_first_pass(node, plain_users)
        sequences = {u for u in plain_users if self.env.get(u) in self.seq_displays}
        carried = self.enter_loop(plain_users)
        for u in sequences:
            self.carried_seqs.add(self.env[u])  # `t = t + (v,)` would change its length
        for u, (_, keys, names) in comps.items():
            carried += [ir.Carried(c, True) for c in names]
        cmap = {u: c for u, c in zip(plain_users, carried)}
        loop: dict[str, Any] = {
            "map": cmap,
            "has_break": False,
            "comps": comps,
            # the lists it appends to that exist before it (emitted names)
            "grown": {self.env[u] for u in _grown_lists(node.body) if u in self.env},
        }
        self.loops.append(loop)
        self.tick += 1
        self.loop_ticks.append(self.tick)
        saved = self.stmts
        self.stmts = []
        for u, (ckind, keys, names) in comps.items():
            self.rebuild_display(u, ckind, keys, names)
            if ckind in ("seq", "list"):
                self.carried_seqs.add(
                    self.env[u]
                )  # `t = t + (v,)` would change its length
        prior_target = (
            self.env.get(header_target) if header_target is not None else None
        )
        try:
            target_name, test = self._loop_body(header, loop, before)
            body = self.stmts
        finally:
            self.stmts = saved
            self.loops.pop()
            self.loop_ticks.pop()
        stack = self.names.fresh(
            f"_stack_{(carried[0].name if carried else target_name or 'loop').lstrip('_')}"
        )
        ln = ir.LoopNode(
            kind,
            target_name,
            header_iter if kind == "for" else test,
            body,
            origin,
            carried,
            stack,
            has_break=loop["has_break"],
            reversible_range=reversible and not loop["has_break"],
        )
        if kind == "for" and header_iter is not None:
            ln.iter = header_iter
        self._keep_range_target(header, target_name, prior_target)
        self.stmts.append(ln)
        for u, c in cmap.items():
            self.env[u] = c.name
        self.local_funcs.update(funcs)
        for u, (ckind, keys, names) in comps.items():
            self.origin = origin
            self.rebuild_display(u, ckind, keys, names)
        return True

    def _carry_displays(
        self, carried_users: list[str], node: cst.For | cst.While
    ) -> tuple[dict[str, tuple[str, list[Any], list[str]]], list[str]]:
        """Split the names a loop carries into displays (each item carried by a name of its
        own, bound here to the item's value before the loop) and plain names."""
        comps: dict[str, tuple[str, list[Any], list[str]]] = {}
        plain_users = []
        for u in carried_users:
            cur = self.env.get(u)
            if cur is not None and cur in self.cont and _only_rebound(node, u):
                cur = self.argument_as_display(u, cur)
            if cur is not None and cur in self.dyn:
                cur = self.list_as_display(u, cur, node)
            constant = self._constant_tuple_items(u, cur, node)
            if constant is not None or (cur is not None and cur in self.lit):
                ckind, items = ("seq", constant) if constant else self.lit[cur]
                if ckind == "seq" and self.seq_displays.get(cur, (None,))[0] == "list":
                    ckind = "list"  # rebuilt as a list: its items may be assigned
                keys = (
                    list(items.keys()) if ckind == "dict" else list(range(len(items)))
                )
                vals = list(items.values()) if ckind == "dict" else list(items)
                names = []
                for k, v in zip(keys, vals):
                    c = self.names.fresh(f"{u}_{_ident_key(k)}")
                    self.assign_exact(c, v)
                    names.append(c)
                comps[u] = (ckind, keys, names)
            else:
                plain_users.append(u)
        return comps, plain_users

    def _constant_tuple_items(
        self, u: str, cur: str | None, node: cst.For | cst.While
    ) -> list[Any] | None:
        """The items (reads ``cur[i]``) of the constant tuple ``u`` is bound to
        (``state = (np.zeros(n), ...)``) when the loop only rebinds it: the loop carries it
        item by item, as a display, since it may rebind it to values that carry a gradient
        (``state = (a - w * b, ...)``); else None."""
        if cur is None or cur in self.lit or not _only_rebound(node, u):
            return None
        atom = cst.Name(cur)
        known = self.sequence_items(atom) if self.is_static(atom) else None
        if known is None or known[0] != "tuple" or not known[1]:
            return None
        return known[1]

    def _unbind_on_first_pass(
        self, node: cst.For | cst.While, plain_users: list[str]
    ) -> None:
        """A carried name that only an enclosing or earlier loop binds starts this loop
        unbound (refused when the body reads it before binding it)."""
        bound_by_header = (
            {n.value for n in _all_names(node.target)}
            if isinstance(node, cst.For)
            else set()
        )
        for u in plain_users:
            if self.env.get(u) in self.maybe_unbound and u not in bound_by_header:
                # bound only by an enclosing or earlier loop, nowhere before it: on the first
                # iteration there is no value to carry in, so this loop starts it unbound too
                if not _written_first(list(node.body.body), u):  # type: ignore[union-attr]
                    self.fail(
                        node,
                        f"{u!r} is read in this loop, but only a loop binds it, nowhere before "
                        "it: on the first pass it has no value to carry in",
                        f"bind {u} before the first loop that assigns it (e.g. {u} = 0.0)",
                        "loop-unbound",
                    )
                self.env.pop(u)

    def _loop_body(
        self, header: _Header, loop: dict[str, Any], before: set[str]
    ) -> tuple[str | None, cst.BaseExpression | None]:
        """Lower one iteration into ``self.stmts``: the ``for`` target (and the names read
        from its index) or the ``while`` test, the body, and the phis at its end.  Returns
        the target's emitted name and the while loop's test (None where the test needed
        statements: they moved into the body)."""
        node, kind, header_target, header_iter, prelude, origin = header
        target_name = None
        test: cst.BaseExpression | None = None
        body_stmts = list(node.body.body)  # type: ignore[union-attr]
        if kind == "for":
            assert header_target is not None
            target_name = self.define(header_target)
            if header_iter is not None and self.is_static(header_iter):
                self.static.add(target_name)
            for user, source in prelude:
                self.origin = origin
                if source is None:
                    continue
                if source[0] == "unpack":  # the names of an item (the header's)
                    item = source[2] if len(source) > 2 else header_target
                    self.assign(source[1], cst.Name(item))
                    continue
                (arr,) = source
                self.lower_subscript_of(arr, cst.Name(target_name), user, target=user)
        else:
            # while: evaluate the test at the top of each iteration
            self.origin = origin
            n_before = len(self.stmts)
            t = self.lower_test(node.test, "cond")  # type: ignore[union-attr]
            if len(self.stmts) > n_before:
                # the test needs statements: `while True:` with `if not test: break`,
                # and the body in the else branch (it does not run in the last round)
                neg = cst.UnaryOperation(operator=cst.Not(), expression=_paren(t))
                brk, _ = self._break_block()
                rest, falls = self.sub_block(body_stmts)
                self.stmts.append(
                    ir.IfNode(neg, brk, rest, origin, self.is_static(t), (False, falls))
                )
                body_stmts = []
                test = None
            else:
                test = t
        falls = (
            self.block(body_stmts)
            if body_stmts
            else (kind == "for" or test is not None or falls)
        )
        self._refuse_carried_views(node, before, loop)
        self.refuse_carried_aliases(node, loop)
        if falls:
            self.origin = origin
            self.loop_phis(loop)
        return target_name, test

    def _keep_range_target(
        self, header: _Header, target_name: str | None, prior_target: str | None
    ) -> None:
        """A ``range`` loop's target that an enclosing loop carries, or that is read after
        the loop: bound before the loop node to what it held before (as Python leaves it
        after a loop that ran no round)."""
        node, kind, header_target, header_iter, _, origin = header
        outer_maps = [lp["map"] for lp in self.loops]
        if (
            kind == "for"
            and target_name is not None
            and isinstance(header_iter, cst.Call)
            and isinstance(header_iter.func, cst.Name)
            and header_iter.func.value == "range"  # an int target: no gradient to route
            and (
                any(header_target in mp for mp in outer_maps)
                or prior_target is not None
                and header_target in self._read_after(node)
            )
        ):
            # an enclosing loop carries the target's name: after a loop that ran no round it
            # holds what it held before (Python's semantics), never an unbound name
            if prior_target is None or any(
                c.name == prior_target and not c.before
                for mp in outer_maps
                for c in mp.values()
            ):
                if prior_target is not None:
                    self.prebind.add(prior_target)  # unbound before the enclosing loop
            source = (
                cst.Name(prior_target) if prior_target is not None else cst.Name("None")
            )
            self.stmts.append(ir.Phi(target_name, source, origin, True))

    def _break_block(self) -> tuple[list[Any], bool]:
        saved = self.stmts
        self.stmts = []
        self.break_here(self._node)
        out = self.stmts
        self.stmts = saved
        return out, False

    def _carried(self, node: cst.CSTNode, extra: list[str]) -> list[str]:
        all_assigned = _assigned_in(node.body)  # type: ignore[attr-defined]
        assigned = [t for t in all_assigned if t not in self.poisoned]
        used_outside = self.used_outside(node)
        funcs = _functions_bound(node.body)  # type: ignore[attr-defined]
        extended = _extended_in_place(node.body)  # type: ignore[attr-defined]
        out: list[str] = []
        for u in [*assigned, *extra]:
            if u in out:
                continue
            if (
                u in funcs
                and u not in self.env
                and all_assigned.count(u) == len(funcs[u])
            ):
                continue  # only ever a nested function: calls see it by enter_loop_funcs
            if u in extended and self.grows_in_place(self.env.get(u)):
                continue  # `lst += items` grows the same list object: nothing to carry
            if u in self.env or u in used_outside:
                out.append(u)
            elif (
                u in assigned
                and self.resolver.value_of([u])[0]
                and not _written_first(list(node.body.body), u)  # type: ignore[attr-defined]
            ):
                # read in the loop before this iteration binds it: Python reads the local
                # (the last iteration's value), never the module global of that name
                self.fail(
                    node,
                    f"{u!r} is read in this loop before the loop assigns it, and nothing binds "
                    f"it before the loop (the global {u!r} is not what Python reads here: a "
                    "local of that name hides it)",
                    f"bind {u} before the loop (e.g. {u} = ... its first value), or rename it",
                    "loop-unbound",
                )
        return out

    def enter_loop_funcs(self, node: cst.For | cst.While) -> dict[str, _FuncFromLoop]:
        """Set the nested defs and lambdas the body of the loop ``node`` binds as a call at
        the top of an iteration sees them, and return them as a call after the loop does.

        At the top of an iteration, a name with no binding before the loop and one binding in
        the body, a def, is that def (every iteration that runs it makes the same function, its
        calls read the names they use when they run, and before it first runs the name is
        unbound); any other, and every one after the loop (what its calls read there is not
        known to be read after the loop), is refused."""
        assigned = _assigned_in(node.body)
        after: dict[str, _FuncFromLoop] = {}
        for u, bindings in _functions_bound(node.body).items():
            first = bindings[0]
            after[u] = _FuncFromLoop(self.src.where(first)[1])
            fresh = u not in self.local_funcs and u not in self.env
            if fresh and len(bindings) == 1 and assigned.count(u) == 1:
                fn = first if isinstance(first, cst.FunctionDef) else first.value  # type: ignore
                self.local_funcs[u] = (
                    fn,
                    self.src,
                    self.resolver,
                    len(self.inline_stack) - 1,
                )
            else:
                self.local_funcs[u] = after[u]
        return after

    def _read_after(self, node: cst.CSTNode) -> set[str]:
        """Names read (not only assigned) after the statement ``node`` in the function being
        lowered."""
        tree = self.src.tree
        start = self.src.where(node)
        inside = {id(n) for n in _all_names(node)}
        targets = {
            id(n)
            for t in m.findall(tree, m.AssignTarget() | m.For())
            for n in m.findall(t.target, m.Name())  # type: ignore[union-attr]
        }
        return {
            n.value
            for n in _all_names(tree)
            if id(n) not in inside
            and id(n) not in targets
            and self.src.where(n) > start
        }

    def used_outside(self, node: cst.CSTNode) -> set[str]:
        inside = {id(n) for n in _all_names(node)}
        return {n.value for n in self.all_names if id(n) not in inside}

    def enter_loop(self, carried_users: list[str]) -> list[ir.Carried]:
        carried = []
        for u in carried_users:
            if u in self.env:
                c = self.names.fresh(u)
                self.assign_exact(c, cst.Name(self.env[u]))
                self.inherit_view(c, self.env[u])
                carried.append(ir.Carried(c, True))
            else:
                c = (
                    self.names.fresh(u)
                    if (u in self.names.taken and u in self.locals)
                    else u
                )
                self.names.taken.add(c)
                carried.append(ir.Carried(c, False))
                self.maybe_unbound.add(c)
            self.env[u] = c
            self.locals.add(c)
        return carried

    def rebuild_display(
        self, u: str, kind: str, keys: list[Any], names: list[str]
    ) -> None:
        """Bind ``u`` to a display of the carried items (``state = (state_0, state_1)``)."""
        if kind == "dict":
            node: cst.BaseExpression = cst.Dict(
                [
                    cst.DictElement(cst.parse_expression(repr(k)), cst.Name(n))
                    for k, n in zip(keys, names)
                ]
            )
        elif kind == "list":
            node = cst.List([cst.Element(cst.Name(n)) for n in names])
        else:
            node = cst.Tuple([cst.Element(cst.Name(n)) for n in names])
        poisoned = u in self.poisoned
        self.bind_atom(u, node)
        if poisoned:
            self.poisoned.add(
                u
            )  # the same value, carried on: a finding already reported it
        if kind != "dict":
            self.seq_displays[self.env[u]] = (None, len(names))  # a tuple or a list

    def loop_phis(self, loop: dict[str, Any]) -> None:
        phis = []
        for u, (kind, keys, names) in loop.get("comps", {}).items():
            cur = self.env.get(u)
            if cur not in self.lit:
                self.fail(
                    self._node,
                    f"{u} is carried around the loop as a display but "
                    "rebound to something else",
                    "keep it a tuple/list/dict display",
                    "carry",
                )
            items = self.lit[cur][1]
            vals = [items[k] for k in keys] if isinstance(items, dict) else list(items)
            if len(vals) != len(names):
                self.fail(
                    self._node,
                    f"{u} changes length around the loop",
                    f"grow a list in place instead: {u} = [...] before the loop, "
                    f"{u}.append(item) in it",
                    "carry",
                )
            for c, v in zip(names, vals):
                if not (isinstance(v, cst.Name) and v.value == c):
                    phis.append(ir.Phi(c, v, self.origin, self.is_static(v)))
        for u, c in loop["map"].items():
            cur = self.env.get(u)
            if cur is not None and cur != c.name:
                self.refuse_container_join(
                    cst.Name(cur),
                    f"compute in the loop the array you need of {u} (v = np.stack({u}), "
                    f"v = {u}[0], ...) and use that after the loop, or build {u} once, before it",
                )
                phis.append(ir.Phi(c.name, cst.Name(cur), self.origin))
        _append_tail(self.stmts, phis)

    def break_here(self, node: cst.CSTNode) -> None:
        if not self.loops:
            self.fail(node, "break outside a loop", "remove it", "break")
        loop = self.loops[-1]
        loop["has_break"] = True
        self.loop_phis(loop)
        self.stmts.append(ir.BreakNode(self.origin))
