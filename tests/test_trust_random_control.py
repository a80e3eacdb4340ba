"""Random loop programs in the shape of recurrent models: a carried state, data-dependent
branches, lists built by ``append`` and stacked, accumulators, ``break``/``continue``, helper
calls and slices of list arguments.  Value bit-identical to Python, specialised gradient equal
to the generic one and to central differences, or a SrcgradError pointing into the program.
``SRCGRAD_RANDOM_PROGRAMS`` sets how many.
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

N_PROGRAMS = int(os.environ.get("SRCGRAD_RANDOM_PROGRAMS", "30"))

_STEP = [
    "h = np.tanh(x[t] * h + w)",
    "h = np.tanh(h @ W + x[t])",
    "h = 0.5 * h + 0.5 * np.sin(x[t] + w)",
    "h = np.maximum(h, 0.0) + x[t] * w",
    "h = cell(h, x[t], W)",
]
_BODY = [
    "hs.append(h)",
    "acc = acc + np.sum(h * h)",
    "acc += np.sum(np.cos(h))",
    "if np.sum(h) > 0.0:\n        h = h * 0.9\n    else:\n        h = h + 0.1",
    "if t == {k}:\n        continue",
    "if t == {k}:\n        break",
    "hs.append(h * w)",
    "outs[t % 2] = outs[t % 2] + h",
]


def _program(seed: int) -> str:
    r = random.Random(seed)
    steps = [r.choice(_STEP)]
    body = r.sample(_BODY, r.randint(1, 4))
    if "hs.append(h)" not in body and "hs.append(h * w)" not in body:
        body.append("hs.append(h)")
    loop_head = r.choice(
        [
            "for t in range(x.shape[0]):",
            "for t in range(3):",
            "for t, W in enumerate(Ws[:-1]):",
        ]
    )
    lines = [
        "    h = w * 1.0",
        "    acc = 0.0",
        "    hs = []",
        "    outs = [w * 0.0, w * 0.0]",
    ]
    lines.append(f"    {loop_head}")
    for s in steps + body:
        s = s.format(k=r.randint(0, 2))
        lines.append("        " + s.replace("\n    ", "\n        "))
    lines.append("    H = np.stack(hs)")
    lines.append(
        "    return acc + np.sum(np.sin(H)) + np.sum(outs[0] * outs[1]) + np.sum(h @ Ws[-1])"
    )
    head = (
        "import numpy as np\n\n\ndef cell(h, xt, W):\n    return np.tanh(h @ W) * xt\n\n\n"
        "def f(x, w, Ws):\n    W = Ws[0]\n"
    )
    return head + "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_loop_program(seed, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((4, 3)) * 0.7, rng.standard_normal(3) * 0.7
    Ws = [rng.standard_normal((3, 3)) * 0.5 for _ in range(4)]
    args = (x, w, Ws)
    for attempt in range(
        20
    ):  # the first program that runs in plain Python (hs not empty)
        text = _program(seed + 1000 * attempt)
        mod = load_program(text, tmp_path / f"loop_{seed}_{attempt}.py")
        try:
            mod.f(*args)
            break
        except ValueError:
            continue
    try:
        value, grads = srcgrad.value_and_grad(mod.f, wrt=(0, 1, 2))(*args)
    except srcgrad.SrcgradError as err:
        assert err.filename and err.filename.endswith(f"loop_{seed}_{attempt}.py"), (
            text,
            err,
        )
        return
    assert value == mod.f(*args), text
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    _, grads0 = srcgrad.value_and_grad(mod.f, wrt=(0, 1, 2))(*args)
    monkeypatch.delenv("SRCGRAD_SPECIALISE")
    for a, b in zip(grads[:2] + tuple(grads[2]), grads0[:2] + tuple(grads0[2])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=text)
    check_grad(mod.f, *args, wrt=(0, 1, 2))
    # the same emitted code on a device namespace (cupy's rules, tests/fakexp.py)
    dev = (to_device(x), to_device(w), [to_device(W) for W in Ws])
    _, gd = srcgrad.value_and_grad(mod.f, wrt=(0, 1, 2))(*dev)
    for a, b in zip(grads[:2] + tuple(grads[2]), gd[:2] + tuple(gd[2])):
        np.testing.assert_allclose(to_host(b), a, rtol=1e-10, atol=1e-12, err_msg=text)
