"""Stage 5: group the forward statements into segments.

After this stage every maximal run of straight-line statements, at every level, is one
:class:`~srcgrad.codegen.ir.Segment`; each loop body starts with an empty *head* segment and
ends with an empty one, and the function ends with an empty segment.  A segment is the unit the
backward pass differentiates and, inside a loop, the unit that pushes what its backward reads.
The input is left as it was: branches and loops are new nodes holding new lists.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from srcgrad.codegen import ir


def segment(norm: ir.Normalized) -> ir.Normalized:
    """``norm`` with its statements grouped into segments (see the module docstring)."""
    return dataclasses.replace(norm, stmts=_segments(norm.stmts) + [ir.Segment([])])


def _segments(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    run: list[ir.Stmt] = []
    for it in items:
        if isinstance(it, ir.Stmt):
            run.append(it)
            continue
        if run:
            out.append(ir.Segment(run))
            run = []
        if isinstance(it, ir.IfNode):
            it = dataclasses.replace(
                it, body=_segments(it.body), orelse=_segments(it.orelse)
            )
        elif isinstance(it, ir.LoopNode):
            body = [ir.Segment([], head=True)] + _segments(it.body) + [ir.Segment([])]
            it = dataclasses.replace(it, body=body)
        out.append(it)
    if run:
        out.append(ir.Segment(run))
    return out
