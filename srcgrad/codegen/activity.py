"""Stage 5: activity analysis.

After this stage every normal-form statement is marked: a name is *active* when it depends on
a ``wrt`` argument (forward pass) and reaches the output (backward pass).  Only active names
get adjoints.  Straight-line code needs one sweep each way; loops (later) iterate to a fixed
point around their back edges.
"""

from __future__ import annotations

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Normalized


def analyse(norm: Normalized) -> set[str]:
    """The set of active names of ``norm``: varied (from wrt) and useful (to the output)."""
    varied: set[str] = set(norm.wrt)
    for st in norm.stmts:
        if st.kind in ir.DIFF_KINDS and any(o in varied for o in st.operands):
            varied.update(st.targets)
    useful: set[str] = set()
    out = norm.out
    if hasattr(out, "value") and isinstance(getattr(out, "value"), str):
        useful.add(out.value)  # type: ignore[union-attr]
    for st in reversed(norm.stmts):
        if st.kind in ir.DIFF_KINDS and any(t in useful for t in st.targets):
            useful.update(st.operands)
    return varied & useful
