"""Rules through ``srcgrad.vjp``: the cases the issue names as autograd's gaps, the missing-rule
error, a user rule registered with the public decorator, and random straight-line programs
composed from the registry (hypothesis).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcgrad.rules import lookup, registry
from srcgrad.testing import check_adjoint, check_grad
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import user_function
import srcgrad

GAPS = {
    "norm-axis-keepdims": (
        "np.sum(np.linalg.norm(x, axis=0, keepdims=True) * x)",
        (3, 4),
    ),
    "cbrt": ("np.sum(np.cbrt(x) ** 2)", (3, 4)),
    "cumprod": ("np.sum(np.cumprod(x, axis=1))", (3, 4)),
    "average-weights": (
        "np.average(x, axis=1, weights=[1.0, 2.0, 3.0, 4.0]).sum()",
        (3, 4),
    ),
    "flip": ("np.sum(np.flip(x, axis=(0, 1)) * np.arange(12.0).reshape(3, 4))", (3, 4)),
    "take": ("np.sum(np.take(x, [3, 0, 3]) ** 2)", (3, 4)),
    "sort-2d": ("np.sum(np.sort(x, axis=0) * np.arange(12.0).reshape(3, 4))", (3, 4)),
    "broadcast-to-leading": (
        "np.sum(np.broadcast_to(x, (2, 3, 4)) * np.arange(24.0).reshape(2, 3, 4))",
        (3, 4),
    ),
    "diagonal-non-square": ("np.sum(np.diagonal(x, 1) ** 2)", (3, 4)),
    "pad": ("np.sum(np.pad(x, ((1, 2), (0, 1)), mode='reflect') ** 2)", (3, 4)),
    "einsum-trace": (
        "np.einsum('ii->', x[:, :3]) + np.sum(np.einsum('ii->i', x[:, 1:]) ** 2)",
        (3, 4),
    ),
    "transpose-method": (
        "np.sum(x.transpose(1, 2, 0) * np.arange(24.0).reshape(3, 4, 2))",
        (2, 3, 4),
    ),
    "dot-method": ("np.sum(x.dot(x.T))", (3, 4)),
    "copy-method": ("np.sum(x.copy() * x)", (3, 4)),
    "trace-method": ("x[:, :3].trace() * x.diagonal().sum()", (3, 4)),
    "cumsum-method": ("np.sum(x.cumsum(axis=0) ** 2)", (3, 4)),
}


USER_MODULE = '''\
import numpy as np

from srcgrad.rules import adjoint


def softplus(x):
    """A user primitive: log(1 + exp(x)), computed stably."""
    return np.logaddexp(0.0, x)


@adjoint(softplus, domain=(-3.0, 3.0), shapes={"matrix": "(3,4)"})
def softplus_adjoint(g, ans, x):
    return g * np.exp(x - ans)  # the logistic function


def loss(x):
    return np.sum(softplus(x) ** 2)
'''


# unary steps that keep values in a safe range for the next step, by their registry names
_STEPS = {
    "tanh": "np.tanh({})",
    "sin": "np.sin({})",
    "exp": "np.exp(0.3 * {})",
    "square": "np.square({})",
    "sinc": "np.sinc({})",
    "cumsum": "np.cumsum({}, axis=1)",
    "flip": "np.flip({}, axis=0)",
    "roll": "np.roll({}, 1, axis=1)",
    "sort": "np.sort({}, axis=1)",
    "tril": "np.tril({})",
    "pad": "np.pad({}, 1, mode='edge')[1:-1, 1:-1]",
    "cumprod": "np.cumprod(0.5 * {}, axis=0)",
    "linalg.norm": "{} / (1.0 + np.linalg.norm({}, axis=0, keepdims=True))",
    "arctan": "np.arctan({})",
    "fft.fft": "np.real(np.fft.fft({}, axis=1))",
    "ptp": "{} - 0.1 * np.ptp({}, axis=1, keepdims=True)",
}


@pytest.mark.parametrize("key", list(GAPS))
def test_autograd_gaps_end_to_end(key):
    expr, shape = GAPS[key]
    f = user_function(f"def f(x):\n    return {expr}\n")
    x = np.random.default_rng(34).uniform(0.5, 2.0, size=shape)
    check_grad(f, x)


def test_missing_rule_error_names_the_function_and_an_alternative():
    f = user_function("""
        def f(x):
            return np.sum(np.i0(x))
        """)
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(f)(np.ones(3))
    message = str(info.value)
    assert "i0" in message and "hint" in message


def test_a_user_rule_registered_with_the_public_decorator(tmp_path, monkeypatch):
    # the registry is restored afterwards, so the generated suites never see this rule
    monkeypatch.setattr(registry, "_RULES", dict(registry._RULES))
    monkeypatch.setattr(registry, "_BY_NAME", dict(registry._BY_NAME))
    path = tmp_path / "user_softplus.py"
    path.write_text(USER_MODULE)
    spec = importlib.util.spec_from_file_location("user_softplus", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "user_softplus", module)
    spec.loader.exec_module(module)
    rule = lookup(module.softplus)
    assert rule is not None and rule.name == "softplus"
    x = np.random.default_rng(35).standard_normal((3, 4))
    check_adjoint(module.softplus, rule.adjoint, [x], rule=rule)
    check_grad(module.loss, x)


@settings(max_examples=12, deadline=None)
@given(
    steps=st.lists(st.sampled_from(sorted(_STEPS)), min_size=2, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_random_straight_line_programs(steps, seed):
    for name in steps:
        assert registry.lookup_name(name) is not None, name
    lines = ["def f(x):", "    h0 = x"]
    for k, name in enumerate(steps):
        template = _STEPS[name]
        lines.append(f"    h{k + 1} = " + template.replace("{}", f"h{k}"))
    lines.append(f"    return np.sum(h{len(steps)} * h{len(steps)})")
    f = user_function("\n".join(lines) + "\n")
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(3, 4))
    check_grad(f, x)
