"""Gradient checks for users and rule authors (DESIGN §2, §6): ``check_grad`` checks
``srcgrad.grad(f)`` on a user function, ``check_adjoint`` one adjoint rule, both against
central differences (:mod:`srcgrad.finite_differences` does the comparing).

This module sits on top of the public API: ``check_grad`` checks whatever ``srcgrad.grad`` is
when it is called.  ``import srcgrad`` makes it available as ``srcgrad.testing`` on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import srcgrad
from srcgrad.finite_differences import check_adjoint, compare_gradient

__all__ = ["check_adjoint", "check_grad"]


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    wrt: int | str | tuple[int | str, ...] = 0,
    eps: float | Sequence[float] = (1e-4, 1e-5, 1e-6),
    rtol: float = 1e-5,
    atol: float = 1e-6,
    n_dirs: int = 3,
    seed: int = 0,
) -> None:
    """Check ``srcgrad.grad(f, wrt=wrt)`` against central differences of ``f``.

    Float arguments (and float leaves of dict / list / tuple / NamedTuple arguments) are
    converted to float64.  For each argument in ``wrt`` and each of ``n_dirs`` random
    directions ``v`` over its float leaves, the directional derivative ``<grad, v>`` must match
    ``(f(x + e v) - f(x - e v)) / (2 e)`` for at least one step ``e`` in ``eps`` within
    ``atol + rtol * max(|lhs|, |rhs|)``.  Every evaluation of ``f`` gets a fresh deep copy of
    the arguments, so a function that draws from a ``np.random.Generator`` argument sees the
    same stream each time, and a function that mutates its inputs cannot corrupt later
    evaluations.  Also checked: the gradient's structure and leaf shapes and dtypes, and that
    computing it leaves the arguments unchanged.

    Args:
        f: the function; it must return a scalar.
        *args: its positional arguments.
        wrt: the argument(s) to differentiate: a position, a parameter name or a tuple.
        eps: the central-difference step, or several to try.
        rtol: relative tolerance.
        atol: absolute tolerance.
        n_dirs: how many random directions per argument.
        seed: seeds the random directions.

    Raises:
        AssertionError: on any mismatch, naming the argument.
    """
    compare_gradient(
        srcgrad.grad,
        f,
        *args,
        wrt=wrt,
        eps=eps,
        rtol=rtol,
        atol=atol,
        n_dirs=n_dirs,
        seed=seed,
    )
