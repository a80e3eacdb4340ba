"""Random straight-line programs of reductions, transposes and broadcasting arithmetic:
specialised gradients (which elide broadcasts from shape facts) must equal generic ones and
central differences.  Square inputs make a wrongly aligned axis type-check, so they are the
default here.  Each program is written to a file so srcgrad can read its source.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import load_program

N_PROGRAMS = int(os.environ.get("SRCGRAD_RANDOM_PROGRAMS", "40"))


def _program(seed: int) -> tuple[str, tuple[int, int]]:
    r = random.Random(seed)
    n = r.choice([3, 4])
    shape = (n, n) if r.random() < 0.7 else (n, n + 1)
    vars_: list[tuple[str, tuple[int, ...]]] = [("x", shape)]
    lines = []
    for i in range(r.randint(3, 8)):
        name = f"v{i}"
        a, sa = r.choice(vars_)
        kind = r.random()
        if kind < 0.3 and sa:
            ax = r.randrange(len(sa))
            keep = r.random() < 0.3
            red = r.choice(["sum", "mean", "max"])
            expr = f"{a}.{red}(axis={ax}{', keepdims=True' if keep else ''})"
            shp = (
                tuple(d for k, d in enumerate(sa) if k != ax)
                if not keep
                else tuple(1 if k == ax else d for k, d in enumerate(sa))
            )
        elif kind < 0.4:
            expr, shp = f"{a}.{r.choice(['sum', 'mean'])}()", ()
        elif kind < 0.5 and len(sa) == 2:
            expr, shp = f"{a}.T", sa[::-1]
        elif kind < 0.65:
            f = r.choice(["np.tanh", "np.sin", "np.cos"])
            expr, shp = f"{f}({a})", sa
        elif kind < 0.75:
            expr, shp = f"{r.choice(['2.0', '0.5', '-1.5'])} * {a}", sa
        else:
            b, sb = r.choice(vars_)
            try:
                shp = tuple(np.broadcast_shapes(sa, sb))
            except ValueError:
                expr, shp = f"np.tanh({a})", sa
            else:
                op = r.choice(["+", "-", "*"])
                expr = f"{a} {op} {b}"
        lines.append(f"    {name} = {expr}")
        vars_.append((name, shp))
    last = vars_[-1][0]
    other = r.choice(vars_)[0]
    lines.append(f"    return np.sum(np.sin({last})) + np.sum({other} * {other})")
    return "import numpy as np\n\n\ndef f(x):\n" + "\n".join(lines) + "\n", shape


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_broadcast_program(seed, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    text, shape = _program(seed)
    mod = load_program(text, tmp_path / f"prog_{seed}.py")
    x = np.random.default_rng(seed).standard_normal(shape)
    value, g = srcgrad.value_and_grad(mod.f)(x)
    assert value == mod.f(x), text
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    value0, g0 = srcgrad.value_and_grad(mod.f)(x)
    monkeypatch.delenv("SRCGRAD_SPECIALISE")
    assert g.shape == x.shape, text
    np.testing.assert_allclose(g, g0, rtol=1e-10, atol=1e-12, err_msg=text)
    check_grad(mod.f, x)
