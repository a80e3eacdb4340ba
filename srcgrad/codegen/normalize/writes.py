"""In-place writes and aliasing: which names may share memory (views, copies, items of
containers), stale views after a write, and subscript and augmented writes lowered to
new versions (refused where numpy's sharing would show).
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _MISSING, _static_view_operand
from srcgrad.codegen.normalize.syntax import _subscript_written
from srcgrad.errors import AliasError
from srcgrad.rules import registry


class Writes:
    """In-place writes, views and aliases (a mixin of :class:`Normalizer`)."""

    def track_alias(self, user: str) -> None:
        """Record that the name just bound is the array it was copied or read from (``v = y``,
        ``v = params["W"]``, an item of a list of views); views made by primitives are recorded
        where they are emitted (:meth:`note_view`)."""
        name = self.env.get(user)
        if name is None or not self.stmts or not isinstance(self.stmts[-1], Stmt):
            return
        st = self.stmts[-1]
        if name not in st.targets or st.kind not in (ir.COPY, ir.READ, ir.LISTGET):
            return
        src = st.operands[0] if st.operands else None
        if src is None:
            return
        if st.kind == ir.READ:
            self.borrowed.add(name)
        else:
            self.alias_of(name, [src])

    def inherit_view(self, new: str, old: str) -> None:
        """``new`` is another version of ``old`` (a loop-carried or joined name): when ``old``
        is a view, or holds one, so is ``new`` (a write into it would be a write into the
        base, which the functional rewrite cannot follow)."""
        if old in self.list_versions or self._python_list(old):
            self.list_versions.add(new)
        if old in self.view_root:
            self.view_root.setdefault(new, self.view_root[old])
        if old in self.borrowed:
            self.borrowed.add(new)
        roots = self.view_roots.get(old)
        if roots and old in self.view_root:
            self.view_roots.setdefault(new, set()).update(roots)
            for root in roots:
                self.views.setdefault(root, set()).add(new)

    def note_view(self, st: Stmt) -> None:
        """A primitive whose rule says it may return a view (``Rule.view``): every name it
        binds may share memory with every array operand."""
        rule = st.rule
        if rule is None or not rule.view:
            return
        if rule.name == "getitem":
            kind = self._key_kind(st.bound.get("key"))
            if kind == "copy":
                return  # indexing with a list copies
            if kind == "maybe":
                self.maybe_views.update(st.targets)
        srcs = [o for o in st.operands if o in self.locals]
        for name in st.targets:
            self.alias_of(name, srcs)

    def alias_of(self, name: str, srcs: list[Any], container: bool = False) -> None:
        """``name`` may share memory with each array in ``srcs`` (emitted names; other atoms
        are skipped).  A write into one of them, in place as numpy does it, makes ``name``
        stale.  ``container``: ``name`` is a tuple, list or dict holding them (it is not
        itself a view, so writing into it is not a write into them)."""
        for src in srcs:
            if isinstance(src, cst.Name):
                src = src.value
            if not isinstance(src, str) or src == name or src not in self.locals:
                continue
            # (constants too: `A = np.zeros(...); rows = A.T; rows[i] = v` writes into A)
            roots = self.view_roots.get(src, {src})
            if not container:
                if src in self.params_set or src in self.borrowed:
                    self.borrowed.add(name)
                else:
                    self.view_root.setdefault(name, sorted(roots)[0])
            self.view_roots.setdefault(name, set()).update(roots)
            for root in roots:
                self.views.setdefault(root, set()).add(name)

    def alias_of_either(self, name: str, atoms: list[cst.BaseExpression]) -> None:
        """``name`` is one of ``atoms`` (``a if c else b``, ``a or b``): the same object as
        whichever was chosen, so a later write into a named array (or a view) it may be shows
        in ``name`` in numpy."""
        self.alias_of(
            name,
            [
                a
                for a in atoms
                if isinstance(a, cst.Name)
                and (a.value in self.env.values() or a.value in self.view_roots)
            ],
        )

    def _view_sources(
        self, e: cst.BaseExpression, local: Any
    ) -> list[cst.BaseExpression]:
        """The operands the value of ``e`` may be a numpy view of, by the rules' ``view`` fact:
        a call of a view primitive (``np.ravel(A)``, ``xp.flip(A)``): its arguments; an
        attribute, subscript or method of a view (``A.T``, ``A[1:]``, ``A.reshape(...)``): its
        receiver; anything else (a new array): none.  ``local``: the names that are locals
        (a call through one is a method, not a module function)."""
        if isinstance(e, cst.Call):
            parts = self.resolver.dotted(e.func)
            obj: Any = None
            if (
                parts is not None and parts[0] == self.xp
            ):  # numpy's function, called by xp
                obj = np
                for p in parts[1:]:
                    obj = getattr(obj, p, None)
            elif parts is not None and parts[0] not in local:
                chain = self._global_chain(e.func)
                obj = chain[1] if chain is not None else None
            if obj is not None:  # a function (not a method of a local)
                rule = registry.lookup(obj)
                return (
                    [a.value for a in e.args] if rule is not None and rule.view else []
                )
        operand = _static_view_operand(e)
        return [operand] if operand is not None else []

    def _static_view_bases(self, expr: cst.BaseExpression) -> list[str]:
        """The locals an expression of constants may be a numpy view of, through any chain of
        views (:meth:`_view_sources`): ``np.squeeze(A[None])`` is a view of ``A``."""
        if isinstance(expr, cst.Name):
            return [expr.value] if expr.value in self.locals else []
        return [
            b
            for s in self._view_sources(expr, self.locals)
            for b in self._static_view_bases(s)
        ]

    def _refuse_iterating_what_the_loop_writes(self, node: cst.For) -> None:
        """``for r in x:`` whose body writes ``x`` (or an array sharing its memory) in place:
        numpy's iterator hands out rows of the array as it is then, so a later row shows the
        writes of earlier iterations, which the functional rewrite does not."""

        def arrays_under(e: cst.BaseExpression) -> list[str]:
            # the local names an iterable reads its items from (through views, enumerate, zip)
            if isinstance(e, cst.Name):
                return [e.value] if e.value in self.env else []
            if (
                isinstance(e, cst.Call)
                and isinstance(e.func, cst.Name)
                and e.func.value in ("enumerate", "zip", "reversed")
            ):
                return [n for a in e.args for n in arrays_under(a.value)]
            return [n for s in self._view_sources(e, self.env) for n in arrays_under(s)]

        for name in arrays_under(node.iter):
            cur = self.env[name]
            if cur in self.lit and self.lit[cur][0] == "dict":
                continue  # a dict's entries may change while it is iterated (new keys: no)
            roots = self.view_roots.get(cur, {cur})
            written = [
                w
                for w in sorted(_subscript_written(node.body))
                if w in self.env
                and self.view_roots.get(self.env[w], {self.env[w]}) & roots
            ]
            if not written:
                continue
            w, under = written[0], cst.Name(name)
            self.fail(
                node,
                f"the loop iterates over {under.value!r} and its body writes {w!r} in place: "
                "numpy's later rows see the earlier iterations' writes",
                f"iterate over a copy (for ... in {under.value}.copy():), or write {w} "
                f"functionally ({w} = ...)",
                "loop-over-written",
                AliasError,
            )

    def _refuse_carried_views(
        self, node: cst.For | cst.While, before: set[str], loop: dict[str, Any]
    ) -> None:
        """A name written in place in a loop body while a view of it, or a list holding it,
        lives across iterations (made before the loop): a later iteration's write changes
        what the earlier one kept in numpy, never in the functional rewrite.  Not when every
        write lands in an array the iteration made itself (``u = np.zeros(n)`` before
        ``u[1:] = ...``): what an earlier iteration kept is another array."""
        fresh = {
            t
            for st in ir.walk_stmts(self.stmts)
            if isinstance(st, Stmt) and self._makes_new_array(st)
            for t in st.targets
        }
        written = loop.get("written", {})
        for u in sorted(_subscript_written(node.body)):
            cur = self.env.get(u)
            if cur is None or (u in written and written[u] <= fresh):
                continue
            for root in sorted(self.view_roots.get(cur, {cur})):
                for v in sorted(self.views.get(root, ())):
                    if v not in before or v == cur:
                        continue
                    user = next((k for k, e in self.env.items() if e == v), v)
                    self.fail(
                        node,
                        f"{u!r} is written in place in the loop while {user!r}, made before "
                        f"the loop, holds it or a view of it: a later iteration's write would "
                        f"change what an earlier one kept",
                        f"keep a copy ({user}.append({u}.copy())) or write {u} functionally "
                        f"({u} = {u} + ...)",
                        "loop-carried-view",
                        AliasError,
                    )

    def aug_assign_name(self, target: cst.Name) -> None:
        """``y op= v`` on a name: numpy writes an array in place, so views of ``y`` (and lists
        holding it) are stale after it, and when ``y`` may itself be a view, an argument's
        entry or a caller's value, a run-time check refuses an array (scalars rebind).
        """
        user = target.value
        cur = self.env.get(user)
        if cur is None:
            return
        if (
            cur in self.borrowed
            or cur in self.view_root
            or cur in self.arg_names
            or cur in self.maybe_views
        ):
            self.runtime_imports.add("require_not_array")  # an array here is a view
            o = self.origin
            call = cst.Call(
                func=cst.Name(self.names.generated("require_not_array")),
                args=[
                    cst.Arg(cst.Name(cur)),
                    cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {user}"))),
                ],
            )
            self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
        self.note_loop_write(user, cur)
        self.mark_stale(cur)
        self.stale.discard(cur)  # `y` itself is read (and checked above), not stale
        self.maybe_stale.pop(cur, None)

    def mark_stale(self, array: str) -> None:
        """Views of ``array`` (taken so far) may not be read after a write into it."""
        for root in self.view_roots.get(array, {array}):
            self._stale_views_of(root, array)

    def _stale_views_of(self, root: str, array: str) -> None:
        for v in self.views.pop(root, set()):
            if v in self.maybe_views:
                self.maybe_stale[v] = (
                    array  # checked at run time: int index or array index?
                )
            else:
                self.stale.add(v)

    def _key_kind(self, key: Any) -> str:
        """ "copy" for a literal list index, "maybe" when an index is only known at run time
        (an int is a view, an array a copy), else "view"."""
        if not isinstance(key, cst.Subscript):
            return "view"
        kind = "view"
        for el in key.slice:
            sl = el.slice
            if isinstance(sl, cst.Index) and isinstance(
                sl.value, (cst.List, cst.Tuple)
            ):
                return "copy"
            if isinstance(sl, cst.Index) and not self.is_static(sl.value):
                kind = "maybe"
        return kind

    def subscript_write(
        self,
        target: cst.Subscript,
        value: cst.BaseExpression,
        accumulate: bool = False,
    ) -> None:
        """``y[key] = v`` becomes ``y_1 = y.copy(); y_1[key] = v``: a new version of ``y``
        (DESIGN §5).  Only arrays made in this call may be written.  ``accumulate``: the
        write of ``np.add.at(y, key, v)``."""
        if not isinstance(
            target.value, cst.Name
        ):  # K.flat[...] = v, a.T[0] = v, f(x)[i] = v
            written = self.src.module.code_for_node(target.value).strip()
            self.fail(
                target,
                f"in-place write into {written}[...]: srcgrad writes only into arrays bound to "
                "a name",
                "index the array itself, e.g. K[i, j] = v; for a diagonal write "
                "K = K + v * np.eye(len(K))",
                "write-expression",
            )
        user = target.value.value
        cur = self.env.get(user)
        hint = f"{user} = {user}.copy()  before writing into it"
        if cur is None:
            self.fail(
                target,
                f"write into {user!r}, an array captured from outside the function",
                hint,
                "write-captured",
                AliasError,
            )
        if cur in self.params_set or cur in self.arg_names:
            self.fail(
                target,
                f"write into the argument {user!r}",
                hint,
                "write-argument",
                AliasError,
            )
        if cur in self.borrowed:
            self.fail(
                target,
                f"write into {user!r}, a view of an argument",
                hint,
                "write-view",
                AliasError,
            )
        if cur in self.dyn and cur not in self.arg_names:
            cur = self.known_list_as_display(user, cur)
        if cur in self.lit_stmt and cur not in self.lit:
            self.constant_display_items(cur)  # a list of constants, now written into
        if not accumulate and self._display_item_write(target, value, user, cur):
            return
        if cur in self.lit or cur in self.dyn or cur in self.cont:
            self.fail(
                target,
                f"item assignment into the container {user!r}",
                "build a new tuple/list/dict, or stack arrays and write into the array",
                "container-write",
            )
        if cur in self.view_root and not self._write_through_view(target, user, cur):
            self.fail(target, *self._view_write_finding(user, cur), AliasError)
        if self._python_list(cur):
            self.fail(
                target,
                f"item assignment into the Python list {user!r} (made by [None] * n, "
                "list() or .tolist(); not an array) with a value that carries a gradient",
                f"build it with append: {user} = [first], then {user}.append(v) in "
                f"step order, and read {user}[t]",
                "container-write",
            )
        if accumulate:
            self._array_add_at(target, value, user)
        else:
            self._array_write(target, value, user)

    def _display_item_write(
        self, target: cst.Subscript, value: cst.BaseExpression, user: str, cur: Any
    ) -> bool:
        """``d[k] = v`` on a dict or list display built here, with a constant key it has: the
        display's entry changes (True); refused inside a branch or loop; False for other
        writes."""
        if (
            cur in self.lit
            and self.lit[cur][0] in ("dict", "seq")
            and len(target.slice) == 1
            and isinstance(target.slice[0].slice, cst.Index)
        ):
            key = self.key_of(self.lower(target.slice[0].slice.value, user))
            entries = self.lit[cur][1]
            here = self.display_depth.get(cur) == len(self.loops)
            if self.in_branch or (self.loops and not here):
                # (a display made or carried item by item by this loop changes in this
                # iteration, and the loop carries the new item on)
                try:
                    self.fail(
                        target,
                        f"item assignment into {user!r} inside a branch or loop",
                        "build the dict or list after the branch, or use separate names",
                        "container-write",
                    )
                finally:
                    self.poisoned.add(
                        user
                    )  # what is read from it later would echo this
            if (
                isinstance(entries, dict)
                and key not in entries
                and user in self.iterated_dicts
            ):
                self.fail(
                    target,
                    f"a new key added to the dict {user!r} while a loop iterates over "
                    "it (Python raises RuntimeError: dictionary changed size)",
                    "put the new entries into another dict, and read them from it",
                    "container-write",
                )
            if key is not _MISSING and (
                isinstance(entries, dict)
                or (isinstance(key, int) and -len(entries) <= key < len(entries))
            ):
                # d[k] = v on a dict/list display built here: the display's entry changes
                v = self.lower(value, user)
                if isinstance(v, (cst.Tuple, cst.List, cst.Dict)):
                    tmp = self.names.temp(user)
                    self.bind_atom(tmp, v)
                    v = cst.Name(self.env[tmp])
                entries[key] = v  # shared with any alias, as the Python object is
                node = cst.Assign(
                    targets=[
                        cst.AssignTarget(
                            cst.Subscript(
                                value=cst.Name(cur),
                                slice=[
                                    cst.SubscriptElement(cst.Index(self.literal(key)))
                                ],
                            )
                        )
                    ],
                    value=v,
                )
                self.stmts.append(Stmt(ir.EFFECT, [], None, self.origin, node=node))
                return True
        return False

    def _python_list(self, cur: str) -> bool:
        """Whether the constant ``cur`` is a Python list (``[None] * n``, ``[0.0 for _ in
        range(n)]``, ``list(...)``, ``a.tolist()``), not an array: its items are no array
        entries."""
        made = next(
            (
                st.expr
                for st in reversed(self.stmts)
                if getattr(st, "targets", None) == [cur]
            ),
            None,
        )
        if cur in self.list_versions:  # a loop carries it in a name of its own
            return True
        if cur not in self.static:
            return False
        lists = (cst.List, cst.ListComp, cst.Tuple)
        if isinstance(made, cst.BinaryOperation):
            return isinstance(made.left, lists) or isinstance(made.right, lists)
        if isinstance(made, cst.Call) and isinstance(made.func, cst.Attribute):
            return made.func.attr.value == "tolist"  # np.zeros(3).tolist()
        if isinstance(made, cst.Call):
            return isinstance(made.func, cst.Name) and made.func.value in (
                "list",
                "tuple",
            )
        return isinstance(made, lists)

    def _array_write(
        self, target: cst.Subscript, value: cst.BaseExpression, user: str
    ) -> None:
        """``y[key] = v`` on an array made here: the ``assign_at`` primitive, whose forward
        writes into its own copy; views of the old version go stale."""
        elements = self.lower_slices(target.slice, user)
        v = self.lower(value, user)
        rule = registry.lookup_name("assign_at")
        assert rule is not None
        key = cst.Subscript(value=cst.Name(self.index_name), slice=elements)
        self.runtime_imports.add("index")
        old = self.env[user]
        self.note_loop_write(user, old)
        # the old version's views would see the write in Python: they may not be used after it
        self.mark_stale(old)
        expr = cst.Subscript(value=cst.Name(old), slice=elements)
        self.prim(rule, user, user, expr, {"x": cst.Name(old), "key": key, "v": v})
        st = self.stmts[-1]
        st.label = "assign_at"
        st.node = cst.Assign(  # the forward writes into its own copy: y_1[key] = v
            targets=[
                cst.AssignTarget(
                    cst.Subscript(value=cst.Name(st.targets[0]), slice=elements)
                )
            ],
            value=v,
        )
