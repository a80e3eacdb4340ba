"""Stage 5: activity analysis.

After this stage every name is classified: a name is *active* when it depends on a ``wrt``
argument (varied) and reaches the output (useful).  Only active names get adjoints.  The two
propagations run over every statement of the nested body, branches and loops included, and
repeat until nothing changes: a loop's back edge (its carried names) can make a statement
active that an earlier sweep saw as inactive.
"""

from __future__ import annotations

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Normalized, Phi


def _flow(item: object) -> tuple[list[str], list[str]] | None:
    """(targets, operands) of a statement through which a gradient can flow."""
    if isinstance(item, Phi):
        src = item.source
        return [item.target], [src.value] if isinstance(src, cst.Name) else []
    if isinstance(item, ir.Stmt) and item.kind == ir.APPEND:
        return [item.container], item.operands  # type: ignore[list-item]
    if isinstance(item, ir.Stmt) and item.kind in ir.DIFF_KINDS:
        return item.targets, item.operands
    return None


def analyse(norm: Normalized) -> set[str]:
    """The set of active names of ``norm``: varied (from wrt) and useful (to the output)."""
    flows = [f for f in (_flow(it) for it in ir.walk_stmts(norm.stmts)) if f is not None]
    varied: set[str] = set(norm.wrt)
    changed = True
    while changed:
        changed = False
        for targets, operands in flows:
            if any(o in varied for o in operands) and not all(t in varied for t in targets):
                varied.update(targets)
                changed = True
    useful: set[str] = set()
    out = norm.out
    if isinstance(out, cst.Name):
        useful.add(out.value)
    changed = True
    while changed:
        changed = False
        for targets, operands in flows:
            if any(t in useful for t in targets) and not all(o in useful for o in operands):
                useful.update(operands)
                changed = True
    return varied & useful
