"""Golden emitted files, black idempotence and the emitted-code lint."""

from __future__ import annotations

from pathlib import Path

import black
import numpy as np
import pytest

import srcgrad
from srcgrad.codegen.emit import black_mode
from tests.engine import golden_src
from tests.engine.lint import lint_emitted

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parent.parent

rng = np.random.default_rng(0)


def _r(*shape):
    return rng.normal(size=shape)


CASES = {
    "mse_tanh": (
        golden_src.mse_tanh,
        ("W", "b"),
        lambda: (_r(4, 3), _r(3), _r(5, 4), _r(5, 3)),
    ),
    "softmax_cross_entropy": (
        golden_src.softmax_cross_entropy,
        0,
        lambda: (_r(6, 4), np.eye(4)[[0, 1, 2, 3, 0, 1]]),
    ),
    "layer_norm": (golden_src.layer_norm, (0, 1, 2), lambda: (_r(3, 5), _r(5), _r(5))),
    "mlp_dict": (
        golden_src.mlp_dict,
        "params",
        lambda: (
            {"W1": _r(4, 6), "b1": _r(6), "W2": _r(6, 2), "b2": _r(2)},
            _r(3, 4),
            _r(3, 2),
        ),
    ),
    "linear_namedtuple": (
        golden_src.linear_namedtuple,
        0,
        lambda: (golden_src.Linear(_r(4, 3), _r(3)), _r(2, 4)),
    ),
    "projectile_range": (
        golden_src.projectile_range,
        (0, 1),
        lambda: (12.0, 0.4, 9.81),
    ),
    "attention": (
        golden_src.attention,
        (0, 1, 2),
        lambda: (_r(3, 4), _r(5, 4), _r(5, 2)),
    ),
    "window_energy": (golden_src.window_energy, 0, lambda: (_r(6),)),
    "bilinear_einsum": (
        golden_src.bilinear_einsum,
        (0, 1, 2),
        lambda: (_r(3), _r(3, 4), _r(4)),
    ),
    "stacked_features": (golden_src.stacked_features, 0, lambda: (_r(3, 4),)),
    "sawtooth": (
        golden_src.sawtooth,
        0,
        lambda: (rng.uniform(0.1, 0.9, (4,)) + 3.0, 1.0),
    ),
    "aux_stats": (golden_src.aux_stats, 0, lambda: (_r(4),)),
    "rnn_loop": (
        golden_src.rnn_loop,
        (0, 1, 2, 4),
        lambda: (_r(3, 4), 0.5 * _r(4, 4), _r(4), _r(5, 3), _r(4)),
    ),
    "newton_sqrt": (golden_src.newton_sqrt, 0, lambda: (2.0,)),
    "piecewise": (golden_src.piecewise, 0, lambda: (0.5,)),
    "damped_spring": (golden_src.damped_spring, (0, 1, 2), lambda: (1.0, 0.0, 2.0)),
    "stacked_states": (
        golden_src.stacked_states,
        (0, 1),
        lambda: (0.5 * _r(3, 3), _r(4, 3)),
    ),
    "first_above": (
        golden_src.first_above,
        (0, 1),
        lambda: (np.array([0.1, 0.5, 0.9]), 0.4),
    ),
}


def _strip_volatile(text: str) -> str:
    """Drop the key and digest lines: they change with any rule edit, the body shows how."""
    return "\n".join(
        ln for ln in text.splitlines() if not ln.startswith(("# key: ", "# digest: "))
    )


@pytest.fixture
def in_repo_root(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", sorted(CASES))
def test_emitted_module_matches_golden(name, in_repo_root, request):
    fn, wrt, make = CASES[name]
    has_aux = name == "aux_stats"
    df = srcgrad.grad(fn, wrt=wrt, has_aux=has_aux)
    df(*make())
    text = df.source
    golden = GOLDEN / f"{name}.py"
    if request.config.getoption("--update-golden"):
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}: run pytest --update-golden"
    assert _strip_volatile(text) == _strip_volatile(golden.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_emitted_module_is_black_formatted_and_lint_clean(name, in_repo_root):
    fn, wrt, make = CASES[name]
    df = srcgrad.grad(fn, wrt=wrt, has_aux=name == "aux_stats")
    df(*make())
    text = df.source
    assert black.format_str(text, mode=black_mode()) == text
    assert lint_emitted(text) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_function_matches_central_differences(name, in_repo_root):
    fn, wrt, make = CASES[name]
    if name == "aux_stats":
        pytest.skip("has_aux: checked through its loss in test_api")
    srcgrad.testing.check_grad(fn, *make(), wrt=wrt)


def test_lint_catches_each_problem(tmp_path):
    src = tmp_path / "user.py"
    src.write_text("def f(x):\n    y = x * 2\n    return y\n")
    bad = (
        "def bwd_f(res, d_out):\n"
        "    (x,) = res\n"
        f"    # {src}:2: y = x * 3\n"
        "    d_x = d_out * 2\n"
        "    d_x += np.zeros(3)\n"
        "    return (d_x,)\n"
    )
    problems = lint_emitted(bad)
    assert any("names np" in p for p in problems)
    assert any("augmented assignment" in p for p in problems)
    assert any("comment says" in p for p in problems)
    no_comment = "def bwd_f(res, d_out):\n    (x,) = res\n    d_x = d_out * 2\n    return (d_x,)\n"
    assert any("without a file:line comment" in p for p in lint_emitted(no_comment))
