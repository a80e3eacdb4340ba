"""The per-step values and sums a hoisted backward loop keeps (``codegen/hoist.py``).

``rows = step_rows(n)`` before the loop, ``rows.append(v)`` in each step, and
``rows.joined()`` after it is ``xp.concatenate`` of every value appended, in order.  Each
value's rows are copied into one array as they come, so a step's array is freed at the end
of its step and the next step reuses its memory, where a list would keep every step's array
alive until the join copies them all once more.  ``n`` is the number of appends expected
(None: unknown); the array grows if more come.  Values of another trailing shape or dtype
than the first, or of a namespace whose arrays are not written in place, are kept as they
are and joined by ``concatenate``, so the result is always the concatenation's.
"""

from __future__ import annotations

from typing import Any

from srcgrad.backend import namespace

__all__ = ["StepRows", "StepSum", "step_rows", "step_sum"]

_FIRST = 16  # steps of room when the count is not known
_MANY = 32  # rows of a step from which its product is added at once


class StepRows:
    """The rows of a loop's per-step values, gathered for one join after the loop."""

    __slots__ = ("_buf", "_rows", "_count", "_steps", "_kept")

    def __init__(self, steps: int | None = None) -> None:
        self._buf: Any = None  # the rows so far, then room
        self._rows = 0  # rows of _buf in use
        self._count = 0  # values appended
        self._steps = steps
        self._kept: list[Any] | None = None  # values kept as they are

    def __len__(self) -> int:
        return self._count

    def append(self, v: Any) -> None:
        """Keep a copy of ``v``'s rows (``v`` itself, where rows cannot be copied)."""
        self._count += 1
        if self._kept is None and not self._copy(v):
            self._kept = [self._buf[: self._rows]] if self._rows else []
            self._buf = None
        if self._kept is not None:
            self._kept.append(v)

    def _copy(self, v: Any) -> bool:
        shape = getattr(v, "shape", None)
        if not shape or type(v).__module__.split(".")[0] not in ("numpy", "cupy"):
            return False
        buf, r = self._buf, shape[0]
        if buf is None:
            room = r * max(self._steps or _FIRST, 1)
            buf = namespace(v).empty((room,) + tuple(shape[1:]), dtype=v.dtype)
        elif buf.shape[1:] != shape[1:] or buf.dtype != v.dtype:
            return False
        elif self._rows + r > buf.shape[0]:
            grown = namespace(v).empty(
                (max(2 * buf.shape[0], self._rows + r),) + buf.shape[1:],
                dtype=buf.dtype,
            )
            grown[: self._rows] = buf[: self._rows]
            buf = grown
        buf[self._rows : self._rows + r] = v
        self._buf, self._rows = buf, self._rows + r
        return True

    def joined(self) -> Any:
        """``concatenate`` of every value appended (at least one), in order."""
        if self._kept is not None:
            return namespace(*self._kept).concatenate(self._kept)
        return self._buf[: self._rows]


class StepSum:
    """The sum over a loop's steps of ``a.T @ b`` (``add(a, b)``), or of ``b.sum(axis=0)``
    (``add(b)``).  A step of many rows (``_MANY``) adds its product at once, as a
    hand-written loop does; the rows of smaller steps are kept (:class:`StepRows`) for
    one product over all of them in ``total()``, where one call does the work of many
    small ones.  Either way the total is the sum of the steps' products, in another
    order than step by step: results agree to rounding."""

    __slots__ = ("_a", "_b", "_done", "_count")

    def __init__(self, steps: int | None = None) -> None:
        self._a = StepRows(steps)
        self._b = StepRows(steps)
        self._done: Any = None  # the sum of the products added at once
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, *ab: Any) -> None:
        """Add one step: ``add(a, b)`` for ``a.T @ b``, ``add(b)`` for ``b.sum(axis=0)``."""
        self._count += 1
        b = ab[-1]
        shape = getattr(b, "shape", None)
        if shape and shape[0] >= _MANY:
            part = b.sum(axis=0) if len(ab) == 1 else ab[0].T @ b
            self._done = _added(self._done, part)
            return
        if len(ab) == 2:
            self._a.append(ab[0])
        self._b.append(b)

    def total(self) -> Any:
        """The sum over every step added (at least one)."""
        out = self._done
        if len(self._b):
            b = self._b.joined()
            part = b.sum(axis=0) if not len(self._a) else self._a.joined().T @ b
            out = part if out is None else out + part  # total() may be called again
        return out


def _added(total: Any, part: Any) -> Any:
    """``total + part``, written into ``total`` (an array this sum made) where that gives
    the same array: one shape and dtype, of a namespace whose arrays are written in place."""
    if total is None:
        return part
    if (
        getattr(total, "shape", None) == getattr(part, "shape", ())
        and getattr(total, "dtype", None) == getattr(part, "dtype", ())
        and type(total).__module__.split(".")[0] in ("numpy", "cupy")
        and type(part).__module__.split(".")[0] == type(total).__module__.split(".")[0]
    ):
        total += part
        return total
    return total + part


def step_sum(steps: int | None = None) -> StepSum:
    """An empty :class:`StepSum`, with room for ``steps`` steps of few rows."""
    return StepSum(steps)


def step_rows(steps: int | None = None) -> StepRows:
    """An empty :class:`StepRows`, with room for ``steps`` appends."""
    return StepRows(steps)
