"""``f(y, *args)``: a ``*`` argument whose items are known when the code is generated (a
tuple or list built in the function, a callee's own ``*args``, a list argument) is bound
one argument per item, as Python binds it.  Forwarding ``*args`` (an ODE step calling the
right-hand side ``f(y, *args)``) was refused ("*-unpacking in a call")."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def _rhs(y, a, b):
    return np.sin(y) * a + b


def _forward(f, y, *args):
    return f(y, *args) * 2


def forwarded_varargs(x):
    return np.sum(_forward(_rhs, x, 2.0, x**2))


def tuple_built_here(x):
    args = (2.0, x**2)
    return np.sum(_rhs(x, *args))


def list_built_here_into_numpy(x):
    parts = [x, np.cos(x)]
    return np.sum(np.maximum(*parts) * x)


def _rk4(f, y, dt, *args):
    k1 = f(y, *args)
    k2 = f(y + 0.5 * dt * k1, *args)
    k3 = f(y + 0.5 * dt * k2, *args)
    k4 = f(y + dt * k3, *args)
    return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _pendulum(y, g, length):
    return np.array([y[1], -g / length * np.sin(y[0])])


def pendulum(params, y0):
    y = y0
    traj = [y]
    for _ in range(10):
        y = _rk4(_pendulum, y, 0.05, params[0], params[1])
        traj.append(y)
    return np.sum(np.stack(traj)[:, 0] ** 2)


def list_argument(x, rows):
    return np.sum(np.maximum(*rows) * x)


@pytest.mark.parametrize(
    "f",
    [forwarded_varargs, tuple_built_here, list_built_here_into_numpy],
    ids=lambda f: f.__name__,
)
def test_known_items_bind_one_argument_each(f):
    x = np.array([0.3, -0.5, 0.8])
    check_grad(f, x)
    value, _ = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)


def test_an_ode_step_forwarding_its_arguments():
    params, y0 = np.array([9.8, 1.2]), np.array([0.3, 0.0])
    check_grad(pendulum, params, y0, wrt=(0, 1))


def test_a_list_argument():
    x = np.array([0.3, -0.5, 0.8])
    check_grad(list_argument, x, [x * 2, np.ones(3) * 0.1], wrt=(0, 1))


def _unknown_length(x, n):
    parts = []
    for i in range(n):
        parts.append(x * i)
    return np.sum(np.add(*parts))


def _unknown_length__followed(x, n):
    parts = []
    for i in range(n):
        parts.append(x * i)
    return np.sum(parts[0] + parts[1])


def test_items_known_only_when_it_runs_are_refused_with_a_hint_that_works():
    x = np.array([0.3, -0.5, 0.8])
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(_unknown_length)(x, 2)
    assert "test_star_arguments.py:" in str(info.value)
    assert "pass the arguments explicitly" in str(info.value)
    check_grad(_unknown_length__followed, x, 2)
