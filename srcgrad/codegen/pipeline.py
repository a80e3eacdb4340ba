"""The whole generator, every stage in order (DESIGN §4).

Each stage takes the results of earlier ones and returns its own; none runs inside another:

 1. source              read and parse the function                       -> FunctionSource
 2. check               every unsupported construct, at once              -> findings
 3-4. normalize         resolve names, then ANF/SSA normal form           -> Normalized
 4b. copies            parameter aliases and dead packings of unrolled loops, copy
                        chains between inlined callees, unread pure reads
 4c. closed_forms       a written sigmoid as one primitive; a softmax's max
                        shift a constant                                   -> Normalized
 5. segment             straight-line runs grouped into segments          -> Normalized
 6. activity            varied, useful and active names                   -> Activity
 7. reverse             the backward pass                                 -> Backward
 8. optimize            runtime-helper defaults dropped (drop_default_arguments) -> Backward
 9. specialise          backward rewrites the shape/dtype facts prove     -> Specialised
10. optimize            copy propagation and dead code, to a fixed point  -> Backward
10b. scatters           a cotangent scattered from several subscripts, one call
11. specialise_forward  forward rewrites the facts prove bit-identical    -> Normalized
12. residuals           what fwd keeps, pushes and recomputes for bwd     -> Residuals
13. hoist               a backward loop's weight-gradient sums, one product after it
                        (shape facts prove it); invariant reads and transposes, and
                        numbers as arrays of the step's dtype, before it  -> Backward
13b. tiles             a cotangent joined from pieces that tile an axis: each piece
                        written into its slice of one array (facts prove it)
14. emit                the module text                                   -> Emitted
"""

from __future__ import annotations

from typing import Any, Callable

from srcgrad.codegen.activity import analyse
from srcgrad.codegen.check import check_function
from srcgrad.codegen.emit import Emitted, Unguarded, emit
from srcgrad.codegen.hoist import hoist
from srcgrad.codegen.closed_forms import closed_forms
from srcgrad.codegen.copies import propagate_forward_copies
from srcgrad.codegen.ir import Normalized
from srcgrad.codegen.normalize import normalize
from srcgrad.codegen.optimize import drop_default_arguments, optimize
from srcgrad.codegen.residuals import plan_residuals
from srcgrad.codegen.resolve import library_function
from srcgrad.codegen.reverse import reverse
from srcgrad.codegen.scatters import merge_scatters
from srcgrad.codegen.segment import segment
from srcgrad.codegen.source import FunctionSource, read_function
from srcgrad.codegen.specialise import specialise
from srcgrad.codegen.specialise_forward import specialise_forward
from srcgrad.codegen.tiles import write_pieces
from srcgrad.errors import InternalError, MissingRuleError, SrcgradError
from srcgrad.rules import registry


def generate(
    fn: Callable[..., Any],
    wrt: list[str],
    containers: dict[str, Any],
    has_aux: bool = False,
    arg_specs: dict[str, Any] | None = None,
    lists_only: bool = False,
    recompute: bool = False,
    speculate: bool = False,
) -> tuple[FunctionSource, Emitted]:
    """Generate the gradient module of ``fn``; raises one error listing every finding.

    ``arg_specs`` (parameter -> abstract signature, see ``api._arg_spec``) specialises the
    backward pass to those argument kinds; without it the code is generic.  ``speculate``:
    also to slices of computed bounds that are not 1 long, which the forward checks
    (``assume_not_one``; the caller regenerates without it where a check fails).  Where
    a slice so taken is not in the forward to be checked, the code is made without it.
    """
    _refuse_array_library(fn)
    src = read_function(fn)
    findings = check_function(src)
    norm = _normalize(src, findings, wrt, containers, has_aux)
    norm = closed_forms(propagate_forward_copies(norm))
    forward = segment(norm)
    forward.recompute_calls = recompute  # recursive calls for a higher order
    activity = analyse(forward)
    backward = reverse(forward, activity)
    backward = drop_default_arguments(forward.names, backward)
    spec = specialise(forward, backward, arg_specs, speculate)
    backward = merge_scatters(optimize(spec.backward), forward.names)
    forward = specialise_forward(forward, spec.facts, backward)
    plan = plan_residuals(forward, backward)
    facts = spec.facts.env if spec.facts is not None else None
    backward = hoist(backward, forward.names, facts, plan, lists_only, spec.facts)
    if speculate:  # not for a higher order, which differentiates this code again
        backward = write_pieces(backward, forward.names, spec.facts, plan)
    guards = spec.facts.guards if spec.facts is not None else {}
    try:
        em = emit(forward, backward, activity, plan, spec.note, has_aux, guards)
    except Unguarded:  # a slice taken as not 1 long that the forward does not compute
        return generate(fn, wrt, containers, has_aux, arg_specs, lists_only, recompute)
    return src, em


def _refuse_array_library(fn: Callable[..., Any]) -> None:
    """An array library's function passed to ``srcgrad.grad`` itself (``scipy.linalg.det``):
    srcgrad reads programs, and differentiates such functions through their rules only.
    """
    # ``fn`` as its own home: only an array library's function is library code here (a
    # program installed as a package is differentiated as any program)
    library = library_function(fn, fn)
    if library is None:
        return
    rule = registry.lookup(fn)
    call = f"def f(a): return {library}(a)"
    raise MissingRuleError(
        f"{library} is a library function: srcgrad reads the source of a program's "
        "functions, and differentiates a library's through its adjoint rule",
        construct=library,
        hint=(
            f"differentiate a function of yours that calls it ({call}); it has a rule"
            if rule is not None
            else f"register a rule for it with @srcgrad.rules.adjoint({library}), then "
            f"differentiate a function of yours that calls it ({call})"
        ),
    )


def _normalize(
    src: FunctionSource,
    findings: list[Any],
    wrt: list[str],
    containers: dict[str, Any],
    has_aux: bool,
) -> Normalized:
    """``normalize``'s normal form, or one error with every finding: check's ``findings``
    and normalize's own."""
    norm = None
    try:
        norm = normalize(src, wrt, containers, has_aux)
    except SrcgradError as err:
        seen = {(e.lineno, e.col) for e in findings}
        findings += [e for e in err.errors if (e.lineno, e.col) not in seen]
    except Exception:  # noqa: BLE001  (unsupported code confuses normalize)
        if not findings:
            raise
    if findings:
        findings.sort(key=lambda e: (e.lineno or 0, e.col or 0))
        raise SrcgradError.bundle(findings)
    assert norm is not None
    if norm.skipped:
        # a statement was dropped as the consequence of a finding, yet there is none: never
        # emit code that silently lacks it
        file, line, col = src.where(src.tree.name)
        raise InternalError(
            f"{norm.qualname}: a statement was skipped without a finding",
            filename=file,
            lineno=line,
            col=col,
            construct="internal",
            hint="this is a bug in srcgrad; please report it with the function's source",
        )
    return norm
