"""Where control leaves: pure queries and rewrites, on the source tree (returns,
breaks and continues, what follows an ``if`` that may leave) and on the lowered
statements (appending where control falls through, branches that end in a break).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen import ir
from srcgrad.codegen.source import own_returns


def _ends_with_exit(stmts: list[cst.BaseStatement]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(
            isinstance(s, (cst.Break, cst.Continue, cst.Return, cst.Raise))
            for s in last.body
        )
    if isinstance(last, cst.If):
        body = list(last.body.body)  # type: ignore[union-attr]
        if last.orelse is None:
            return False
        other = (
            list(last.orelse.body.body)  # type: ignore[union-attr]
            if isinstance(last.orelse, cst.Else)
            else [last.orelse]
        )
        return _ends_with_exit(body) and _ends_with_exit(other)
    return False


def _may_exit(node: cst.CSTNode) -> bool:
    """Does ``node`` contain a break/continue/return that leaves the loop (or function) it is
    in: one outside nested defs and nested loops, or in a nested loop's else clause?"""
    if isinstance(node, (cst.Break, cst.Continue, cst.Return)):
        return True
    if isinstance(node, (cst.For, cst.While)):
        # a nested loop's own exits are its own; those of its else clause leave this loop
        return bool(own_returns(node)) or (
            node.orelse is not None and _may_exit(node.orelse)
        )
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(_may_exit(c) for c in node.children)


def _always_returns(stmts: list[cst.BaseStatement]) -> bool:
    """Does every path through ``stmts`` end in a ``return`` or ``raise`` (by their form: a last
    return, an if/else whose branches all do, a ``while True`` without a break)?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, cst.If):
        if last.orelse is None:
            return False
        other = last.orelse.body if isinstance(last.orelse, cst.Else) else last.orelse
        other_stmts = (
            list(other.body) if isinstance(other, cst.IndentedBlock) else [other]
        )
        return _always_returns(list(last.body.body)) and _always_returns(other_stmts)  # type: ignore[arg-type]
    if isinstance(last, cst.While):
        forever = isinstance(last.test, cst.Name) and last.test.value == "True"
        return forever and not _own_breaks(last)
    if isinstance(last, cst.With):
        return _always_returns(list(last.body.body))  # type: ignore[arg-type]
    return not isinstance(last, cst.For)  # match, try, ...: refused on their own


def _own_breaks(loop: cst.For | cst.While) -> bool:
    """Does ``loop``'s body hold a ``break`` of this loop (not of a loop inside it)?"""

    def walk(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Break):
            return True
        if isinstance(node, (cst.For, cst.While)):
            # a break in a nested loop's else clause leaves this loop
            return node.orelse is not None and walk(node.orelse)
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        return any(walk(c) for c in node.children)

    return any(walk(c) for c in loop.body.children)


def _returns_from_a_loop(fdef: cst.CSTNode) -> bool:
    """Whether a ``return`` of ``fdef`` (not of a nested def) lies inside a loop."""
    own = {id(r) for r in own_returns(fdef)}
    return any(
        id(r) in own
        for loop in m.findall(fdef, m.For() | m.While())
        for r in m.findall(loop, m.Return())
    )


def _has_loop_return(node: cst.CSTNode) -> bool:
    """True when ``node`` holds a loop that may return (one that sets the return flag)."""
    return any(own_returns(loop) for loop in m.findall(node, m.For() | m.While()))


_MakeStatement = Callable[[cst.Break], cst.BaseSmallStatement]


def _before_breaks(
    stmts: list[cst.BaseStatement], make: _MakeStatement, src: Any
) -> list[cst.BaseStatement]:
    """A loop body ``stmts`` with ``make(b)`` put before each ``break`` b that leaves this
    loop (not a nested loop's own, but those of a nested loop's else clause, which runs in
    this loop); the statements it leaves alone stay the same nodes.
    """
    out: list[cst.BaseStatement] = []
    for st in stmts:
        new: cst.BaseStatement = st
        if isinstance(st, cst.SimpleStatementLine) and any(
            isinstance(s, cst.Break) for s in st.body
        ):
            small: list[cst.BaseSmallStatement] = []
            for s in st.body:
                if isinstance(s, cst.Break):
                    small.append(make(s))
                small.append(s)
            new = st.with_changes(body=small)
        elif isinstance(st, cst.If):
            new = _if_before_breaks(st, make, src)
        elif isinstance(st, (cst.For, cst.While)) and isinstance(st.orelse, cst.Else):
            # a nested loop's else clause runs in this loop: its breaks leave this loop
            clause = st.orelse.body
            clause = clause.with_changes(
                body=_before_breaks(list(clause.body), make, src)  # type: ignore[attr-defined]
            )
            new = st.with_changes(orelse=st.orelse.with_changes(body=clause))
        if new is not st:
            src.alias(new, st)
        out.append(new)
    return out


def _if_before_breaks(node: cst.If, make: _MakeStatement, src: Any) -> cst.If:
    def block(b: cst.BaseSuite) -> cst.BaseSuite:
        return b.with_changes(body=_before_breaks(list(b.body), make, src))  # type: ignore[attr-defined]

    body = block(node.body)
    orelse = node.orelse
    if isinstance(orelse, cst.Else):
        orelse = orelse.with_changes(body=block(orelse.body))
    elif isinstance(orelse, cst.If):
        orelse = src.alias(_if_before_breaks(orelse, make, src), orelse)
    return node.with_changes(body=body, orelse=orelse)


def _push_rest(node: cst.If, rest: list[cst.BaseStatement], src: Any) -> cst.If:
    """Append ``rest`` to every branch of ``node`` that can fall through."""
    body = list(node.body.body)  # type: ignore[union-attr]
    if not _ends_with_exit(body):
        body = body + rest
    new_body = node.body.with_changes(body=body)
    orelse = node.orelse
    if orelse is None:
        orelse = cst.Else(body=cst.IndentedBlock(body=list(rest)))
    elif isinstance(orelse, cst.Else):
        ob = list(orelse.body.body)  # type: ignore[union-attr]
        if not _ends_with_exit(ob):
            orelse = orelse.with_changes(body=orelse.body.with_changes(body=ob + rest))
    else:
        orelse = _push_rest(orelse, rest, src)
    return src.alias(node.with_changes(body=new_body, orelse=orelse), node)


def _append_tail(items: list[Any], new: list[Any]) -> None:
    """Append ``new`` where control falls through: into the branches of a trailing ``if``
    that leaves on some path (what follows such an ``if`` runs inside its branches)."""
    if not new:
        return
    last = items[-1] if items else None
    if isinstance(last, ir.IfNode) and (
        _dead_end(items) or _may_leave(last.body) or _may_leave(last.orelse)
    ):
        # also an `if` whose branch leaves only on a nested path (`else: if c: break`, or
        # `else: if c: return ...`): what follows must not run, forward or backward, on the
        # path that left (a join there would read a name that path never bound)
        if last.falls[0]:
            _append_tail(last.body, list(new))
        if last.falls[1]:
            _append_tail(
                last.orelse, [copy.copy(n) for n in new] if last.falls[0] else new
            )
        return
    items.extend(new)


def _dead_end(items: list[Any]) -> bool:
    """Does a path through the trailing ``if`` of ``items`` (and the trailing ``if`` of each
    branch that falls) not fall through?  A return there is lowered to a plain assignment,
    so in the emitted code that path runs on into whatever is appended after the ``if``.
    """
    last = items[-1] if items else None
    if not isinstance(last, ir.IfNode):
        return False
    return (
        not all(last.falls)
        or (last.falls[0] and _dead_end(last.body))
        or (last.falls[1] and _dead_end(last.orelse))
    )


def _may_leave(items: list[Any]) -> bool:
    """Does a path through ``items`` reach a break of the enclosing loop (nested ifs
    included, nested loops not)?"""
    for it in items:
        if isinstance(it, ir.BreakNode):
            return True
        if isinstance(it, ir.IfNode) and (_may_leave(it.body) or _may_leave(it.orelse)):
            return True
    return False


def _ends_in_break(items: list[Any]) -> bool:
    """Whether the branch ``items`` leaves by ``break`` (not by a return)."""
    if not items:
        return False
    last = items[-1]
    if isinstance(last, ir.BreakNode):
        return True
    if isinstance(last, ir.IfNode):
        return all(
            _ends_in_break(b)
            for f, b in zip(last.falls, (last.body, last.orelse))
            if not f
        ) and not all(last.falls)
    return False


def _returns_continue(items: list[Any]) -> None:
    """In an inlined callee's body, a ``return`` (its value already bound to the call's
    result) continues after the call: every ``if`` branch that ended in one falls through.
    Left marked as not falling through, the branch would get no push while the backward pass
    pops one (and a branch test saved inside a loop would be read from the wrong entry).
    """
    for it in items:
        if isinstance(it, ir.IfNode):
            _returns_continue(it.body)
            _returns_continue(it.orelse)
            it.falls = tuple(  # type: ignore[assignment]
                f or not _ends_in_break(b)
                for f, b in zip(it.falls, (it.body, it.orelse))
            )
