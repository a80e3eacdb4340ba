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
from srcgrad.codegen.normalize.base import _MISSING, _Bail, _static_view_operand
from srcgrad.codegen.normalize.syntax import _paren, _subscript_written
from srcgrad.codegen.resolve import is_numpy_module
from srcgrad.errors import AliasError
from srcgrad.rules import registry

# numpy functions that return a new array whatever their arguments
_CREATION = frozenset(
    "zeros ones empty full zeros_like ones_like empty_like full_like eye identity "
    "arange linspace".split()
)


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

    def _makes_new_array(self, st: Stmt) -> bool:
        """``st`` binds arrays of its own: a primitive that is not a view, or a constant
        made by an array-creation function (``np.zeros(n)``)."""
        if st.kind == ir.PRIM:
            return st.rule is not None and not st.rule.view
        e = st.expr
        if st.kind != ir.STATIC or not isinstance(e, cst.Call):
            return False
        parts = self.resolver.dotted(e.func)
        return (
            parts is not None
            and len(parts) == 2
            and parts[0] == self.xp
            and parts[1] in _CREATION
        )

    def note_loop_write(self, user: str, old: str) -> None:
        """``old`` (the value of ``user``) is written in place: each enclosing loop notes
        the arrays the write lands in."""
        roots = self.view_roots.get(old, {old})
        for lp in self.loops:
            lp.setdefault("written", {}).setdefault(user, set()).update(roots)

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

    def ufunc_at_write(self, call: cst.Call) -> bool:
        """``np.add.at(y, key, v)`` (and ``np.subtract.at``) as a statement: a write into
        ``y`` like ``y[key] += v`` except that repeated indices add up (the ``added_at``
        primitive).  False for any other call (other forms are refused as calls)."""
        f = call.func
        if not (
            isinstance(f, cst.Attribute)
            and f.attr.value == "at"
            and isinstance(f.value, cst.Attribute)
            and f.value.attr.value in ("add", "subtract")
            and isinstance(f.value.value, cst.Name)
            and f.value.value.value not in self.env
            and is_numpy_module(self.resolver.lookup(f.value.value.value)[1])
            and len(call.args) == 3
            and all(a.keyword is None and not a.star for a in call.args)
            and isinstance(call.args[0].value, cst.Name)
        ):
            return False
        y, key, v = (a.value for a in call.args)
        if f.value.attr.value == "subtract":
            v = cst.UnaryOperation(operator=cst.Minus(), expression=_paren(v))
        parts = key.elements if isinstance(key, cst.Tuple) else None
        if parts is not None and any(isinstance(p, cst.StarredElement) for p in parts):
            parts = None
        slices = [
            cst.SubscriptElement(cst.Index(k))
            for k in ([p.value for p in parts] if parts is not None else [key])
        ]
        self.subscript_write(cst.Subscript(value=y, slice=slices), v, accumulate=True)
        return True

    def fill_diagonal_write(self, call: cst.Call) -> bool:
        """``np.fill_diagonal(y, v)`` as a statement (``wrap`` left False): the write
        ``y[(np.arange(min(y.shape)),) * y.ndim] = v``, with the checks of any write into
        ``y``.  False for any other call.  (numpy repeats an array ``v`` shorter than the
        diagonal; here it must broadcast, or the write raises.)"""
        f = call.func
        if not (
            isinstance(f, cst.Attribute)
            and f.attr.value == "fill_diagonal"
            and isinstance(f.value, cst.Name)
            and f.value.value not in self.env
            and is_numpy_module(self.resolver.lookup(f.value.value)[1])
            and len(call.args) == 2
            and all(a.keyword is None and not a.star for a in call.args)
            and isinstance(call.args[0].value, cst.Name)
        ):
            return False
        y, v = (a.value for a in call.args)
        size = cst.Call(
            func=cst.Name("min"), args=[cst.Arg(cst.Attribute(y, cst.Name("shape")))]
        )
        arange = cst.Call(
            func=cst.Attribute(f.value, cst.Name("arange")), args=[cst.Arg(size)]
        )
        key = cst.BinaryOperation(
            left=cst.Tuple([cst.Element(arange)]),
            operator=cst.Multiply(),
            right=cst.Attribute(y, cst.Name("ndim")),
        )
        target = cst.Subscript(value=y, slice=[cst.SubscriptElement(cst.Index(key))])
        self.subscript_write(target, v)
        return True

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
        if accumulate:
            self._array_add_at(target, value, user)
        else:
            self._array_write(target, value, user)

    def _view_write_finding(
        self, user: str, cur: str, read: str = ""
    ) -> tuple[str, str, str]:
        """Message, hint and construct of a write into ``cur``, a view (``read``: where a
        name it shares memory with is read again)."""
        base = self.user_name(self.view_root[cur], self.view_root[cur])
        return (
            f"write into {user!r}, a view of {base!r}{read}: numpy writes into {base!r} "
            "too, which the gradient cannot follow",
            f"index {base} itself (e.g. {base}[:, i] = v for {base}.T[i] = v); a copy "
            f"({user} = {user}.copy()) would leave {base} unchanged",
            "write-view",
        )

    def _write_through_view(self, target: cst.Subscript, user: str, cur: str) -> bool:
        """A write into ``cur``, a view of arrays made here (or the same array under another
        name: a callee's returned local), outside loops: numpy changes the arrays it
        looks into as well, the functional rewrite only ``user``'s new version.  The two
        agree as long as none of the others is read again, so each goes stale; a later read
        of one is refused at this write (:meth:`refuse_read_after_view_write`).  In a loop
        a later iteration could read them before this statement: refused now (False)."""
        if self.loops:
            return False
        where = self.src.where(target)
        for root in sorted(self.view_roots.get(cur, {cur})):
            if root != cur:
                self.stale.add(root)
                self.written_through[root] = (user, cur, where)
        return True

    def refuse_read_after_view_write(self, name: str, line: int) -> None:
        """``name`` is read after a write through a view of it: the write's finding."""
        user, cur, (file, wline, col) = self.written_through[name]
        message, hint, construct = self._view_write_finding(
            user, cur, f" (read again at line {line})"
        )
        raise _Bail(
            AliasError(
                self.user_text(message),
                filename=file,
                lineno=wline,
                col=col,
                construct=construct,
                hint=self.user_text(hint),
            )
        )

    def _array_add_at(
        self, target: cst.Subscript, value: cst.BaseExpression, user: str
    ) -> None:
        """``np.add.at(y, key, v)`` on an array made here: ``y_1 = added_at(y, key, v)``
        (its forward adds into its own copy); views of the old version go stale."""
        elements = self.lower_slices(target.slice, user)
        v = self.lower(value, user)
        rule = registry.lookup_name("added_at")
        assert rule is not None
        key = cst.Subscript(value=cst.Name(self.index_name), slice=elements)
        self.runtime_imports.update(("index", "added_at"))
        old = self.env[user]
        self.note_loop_write(user, old)
        self.mark_stale(old)
        expr = cst.Call(
            func=cst.Name(self.names.generated("added_at")),
            args=[cst.Arg(cst.Name(old)), cst.Arg(key), cst.Arg(v)],
        )
        self.prim(rule, user, user, expr, {"x": cst.Name(old), "key": key, "v": v})

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
