"""Stage 7: clean up the backward pass.

After this stage no backward statement is dead (its target is never read before being
rebound, and it has no side effect: rule bodies are pure), and calls to runtime helpers carry
no keyword argument equal to that helper's default.  Repeated to a fixed point.  The forward
pass is never changed: it does exactly the user's operations, in the user's order.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import libcst as cst
import libcst.matchers as m

import srcgrad.runtime as runtime
from srcgrad.codegen.facts import forward_in_place, specialise
from srcgrad.codegen.reverse import BIf, BLoop, Block, BSeg, Reversed, substitute


def names_in(node: cst.CSTNode) -> set[str]:
    """Names read under ``node``: not attribute names nor keyword names (a plain walk)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            names.add(n.value)
        elif isinstance(n, (cst.Attribute, cst.Arg)):
            stack.append(n.value)
        else:
            stack.extend(n.children)
    return names


def assigned_names(st: cst.BaseSmallStatement) -> list[str]:
    out: list[str] = []
    if isinstance(st, cst.Assign):
        for t in st.targets:
            for n in m.findall(t.target, m.Name()):
                out.append(cst.ensure_type(n, cst.Name).value)
    return out


_READS: dict[int, tuple[Any, frozenset[str]]] = {}


def read_names(st: cst.BaseSmallStatement) -> set[str]:
    """Names a statement reads (memoised per node: nodes are immutable)."""
    hit = _READS.get(id(st))
    if hit is None or hit[0] is not st:
        if len(_READS) > 20000:
            _READS.clear()
        hit = _READS[id(st)] = (
            st,
            frozenset(names_in(st.value if isinstance(st, cst.Assign) else st)),
        )
    return set(hit[1])


def all_blocks(items: list[Any]) -> list[Any]:
    """Every Block in a nested backward item list."""
    out: list[Any] = []
    for it in items:
        if isinstance(it, Block):
            out.append(it)
        elif isinstance(it, BSeg):
            out += it.blocks
        elif isinstance(it, BIf):
            out += all_blocks(it.body) + it.fills_body + all_blocks(it.orelse) + it.fills_orelse
        elif isinstance(it, BLoop):
            out += it.pre + all_blocks(it.body)
    return out


def control_reads(items: list[Any]) -> set[str]:
    """Names read by the control structure of the backward pass (tests, loop headers)."""
    out: set[str] = set()
    for it in items:
        if isinstance(it, BIf):
            out |= names_in(it.node.test) | control_reads(it.body) | control_reads(it.orelse)
        elif isinstance(it, BLoop):
            if it.node.iter is not None:
                out |= names_in(it.node.iter)
            out |= control_reads(it.body)
        elif isinstance(it, BSeg):
            pass
    return out


def eliminate_dead_code(rev: Reversed) -> bool:
    """Drop backward statements whose results are never read.  Returns True if it changed.

    Straight-line backward passes get an exact, flow-sensitive sweep; with branches and
    loops a statement is dropped when nothing else reads what it assigns.
    """
    if all(_is_flat(it) for it in rev.blocks):
        return _dce_flat(rev)
    blocks = all_blocks(rev.blocks)
    reads: set[str] = set(control_reads(rev.blocks))
    for g in rev.grads:
        reads |= names_in(g)
    for b in blocks:
        for st in b.stmts:
            reads |= read_names(st) - set(assigned_names(st))
    changed = False
    for b in blocks:
        kept = [
            st
            for st in b.stmts
            if not assigned_names(st) or any(t in reads for t in assigned_names(st))
        ]
        if len(kept) != len(b.stmts):
            changed = True
            b.stmts = kept
    return changed


def _is_flat(it: Any) -> bool:
    return isinstance(it, (Block, BSeg))


def _dce_flat(rev: Reversed) -> bool:
    live: set[str] = set()
    for g in rev.grads:
        live |= names_in(g)
    changed = False
    blocks = all_blocks(rev.blocks)
    for block in reversed(blocks):
        kept: list[cst.BaseSmallStatement] = []
        for st in reversed(block.stmts):
            targets = assigned_names(st)
            if targets and not any(t in live for t in targets):
                changed = True
                continue
            live -= set(targets)
            live |= read_names(st)
            kept.append(st)
        block.stmts = list(reversed(kept))
    for it in rev.blocks:
        if isinstance(it, BSeg):
            it.blocks = [b for b in it.blocks if b.stmts]
    return changed


class _DropDefaults(cst.CSTTransformer):
    def __init__(self, defaults: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.defaults = defaults

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not isinstance(updated.func, cst.Name):
            return updated
        d = self.defaults.get(updated.func.value)
        if not d:
            return updated
        args = []
        for a in updated.args:
            if a.keyword is not None and a.keyword.value in d:
                try:
                    value = _literal(a.value)
                except ValueError:
                    value = _NOPE
                if (
                    value is not _NOPE
                    and value == d[a.keyword.value]
                    and type(value) is type(d[a.keyword.value])
                ):
                    continue
            args.append(a)
        if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(args=args)


_NOPE = object()


def _literal(node: cst.BaseExpression) -> Any:
    code = cst.Module([]).code_for_node(node)
    return ast.literal_eval(code)


def drop_default_arguments(rev: Reversed, helper_names: dict[str, str]) -> None:
    """Remove keyword arguments of runtime helpers that equal the helper's default."""
    defaults: dict[str, dict[str, Any]] = {}
    for alias, name in helper_names.items():
        fn = getattr(runtime, name, None)
        if fn is None or not callable(fn):
            continue
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        defaults[alias] = {
            p.name: p.default for p in sig.parameters.values() if p.default is not p.empty
        }
    t = _DropDefaults(defaults)
    for block in all_blocks(rev.blocks):
        block.stmts = [st.visit(t) for st in block.stmts]  # type: ignore[misc]


def _runs(items: list[Any]) -> list[list[Any]]:
    """Maximal straight-line runs of backward items (Blocks and BSegs), at every level."""
    out: list[list[Any]] = []
    run: list[Any] = []
    for it in items:
        if isinstance(it, (Block, BSeg)):
            run.append(it)
            continue
        if run:
            out.append(run)
            run = []
        if isinstance(it, BIf):
            out += _runs(it.body) + _runs(it.orelse)
            out += [it.fills_body, it.fills_orelse]
        elif isinstance(it, BLoop):
            out += [it.pre] + _runs(it.body)
    if run:
        out.append(run)
    return out


def _run_blocks(run: list[Any]) -> list[tuple[bool, Any]]:
    """(starts a segment, block) for each block of a run; a segment starts with a pop."""
    out: list[tuple[bool, Any]] = []
    for it in run:
        if isinstance(it, BSeg):
            out += [(k == 0, b) for k, b in enumerate(it.blocks)]
        else:
            out.append((False, it))
    return out


def _copy_of(st: cst.BaseSmallStatement) -> tuple[str, str] | None:
    """``(a, b)`` for a statement ``a = b`` between two names, else None."""
    if (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and isinstance(st.value, cst.Name)
    ):
        return st.targets[0].target.value, st.value.value
    return None


def propagate_copies(rev: Reversed) -> bool:
    """After ``a = b``, read ``b`` for ``a`` until either is rebound (within a run; across
    the pop that starts a segment only for cotangent names, which no pop assigns), then drop
    stores that are overwritten before any read.  Returns True if it changed."""
    cot = set(rev.adjoints.values())
    changed = False
    for run in _runs(rev.blocks):
        alias: dict[str, str] = {}
        for starts, block in _run_blocks(run):
            if starts:
                alias = {k: v for k, v in alias.items() if k in cot and v in cot}
            new = []
            for st in block.stmts:
                if isinstance(st, cst.Assign) and alias and read_names(st) & set(alias):
                    mapping = {k: cst.Name(v) for k, v in alias.items()}
                    st = st.with_changes(value=substitute(st.value, mapping))
                    changed = True
                copy = _copy_of(st)
                if copy is not None and copy[0] == copy[1]:
                    changed = True  # x = x: nothing to do
                    continue
                for t in assigned_names(st):
                    alias = {k: v for k, v in alias.items() if t not in (k, v)}
                if copy is not None:
                    alias[copy[0]] = copy[1]
                new.append(st)
            block.stmts = new
        flat = [st for _, block in _run_blocks(run) for st in block.stmts]
        dead: set[int] = set()
        nxt: dict[str, str] = {}  # name -> "read" / "write": what happens to it next
        for st in reversed(flat):  # one backward sweep: linear in the run's length
            targets = assigned_names(st)
            if len(targets) == 1 and isinstance(st, cst.Assign) and nxt.get(targets[0]) == "write":
                dead.add(id(st))
                continue  # a dropped store reads nothing
            for t in targets:
                nxt[t] = "write"
            for r in read_names(st):
                nxt[r] = "read"
        if dead:
            changed = True
            for _, block in _run_blocks(run):
                block.stmts = [st for st in block.stmts if id(st) not in dead]
    return changed


def optimize(rev: Reversed, arg_specs: dict[str, Any] | None = None) -> Reversed:
    """Run the clean-up passes to a fixed point (see the module docstring); with
    ``arg_specs``, first the rewrites that shape and dtype facts allow (``facts.py``)."""
    helper_names = {rev.norm.names.generated(h): h for h in rev.helpers}
    drop_default_arguments(rev, helper_names)
    specialise(rev, arg_specs)
    while True:
        copies = propagate_copies(rev)
        dead = eliminate_dead_code(rev)
        if not (copies or dead):
            break
    inf = getattr(rev, "facts", None)
    if inf is not None:  # last: it needs to know every name the backward pass reads
        bwd_reads = control_reads(rev.blocks)
        for b in all_blocks(rev.blocks):
            for st in b.stmts:
                bwd_reads |= read_names(st)
        for g in rev.grads:
            bwd_reads |= names_in(g)
        forward_in_place(rev, inf.env, inf.uf, bwd_reads)
    return rev
