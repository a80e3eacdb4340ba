"""The one rule every held-out suite checks: right, or a SrcgradError at the user's line."""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

import numpy as np

import srcgrad


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def _inner(u: Any, y: Any) -> float:
    return float(sum(np.sum(np.asarray(a) * np.asarray(b)) for a, b in zip(_leaves(u), _leaves(y))))


def _same(a: Any, b: Any) -> bool:
    la, lb = _leaves(a), _leaves(b)
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape or x.dtype != y.dtype:
                return False
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif not (x == y or (x != x and y != y)):
            return False
    return True


def _is_float(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, float) or getattr(getattr(x, "dtype", None), "kind", "") == "f"


def _moved(x: Any, dirs: dict[int, np.ndarray], t: float) -> Any:
    """``x`` with its float leaf number ``i`` moved by ``t * dirs[i]`` (same structure)."""
    counter = iter(range(10**9))

    def walk(y: Any) -> Any:
        if isinstance(y, dict):
            return {k: walk(v) for k, v in y.items()}
        if isinstance(y, tuple) and hasattr(y, "_fields"):
            return type(y)(*[walk(v) for v in y])
        if isinstance(y, (list, tuple)):
            return type(y)(walk(v) for v in y)
        i = next(counter)
        if i not in dirs:
            return y
        if isinstance(y, np.ndarray):
            return y + t * dirs[i]
        return float(y + t * dirs[i])

    return walk(x)


def _symmetric(v: np.ndarray) -> np.ndarray:
    return (v + np.swapaxes(v, -1, -2)) / 2 if v.ndim >= 2 and v.shape[-1] == v.shape[-2] else v


def check_outcome(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    wrt: int | tuple[int, ...],
    *,
    symmetric: bool = False,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> str:
    """Return "right" or "refused: <message>"; raise AssertionError on anything else.

    Right means: the value is bit-identical to ``fn(*args)``, and for a random output cotangent
    ``u`` and random input directions ``v`` the pullback's ``<g, v>`` matches the central
    difference of ``<u, fn(x)>`` (float64).  ``symmetric`` draws symmetric directions for square
    matrix arguments (functions that read one triangle of a symmetric input).
    """
    file = inspect.getsourcefile(fn)
    try:
        value, pullback = srcgrad.vjp(fn, wrt=wrt)(*copy.deepcopy(args))
    except srcgrad.SrcgradError as err:
        assert (
            err.filename and file and err.filename.endswith(file.rsplit("/", 1)[-1])
        ), f"{fn.__name__}: error not at the user's file: {err}"
        lines, first = inspect.getsourcelines(fn)
        assert err.lineno is not None and first <= err.lineno < first + len(
            lines
        ), f"{fn.__name__}: error line {err.lineno} outside the function: {err}"
        return f"refused: {err.message if hasattr(err, 'message') else err}"
    expected = fn(*copy.deepcopy(args))
    assert _same(value, expected), f"{fn.__name__}: value differs from the plain call"
    rng = np.random.default_rng(seed)
    u = [rng.standard_normal(np.shape(y)) for y in _leaves(value)]
    grads = pullback(u[0] if not isinstance(value, (tuple, list, dict)) else value.__class__(u))
    positions = (wrt,) if isinstance(wrt, int) else wrt
    grads = (grads,) if isinstance(wrt, int) else grads
    for pos, g in zip(positions, grads):
        x = args[pos]
        floats = [i for i, leaf in enumerate(_leaves(x)) if _is_float(leaf)]
        g_leaves = _leaves(g)
        for _ in range(2):
            dirs = {}
            for i in floats:
                v = rng.standard_normal(np.shape(_leaves(x)[i]))
                dirs[i] = _symmetric(v) if symmetric else v
            analytic = float(sum(np.sum(np.asarray(g_leaves[i]) * dirs[i]) for i in floats))
            ok = False
            numerics = []
            for eps in (1e-5, 1e-6, 1e-4):

                def at(t: float) -> float:
                    moved = list(copy.deepcopy(args))
                    moved[pos] = _moved(x, dirs, t)
                    return _inner(u, fn(*moved))

                numeric = (at(eps) - at(-eps)) / (2 * eps)
                numerics.append(numeric)
                if abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)):
                    ok = True
                    break
            assert ok, (
                f"{fn.__name__}: WRONG gradient of argument {pos}: <g, v> = {analytic!r}, "
                f"central differences {numerics!r}"
            )
    return "right"
