"""Random programs over helper calls, containers and comprehensions, in the style of model
code: helpers returning tuples, dict and list parameters, comprehensions, ternaries and
multiple returns.  Right (value, specialised = generic, central differences) or a
SrcgradError pointing into the program.  ``SRCGRAD_RANDOM_PROGRAMS`` sets how many."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import load_program

N_PROGRAMS = int(os.environ.get("SRCGRAD_RANDOM_PROGRAMS", "30"))

_HELPERS = """
import numpy as np


def affine(p, h):
    return h @ p["W"] + p["b"]


def split2(v):
    return v[:2], v[2:]


def moments(v):
    m = np.mean(v)
    return m, np.mean((v - m) ** 2)


def gate(h, on):
    if on:
        return np.tanh(h)
    return h * 0.5


def norm_rows(h):
    s = np.sqrt(np.sum(h * h, axis=-1, keepdims=True) + 1.0)
    return h / s
"""

_STATEMENTS = [
    "h = affine(p, h)",
    "h = np.tanh(affine(p, h))",
    "a, b = split2(h)\n    h = np.concatenate([b, a * 2.0])",
    "m, v = moments(h)\n    h = (h - m) / np.sqrt(v + 1.0)",
    "h = gate(h, {flag})",
    "h = norm_rows(h)",
    "h = np.stack([h[i] * (i + 1.0) for i in range(h.shape[0])])",
    "h = h * sum(np.sum(q) for q in qs)",
    "h = h if np.max(np.abs(h)) > 1.0 else -h",
    "parts = [h * c for c in (1.0, 0.5)]\n    h = parts[0] + np.sin(parts[1])",
    "d = {{'x': h, 'y': h * h}}\n    h = d['x'] - 0.1 * d['y']",
    "h = np.where(h > 0.1, h, 0.1 * h)",
]


def _program(seed: int) -> str:
    r = random.Random(seed)
    body = [
        r.choice(_STATEMENTS).format(flag=r.choice(["True", "False"]))
        for _ in range(r.randint(2, 6))
    ]
    lines = (
        ["    h = x"]
        + ["    " + s for s in body]
        + ["    return np.sum(h ** 2) + np.sum(p['W'] * 0.01)"]
    )
    return _HELPERS + "\n\ndef f(p, x, qs):\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_call_program(seed, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    text = _program(seed)
    mod = load_program(text, tmp_path / f"calls_{seed}.py")
    rng = np.random.default_rng(seed)
    p = {"W": rng.standard_normal((4, 4)) * 0.5, "b": rng.standard_normal(4) * 0.5}
    x = rng.standard_normal((3, 4))
    qs = [rng.standard_normal(2), rng.standard_normal(3)]
    args = (p, x, qs)
    try:
        value, grads = srcgrad.value_and_grad(mod.f, wrt=(0, 1, 2))(*args)
    except srcgrad.SrcgradError as err:
        assert err.filename and err.filename.endswith(f"calls_{seed}.py"), (text, err)
        return
    assert value == mod.f(*args), text
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    _, grads0 = srcgrad.value_and_grad(mod.f, wrt=(0, 1, 2))(*args)
    monkeypatch.delenv("SRCGRAD_SPECIALISE")
    flat = [grads[0]["W"], grads[0]["b"], grads[1], *grads[2]]
    flat0 = [grads0[0]["W"], grads0[0]["b"], grads0[1], *grads0[2]]
    for a, b in zip(flat, flat0):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=text)
    check_grad(mod.f, *args, wrt=(0, 1, 2))
