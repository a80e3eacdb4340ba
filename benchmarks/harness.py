"""Timing and checking machinery shared by the benchmarks.

- :class:`Impl`: one implementation of one benchmark, or the reason it is unavailable.
- :func:`check_against`: compare an implementation's loss and gradient with the reference's.
- :func:`time_interleaved`: time several implementations round-robin (the start of each round
  rotates), with warm-up calls and a per-implementation call count that makes every sample long
  enough for the clock, and return per-call times.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Impl",
    "Stats",
    "calibrate_number",
    "check_against",
    "first_line",
    "leaves",
    "structure",
    "summarize",
    "time_interleaved",
]


@dataclass
class Impl:
    """One implementation of a benchmark.

    Attributes:
        name: the row label in RESULTS.md.
        call: runs one complete evaluation (loss and gradient) and returns its native result;
            ``None`` when the implementation is unavailable.
        to_numpy: turns ``call()``'s result into ``(loss, gradient tree)`` with numpy leaves.
        kind: ``"reference"``, ``"grad"`` (checked against the reference) or ``"forward"`` (the
            model's forward pass alone, for context: only its loss is checked).
        reason: why the implementation is unavailable, or why it was not timed.
        note: a short remark printed in the table.
        strict: also require the reference's tree structure and dtypes (srcgrad's contract).
    """

    name: str
    call: Callable[[], Any] | None
    to_numpy: Callable[[Any], tuple[float, Any]] = lambda r: r
    kind: str = "grad"
    reason: str = ""
    note: str = ""
    strict: bool = False
    times: list[float] = field(default_factory=list)
    number: int = 1

    @property
    def available(self) -> bool:
        """Whether the implementation runs and is to be timed."""
        return self.call is not None and not self.reason


@dataclass(frozen=True)
class Stats:
    """Summary of per-call times in seconds."""

    median: float
    q1: float
    q3: float
    n: int


def leaves(tree: Any) -> list[Any]:
    """The leaves of a nest of dicts (sorted keys), tuples and lists, in a fixed order."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def structure(tree: Any) -> Any:
    """A hashable description of a tree's containers and dict keys (leaves are ``"*"``)."""
    if isinstance(tree, dict):
        return ("dict", tuple((k, structure(tree[k])) for k in sorted(tree)))
    if isinstance(tree, (tuple, list)):
        return (type(tree).__name__, tuple(structure(x) for x in tree))
    return "*"


def _tolerances(dtype: np.dtype) -> tuple[float, float]:
    """(rtol, atol relative to the reference's largest magnitude) for a dtype."""
    if np.dtype(dtype).itemsize <= 4:
        return 2e-3, 1e-4
    return 1e-7, 1e-10


def check_against(
    reference: tuple[float, Any], candidate: tuple[float, Any], strict: bool
) -> str:
    """Compare a candidate's ``(loss, grads)`` with the reference's.

    Args:
        reference: the hand-written ``(loss, grads)``, numpy leaves.
        candidate: the implementation's ``(loss, grads)``, numpy leaves (``grads`` is ignored
            when it is ``None``: a forward-only implementation).
        strict: also require the same tree structure, shapes and dtypes.

    Returns:
        ``""`` when they agree, else a one-line description of the first mismatch.
    """
    ref_loss, ref_grads = reference
    loss, grads = candidate
    ref_leaves = leaves(ref_grads)
    rtol, _ = _tolerances(np.asarray(ref_leaves[0]).dtype)
    if not np.isclose(float(loss), float(ref_loss), rtol=rtol, atol=0.0):
        return f"loss {float(loss)!r} != reference {float(ref_loss)!r}"
    if grads is None:
        return ""
    if strict and structure(grads) != structure(ref_grads):
        return f"gradient structure {structure(grads)} != {structure(ref_grads)}"
    got = leaves(grads)
    if len(got) != len(ref_leaves):
        return f"{len(got)} gradient arrays, reference has {len(ref_leaves)}"
    for i, (g, r) in enumerate(zip(got, ref_leaves)):
        g = np.asarray(g)
        if g.shape != r.shape:
            return f"gradient leaf {i}: shape {g.shape} != {r.shape}"
        if strict and g.dtype != r.dtype:
            return f"gradient leaf {i}: dtype {g.dtype} != {r.dtype}"
        rtol, atol_rel = _tolerances(r.dtype)
        atol = atol_rel * float(np.max(np.abs(r), initial=0.0))
        if not np.allclose(g, r, rtol=rtol, atol=atol):
            err = float(np.max(np.abs(g - r)))
            return f"gradient leaf {i}: max abs error {err:.3g} (rtol {rtol}, atol {atol:.3g})"
    return ""


def _sample(call: Callable[[], Any], number: int) -> float:
    """Seconds per call over ``number`` back-to-back calls, with the collector off."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            call()
        return (time.perf_counter() - start) / number
    finally:
        if gc_was_enabled:
            gc.enable()


def calibrate_number(call: Callable[[], Any], min_sample: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample`` seconds."""
    per_call = min(_sample(call, 1) for _ in range(3))
    return max(1, math.ceil(min_sample / max(per_call, 1e-9)))


def time_interleaved(
    impls: list[Impl],
    reps: int,
    warmup: int,
    min_sample: float,
    log: Callable[[str], None] = lambda s: None,
) -> None:
    """Time the available implementations round-robin; fill each ``Impl.times``.

    Every round times each implementation once (one sample of ``Impl.number`` calls); the
    implementation that goes first rotates from round to round, so no implementation always
    runs straight after the same other one. Garbage is collected between samples, outside the
    timed region, and the collector is off inside it (as :mod:`timeit` does).

    Args:
        impls: the implementations; unavailable ones are skipped.
        reps: samples per implementation.
        warmup: untimed calls per implementation before calibration.
        min_sample: the shortest sample, in seconds; sets each ``Impl.number``.
        log: progress messages.
    """
    active = [impl for impl in impls if impl.available]
    for impl in active:
        for _ in range(warmup):
            impl.call()
        impl.number = calibrate_number(impl.call, min_sample)
        impl.times = []
    for r in range(reps):
        k = r % len(active) if active else 0
        for impl in active[k:] + active[:k]:
            gc.collect()
            impl.times.append(_sample(impl.call, impl.number))
        if reps >= 10 and (r + 1) % 10 == 0:
            log(f"    {r + 1}/{reps} rounds")


def summarize(times: list[float]) -> Stats:
    """Median and quartiles of per-call times."""
    q1, med, q3 = np.percentile(np.asarray(times), [25, 50, 75])
    return Stats(float(med), float(q1), float(q3), len(times))


def first_line(exc: BaseException, limit: int = 240) -> str:
    """``Type: first line of the message``, shortened, for a table cell."""
    msg = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {msg[0] if msg else ''}".rstrip(": ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
