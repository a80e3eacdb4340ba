"""The forward-mode generator, every stage in order:

1-4c. the reverse generator's front end: read, check, normalize, copies, closed forms
      (with the runtime helpers of emitted gradients as primitives, forward over reverse)
5.    activity         the names that carry a tangent (varied and useful)
6.    tangents         each statement, then its tangent statement        -> Emitted
"""

from __future__ import annotations

from typing import Any, Callable

from srcgrad.codegen.activity import analyse
from srcgrad.codegen.check import check_function
from srcgrad.codegen.closed_forms import closed_forms
from srcgrad.codegen.copies import propagate_forward_copies
from srcgrad.codegen.emit import Emitted
from srcgrad.codegen.forward.tangents import emit_tangents
from srcgrad.codegen.pipeline import _normalize, _refuse_array_library
from srcgrad.codegen.source import FunctionSource, read_function
from srcgrad.rules.tangent_helpers import helper_rules


def generate_forward(
    fn: Callable[..., Any], wrt: list[str], containers: dict[str, Any]
) -> tuple[FunctionSource, Emitted]:
    """The forward-mode module of ``fn`` w.r.t. ``wrt``: ``jvp_<f>(*params, *tangents)``
    returns ``(value, tangent)``."""
    _refuse_array_library(fn)
    src = read_function(fn)
    with helper_rules():  # an emitted gradient's helpers are primitives here
        findings = check_function(src)
        norm = _normalize(src, findings, wrt, containers, False)
        norm = closed_forms(propagate_forward_copies(norm))
        activity = analyse(norm)
        return src, emit_tangents(norm, activity)
