"""The whole generator: source -> check -> resolve/normalize -> activity -> reverse ->
optimize -> emit."""

from __future__ import annotations

from typing import Any, Callable

from srcgrad.codegen.activity import analyse
from srcgrad.codegen.check import check_function
from srcgrad.codegen.emit import Emitted, emit
from srcgrad.codegen.normalize import normalize
from srcgrad.codegen.optimize import optimize
from srcgrad.codegen.reverse import reverse
from srcgrad.codegen.source import FunctionSource, read_function
from srcgrad.errors import InternalError, SrcgradError


def generate(
    fn: Callable[..., Any],
    wrt: list[str],
    containers: dict[str, Any],
    has_aux: bool = False,
    arg_specs: dict[str, Any] | None = None,
) -> tuple[FunctionSource, Emitted]:
    """Generate the gradient module of ``fn``; raises one error listing every finding.

    ``arg_specs`` (parameter -> abstract signature, see ``api._arg_spec``) specialises the
    backward pass to those argument kinds; without it the code is generic.
    """
    src = read_function(fn)
    findings = check_function(src)
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
    rev = optimize(reverse(norm, analyse(norm)), arg_specs)
    return src, emit(rev, has_aux=has_aux)
