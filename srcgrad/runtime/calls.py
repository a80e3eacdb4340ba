"""Calls in emitted code: ``call_vjp`` differentiates a callee (a recursive call) through its
own generated gradient module, and ``stop_gradient`` is the user's marker for a constant (the
identity at run time).
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = [
    "stop_gradient",
    "call_vjp",
]


def stop_gradient(x: Any) -> Any:
    """Identity in the forward pass; no gradient flows through it."""
    return x


_VJPS: dict[tuple[Any, tuple[str, ...]], Any] = {}
# srcgrad.vjp, installed by srcgrad.api when it loads: the runtime sits below the API and does
# not import it, and emitted code (call_vjp's only caller) runs after the API generated it.
_make_vjp: Callable[..., Any] | None = None


def install_vjp(make_vjp: Callable[..., Any]) -> None:
    """Give ``call_vjp`` the API's ``vjp`` (called once, by :mod:`srcgrad.api`)."""
    global _make_vjp
    _make_vjp = make_vjp


def call_vjp(fn: Any, wrt: tuple[str, ...], *args: Any) -> tuple[Any, Any]:
    """``fn(*args)`` and its pullback w.r.t. the parameters ``wrt`` (a recursive call in
    emitted code).  The gradient module of each (function, wrt) pair is generated once and
    shared, also between threads."""
    if not wrt:
        return fn(*args), None
    key = (fn.__code__, wrt)
    vj = _VJPS.get(key)
    if vj is None:
        assert _make_vjp is not None, "srcgrad.api installs it when it is imported"
        vj = _VJPS.setdefault(key, _make_vjp(fn, wrt=wrt if len(wrt) > 1 else wrt[0]))
    return vj(*args)
