"""In-place calls and writes through second names: ``np.add.at`` / ``np.subtract.at`` and
``np.fill_diagonal`` as writes, a write through a view or another name of an array made here
(the other names go stale), and which arrays a loop's writes land in.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import emitted_function
from srcgrad.codegen.normalize.syntax import _paren
from srcgrad.codegen.resolve import is_numpy_module
from srcgrad.codegen.shape_facts import CREATION
from srcgrad.errors import AliasError
from srcgrad.rules import registry

# numpy functions that return a new array whatever their arguments
_CREATION = frozenset(CREATION) | {"linspace"}


class InPlace:
    """In-place calls and writes through other names (a mixin of :class:`Normalizer`)."""

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

    def out_keywords(self, e: cst.Call) -> cst.Call:
        """A call's ``out=`` and ``where=`` keywords: dropped from srcgrad's own emitted
        forward (out= into a fresh temporary), refused anywhere else (a statement
        ``np.f(x, out=y)`` never gets here: :meth:`out_argument_write`)."""
        if emitted_function(self.resolver.fn) and any(
            a.keyword is not None and a.keyword.value == "out" for a in e.args
        ):
            # srcgrad's own emitted forward writes out= only into a fresh temporary that
            # nothing reads again (specialise_forward.forward_in_place): the functional
            # form computes the same value
            e = e.with_changes(
                args=[
                    a for a in e.args if a.keyword is None or a.keyword.value != "out"
                ]
            )
        for a in e.args:
            if a.keyword is not None and a.keyword.value in ("out", "where"):
                self.fail(
                    a,
                    f"{a.keyword.value}= argument"
                    + (
                        " into something other than a name"
                        if a.keyword.value == "out"
                        else ""
                    ),
                    (
                        "bind the result instead: y = np.f(...) without out= (out= into a "
                        "name, np.f(x, out=y), is supported)"
                        if a.keyword.value == "out"
                        else "compute both and choose: np.where(mask, np.f(x), y)"
                    ),
                    a.keyword.value,
                )
        return e

    def out_argument_write(self, call: cst.Call) -> cst.Name | None:
        """``np.exp(z, out=z)``, ``np.dot(X, W, out=h)``: a call that writes its result into
        the array its ``out=`` names, as the write ``h[...] = np.dot(X, W)`` (broadcast and
        cast into ``h`` as numpy writes it), with the checks of any write into ``h``.
        Returns the array written (the call's value), or None for any other call (an
        ``out=`` that is no plain name, or with ``where=``, is refused as before)."""
        if emitted_function(self.resolver.fn):
            return None  # srcgrad's own out= into a dead temporary: see out_keywords
        outs = [
            a for a in call.args if a.keyword is not None and a.keyword.value == "out"
        ]
        if len(outs) != 1 or any(
            a.star or a.keyword is not None and a.keyword.value == "where"
            for a in call.args
        ):
            return None
        target = outs[0].value
        if isinstance(target, cst.Tuple) and len(target.elements) == 1:
            target = target.elements[0].value  # out=(h,), as ufuncs also take it
        if not isinstance(target, cst.Name):
            return None
        plain = call.with_changes(args=[a for a in call.args if a is not outs[0]])
        plain = plain.with_changes(
            args=(
                [
                    *plain.args[:-1],
                    plain.args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT),
                ]
                if plain.args
                else []
            )
        )
        whole = cst.SubscriptElement(cst.Index(cst.Ellipsis()))
        self.subscript_write(cst.Subscript(value=target, slice=[whole]), plain)
        return target

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
        user, cur, where = self.written_through[name]
        finding = self._view_write_finding(user, cur, f" (read again at line {line})")
        self.fail_at(where, *finding, AliasError)

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

    def refuse_carried_aliases(
        self, node: cst.For | cst.While, loop: dict[str, Any]
    ) -> None:
        """Two names a loop carries that hold one array at the end of an iteration (``y = x``
        after ``x[0] = ...``) hold it at the start of the next one too, where a write into it
        in place through one name shows in the other in numpy, never in the functional
        rewrite (each name is carried as its own value).  Refused where the loop writes one
        of them in place and reads the other."""
        written: set[str] = set()
        for roots in loop.get("written", {}).values():
            written |= roots
        if not written:
            return
        cmap = loop["map"]
        users = [u for u in cmap if u in self.env]
        reads = _loads_in(node.body)

        def roots(name: str) -> set[str]:
            return self.view_roots.get(name, {name})

        for i, u in enumerate(users):
            for v in users[i + 1 :]:
                if not roots(self.env[u]) & roots(self.env[v]):
                    continue
                for a, b in ((u, v), (v, u)):
                    if roots(cmap[a].name) & written and b in reads:
                        self.fail(
                            node,
                            f"{b!r} and {a!r} hold one array from one iteration to the "
                            f"next, and the loop writes {a!r} in place: numpy's write shows "
                            f"in {b!r} too, which the gradient cannot follow",
                            f"bind a copy ({b} = {a}.copy()), or write {a} functionally "
                            f"({a} = np.where(...), {a} = {a} + ...)",
                            "loop-carried-view",
                            AliasError,
                        )


def _loads_in(node: cst.CSTNode) -> set[str]:
    """The names ``node`` reads (not those it only assigns)."""
    targets = {
        id(n)
        for t in m.findall(node, m.AssignTarget() | m.For())
        for n in m.findall(t.target, m.Name())  # type: ignore[union-attr]
        if not isinstance(t, cst.AssignTarget)
        or t.target is n
        or isinstance(t.target, (cst.Tuple, cst.List))
    }
    return {n.value for n in m.findall(node, m.Name()) if id(n) not in targets}
