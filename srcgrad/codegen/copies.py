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
  rebinds its names or has an effect) is dropped and ``b`` read as ``a``;
- an inlined callee's one return, a join no branch or loop meets, is a copy; a copy
  ``h = out`` of a callee's value that nothing else reads names the callee's statement
  ``h`` (the caller's name), and a copy ``x_4 = x_3`` of a version of the same user name
  (or into a temporary) is dropped and read as ``x_3``: a chain of copies between
  inlined layers leaves one name;
- a pure statement nothing reads (a field or constant item of a parameter, ``layer =
  model.layers[1]`` of a layer without weights; a constant, an unused default ``None``)
  is dropped, in every statement list.

Only where every read of the name is in a statement's expression (so renaming it there is
the whole change), the name is assigned once, and it is not the function's result.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.arithmetic import fold_size_arithmetic
from srcgrad.codegen.templates import substitute

__all__ = ["propagate_forward_copies"]


def propagate_forward_copies(norm: ir.Normalized) -> ir.Normalized:
    """``norm`` with the copies above removed (its statement list rewritten)."""
    for _ in range(8):  # a copy removed may expose another
        if not _once(norm):
            break
    return norm


def _once(norm: ir.Normalized) -> bool:
    defs = ir.def_counts(norm.stmts)
    changed = _straight_joins(norm, defs)
    facts = (_pinned(norm), ir.read_counts(norm), defs)
    changed = _list(norm, norm.stmts, facts, top=True) or changed
    changed = _common_reads(norm, norm.stmts, facts) or changed
    changed = _inline_constants(norm) or changed
    changed = fold_size_arithmetic(norm) or changed
    changed = _dead_reads(norm) or changed
    for loop in ir.loops_in(norm.stmts):
        changed = _list(norm, loop.body, facts, top=False) or changed
        changed = _common_reads(norm, loop.body, facts) or changed
    return changed


def _inline_constants(norm: ir.Normalized) -> bool:
    """A temporary bound once to a short literal (an inlined callee's ``stride`` given as
    ``(1, 1)``, a ``1`` passed on to a check) is read as the literal, in statements and
    effects alike; ``(2, 2)[0]`` then reads ``2``.  Returns True if it changed."""
    defs = ir.def_counts(norm.stmts)
    blocked = _pinned(norm, effects=False)
    found: dict[str, cst.BaseExpression] = {}
    for it in ir.walk_stmts(norm.stmts):
        if (
            isinstance(it, ir.Stmt)
            and it.kind == ir.STATIC
            and len(it.targets) == 1
            and it.target_node is None
            and not it.recompute
            and norm.names.made.get(it.targets[0]) == ""
            and defs.get(it.targets[0]) == 1
            and it.targets[0] not in blocked
            and _short_literal(it.expr)
        ):
            found[it.targets[0]] = it.expr
    if not found:
        return False
    fold = _FoldItems()
    for it in ir.walk_stmts(norm.stmts):
        if not isinstance(it, ir.Stmt):
            continue
        if it.expr is not None:
            it.expr = substitute(it.expr, found).visit(fold)
        if it.node is not None and it.kind in (ir.PRIM, ir.EFFECT):
            it.node = substitute(it.node, found).visit(fold)
        it.bound = {
            k: substitute(v, found).visit(fold) if isinstance(v, cst.CSTNode) else v
            for k, v in it.bound.items()
        }
        it.operands = [o for o in it.operands if o not in found]
    return True  # the bindings, now unread, go with the dead reads


def _short_literal(node: Any) -> bool:
    """A literal number, string, bool or None, or a tuple of such, of at most 24 chars."""
    if isinstance(node, cst.Name):
        ok = node.value in ("True", "False", "None")
    elif isinstance(node, cst.UnaryOperation):
        ok = isinstance(node.operator, cst.Minus) and isinstance(
            node.expression, (cst.Integer, cst.Float)
        )
    elif isinstance(node, cst.Tuple):
        ok = all(
            isinstance(e, cst.Element) and _short_literal(e.value)
            for e in node.elements
        )
    else:
        ok = isinstance(node, (cst.Integer, cst.Float, cst.SimpleString))
    return ok and len(cst.Module([]).code_for_node(node)) <= 24


class _FoldItems(cst.CSTTransformer):
    """``(2, 2)[0]`` is ``2``: a constant item of a tuple literal."""

    def leave_Subscript(
        self, original: cst.Subscript, updated: cst.Subscript
    ) -> cst.BaseExpression:
        tup = updated.value
        if not isinstance(tup, cst.Tuple) or len(updated.slice) != 1:
            return updated
        index = updated.slice[0].slice
        if not (isinstance(index, cst.Index) and isinstance(index.value, cst.Integer)):
            return updated
        k = int(index.value.value, 0)
        if not 0 <= k < len(tup.elements):
            return updated
        item = tup.elements[k]
        return item.value if isinstance(item, cst.Element) else updated


def _dead_reads(norm: ir.Normalized) -> bool:
    """Drop the pure statements nothing reads, in every statement list: a read of a
    parameter's field or item (``layer = model.layers[1]`` of a layer without weights),
    a constant.  Repeats until none is left (a dropped read may leave its base unread).
    """
    changed = False
    while True:
        reads = ir.read_counts(norm)
        for it in ir.walk_stmts(norm.stmts):
            if isinstance(it, ir.Stmt):
                for node in it.bound.values():
                    if isinstance(node, cst.CSTNode):
                        for n in ir.name_nodes(node):
                            reads[n.value] = reads.get(n.value, 0) + 1
                for o in it.operands:
                    reads[o] = reads.get(o, 0) + 1
        dropped = _drop_unread(norm.stmts, reads, _kept_names(norm))
        if not dropped:
            return changed
        changed = True


def _kept_names(norm: ir.Normalized) -> set[str]:
    """Names used where :func:`ir.read_counts` does not look: lists, prebound names, the
    loops' own names, the lists statements grow."""
    out = set(norm.lists) | set(norm.prebind)
    for loop in ir.loops_in(norm.stmts):
        out |= {c.name for c in loop.carried}
        out |= {n for n in (loop.target, loop.stack) if n}
    for it in ir.walk_stmts(norm.stmts):
        if isinstance(it, ir.Stmt) and it.container:
            out.add(it.container)
    return out


def _drop_unread(items: list[Any], reads: dict[str, int], pinned: set[str]) -> bool:
    dropped = False
    for it in items:
        if isinstance(it, ir.IfNode):
            dropped = _drop_unread(it.body, reads, pinned) or dropped
            dropped = _drop_unread(it.orelse, reads, pinned) or dropped
        elif isinstance(it, ir.LoopNode):
            dropped = _drop_unread(it.body, reads, pinned) or dropped
    kept = [
        it
        for it in items
        if not (
            isinstance(it, ir.Stmt)
            and it.kind in (ir.STATIC, ir.READ)
            and it.targets
            and not it.recompute
            and not any(reads.get(t) or t in pinned for t in it.targets)
            and _pure(it.expr)
        )
    ]
    if len(kept) == len(items):
        return dropped
    items[:] = kept
    return True


def _pure(node: Any) -> bool:
    """A name, a literal, or a field or constant item of such: reading it runs no code."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float, cst.SimpleString)):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _pure(node.expression)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(isinstance(e, cst.Element) and _pure(e.value) for e in node.elements)
    if isinstance(node, cst.Attribute):
        return _pure(node.value)
    if isinstance(node, cst.Subscript):
        return _pure(node.value) and all(
            isinstance(e.slice, cst.Index) and _pure(e.slice.value) for e in node.slice
        )
    return False


_PLAIN_KINDS = (ir.PRIM, ir.COPY, ir.STATIC, ir.READ, ir.EFFECT)


def _common_reads(norm: ir.Normalized, items: list[Any], facts: tuple) -> bool:
    """``a = xs[t]`` read again as ``b = xs[t]`` in the same statement list, with nothing
    between that binds a name of the read or has an effect: ``b`` is read as ``a`` (one
    value, one saved copy, one cotangent; a GRU reads ``xs[t]`` once per gate).  A static
    field or item of a parameter (``model.layers``, read once per inlined layer) counts
    too, and outlives an effect (a check reads, and never rebinds, a parameter's field).
    """
    pinned, _, defs = facts
    seen: dict[str, str] = {}  # the read's text -> the name holding it
    fields: set[str] = set()  # the texts of static reads among them
    names: dict[str, set[str]] = {}  # the read's text -> the names it reads
    changed = False
    k = 0
    while k < len(items):
        st = items[k]
        if not isinstance(st, ir.Stmt) or st.kind not in _PLAIN_KINDS:
            seen.clear()  # control flow or an append: nothing carries over it
            k += 1
            continue
        if st.kind == ir.EFFECT:  # a static field of a parameter outlives a check
            for key in [key for key in seen if key not in fields]:
                del seen[key]
            k += 1
            continue
        for t in st.targets:
            for key in [key for key, used in names.items() if t in used]:
                seen.pop(key, None)
                del names[key]
        is_read = (
            (st.kind == ir.PRIM and st.rule is not None and st.rule.name == "getitem")
            or (
                # a static field or item of a parameter (``model.layers`` per layer)
                st.kind == ir.STATIC
                and isinstance(st.expr, (cst.Attribute, cst.Subscript))
                and _pure(st.expr)
            )
        ) and (len(st.targets) == 1 and not st.recompute and st.expr is not None)
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
            if st.kind == ir.STATIC:
                fields.add(key)
            names[key] = {n.value for n in ir.name_nodes(st.expr)}
        k += 1
    return changed


def _straight_joins(norm: ir.Normalized, defs: dict[str, int]) -> bool:
    """A join ``t = s`` at the top level of the function (an inlined callee's one return:
    no branch or loop meets there), its name bound nowhere else, is a copy."""
    changed = False
    for k, it in enumerate(norm.stmts):
        if (
            isinstance(it, ir.Phi)
            and not it.static
            and isinstance(it.source, cst.Name)
            and defs.get(it.target) == 1
            and it.target not in norm.prebind
            and it.target not in norm.lists
        ):
            src = it.source.value
            norm.stmts[k] = ir.Stmt(
                ir.COPY, [it.target], it.source, it.origin, operands=[src], label="copy"
            )
            changed = True
    return changed


def _list(norm: ir.Normalized, items: list[Any], facts: tuple, top: bool) -> bool:
    """One pass over one statement list (the function's own, or a loop body: there only
    a temporary's copy is folded, which renames within the list)."""
    pinned, reads, defs = facts
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
        if src is None or defs.get(t) != 1:
            k += 1
            continue
        if top and t not in pinned and _same_value(norm, st, src, defs, reads):
            _rename(norm, {t: cst.Name(src)}, skip=st)
            del items[k]
            changed = True
            continue
        if src in pinned or (
            # read where renaming cannot reach (an effect, a test, the result): still,
            # at the top level the temporary's statement may bind it (no loop reads an
            # earlier value of it between the two)
            t in pinned
            and not (top and t not in norm.prebind and t not in norm.lists)
        ):
            k += 1
            continue
        if _name_definition(norm, items, k, facts):
            changed = True
            continue
        k += 1
    return changed


def _same_value(
    norm: ir.Normalized,
    st: ir.Stmt,
    src: str,
    defs: dict[str, int],
    reads: dict[str, int],
) -> bool:
    """Whether the copy ``t = src`` at the top level may go, ``t`` read as ``src``: ``src``
    an array parameter (never rebound), or bound once and ``t`` a later version of the
    same user name (``x_4 = x_3`` between two inlined layers), a temporary, or a callee's
    name for its caller's value (``x = check_input(..., x, ...)`` of a layer called on
    ``h``: ``h`` is the name its reader knows)."""
    t = st.targets[0]
    if src in norm.prebind or src in norm.lists:
        return False
    if src in set(norm.params) - set(norm.containers):
        return defs.get(src, 0) == 0
    if defs.get(src) != 1 or src in norm.params:
        return False
    if norm.names.made.get(t) == "":
        return True
    if _callee_line(norm, st) and (
        norm.names.made.get(src) != "" or reads.get(src, 0) > 1
    ):  # the caller's value; a temporary too where more than the copy reads it (an
        return (
            True  # inlined relu's result that a pooling layer's check_input hands on)
        )
    user = norm.names.user_name(t)
    return user is not None and user == norm.names.user_name(src)


def _name_definition(
    norm: ir.Normalized, items: list[Any], k: int, facts: tuple
) -> bool:
    """The copy ``t = _tmp`` at ``items[k]`` of a temporary that nothing else reads:
    the temporary's statement binds ``t`` and the copy goes."""
    _, reads, defs = facts
    t, src = items[k].targets[0], items[k].expr.value
    made = _definition(items[:k], src)
    if (
        made is not None
        and (norm.names.made.get(src) == "" or _callee_line(norm, made))
        and reads.get(src) == 1
        and defs.get(src) == 1
    ):
        made.targets = [t]
        del items[k]
        return True
    return False


def _copy_source(st: ir.Stmt) -> str | None:
    if st.kind == ir.COPY and isinstance(st.expr, cst.Name) and not st.recompute:
        return st.expr.value
    return None


def _callee_line(norm: ir.Normalized, st: ir.Stmt) -> bool:
    """Whether ``st`` comes from an inlined callee's line (``out = x * w`` of a layer whose
    result the caller names ``h``): the caller's name is the one its reader knows."""
    src = norm.src
    last = src.first_line + src.text.count("\n")
    return st.origin.file != src.filename or not (
        src.first_line <= st.origin.line <= last
    )


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


def _pinned(norm: ir.Normalized, effects: bool = True) -> set[str]:
    """Names read or bound anywhere but in a statement's expression and bound values:
    renaming them would take more than rewriting those (``effects=False``: an effect's
    reads are not pinned, for a rewrite that reaches its statement too)."""
    out: set[str] = set(norm.lists) | set(norm.prebind)
    for node in (norm.out, norm.aux):
        if node is not None:
            out |= {n.value for n in ir.name_nodes(node)}
    for it in ir.walk_stmts(norm.stmts):
        if isinstance(it, ir.Phi):
            out.add(it.target)
            out |= {n.value for n in ir.name_nodes(it.source)}
            continue
        if it.kind not in (ir.PRIM, ir.COPY, ir.STATIC) and (
            effects or it.kind != ir.EFFECT
        ):
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
