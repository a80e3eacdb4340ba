"""The errors srcgrad raises (DESIGN §2).

Every error carries the user's position and a hint.  ``str(err)`` reads
``path/to/file.py:12:8: error: <what> ... hint: <what to do>``; an error that bundles several
findings prints one line per finding and keeps the attributes of the first.
"""

from __future__ import annotations

__all__ = [
    "SrcgradError",
    "LengthAssumption",
    "UnsupportedSyntaxError",
    "MissingRuleError",
    "NonScalarOutputError",
    "SourceNotFoundError",
    "WrtError",
    "AliasError",
    "InternalError",
    "NonFiniteError",
]


class SrcgradError(Exception):
    """Base class: a problem in user code, reported at the user's file:line:col."""

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        lineno: int | None = None,
        col: int | None = None,
        construct: str | None = None,
        hint: str | None = None,
        errors: list["SrcgradError"] | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.construct = construct
        self.hint = hint
        self.errors = errors if errors is not None else [self]
        super().__init__(self._render())

    def line(self) -> str:
        """One line: ``file:line:col: error: message; hint: ...``."""
        where = ""
        if self.filename:
            where = f"{self.filename}:{self.lineno or 0}:{self.col or 0}: "
        text = f"{where}error: {self.message}"
        if self.hint:
            text += f"; hint: {self.hint}"
        return text

    def _render(self) -> str:
        if len(self.errors) <= 1:
            return self.line()
        lines = [f"{len(self.errors)} problems:"]
        lines += [e.line() for e in self.errors]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._render()

    @classmethod
    def bundle(cls, errors: list["SrcgradError"]) -> "SrcgradError":
        """One error listing every finding once (a line inlined or unrolled several times
        reports its finding once); its attributes are the first finding's."""
        seen: set[tuple[object, ...]] = set()
        unique = []
        for e in errors:
            key = (type(e), e.filename, e.lineno, e.col, e.message, e.hint)
            if key not in seen:
                seen.add(key)
                unique.append(e)
        errors = unique
        first = errors[0]
        if len(errors) == 1:
            return first
        err = type(first)(
            first.message,
            filename=first.filename,
            lineno=first.lineno,
            col=first.col,
            construct=first.construct,
            hint=first.hint,
            errors=list(errors),
        )
        return err


class UnsupportedSyntaxError(SrcgradError):
    """A construct srcgrad cannot differentiate (yet)."""


class MissingRuleError(SrcgradError):
    """A call to a function with no adjoint rule and no non-differentiable declaration."""


class NonScalarOutputError(SrcgradError):
    """``grad`` of a function whose output is not a scalar."""


class SourceNotFoundError(SrcgradError):
    """The function's source cannot be read (REPL, exec, python -c)."""


class WrtError(SrcgradError):
    """A bad ``wrt``: unknown parameter, or an integer/bool argument."""


class AliasError(SrcgradError):
    """An in-place write into memory the function does not own."""


class InternalError(SrcgradError):
    """A bug in srcgrad itself."""


class LengthAssumption(Exception):
    """A forward pass found a slice 1 long that its code was specialised to as not 1 long
    (``runtime.assume_not_one``).  ``srcgrad.grad`` and its kin catch it and run code made
    without that assumption; it reaches a caller only who runs an emitted module itself.
    """


class NonFiniteError(SrcgradError, FloatingPointError):
    """A forward or backward pass produced NaN or Inf; names the forward line that did."""
