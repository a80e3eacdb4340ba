"""``@srcgrad.custom_vjp``: a user function with its own adjoint rule (DESIGN §5, §6).

::

    @srcgrad.custom_vjp
    def logsumexp(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    @logsumexp.defvjp
    def logsumexp_vjp(g, ans, x):
        return g * np.exp(x - ans)        # the gradient is softmax(x)

A differentiated function that calls ``logsumexp(x)`` runs it as written in the forward pass
and calls ``logsumexp.vjp(d_ans, ans, x)`` in the backward pass: one cotangent per positional
parameter (a tuple when there are several; ``None`` for no gradient).

Forward mode (:func:`srcgrad.jvp`) calls ``logsumexp.jvp(dots, ans, x)`` where one is
attached with ``.defjvp``; ``dots`` holds one tangent per positional parameter (``None``
where it carries none) and the rule returns the tangent of ``ans``::

    @logsumexp.defjvp
    def logsumexp_jvp(dots, ans, x):
        return np.sum(np.exp(x - ans) * dots[0])

Without one, forward mode refuses the call: a custom rule often stands for a derivative
that the function's own code does not have (a stable formula, a straight-through estimate),
so differentiating that code would be a guess.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = ["custom_vjp", "CustomVJP"]


class CustomVJP:
    """A function with a user-supplied adjoint rule."""

    def __init__(self, fn: Callable[..., Any], returns: str | None = None) -> None:
        self.fn = fn
        self.vjp: Callable[..., Any] | None = None
        self.jvp: Callable[..., Any] | None = None
        self.returns = returns
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def defvjp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Attach ``rule(g, ans, *args) -> cotangents``; usable as a decorator."""
        self.vjp = rule
        return rule

    def defjvp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Attach ``rule(dots, ans, *args) -> tangent`` for forward mode; usable as a
        decorator."""
        self.jvp = rule
        return rule

    def __repr__(self) -> str:
        return f"<srcgrad.custom_vjp {self.fn.__qualname__}>"


def custom_vjp(
    fn: Callable[..., Any] | None = None, *, returns: str | None = None
) -> Any:
    """Mark ``fn`` as a primitive whose adjoint rule is given with ``.defvjp``.

    ``@custom_vjp(returns="x")`` marks a check that returns its argument ``x`` unchanged
    (or raises): a differentiated function calls it for its effect, and the value it
    returns is ``x`` itself, with everything the generator knows of ``x`` (its shape
    facts) and its cotangent passed straight through; no rule is needed."""
    if fn is None:
        return lambda f: CustomVJP(f, returns)
    return CustomVJP(fn, returns)
