"""Calling a primitive, or its adjoint rule, with the arguments of a call bound by parameter
name (what the JVPs of :mod:`srcgrad.rules.tangents` and
:mod:`srcgrad.rules.tangent_helpers` build on), and zero tangents."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from srcgrad import tree
from srcgrad.rules.registry import Rule

Jvp = Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]


def _positional(rule: Rule) -> list[str]:
    return [p for p in rule.params if p not in rule.defaults and p != "__callee__"]


def call(rule: Rule, b: dict[str, Any]) -> Any:
    """``rule.primitive`` called with the bound arguments ``b``: parameters without a default
    positionally (``*varargs`` spread), the others by keyword."""
    pos = _positional(rule)
    args: list[Any] = []
    for p in pos:
        if p == rule.varargs:
            args += list(b.get(p, ()))
        else:
            args.append(b[p])
    kwargs = {k: v for k, v in b.items() if k not in pos}
    return rule.primitive(*args, **kwargs)


_SIGS: dict[int, Any] = {}


def call_adjoint(rule: Rule, g: Any, ans: Any, b: dict[str, Any]) -> Any:
    """``rule.adjoint(g, ans, ...)`` with the bound arguments ``b`` passed as its signature
    takes them (positional-only and ``*varargs`` parameters positionally)."""
    sig = _SIGS.get(id(rule.adjoint))
    if sig is None:
        sig = _SIGS[id(rule.adjoint)] = inspect.signature(rule.adjoint)
    args: list[Any] = [g, ans]
    kwargs: dict[str, Any] = {}
    positional = True
    for p in list(sig.parameters.values())[2:]:
        if p.kind is p.VAR_POSITIONAL:
            args += list(b.get(p.name, ()))
        elif p.kind is p.VAR_KEYWORD:
            kwargs.update({k: v for k, v in b.items() if k not in sig.parameters})
        elif p.name not in b:
            positional = positional and p.kind is p.POSITIONAL_ONLY
        elif positional and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(b[p.name])
        else:
            kwargs[p.name] = b[p.name]
    return rule.adjoint(*args, **kwargs)


def zero_tangent(x: Any) -> Any:
    """A zero tangent shaped like the value ``x`` (real float for integer values)."""
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent(v) for v in x)
    a = np.asarray(x)
    dtype = a.dtype if a.dtype.kind in "fc" else np.float64
    return np.zeros(a.shape, dtype=dtype)


def _filled(value: Any, dot: Any) -> Any:
    """The tangent ``dot`` of ``value`` with every missing entry a zero."""
    if dot is None:
        return zero_tangent(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "shape"):
        return type(value)(_filled(v, d) for v, d in zip(value, dot))
    return dot


def tangent_at(t: Any, path: tuple[Any, ...]) -> Any:
    """The tangent of a container argument's leaf at ``path`` (its tangent ``t`` has the
    argument's structure: a dict, list, NamedTuple or model)."""
    return tree.get(t, path)
