"""Copies and dead packing in the forward normal form: fewer look-alike names.

Unrolling ``for W, b in params`` over a list of parameter pairs leaves ``_W1 = (W1, b1)``,
``W = W1``, ``b = b1``, then ``W_1 = W2``, ``b_1 = b2`` ...: aliases whose cotangents
come back as ``d_W1 = d_W`` and ``d_b3 = d_b_2``.  Before segmentation, at the top level
of the function (not inside a loop or branch):

- a copy ``t = p`` of an array parameter ``p`` (not a container) is dropped and ``t`` is
  read as ``p`` (``h_1 @ W2``, ``d_W2`` directly);
- a copy ``t = _tmp`` of a temporary that nothing else reads names the temporary's
  statement ``t`` instead (``logits = h @ W + b`` rather than a temporary and a copy;
  ``i = 1.0 / (1.0 + xp.exp(-z))`` where an inlined ``sigmoid`` returned it), in a loop
  body too;
- a packing ``params = [(W1, b1), (W2, b2)]`` of names that nothing reads (any more) is
  dropped;
- a read ``b = xs[t]`` repeating ``a = xs[t]`` of the same statement list (nothing between
  rebinds its names or has an effect) is dropped and ``b`` read as ``a``.

Only where every read of the name is in a statement's expression (so renaming it there is
the whole change), the name is assigned once, and it is not the function's result.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.templates import substitute

__all__ = ["propagate_forward_copies"]


def propagate_forward_copies(norm: ir.Normalized) -> ir.Normalized:
    """``norm`` with the copies above removed (its statement list rewritten)."""
    for _ in range(3):  # a copy removed may expose another
        if not _once(norm):
            break
    return norm


def _once(norm: ir.Normalized) -> bool:
    defs = ir.def_counts(norm.stmts)
    facts = (_pinned(norm), ir.read_counts(norm), defs)
    changed = _list(norm, norm.stmts, facts, top=True)
    changed = _common_reads(norm, norm.stmts, facts) or changed
    for loop in ir.loops_in(norm.stmts):
        changed = _list(norm, loop.body, facts, top=False) or changed
        changed = _common_reads(norm, loop.body, facts) or changed
    return changed


def _common_reads(norm: ir.Normalized, items: list[Any], facts: tuple) -> bool:
    """``a = xs[t]`` read again as ``b = xs[t]`` in the same statement list, with nothing
    between that binds a name of the read or has an effect: ``b`` is read as ``a`` (one
    value, one saved copy, one cotangent; a GRU reads ``xs[t]`` once per gate)."""
    pinned, _, defs = facts
    seen: dict[str, str] = {}  # the read's text -> the name holding it
    names: dict[str, set[str]] = {}  # the read's text -> the names it reads
    changed = False
    k = 0
    while k < len(items):
        st = items[k]
        if not isinstance(st, ir.Stmt) or st.kind not in (ir.PRIM, ir.COPY, ir.STATIC):
            seen.clear()  # control flow or an effect: nothing carries over it
            k += 1
            continue
        for t in st.targets:
            for key in [key for key, used in names.items() if t in used]:
                seen.pop(key, None)
                del names[key]
        is_read = (
            st.kind == ir.PRIM
            and st.rule is not None
            and st.rule.name == "getitem"
            and len(st.targets) == 1
            and not st.recompute
            and st.expr is not None
        )
        if not is_read:
            k += 1
            continue
        t = st.targets[0]
        key = cst.Module([]).code_for_node(st.expr)
        if key in seen and t not in pinned and defs.get(t) == 1:
            _rename(norm, {t: cst.Name(seen[key])}, skip=st)
            del items[k]
            changed = True
            continue
        if t not in pinned and defs.get(t) == 1:
            seen[key] = t
            names[key] = {n.value for n in ir.name_nodes(st.expr)}
        k += 1
    return changed


def _list(norm: ir.Normalized, items: list[Any], facts: tuple, top: bool) -> bool:
    """One pass over one statement list (the function's own, or a loop body: there only
    a temporary's copy is folded, which renames within the list)."""
    pinned, reads, defs = facts
    arrays = set(norm.params) - set(norm.containers)
    changed = False
    k = 0
    while k < len(items):
        st = items[k]
        if not isinstance(st, ir.Stmt) or len(st.targets) != 1:
            k += 1
            continue
        t = st.targets[0]
        if top and st.kind == ir.STATIC and _dead_packing(st, t, reads, pinned):
            del items[k]
            changed = True
            continue
        src = _copy_source(st)
        if src is None or t in pinned or src in pinned or defs.get(t) != 1:
            k += 1
            continue
        if top and src in arrays and defs.get(src, 0) == 0:
            _rename(norm, {t: cst.Name(src)}, skip=st)
            del items[k]
            changed = True
            continue
        made = _definition(items[:k], src)
        if (
            made is not None
            and norm.names.made.get(src) == ""
            and reads.get(src) == 1
            and defs.get(src) == 1
        ):
            made.targets = [t]
            del items[k]
            changed = True
            continue
        k += 1
    return changed


def _copy_source(st: ir.Stmt) -> str | None:
    if st.kind == ir.COPY and isinstance(st.expr, cst.Name) and not st.recompute:
        return st.expr.value
    return None


def _definition(before: list[Any], name: str) -> ir.Stmt | None:
    """The top-level PRIM statement before the copy that assigns ``name``."""
    for st in reversed(before):
        if isinstance(st, ir.Stmt) and name in st.targets:
            if st.kind == ir.PRIM and len(st.targets) == 1 and not st.recompute:
                return st
            return None
    return None


def _dead_packing(st: ir.Stmt, t: str, reads: dict[str, int], pinned: set[str]) -> bool:
    return (
        isinstance(st.expr, (cst.Tuple, cst.List))
        and _names_only(st.expr)
        and reads.get(t, 0) == 0
        and t not in pinned
    )


def _names_only(node: Any) -> bool:
    """A tuple or list literal of names (nested)."""
    if isinstance(node, cst.Name):
        return True
    return isinstance(node, (cst.Tuple, cst.List)) and all(
        not isinstance(e, cst.StarredElement) and _names_only(e.value)
        for e in node.elements
    )


def _pinned(norm: ir.Normalized) -> set[str]:
    """Names read or bound anywhere but in a statement's expression and bound values:
    renaming them would take more than rewriting those."""
    out: set[str] = set(norm.lists) | set(norm.prebind)
    for node in (norm.out, norm.aux):
        if node is not None:
            out |= {n.value for n in ir.name_nodes(node)}
    for it in ir.walk_stmts(norm.stmts):
        if isinstance(it, ir.Phi):
            out.add(it.target)
            out |= {n.value for n in ir.name_nodes(it.source)}
            continue
        if it.kind not in (ir.PRIM, ir.COPY, ir.STATIC):
            out |= set(it.targets) | set(it.operands)
            for node in (it.expr, it.node, it.target_node):
                if node is not None:
                    out |= {n.value for n in ir.name_nodes(node)}
        if it.container:
            out.add(it.container)
        if it.target_node is not None:
            out |= set(it.targets)
    _control(norm.stmts, out)
    return out


def _control(items: list[Any], out: set[str]) -> None:
    for it in items:
        if isinstance(it, ir.IfNode):
            out |= {n.value for n in ir.name_nodes(it.test)}
            _control(it.body, out)
            _control(it.orelse, out)
        elif isinstance(it, ir.LoopNode):
            if it.iter is not None:
                out |= {n.value for n in ir.name_nodes(it.iter)}
            out |= {c.name for c in it.carried}
            out |= {n for n in (it.target, it.stack) if n}
            _control(it.body, out)


def _rename(norm: ir.Normalized, mapping: dict[str, cst.Name], skip: Any) -> None:
    old = next(iter(mapping))
    new = mapping[old].value
    for it in ir.walk_stmts(norm.stmts):
        if it is skip or not isinstance(it, ir.Stmt):
            continue
        if it.expr is not None:
            it.expr = substitute(it.expr, mapping)
        if it.kind == ir.PRIM and it.node is not None:  # a write: `t[i] = v` as written
            it.node = substitute(it.node, mapping)
        it.bound = {
            k: substitute(v, mapping) if isinstance(v, cst.CSTNode) else v
            for k, v in it.bound.items()
        }
        it.operands = [new if o == old else o for o in it.operands]
