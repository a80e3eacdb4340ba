"""The boundary between the program and library code: a call of a library function without
an adjoint rule (an installed package's or the standard library's Python function) is
inlined like the program's own functions, but whatever goes wrong inside it (a construct
srcgrad refuses, a decorator, an exception while reading its source) is reported at the
program's call, naming the library function, with a hint that works there.  Functions of
the array libraries (``numpy``, ``scipy``, ...) are never inlined: only their rules
differentiate them.
"""

from __future__ import annotations

from typing import Any, Callable

import libcst as cst

from srcgrad.codegen.normalize.base import _Bail
from srcgrad.codegen.resolve import LIBRARIES
from srcgrad.errors import MissingRuleError, SrcgradError


def library_call_hint(name: str) -> str:
    """What to do about a library function srcgrad cannot differentiate through."""
    return (
        "wrap its inputs in srcgrad.stop_gradient if no gradient should flow through it; "
        "else write the computation with numpy functions that have rules (`srcgrad rules` "
        f"lists them), or register a rule for it with @srcgrad.rules.adjoint({name})"
    )


def constant_inputs(normalizer: Any, args: list[cst.Arg]) -> bool:
    """Whether no argument of a call carries a gradient: constants, or results of
    ``srcgrad.stop_gradient`` (then a library function's result is a constant too, and its
    body is never read)."""
    return all(
        normalizer.is_static(a.value)
        or isinstance(a.value, cst.Name)
        and a.value.value in normalizer.stopped
        for a in args
    )


def _what_went_wrong(inner: list[Any], here: tuple[Any, ...]) -> str:
    """The first of the problems met inside the library function, with its place (left
    out when it is ``here``, the call itself: a decorator found before reading the body).
    """
    first = inner[0]
    if not isinstance(first, SrcgradError):
        return f"{type(first).__name__}: {first}"
    errors = first.errors
    first = errors[0]
    place = (first.filename, first.lineno, first.col)
    where = f"{place[0]}:{place[1]}:{place[2]}: " if place[0] and place != here else ""
    more = len(errors) - 1 + len(inner) - 1
    extra = f" (and {more} more)" if more > 0 else ""
    return f"{where}{first.message}{extra}"


def inline_library_call(
    normalizer: Any,
    call: cst.CSTNode,
    name: str,
    inline: Callable[[], cst.BaseExpression],
    has_rule: bool = False,
) -> cst.BaseExpression:
    """Inline the library function ``name`` at ``call`` with ``inline()``, reporting any
    problem inside it at ``call`` (one finding there, instead of findings in the library's
    files; inside library code already, the outermost library call reports).  An array
    library's function is refused outright: it has no rule, or (``has_rule``) it was not
    called by its own name.
    """
    package = name.split(".", 1)[0]
    if package in LIBRARIES and has_rule:
        normalizer.fail(
            call,
            f"{name} is differentiated through its adjoint rule when called by its own "
            "name, not through a functools.partial or a method that wraps it",
            f"call {name}(...) itself, passing the partial's arguments at the call",
            name,
            MissingRuleError,
        )
    if package in LIBRARIES:
        normalizer.fail(
            call,
            f"no adjoint rule for {name} (srcgrad differentiates {package} functions "
            "through their rules only)",
            library_call_hint(name),
            name,
            MissingRuleError,
        )
    if normalizer.library_depth:
        return inline()
    n = len(normalizer.findings)
    normalizer.library_depth += 1
    try:
        out = inline()
    except _Bail as b:
        inner = normalizer.findings[n:] + ([b.err] if b.err is not None else [])
        if not inner:
            raise  # a consequence of an earlier finding
    except Exception as exc:  # noqa: BLE001  (reading the library's code failed)
        inner = [exc]
    else:
        if len(normalizer.findings) == n:
            return out
        inner = normalizer.findings[n:]
    finally:
        normalizer.library_depth -= 1
    del normalizer.findings[n:]
    normalizer.fail(
        call,
        f"cannot differentiate {name}, library code without an adjoint rule (inlining "
        f"it failed: {_what_went_wrong(inner, normalizer.src.where(call))})",
        library_call_hint(name),
        name,
        MissingRuleError,
        consequence=False,
    )
    raise AssertionError("unreachable")
