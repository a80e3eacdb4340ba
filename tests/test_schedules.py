"""srcgrad.schedules: each schedule against its closed form at chosen steps, boundaries
included, and the PyTorch-named ones against torch.optim.lr_scheduler when installed."""

from __future__ import annotations

import math

import pytest

from srcgrad import schedules as S


def close(a, b):
    assert a == pytest.approx(b, rel=1e-12, abs=1e-15)


def test_constant_step_multistep_exponential():
    close(S.constant(0.3)(12345), 0.3)
    f = S.step_decay(1.0, step_size=3, gamma=0.5)
    for step, want in [(0, 1.0), (2, 1.0), (3, 0.5), (5, 0.5), (6, 0.25)]:
        close(f(step), want)
    f = S.multistep(2.0, milestones=[5, 2], gamma=0.1)
    for step, want in [(0, 2.0), (1, 2.0), (2, 0.2), (4, 0.2), (5, 0.02), (99, 0.02)]:
        close(f(step), want)
    close(S.exponential_decay(2.0, 0.9)(7), 2.0 * 0.9**7)
    f = S.exponential_decay(1.0, 0.5, transition_steps=4, staircase=True)
    close(f(3), 1.0)
    close(f(4), 0.5)
    close(S.exponential_decay(1.0, 0.5, transition_steps=4)(2), 0.5**0.5)


def test_cosine_decay_and_warm_restarts():
    f = S.cosine_decay(1.0, decay_steps=10, end_value=0.1)
    close(f(0), 1.0)
    close(f(5), 0.1 + 0.9 * 0.5)
    close(f(10), 0.1)
    close(f(25), 0.1)
    g = S.cosine_decay(1.0, decay_steps=4, restarts=True)
    close(g(4), 1.0)
    close(g(6), 0.5)
    h = S.cosine_decay(1.0, decay_steps=2, restarts=True, period_mult=2)
    # periods 2, 4, 8: restarts at steps 2, 6, 14
    for step, (t, period) in {
        0: (0, 2),
        1: (1, 2),
        2: (0, 4),
        5: (3, 4),
        6: (0, 8),
        13: (7, 8),
        14: (0, 16),
    }.items():
        close(h(step), (1 + math.cos(math.pi * t / period)) / 2)


def test_linear_and_warmup():
    f = S.linear(1.0, 0.0, transition_steps=4)
    for step, want in [(0, 1.0), (1, 0.75), (4, 0.0), (9, 0.0)]:
        close(f(step), want)
    w = S.warmup(S.step_decay(1.0, step_size=10, gamma=0.5), warmup_steps=4)
    for step, want in [(0, 0.0), (2, 0.5), (4, 1.0), (13, 1.0), (14, 0.5)]:
        close(w(step), want)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_modes(mode):
    f = S.cyclic(0.1, 1.1, step_size_up=4, step_size_down=2, mode=mode, gamma=0.9)
    amp = {
        "triangular": lambda c, s: 1.0,
        "triangular2": lambda c, s: 0.5 ** (c - 1),
        "exp_range": lambda c, s: 0.9**s,
    }[mode]
    # up over 4 steps, down over 2: cycle length 6
    for step, (frac, cycle) in {
        0: (0, 1),
        2: (0.5, 1),
        4: (1, 1),
        5: (0.5, 1),
        6: (0, 2),
        10: (1, 2),
    }.items():
        close(f(step), 0.1 + 1.0 * frac * amp(cycle, step))


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle(three_phase):
    f = S.one_cycle(1.0, total_steps=100, pct_start=0.3, three_phase=three_phase)
    close(f(0), 1.0 / 25)
    close(f(29), 1.0)  # the peak at pct_start * total - 1
    close(f(99), 1.0 / 25 / 1e4)
    if three_phase:
        close(f(58), 1.0 / 25)
    else:
        mid = (29 + 99) / 2
        close(
            f(64),
            1.0 / 25e4
            + (1 - 1.0 / 25e4) / 2 * (math.cos(math.pi * (64 - 29) / 70) + 1),
        )
        assert f(int(mid)) < 1.0
    lin = S.one_cycle(1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear")
    close(lin(2), 0.04 + (1 - 0.04) * 2 / 4.5)
    with pytest.raises(ValueError, match="past total_steps"):
        f(100)


def test_negative_steps_are_refused():
    with pytest.raises(ValueError, match="from 0"):
        S.step_decay(1.0, 2)(-1)


def _torch_lrs(torch, make, n):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


TORCH = {
    "StepLR": (
        lambda L, o: L.StepLR(o, step_size=3, gamma=0.5),
        S.StepLR(0.5, step_size=3, gamma=0.5),
    ),
    "MultiStepLR": (
        lambda L, o: L.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
        S.MultiStepLR(0.5, milestones=[2, 5], gamma=0.1),
    ),
    "ExponentialLR": (
        lambda L, o: L.ExponentialLR(o, gamma=0.8),
        S.ExponentialLR(0.5, gamma=0.8),
    ),
    "CosineAnnealingLR": (
        lambda L, o: L.CosineAnnealingLR(o, T_max=8, eta_min=0.01),
        S.CosineAnnealingLR(0.5, T_max=8, eta_min=0.01),
    ),
    "LinearLR": (
        lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=4),
        S.LinearLR(0.5, start_factor=0.25, total_iters=4),
    ),
    "CyclicLR": (
        lambda L, o: L.CyclicLR(
            o,
            0.1,
            0.9,
            step_size_up=3,
            step_size_down=2,
            mode="triangular2",
            cycle_momentum=False,
        ),
        S.CyclicLR(0.1, 0.9, step_size_up=3, step_size_down=2, mode="triangular2"),
    ),
    "OneCycleLR": (
        lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=12, cycle_momentum=False),
        S.OneCycleLR(0.5, total_steps=12),
    ),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_pytorch_named_schedules_match_torch(name):
    torch = pytest.importorskip("torch")
    make, ours = TORCH[name]
    want = _torch_lrs(torch, lambda o: make(torch.optim.lr_scheduler, o), 12)
    for step, w in enumerate(want):
        assert ours(step) == pytest.approx(w, rel=1e-9, abs=1e-12), step
