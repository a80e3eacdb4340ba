"""Code specialised to slices of computed bounds that are not 1 long, and the code made
without that where a call finds one that is.

The generator takes the length of a slice whose bounds the program computes
(``gi[:, 2 * hidden :]``) as not 1, as it takes the arguments' lengths, and the forward
pass checks it after the slice (``runtime.assume_not_one``).  A check that fails raises
:class:`~srcgrad.errors.LengthAssumption` before anything that relied on it ran; the call
then runs the code made without the assumption (the ``"_general"`` variant of the
gradient, its own cache file), and keeps it for those argument kinds.
"""

from __future__ import annotations

from typing import Any

from srcgrad.errors import LengthAssumption

__all__ = ["speculates", "forward"]


def speculates(gf: Any) -> bool:
    """Whether ``gf``'s code may take slices of computed bounds as not 1 long: only where
    :func:`forward` runs it, not in a module a higher order or forward mode reads."""
    return not (gf._general or gf._lists_only or gf._recompute or gf._mode)


def forward(gf: Any, st: Any, args: tuple[Any, ...]) -> tuple[Any, Any]:
    """``(state, (out, residuals))``: the forward pass of the loaded module ``st`` of
    ``gf`` on ``args``; where it finds a slice 1 long that the code took as not, the code
    made without that assumption runs instead, and serves these argument kinds from now.
    """
    try:
        return st, st.fwd(*args)
    except LengthAssumption:
        st = gf.variant("_general")._prepare(args)
        gf._states[tuple(map(gf.spec_of, args))] = st
        gf._state = st
        return st, st.fwd(*args)
