"""Run-time checks that emitted code makes where srcgrad cannot decide statically: a read of a
view whose base was written since, an augmented assignment into a shared array, a ``dtype=``
that makes an integer result.  Each raises srcgrad's error with the place in the user's
source.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad.backend import namespace
from srcgrad.errors import SrcgradError, AliasError, LengthAssumption, MissingRuleError

__all__ = [
    "assume_not_one",
    "require_unshared",
    "require_not_array",
    "require_float_dtype",
    "require_length",
    "require_real",
    "require_nonzero",
    "require_distinct",
]


def assume_not_one(x: Any, *axes: int) -> None:
    """Check what the code after it was specialised to: the axes ``axes`` of ``x`` (a slice
    of computed bounds) are not 1 long.  Raises :class:`~srcgrad.errors.LengthAssumption`
    where one is; the caller then runs code made without that assumption."""
    shape = x.shape
    for a in axes:
        if shape[a] == 1:
            raise LengthAssumption(
                f"axis {a} of a slice of shape {tuple(shape)} is 1 long; this code was "
                "specialised to it not being so: call it through srcgrad.grad (or "
                "value_and_grad, vjp), which then makes the code without that assumption"
            )


def require_unshared(view: Any, base: Any, where: str) -> Any:
    """Refuse a read of ``view`` if it is a view of ``base``, which was written since: numpy
    would see the write, the functional rewrite would not."""
    if hasattr(view, "shape") and namespace(view, base).may_share_memory(view, base):
        name, at = _where(where)
        raise AliasError(
            f"{name!r} is a view of an array that was written after the view was taken",
            hint="take a copy when you make it (.copy()), or read it again after the write",
            construct="stale-view",
            **at,
        )
    return view


def _where(where: str) -> tuple[str, dict[str, Any]]:
    """``"file:line: name"`` (as emitted code passes it) as the name and the error's place."""
    file, line, name = (
        where.rsplit(":", 2) if where.count(":") >= 2 else ("", "0", where)
    )
    lineno = int(line) if line.strip().isdigit() else None
    return name.strip(), {
        "filename": file or None,
        "lineno": lineno,
        "col": 1 if lineno else None,
    }


def require_not_array(value: Any, where: str) -> Any:
    """Refuse ``name op= v`` when ``name`` holds an array that something else also sees (a view,
    an argument's entry, a callee's argument): numpy writes such an array in place, the
    functional rewrite ``name = name op v`` would not.  Python and numpy scalars pass.
    """
    if isinstance(value, (int, float, complex, np.generic)) or not hasattr(
        value, "shape"
    ):
        return value
    name, at = _where(where)
    raise AliasError(
        f"{name} op= ...: an augmented assignment writes in place into an array that is a "
        "view, an argument or a value of the caller",
        hint=f"write it functionally ({name} = {name} + v), or take a copy first "
        f"({name} = {name}.copy())",
        construct="augassign",
        **at,
    )


def require_float_dtype(dtype: Any, where: str) -> Any:
    """Refuse a ``dtype=`` that srcgrad could not read from the source when it is not a float
    or complex dtype: the result would then be a constant, not differentiated."""
    if dtype is None or np.dtype(dtype).kind in "fc":
        return dtype
    raise MissingRuleError(
        f"{where}: dtype={np.dtype(dtype)} makes an integer or boolean result, which has no "
        "gradient",
        hint="write the dtype in the call (dtype=int), or cast a constant copy "
        "(srcgrad.stop_gradient(x).astype(int))",
    )


def require_length(x: Any, n: int) -> Any:
    """``a, b, c = x`` on an array: Python unpacks exactly ``len(x)`` rows, so any other
    count raises as Python does (the emitted code reads the rows by index)."""
    have = len(x)
    if have > n:
        raise ValueError(f"too many values to unpack (expected {n})")
    if have < n:
        raise ValueError(f"not enough values to unpack (expected {n}, got {have})")
    return x


def require_real(x: Any, what: str) -> Any:
    """``x`` itself when it is real; a complex ``x`` is refused, for a rule written for
    real values only (``what`` names it)."""
    if isinstance(x, complex) or getattr(getattr(x, "dtype", None), "kind", "") == "c":
        raise SrcgradError(
            f"a higher-order gradient through {what} of complex values",
            construct="complex",
            hint="stop at the order below, or differentiate it on real values",
        )
    return x


def require_nonzero(x: Any, what: str) -> Any:
    """``x`` itself when none of its entries is zero; otherwise refused, for a rule that
    divides by ``x`` (``what`` names it).  Checked for numpy values (a device array is
    not read back to the host: there a zero gives inf or nan)."""
    if namespace(x) is np and not bool(np.all(np.asarray(x) != 0)):
        raise SrcgradError(
            f"a higher-order gradient through {what} at an operand with zeros",
            construct="zeros",
            hint="stop at the order below, or differentiate it away from zeros",
        )
    return x


def require_distinct(x: Any, what: str) -> Any:
    """``x`` itself when no two entries along its last axis are equal (eigenvalues, singular
    values); otherwise refused, for a rule that divides by their differences (``what``
    names it).  Checked for numpy values, as :func:`require_nonzero`."""
    if namespace(x) is np:
        v = np.asarray(x)
        if v.ndim and bool(np.any(np.diff(np.sort(v, axis=-1), axis=-1) == 0)):
            raise SrcgradError(
                f"a higher-order gradient through {what}",
                construct="repeated",
                hint="stop at the order below, or differentiate it where they are distinct",
            )
    return x
