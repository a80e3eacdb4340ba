"""Random straight-line numpy programs over indexing, views, in-place writes, matmul, joins
and piecewise functions: value bit-identical to Python, specialised gradient equal to the
generic one and to central differences.  Each program is written to a file (srcgrad reads
source).  ``SRCGRAD_RANDOM_PROGRAMS`` sets how many (the default run keeps it small).
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.fakexp import to_device, to_host
from tests.trust import load_program

N_PROGRAMS = int(os.environ.get("SRCGRAD_RANDOM_PROGRAMS", "40"))


def _program(seed: int) -> str:
    r = random.Random(seed)
    n = 4
    vars_: list[tuple[str, tuple[int, ...]]] = [("x", (n, n)), ("w", (n,))]
    lines: list[str] = []

    def pick(pred=lambda s: True):
        cands = [v for v in vars_ if pred(v[1])]
        return r.choice(cands) if cands else None

    for i in range(r.randint(3, 9)):
        name = f"v{i}"
        k = r.randrange(17)
        a, sa = pick()
        if k == 0 and len(sa) == 2 and pick(lambda s: len(s) >= 1 and s[0] == sa[1]):
            b, sb = pick(lambda s: len(s) >= 1 and s[0] == sa[1])
            expr, shp = f"{a} @ {b}", (sa[0],) + sb[1:]
        elif k == 1 and len(sa) == 2:
            expr, shp = f"{a}[1:]", (sa[0] - 1, sa[1])
        elif k == 2 and len(sa) == 2:
            expr, shp = f"{a}[:, ::-1]", sa
        elif k == 3 and sa and sa[0] >= 3:
            expr, shp = f"{a}[[0, 2, 2]]", (3,) + sa[1:]
        elif k == 4 and sa:
            expr, shp = f"np.concatenate([{a}, 2.0 * {a}])", (2 * sa[0],) + sa[1:]
        elif k == 5 and sa:
            expr, shp = f"np.stack([{a}, np.sin({a})], axis=-1)", sa + (2,)
        elif k == 6:
            b, sb = pick(lambda s: s == sa)
            expr, shp = f"np.where({a} > 0, {a}, 0.1 * {b})", sa
        elif k == 7:
            b, sb = pick(lambda s: s == sa)
            expr, shp = f"np.maximum({a}, {b})", sa
        elif k == 8 and len(sa) == 2 and sa[1] == n:
            b, sb = pick(lambda s: s == (n,))
            lines.append(f"    {name} = {a}.copy()")
            expr, shp = None, sa
            lines.append(f"    {name}[0] = {b} * {name}[1]")
        elif k == 9 and sa:
            lines.append(f"    {name} = {a} * 1.0")
            expr, shp = None, sa
            lines.append(f"    {name}[1:] += {a}[:-1]")
        elif k == 10 and len(sa) == 2:
            expr, shp = f"{a}.reshape(-1)", (sa[0] * sa[1],)
        elif k == 11 and len(sa) >= 1:
            expr, shp = f"np.cumsum({a}, axis=0)", sa
        elif k == 12 and len(sa) == 2:
            expr, shp = f"np.tril({a}) + np.transpose({a})", (
                sa[::-1] if sa[0] != sa[1] else sa
            )
            if sa[0] != sa[1]:
                expr, shp = f"np.tril({a})", sa
        elif k == 14 and len(sa) == 2 and sa[1] == n:
            b, sb = pick(lambda s: s == (n,))
            lines.append(f"    {name} = {a} + 0.0")
            lines.append(f"    t{i} = {name}[0]")
            lines.append(f"    {name}[0] = {b}")
            expr, shp = f"{name} * t{i}", sa
        elif k == 15 and len(sa) == 2:
            lines.append(f"    {name} = {a} * 2.0")
            lines.append(f"    t{i} = np.flip({name}, axis=0)")
            lines.append(f"    {name}[1] = 0.5")
            expr, shp = f"{name} + t{i}", sa
        elif k == 16 and len(sa) == 2:
            lines.append(f"    {name} = np.zeros(({sa[1]}, {sa[0]}))")
            expr, shp = None, sa[::-1]
            lines.append(f"    {name}[:, 1] = {a}[0] * 3.0")
            lines.append(f"    {name} += {a}.T")
        else:
            expr, shp = f"np.tanh({a}) * {r.choice(['1.5', '0.5'])}", sa
        if expr is not None:
            lines.append(f"    {name} = {expr}")
        vars_.append((name, shp))
    last = vars_[-1][0]
    other = r.choice(vars_)[0]
    lines.append(f"    return np.sum(np.sin({last})) + np.sum({other} * {other})")
    return "import numpy as np\n\n\ndef f(x, w):\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_program(seed, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    text = _program(seed)
    mod = load_program(text, tmp_path / f"prog_{seed}.py")
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((4, 4)), rng.standard_normal(4)
    try:
        value, (gx, gw) = srcgrad.value_and_grad(mod.f, wrt=(0, 1))(x, w)
    except srcgrad.SrcgradError as err:  # a refusal must point into the program
        assert err.filename and err.filename.endswith(f"prog_{seed}.py"), (text, err)
        return
    assert value == mod.f(x, w), text
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    _, (gx0, gw0) = srcgrad.value_and_grad(mod.f, wrt=(0, 1))(x, w)
    monkeypatch.delenv("SRCGRAD_SPECIALISE")
    np.testing.assert_allclose(gx, gx0, rtol=1e-10, atol=1e-12, err_msg=text)
    np.testing.assert_allclose(gw, gw0, rtol=1e-10, atol=1e-12, err_msg=text)
    check_grad(mod.f, x, w, wrt=(0, 1))
    # the same emitted code on a device namespace (cupy's rules, tests/fakexp.py)
    _, (dx, dw) = srcgrad.value_and_grad(mod.f, wrt=(0, 1))(to_device(x), to_device(w))
    np.testing.assert_allclose(to_host(dx), gx, rtol=1e-10, atol=1e-12, err_msg=text)
    np.testing.assert_allclose(to_host(dw), gw, rtol=1e-10, atol=1e-12, err_msg=text)
