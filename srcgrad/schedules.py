"""Learning-rate schedules: each is a ``step -> value`` function, accepted by every
optimizer wherever it takes a number (``optim.sgd(learning_rate=schedules.step_decay(
0.1, step_size=1000))``).  ``step`` counts the updates made so far, from 0.

The PyTorch-named classes (``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``LinearLR``, ``CyclicLR``, ``OneCycleLR``) are the same
functions under ``torch.optim.lr_scheduler``'s names and keywords, the base learning rate
first instead of an optimizer; they count what the optimizer counts (its updates).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "multistep",
    "exponential_decay",
    "cosine_decay",
    "linear",
    "cyclic",
    "one_cycle",
    "warmup",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "CyclicLR",
    "OneCycleLR",
]

Schedule = Callable[[int], float]


def _check_step(step: int) -> int:
    if step < 0:
        raise ValueError(f"a schedule's step counts updates from 0, got {step}")
    return step


def constant(value: float) -> Schedule:
    """``value`` at every step."""

    def schedule(step: int) -> float:
        return value

    return schedule


def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``init_value * gamma ** (step // step_size)`` (``StepLR``)."""
    if step_size <= 0:
        raise ValueError(f"step_decay: step_size must be positive, got {step_size}")

    def schedule(step: int) -> float:
        return init_value * gamma ** (_check_step(step) // step_size)

    return schedule


def multistep(
    init_value: float, milestones: Sequence[int], gamma: float = 0.1
) -> Schedule:
    """``init_value * gamma ** k``, ``k`` the number of milestones ``<= step``
    (``MultiStepLR``)."""
    marks = sorted(milestones)

    def schedule(step: int) -> float:
        return init_value * gamma ** bisect.bisect_right(marks, _check_step(step))

    return schedule


def exponential_decay(
    init_value: float,
    decay_rate: float,
    transition_steps: int = 1,
    staircase: bool = False,
) -> Schedule:
    """``init_value * decay_rate ** (step / transition_steps)`` (the exponent floored
    with ``staircase``); ``ExponentialLR`` is ``transition_steps=1``."""

    def schedule(step: int) -> float:
        e = _check_step(step) / transition_steps
        return init_value * decay_rate ** (math.floor(e) if staircase else e)

    return schedule


def cosine_decay(
    init_value: float,
    decay_steps: int,
    end_value: float = 0.0,
    restarts: bool = False,
    period_mult: int = 1,
) -> Schedule:
    """Half a cosine from ``init_value`` down to ``end_value`` over ``decay_steps``,
    then ``end_value``.  With ``restarts`` (SGDR, ``CosineAnnealingWarmRestarts``) it
    starts again at ``init_value`` after each period, each ``period_mult`` times the
    last."""
    if decay_steps <= 0 or period_mult < 1:
        raise ValueError("cosine_decay: decay_steps > 0 and period_mult >= 1")

    def schedule(step: int) -> float:
        t, period = _check_step(step), decay_steps
        if restarts:
            if period_mult == 1:
                t = t % period
            else:
                k = int(math.log(t / period * (period_mult - 1) + 1, period_mult))
                t -= period * (period_mult**k - 1) // (period_mult - 1)
                period *= period_mult**k
                if t >= period:  # rounding in the log at a boundary
                    t, period = t - period, period * period_mult
        t = min(t, period)
        cos = (1 + math.cos(math.pi * t / period)) / 2
        return end_value + (init_value - end_value) * cos

    return schedule


def linear(init_value: float, end_value: float, transition_steps: int) -> Schedule:
    """From ``init_value`` to ``end_value`` in a straight line over
    ``transition_steps``, then ``end_value``."""

    def schedule(step: int) -> float:
        frac = min(_check_step(step), transition_steps) / max(transition_steps, 1)
        return init_value + (end_value - init_value) * frac

    return schedule


def cyclic(
    base_value: float,
    max_value: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> Schedule:
    """A triangular wave between ``base_value`` and ``max_value`` (``CyclicLR``):
    ``mode`` ``"triangular"`` keeps the amplitude, ``"triangular2"`` halves it each
    cycle, ``"exp_range"`` scales it by ``gamma ** step``."""
    if mode not in ("triangular", "triangular2", "exp_range"):
        raise ValueError(
            f"cyclic: mode must be triangular, triangular2 or exp_range, got {mode!r}"
        )
    down = step_size_up if step_size_down is None else step_size_down
    total = float(step_size_up + down)
    ratio = step_size_up / total

    def schedule(step: int) -> float:
        cycle = math.floor(1 + _check_step(step) / total)
        x = 1.0 + step / total - cycle
        scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        if mode == "triangular":
            amp = 1.0
        elif mode == "triangular2":
            amp = 1 / 2.0 ** (cycle - 1)
        else:
            amp = gamma**step
        return base_value + (max_value - base_value) * scale * amp

    return schedule


def _anneal(start: float, end: float, pct: float, strategy: str) -> float:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle(
    max_value: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """The 1cycle policy (``OneCycleLR``): from ``max_value / div_factor`` up to
    ``max_value`` over ``pct_start`` of ``total_steps``, then down to
    ``max_value / div_factor / final_div_factor`` (through the start value first with
    ``three_phase``)."""
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(
            f"one_cycle: anneal_strategy cos or linear, not {anneal_strategy!r}"
        )
    initial = max_value / div_factor
    final = initial / final_div_factor
    up = float(pct_start * total_steps) - 1
    if three_phase:
        phases = [
            (up, initial, max_value),
            (float(2 * pct_start * total_steps) - 2, max_value, initial),
            (total_steps - 1.0, initial, final),
        ]
    else:
        phases = [(up, initial, max_value), (total_steps - 1.0, max_value, final)]

    def schedule(step: int) -> float:
        if _check_step(step) >= total_steps:
            raise ValueError(
                f"one_cycle: step {step} is past total_steps={total_steps}"
            )
        start = 0.0
        for i, (end, lo, hi) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                return _anneal(lo, hi, (step - start) / (end - start), anneal_strategy)
            start = end
        raise AssertionError("unreachable")

    return schedule


def warmup(
    schedule: Schedule | float, warmup_steps: int, start_value: float = 0.0
) -> Schedule:
    """A linear ramp from ``start_value`` to ``schedule(0)`` over ``warmup_steps``,
    then ``schedule(step - warmup_steps)``."""
    after = schedule if callable(schedule) else constant(schedule)

    def warmed(step: int) -> float:
        if _check_step(step) < warmup_steps:
            target = after(0)
            return start_value + (target - start_value) * step / warmup_steps
        return after(step - warmup_steps)

    return warmed


# --------------------------------------------------------------------------- PyTorch names


class _Named:
    """A schedule under a ``torch.optim.lr_scheduler`` name: call it with a step."""

    _fn: Schedule

    def __call__(self, step: int) -> float:
        return self._fn(step)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args})"


class StepLR(_Named):
    """``lr * gamma ** (step // step_size)``."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self._fn, self._args = step_decay(lr, step_size, gamma), (lr, step_size, gamma)


class MultiStepLR(_Named):
    """``lr * gamma ** (milestones passed)``."""

    def __init__(
        self, lr: float, milestones: Sequence[int], gamma: float = 0.1
    ) -> None:
        self._fn, self._args = multistep(lr, milestones, gamma), (lr, milestones, gamma)


class ExponentialLR(_Named):
    """``lr * gamma ** step``."""

    def __init__(self, lr: float, gamma: float) -> None:
        self._fn, self._args = exponential_decay(lr, gamma), (lr, gamma)


class CosineAnnealingLR(_Named):
    """``eta_min + (lr - eta_min) (1 + cos(pi step / T_max)) / 2`` (PyTorch's closed
    form: it goes on past ``T_max``, back up)."""

    def __init__(
        self, lr: float, T_max: int, eta_min: float = 0.0
    ) -> None:  # noqa: N803
        self._args = (lr, T_max, eta_min)

        def fn(step: int) -> float:
            cos = (1 + math.cos(math.pi * _check_step(step) / T_max)) / 2
            return eta_min + (lr - eta_min) * cos

        self._fn = fn


class LinearLR(_Named):
    """``lr`` times a factor going from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps."""

    def __init__(
        self,
        lr: float,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self._fn = linear(lr * start_factor, lr * end_factor, total_iters)
        self._args = (lr, start_factor, end_factor, total_iters)


class CyclicLR(_Named):
    """``cyclic`` under PyTorch's keywords."""

    def __init__(
        self,
        base_lr: float,
        max_lr: float,
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        self._fn = cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma)
        self._args = (base_lr, max_lr, step_size_up, step_size_down, mode, gamma)


class OneCycleLR(_Named):
    """``one_cycle`` under PyTorch's keywords."""

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        self._fn = one_cycle(
            max_lr,
            total_steps,
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
        )
        self._args = (max_lr, total_steps, pct_start, anneal_strategy)
