"""Lists built with append: list displays that grow, appends and extends, growth before a
loop, and comprehensions (a loop that appends to a fresh list).
"""

from __future__ import annotations

import builtins
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _MISSING
from srcgrad.codegen.normalize.syntax import (
    _all_names,
    _all_stmts,
    _assigned_in,
    _grown_lists,
    _NameMap,
)


class Lists:
    """Lists built with append (a mixin of :class:`Normalizer`)."""

    def grows_in_place(self, name: str | None) -> bool:
        """``name`` (emitted) is a list built with append, or a list display that may grow:
        one list object, whatever names it goes by."""
        return name in self.dyn or name in self.lit_stmt

    def note_display(self, name: str) -> None:
        """``name`` was just bound to a list display: it may grow (see ``grow_display``)."""
        self.lit_stmt[name] = self.stmts[-1]
        self.display_loops[name] = len(self.loop_ticks)

    def read_display(self, name: str) -> None:
        """The list display ``name`` is read (or changed in place) here."""
        self.tick += 1
        self.display_read[name] = self.tick

    def grow_display(self, name: str, node: cst.CSTNode) -> None:
        """A list display that grows (at ``node``): from here on it is a list built in the
        function, its first items those of the display (constants too), as Python has it.
        """
        st = self.lit_stmt[name]
        user = self.user_name(name, "the list")
        shown = [el.value for el in cst.ensure_type(st.expr, cst.List).elements]
        items = self.lit[name][1] if name in self.lit else shown
        if len(items) != len(shown) or any(a is not b for a, b in zip(items, shown)):
            self.fail(
                node,
                f"the list {user!r} grows after an assignment into one of its items",
                f"build {user} with its final items, then grow it with {user}.append(...)",
                "list-method",
            )
        depth = self.display_loops[name]
        if (
            len(self.loop_ticks) > depth
            and self.display_read.get(name, 0) > self.loop_ticks[depth]
        ):
            # lowered once, the loop's earlier reads took the display for what it held
            # before the loop: a later iteration reads what this one appends
            self.fail(
                node,
                f"the list {user!r} is read in this loop before an item that is no "
                "constant (it depends on the arguments) is added to it",
                f"start it before the loop as an empty list: {user} = [] and "
                f"{user}.append(...) for each first item",
                "list-append",
            )
        for item in items:
            self.refuse_nested_item(node, item)
        del self.lit_stmt[name]
        self.lit.pop(name, None)
        self.static.discard(name)
        st.kind = ir.LISTNEW
        st.container = name
        st.bound = {"items": items}
        st.operands = [
            a.value
            for a in items
            if isinstance(a, cst.Name)
            and a.value in self.locals
            and not self.is_static(a)
        ]
        st.label = "list"
        self.dyn.add(name)

    def grow_before_loop(self, node: cst.For | cst.While) -> None:
        """A list display that the loop ``node`` grows and also reads (or grows in two
        places) becomes a list built with append before the loop: the body is lowered once,
        and a later iteration reads what an earlier one appended."""
        grown = _grown_lists(node)
        if not grown:
            return
        parts: list[cst.CSTNode] = [node.body]
        if isinstance(node, cst.While):
            parts.append(node.test)  # evaluated in every iteration
        mentions: dict[str, int] = {}
        for part in parts:
            for n in _all_names(part):
                cur = self.env.get(n.value)
                if cur in self.lit_stmt:
                    mentions[cur] = mentions.get(cur, 0) + 1  # through any of its names
        assigned = set(_assigned_in(node.body))
        if isinstance(node, cst.For) and self._may_carry_gradient(node.iter, set()):
            assigned.update(
                n.value for n in _all_names(node.target)
            )  # (an array's rows)
        for user, values in grown.items():
            cur = self.env.get(user)
            if cur not in self.lit_stmt or mentions.get(cur, 0) < 2:
                continue  # grown once and not read: it grows where it is appended to
            if cur in self.lit or any(
                self._may_carry_gradient(v, assigned) for v in values
            ):
                self.grow_display(cur, values[0])

    def _may_carry_gradient(self, value: cst.CSTNode, assigned: set[str]) -> bool:
        """Whether ``value``, in a loop that binds ``assigned``, may carry a gradient: it
        reads a local that is not a constant, a name the loop binds, or a nested function.
        """
        for n in _all_names(value):
            cur = self.env.get(n.value)
            if n.value in assigned or n.value in self.local_funcs:
                return True
            if cur is not None and cur in self.locals and cur not in self.static:
                return True
        return False

    def append_item(self, e: cst.CSTNode, lst: str, v: cst.BaseExpression) -> None:
        """``lst.append(v)`` on the list ``lst`` built in the function (``v`` an atom)."""
        # (the list is poisoned first: this finding is reported, not taken as an echo)
        self.refuse_nested_item(e, v, self.user_name(lst, ""), consequence=False)
        call = cst.Call(
            func=cst.Attribute(cst.Name(lst), cst.Name("append")), args=[cst.Arg(v)]
        )
        varies = (
            isinstance(v, cst.Name) and v.value in self.locals and not self.is_static(v)
        )
        ops = [v.value] if varies else []  # type: ignore[union-attr]
        self.stmts.append(
            Stmt(
                ir.APPEND,
                [],
                call,
                self.origin,
                operands=ops,
                label="append",
                container=lst,
            )
        )
        self.alias_of(lst, ops, container=True)
        self.note_appended(lst, v)

    def extend_list(self, e: cst.Call, lst: str, v: cst.BaseExpression) -> None:
        """``lst.extend(v)`` (or ``lst += v``) on a list built in the function: one append per
        item where the items are known here, else (constants) one extend whose entries the
        backward pass drops again."""
        known = self.sequence_items(v)
        if known is not None:
            for item in known[1]:
                self.append_item(e, lst, item)
            return
        if self.is_static(v):
            self.list_history.pop(lst, None)  # items known only at run time
            # its items as they are now (an iterator is read once, a list may change later)
            snap = self.emit(
                ir.STATIC, None, "items", cst.Call(cst.Name("tuple"), [cst.Arg(v)])
            )
            call = cst.Call(
                func=cst.Attribute(cst.Name(lst), cst.Name("extend")),
                args=[cst.Arg(cst.Name(snap))],
            )
            self.stmts.append(
                Stmt(ir.APPEND, [], call, self.origin, label="extend", container=lst)
            )
            return
        user = self.user_name(lst, "lst")
        arg = e.args[0].value
        shown = self.src.module.code_for_node(arg).strip()
        text = (
            f"({shown})"
            if isinstance(arg, cst.GeneratorExp) and not arg.lpar
            else shown
        )
        self.fail(
            e,
            f"{user}.extend({shown}): srcgrad lists the items of an extend only for a tuple "
            "or list display or constants",
            f"append them one by one: for item in {text}: {user}.append(item)",
            "list-method",
        )

    def refuse_untracked_growth(self, e: cst.Call, method: str, outside: bool) -> None:
        """``lst.append(v)`` on a list srcgrad does not follow as one built in the function:
        one from ``outside`` it, or one made by a call, on branches, or with an item
        assigned."""
        text = self.src.module.code_for_node(
            cst.ensure_type(e.func, cst.Attribute).value
        ).strip()
        where = (
            "a list from outside the function (appending changes it for every later call)"
            if outside
            else "which srcgrad does not follow as a list: it follows one made in one place "
            "of the function by a list display or [], then grown with .append or .extend"
        )
        hint = (
            f"build a new list: lst = [] then lst.extend({text}) and lst.append(...)"
            if outside
            else f"build it as a new list in one place (not on each branch), with no item "
            f"assignment before it grows: {text} = [] (or a list display), "
            f"{text}.extend(...) with the items it starts with, then {text}.append(...)"
        )
        if not text.isidentifier():  # cache["k"].append(k): a list inside a container
            hint = (
                f"keep the list in a name of its own, made in this function: items = [] "
                f"before, items.append(...) where {text}.append(...) was, and read items "
                "(a list inside a dict, list or object is not followed as it grows)"
            )
        self.fail(
            e, f"list method .{method}() on {text!r}, {where}", hint, f".{method}()"
        )

    def comprehension(
        self, e: cst.ListComp | cst.GeneratorExp, hint: str, target: str | None = None
    ) -> cst.BaseExpression:
        """``[f(x) for x in xs if c]`` becomes a loop that appends to a fresh list."""
        comp = e.for_in
        if comp.asynchronous is not None:
            self.fail(e, "async comprehension", "use a loop", "comprehension")
        fors = []
        while comp is not None:
            fors.append(comp)
            comp = comp.inner_for_in
        # the comprehension's own names are local to it: give them fresh names
        own = [
            n.value
            for c in fors
            for n in _all_names(c.target)
            if isinstance(n, cst.Name)
        ]
        rename = {u: self.names.temp(u) for u in own}
        ren = _NameMap(rename)
        if target is not None and target in ir.names_in(e):
            target = None  # `xs = [f(x) for x in xs]`: the new list is bound after
        name = target if target is not None else self.names.temp(hint)
        body: cst.BaseStatement = cst.SimpleStatementLine(
            [
                cst.Expr(
                    cst.Call(
                        func=cst.Attribute(cst.Name(name), cst.Name("append")),
                        args=[cst.Arg(e.elt.visit(ren))],
                    )
                )
            ]
        )
        for c in reversed(fors):
            for cond in reversed(c.ifs):
                body = cst.If(test=cond.test.visit(ren), body=cst.IndentedBlock([body]))
            body = cst.For(
                target=c.target.visit(ren),
                iter=c.iter.visit(ren) if c is not fors[0] else c.iter,
                body=cst.IndentedBlock([body]),
            )
            self.src.alias(body, e)
        init = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(name))], cst.List([]))]
        )
        self.src.alias_tree(init, e)
        for node in _all_stmts(body):
            self.src.alias(node, e)
        self.src.alias_tree(body, e)
        saved_origin = self.origin
        self.block([init, body])
        self.origin = saved_origin
        if target is not None:
            self.last_define = (target, self.env[name])
        return cst.Name(self.env[name])

    def fold_as_loop(
        self, e: cst.Call, hint: str, target: str | None
    ) -> cst.BaseExpression | None:
        """``functools.reduce(f, items[, initial])`` with ``f`` a function reached by name
        (``np.kron``, a module-level function) runs as the loop it stands for: ``acc =
        items[0]`` (or ``initial``), then ``acc = f(acc, item)`` for each later item, each
        call lowered as written.  None for any other fold (a lambda, a closure a call
        returns, keywords or ``*args``: refused by the caller)."""
        args = e.args
        if not 2 <= len(args) <= 3 or any(a.star or a.keyword for a in args):
            return None
        if not self._function_chain(args[0].value):
            return None
        if (
            "enumerate" in self.env
            or self.resolver.lookup("enumerate")[1] is not enumerate
        ):
            return None  # (the loop below calls it)
        items, acc, i = (self.names.temp(n) for n in ("items", hint, "i"))
        if len(args) == 3:
            code = f"{acc} = __init__\nfor {i} in {items}:\n    {acc} = __f__({acc}, {i})\n"
        else:
            item = self.names.temp("item")
            code = (
                f"{acc} = {items}[0]\nfor {i}, {item} in enumerate({items}):\n"
                f"    if {i} > 0:\n        {acc} = __f__({acc}, {item})\n"
            )
        module = cst.parse_module(f"{items} = __items__\n{code}")
        parts = {"__f__": args[0].value, "__items__": args[1].value}
        if len(args) == 3:
            parts["__init__"] = args[2].value
        stmts = [st.visit(_Placeholders(parts)) for st in module.body]
        for st in stmts:
            self.src.alias_tree(st, e)
        saved_origin = self.origin
        self.block(stmts)
        self.origin = saved_origin
        return cst.Name(self.env[acc])

    def sequence_of_comprehension(
        self, e: cst.Call, obj: Any, hint: str, target: str | None
    ) -> cst.BaseExpression | None:
        """``list(f(v) for v in xs)``: the comprehension's fresh list; ``tuple(f(v) for v in
        xs)`` over displays known here: the tuple display of its items.  None for any other
        call (refused by the caller)."""
        if len(e.args) != 1 or e.args[0].keyword is not None or e.args[0].star:
            return None
        arg = e.args[0].value
        if not isinstance(arg, (cst.GeneratorExp, cst.ListComp)):
            return None
        if obj is tuple:
            return self.tuple_of_comprehension(arg, hint)
        return self.comprehension(arg, hint, target)

    def tuple_of_comprehension(
        self, e: cst.ListComp | cst.GeneratorExp, hint: str
    ) -> cst.BaseExpression | None:
        """``tuple(f(s, d) for s, d in zip(state, deriv))`` with one ``for`` over names bound
        to tuple or list displays known here (or a ``zip`` of them): the display
        ``(f(state[0], deriv[0]), ...)``, built item by item as Python builds it.  None where
        the items are not known here."""
        comp = e.for_in
        if comp.inner_for_in is not None or comp.ifs or comp.asynchronous is not None:
            return None
        if m.findall(
            e.elt, m.Lambda() | m.ListComp() | m.GeneratorExp() | m.DictComp()
        ):
            return None  # (a name of the target could be bound again inside)
        it = comp.iter
        zipped = (
            isinstance(it, cst.Call)
            and isinstance(it.func, cst.Name)
            and it.func.value == "zip"
            and self.resolver.lookup("zip")[1] is builtins.zip
            and it.func.value not in self.env
        )
        sources = (
            [a.value for a in it.args if not (a.keyword or a.star)] if zipped else [it]
        )
        if zipped and len(sources) != len(it.args):  # type: ignore[union-attr]
            return None
        columns = [self._comprehension_column(s, hint) for s in sources]
        if not columns or any(c is None for c in columns):
            return None
        names = (
            [el.value for el in comp.target.elements]
            if zipped and isinstance(comp.target, (cst.Tuple, cst.List))
            else [comp.target]
        )
        if len(names) != len(sources) or not all(
            isinstance(n, cst.Name) for n in names
        ):
            return None
        items = []
        for i in range(min(len(c) for c in columns)):  # type: ignore[arg-type]
            reads = {n.value: c[i] for n, c in zip(names, columns)}  # type: ignore[index]
            items.append(cst.Element(e.elt.visit(_NameExprs(reads))))
        return self.bind_display(self.lower(cst.Tuple(items), hint), hint, None)

    def _comprehension_column(
        self, s: cst.BaseExpression, hint: str
    ) -> list[cst.BaseExpression] | None:
        """The items, as expressions that read them, of what a comprehension iterates when
        they are known here: ``xs[i]`` of a name bound to a tuple or list display, the
        elements of a display of names and literals, ``i`` of ``range(n)`` with ``n`` known
        here; else None."""
        if isinstance(s, cst.Name):
            known = self.sequence_items(self.lower(s, hint))
            if known is None:
                return None
            return [
                cst.Subscript(s, [cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])
                for i in range(len(known[1]))
            ]
        if isinstance(s, (cst.Tuple, cst.List)):
            values = [el.value for el in s.elements if isinstance(el, cst.Element)]
            plain = (cst.Name, cst.Integer, cst.Float, cst.SimpleString)
            if len(values) != len(s.elements) or not all(
                isinstance(v, plain) for v in values
            ):
                return None
            return values
        span = self.folded(s)
        if isinstance(span, range) and len(span) <= 64:
            return [
                cst.Integer(str(i)) if i >= 0 else cst.parse_expression(str(i))
                for i in span
            ]
        return None

    def list_slice(
        self, e: cst.Subscript, cur: str, hint: str, target: str | None
    ) -> cst.BaseExpression | None:
        """``lst[a:b:c]`` of a list built here (``cur``, its emitted name): a display's
        items picked while generating, a grown list's picked by position at run time;
        None where neither applies (refused by the caller)."""
        if not (
            len(e.slice) == 1
            and isinstance(e.slice[0].slice, cst.Slice)
            and isinstance(e.value, cst.Name)
        ):
            return None
        display = self._display_slice(cur, e.slice[0].slice, hint)
        if display is not None:
            return self.bind_display(display, hint, target)
        if cur in self.dyn and all(
            self.resolver.lookup(b)[1] is getattr(builtins, b) for b in ("len", "range")
        ):  # (the new list is bound after it is read)
            return self.lower(self._list_slice_items(e), hint, None)
        return None

    def slice_bounds(self, sl: cst.Slice, hint: str) -> list[Any]:
        """A slice's start, stop and step as values known here (``_MISSING`` for one
        known only at run time, None for one left out)."""
        return [
            None if b is None else self.key_of(self.lower(b, hint))
            for b in (sl.lower, sl.upper, sl.step)
        ]

    def bind_display(
        self, display: cst.BaseExpression, hint: str, target: str | None
    ) -> cst.Name:
        """Bind a display of emitted atoms (``target``, else a temporary) and read it."""
        name = target if target is not None else self.names.temp(hint)
        self.bind_atom(name, display)
        self.last_define = (name, self.env[name])
        return cst.Name(self.env[name])

    def _display_slice(
        self, cur: str, sl: cst.Slice, hint: str
    ) -> cst.BaseExpression | None:
        """``t[a:b:c]`` of a tuple or list display whose items are known here, with
        bounds known here: the display of the items it selects (None otherwise)."""
        if cur not in self.lit or self.lit[cur][0] != "seq":
            return None
        kind = self.seq_displays.get(cur, (None, 0))[0]
        if kind is None:
            return None
        bounds = self.slice_bounds(sl, hint)
        if any(b is _MISSING or not isinstance(b, (int, type(None))) for b in bounds):
            return None
        items = [cst.Element(a) for a in self.lit[cur][1][slice(*bounds)]]
        return cst.List(items) if kind == "list" else cst.Tuple(items)

    def _list_slice_items(self, e: cst.Subscript) -> cst.ListComp:
        """``lst[a:b:c]`` of a list built in the function, as the list of the items it
        selects: ``[lst[k] for k in range(len(lst))[a:b:c]]`` (Python's slice, item by
        item, so each item's cotangent goes back to its place)."""
        k = cst.Name(self.names.fresh("k"))
        positions = cst.Subscript(
            value=cst.Call(
                func=cst.Name("range"),
                args=[cst.Arg(cst.Call(func=cst.Name("len"), args=[cst.Arg(e.value)]))],
            ),
            slice=[e.slice[0]],
        )
        return cst.ListComp(
            elt=cst.Subscript(
                value=e.value, slice=[cst.SubscriptElement(cst.Index(k))]
            ),
            for_in=cst.CompFor(target=k, iter=positions),
        )


class _NameExprs(cst.CSTTransformer):
    """Replace plain names (not attributes or keywords) by expressions."""

    def __init__(self, mapping: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return self.mapping.get(original.value, updated)

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)


class _Placeholders(cst.CSTTransformer):
    """Put the user's expressions in place of the names ``__f__``, ``__items__``, ..."""

    def __init__(self, parts: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.parts = parts

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return self.parts.get(original.value, updated)
