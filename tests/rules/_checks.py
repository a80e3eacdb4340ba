"""Checks shared by the rule tests: adjoints against central differences on real and complex
inputs, user modules written to files, and the cache directory the end-to-end tests use.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import textwrap
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from srcgrad.rules import lookup
from srcgrad.testing import check_adjoint

EPS = 1e-6


def _pair(a: Any, b: Any) -> float:
    """``Re(sum(a * b))``: autograd's pairing of a cotangent with a tangent."""
    return float(
        np.real(np.sum(np.asarray(a, np.complex128) * np.asarray(b, np.complex128)))
    )


def _random_like(rng: np.random.Generator, x: Any) -> Any:
    x = np.asarray(x)
    out = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        out = out + 1j * rng.standard_normal(x.shape)
    return out.astype(x.dtype)


def check_complex(
    prim: Any,
    inputs: list[Any],
    params: dict[str, Any] | None = None,
    *,
    rule: Any = None,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> None:
    """Check a rule on complex (or mixed) inputs against central differences.

    For a random output cotangent ``u`` (complex where the output is), every float or complex
    operand is perturbed along a random real direction and, if complex, along ``i`` times a
    random real direction, separately: ``Re(sum(rule(u) * d)) == d/de Re(sum(u * f(x + e d)))``.
    """
    params = dict(params or {})
    rule = rule if rule is not None else lookup(prim)
    assert rule is not None, f"no rule for {prim}"
    rng = np.random.default_rng(seed)
    ans = prim(*inputs, **params)
    outs = list(ans) if rule.multi_output else [ans]
    u = [
        _random_like(rng, y) if np.asarray(y).dtype.kind in "fc" else None for y in outs
    ]
    g = u if rule.multi_output else u[0]
    result = rule.adjoint(g, ans, *inputs, **params)
    cots = [result] if len(rule.operands) == 1 else list(result)

    def value(xs: list[Any]) -> float:
        y = prim(*xs, **params)
        ys = list(y) if rule.multi_output else [y]
        return sum(_pair(uk, yk) for uk, yk in zip(u, ys) if uk is not None)

    for k, name in enumerate(rule.operands):
        x = np.asarray(inputs[k])
        cot = cots[k]
        if x.dtype.kind not in "fc":
            continue
        assert cot is None or np.shape(cot) == x.shape, f"{rule.name}: shape of {name}"
        if cot is not None:
            assert (
                np.asarray(cot).dtype == x.dtype
            ), f"{rule.name}: dtype of cotangent of {name}"
        directions = [rng.standard_normal(x.shape)]
        if x.dtype.kind == "c":
            directions.append(
                1j * rng.standard_normal(x.shape)
            )  # the imaginary part alone
        for d in directions:
            plus = list(inputs)
            minus = list(inputs)
            plus[k] = x + EPS * d
            minus[k] = x - EPS * d
            numeric = (value(plus) - value(minus)) / (2 * EPS)
            analytic = 0.0 if cot is None else _pair(cot, d)
            assert abs(analytic - numeric) <= atol + rtol * max(
                abs(analytic), abs(numeric)
            ), (
                f"{rule.name}: cotangent of {name} along {'imaginary' if np.iscomplexobj(d) else 'real'}"
                f" directions: {analytic} != {numeric}"
            )


def crandn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def check_rule(prim: Any, *inputs: Any, seed: int = 0, **params: Any) -> None:
    """check_adjoint on the registered rule of ``prim``."""
    rule = lookup(prim)
    assert rule is not None, f"no rule for {prim}"
    check_adjoint(
        prim, rule.adjoint, list(inputs), params, np.random.default_rng(seed), rule=rule
    )


_MODULES: dict[str, Any] = {}


_SOURCES = Path(tempfile.mkdtemp(prefix="srcgrad_breadth_"))


def user_function(source: str, name: str = "f") -> Any:
    """Import ``source`` as a user module (written to a file, as srcgrad needs) and return ``name``."""
    text = "import numpy as np\n\n\n" + textwrap.dedent(source)
    key = f"breadth_{zlib.crc32(text.encode()):08x}"
    if key not in _MODULES:
        path = _SOURCES / f"{key}.py"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
        _MODULES[key] = module
    return getattr(_MODULES[key], name)


@pytest.fixture(autouse=True)
def _cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "generated")
    )


FEW = settings(max_examples=20, deadline=None)


def check(prim, *inputs, seed=0, **params):
    """check_adjoint on the registered rule of ``prim`` (float64 identity, shapes, dtypes)."""
    rule = lookup(prim)
    assert rule is not None, f"no rule for {prim}"
    check_adjoint(
        prim, rule.adjoint, list(inputs), params, np.random.default_rng(seed), rule=rule
    )


def normal(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)
