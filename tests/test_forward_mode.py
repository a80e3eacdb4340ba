"""Forward mode (srcgrad.jvp), Jacobians, Hessians and Hessian-vector products.

Every tangent is compared with central differences in float64; every HVP with central
differences of the gradient.  The functions live in tests/forward/ (srcgrad reads source).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import MissingRuleError
from tests.forward import hvp_functions as H
from tests.forward import jvp_functions as J

EPS = 1e-6
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fwd"))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


def _moved(args: tuple, pos: tuple[int, ...], v: tuple, s: float) -> list:
    out = list(args)
    for p, d in zip(pos, v):
        if isinstance(out[p], dict):
            out[p] = {k: out[p][k] + s * d[k] for k in out[p]}
        else:
            out[p] = out[p] + s * d
    return out


def _fd(f: Callable[..., Any], args: tuple, pos: tuple[int, ...], v: tuple) -> Any:
    hi, lo = f(*_moved(args, pos, v, EPS)), f(*_moved(args, pos, v, -EPS))
    if isinstance(hi, tuple):
        return tuple(
            (np.asarray(a) - np.asarray(b)) / (2 * EPS) for a, b in zip(hi, lo)
        )
    return (np.asarray(hi) - np.asarray(lo)) / (2 * EPS)


def _rand_like(rng: np.random.Generator, x: Any) -> Any:
    if isinstance(x, dict):
        return {k: rng.standard_normal(np.shape(a)) for k, a in x.items()}
    return rng.standard_normal(np.shape(x))


R = np.random.default_rng(7)
r = R.standard_normal

JVP_CASES = {
    "straight": (J.straight, 0, (r(3), r((3, 4)))),
    "straight-both": (J.straight, (0, 1), (r(3), r((3, 4)))),
    "looped": (J.looped, 0, (r(3),)),
    "branched-pos": (J.branched, 0, (np.abs(r(3)),)),
    "branched-neg": (J.branched, 0, (-np.abs(r(3)),)),
    "appended": (J.appended, 0, (r(3),)),
    "written": (J.written, 0, (r(3),)),
    "called": (J.called, (0, 1), (r(3), r(3))),
    "closure": (J.closure_user, 0, (r(4),)),
    "dict": (J.dict_params, 0, ({"W": r((3, 2)), "b": r(2)}, r((4, 3)))),
    "vector-out": (J.vector_out, 0, (r(3), r((2, 3)))),
}


FAST_JVP = {"straight", "looped", "dict"}  # the default run; -m slow runs every case


def _cases(names: Any, fast: set[str]) -> list[Any]:
    return [
        pytest.param(n, marks=() if n in fast else pytest.mark.slow)
        for n in sorted(names)
    ]


def test_jvp_wrt_a_model_reads_its_tangent_leaf_by_leaf() -> None:
    """A model's leaves are read through static sub-modules (``block.W``): each leaf's
    tangent is the tangent model's leaf at the same path."""
    from srcgrad import tree

    x, y = r((4, 3)), r((4, 2))
    model = H.Net(np.random.default_rng(2))
    v = srcgrad.grad(H.model_loss, wrt=1)(x, H.Net(np.random.default_rng(3)), y)
    value, t = srcgrad.jvp(H.model_loss, wrt=1)(x, model, y, v)
    hi = tree.map(lambda a, b: a + EPS * b, model, v)
    lo = tree.map(lambda a, b: a - EPS * b, model, v)
    want = (H.model_loss(x, hi, y) - H.model_loss(x, lo, y)) / (2 * EPS)
    assert value == H.model_loss(x, model, y)
    np.testing.assert_allclose(t, want, rtol=1e-6)


@pytest.mark.parametrize("name", _cases(JVP_CASES, FAST_JVP))
def test_jvp_matches_central_differences(name: str) -> None:
    f, wrt, args = JVP_CASES[name]
    pos = (wrt,) if isinstance(wrt, int) else wrt
    rng = np.random.default_rng(1)
    v = tuple(_rand_like(rng, args[p]) for p in pos)
    value, tangent = srcgrad.jvp(f, wrt)(*args, v[0] if isinstance(wrt, int) else v)
    assert np.array_equal(value, f(*args))
    np.testing.assert_allclose(tangent, _fd(f, args, pos, v), rtol=1e-6, atol=1e-7)


def test_jvp_module_is_readable_and_cached() -> None:
    fj = srcgrad.jvp(J.straight, wrt="x")
    fj(r(3), r((3, 4)), r(3))
    text = fj.source
    assert fj.path.name.startswith("straight__wrt-x__fwd")
    assert fj.path.read_text() == text
    assert "def jvp_straight(x, W, t_x):" in text
    assert "t_h = t_h_matmul * (1 - h * h)" in text  # tanh's rule body, inlined
    assert "# " + str(Path(J.__file__).name) in text or "jvp_functions.py:" in text
    assert "jvp_functions.py:7: h = np.tanh(x @ W)" in text
    again = srcgrad.jvp(J.straight, wrt="x")
    again(r(3), r((3, 4)), r(3))
    assert again.source == text


def test_a_call_without_a_tangent_is_refused_naming_it() -> None:
    with pytest.raises(MissingRuleError, match=r"linalg\.qr"):
        srcgrad.jvp(J.no_jvp)(r((3, 3)), r((3, 3)))


def test_tangent_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(srcgrad.WrtError):
        srcgrad.jvp(J.looped)(r(3), r(4))


@pytest.mark.parametrize("wrt", [0, (0, 1)])
def test_jacobian_rev_and_fwd_agree_with_differences(wrt: Any) -> None:
    x, W = r(3), r((2, 3))
    rev = srcgrad.jacobian(J.vector_out, wrt)(x, W)
    fwd = srcgrad.jacobian(J.vector_out, wrt, mode="fwd")(x, W)
    rev, fwd = (rev,) if isinstance(wrt, int) else rev, (
        (fwd,) if isinstance(wrt, int) else fwd
    )
    for k, (a, b) in enumerate(zip(rev, fwd)):
        arg = (x, W)[k]
        assert a.shape == (2,) + arg.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        e = np.zeros(arg.size)
        e[arg.size // 2] = 1.0
        v = e.reshape(arg.shape)
        col = _fd(J.vector_out, (x, W), (k,), (v,))
        np.testing.assert_allclose(a.reshape(2, -1)[:, arg.size // 2], col, atol=1e-7)
    with pytest.raises(ValueError):
        srcgrad.jacobian(J.vector_out, 0, mode="sideways")


@pytest.mark.slow
def test_hessian_is_the_jacobian_of_the_gradient() -> None:
    x, A = r(4), r((4, 4))
    hess = srcgrad.hessian(H.quad_tanh)(x, A)
    want = 0.5 * (A + A.T) + np.diag(-2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(hess, want, atol=1e-12)
    blocks = srcgrad.hessian(H.div_fn, wrt=(0, 1))(r(3), r(3))
    assert [[b.shape for b in row] for row in blocks] == [[(3, 3)] * 2] * 2
    np.testing.assert_allclose(blocks[0][1], blocks[1][0].T, atol=1e-12)


def _model_args() -> tuple:
    return (r((4, 3)), H.Net(np.random.default_rng(2)), r((4, 2)))


HVP_CASES = {
    "quad_tanh": (H.quad_tanh, 0, lambda: (r(5), r((5, 5)))),
    "rosenbrock": (H.rosen, 0, lambda: (r(5),)),
    "logistic_loss": (H.logistic_loss, 0, lambda: (r(3), r((6, 3)), np.sign(r(6)))),
    "softmax_xent": (
        H.softmax_xent,
        0,
        lambda: (r((3, 4)), r((5, 3)), np.eye(4)[[0, 1, 2, 3, 0]]),
    ),
    "mixture_loglik": (
        H.mixture_loglik,
        0,
        lambda: (r((3, 2)), r((6, 2)), np.log(np.array([0.2, 0.3, 0.5]))),
    ),
    "call": (H.with_call, (0, 1), lambda: (r(3), r((3, 3)))),
    "closure": (H.closure_user, 0, lambda: (r(4),)),
    "nested_def": (H.nested_def, 0, lambda: (r(4),)),
    "lambda": (H.lambda_call, 0, lambda: (r(4),)),
    "partial": (H.partial_user, 0, lambda: (r(4),)),
    "branch": (H.branchy, 0, lambda: (r(4),)),
    "norm": (H.norm_fn, 0, lambda: (r(4),)),
    "max_ties": (H.max_fn, 0, lambda: (r(4),)),
    "quotient": (H.div_fn, (0, 1), lambda: (r(4), r(4))),
    "abs_power": (H.power_fn, 0, lambda: (r(4),)),
    "reshape": (H.reshape_fn, 0, lambda: (r(6),)),
    "inverse": (H.inv_fn, 0, lambda: (r((3, 3)),)),
    "where": (H.where_fn, 0, lambda: (r(5),)),
    "mlp": (H.mlp, (0, 1), lambda: (r((3, 4)), r((4, 2)), r((5, 3)))),
    "concatenate": (H.concat_fn, 0, lambda: (r(3),)),
    "moments": (H.mean_var, 0, lambda: (r(5),)),
    "gaussian_nll": (H.gaussian_nll, (0, 1), lambda: (r(3), 0.1 * r(3), r((5, 3)))),
    "logistic_regression": (
        H.logistic_regression,
        0,
        lambda: (r(3), r((6, 3)), (r(6) > 0).astype(float)),
    ),
    "model_loss": (H.model_loss, 0, _model_args),
    "loop_range": (H.loop_sum, 0, lambda: (r(4),)),
    "loop_rnn": (H.loop_rnn, 0, lambda: (0.5 * r((3, 3)), r((4, 3)))),
    "loop_layers": (H.layers_loop, 0, lambda: (r(3), [r((3, 3)), r((3, 3))])),
}


FAST_HVP = {"quad_tanh", "mixture_loglik", "model_loss", "loop_rnn"}


@pytest.mark.parametrize("name", _cases(HVP_CASES, FAST_HVP))
def test_hvp_matches_differences_of_the_gradient(name: str) -> None:
    f, wrt, make = HVP_CASES[name]
    args = make()
    single = isinstance(wrt, int)
    pos = (wrt,) if single else wrt
    rng = np.random.default_rng(3)
    v = tuple(rng.standard_normal(np.shape(args[p])) for p in pos)
    got = srcgrad.hvp(f, wrt)(*args, v[0] if single else v)
    g = srcgrad.grad(f, wrt)
    want = _fd(lambda *a: g(*a) if not single else (g(*a),), args, pos, v)
    got = (got,) if single else got
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_hvp_never_builds_the_hessian() -> None:
    """The emitted module is the forward mode of the gradient: one pass, vectors only."""
    h = srcgrad.hvp(H.quad_tanh)
    x, A, v = r(5), r((5, 5)), r(5)
    h(x, A, v)
    text = h.gradient_jvp(x, A).source
    assert "def jvp_gradient_quad_tanh(x, A, t_x):" in text
    assert "hessian" not in text.lower()


def test_hvp_wrt_a_models_parameters_is_a_model() -> None:
    """The gradient module rebuilds the model's gradient (tree_cotangent); forward mode
    reads it as the flat vector of the leaves, and hvp rebuilds a model of them."""
    from srcgrad import tree

    x, y = r((4, 3)), r((4, 2))
    model = H.Net(np.random.default_rng(4))
    v = srcgrad.grad(H.model_loss, wrt=1)(x, H.Net(np.random.default_rng(5)), y)
    got = srcgrad.hvp(H.model_loss, wrt=1)(x, model, y, v)
    assert type(got) is H.Net
    g = srcgrad.grad(H.model_loss, wrt=1)
    hi = g(x, tree.map(lambda a, b: a + EPS * b, model, v), y)
    lo = g(x, tree.map(lambda a, b: a - EPS * b, model, v), y)
    for a, b, c in zip(tree.leaves(got), tree.leaves(hi), tree.leaves(lo)):
        np.testing.assert_allclose(a, (b - c) / (2 * EPS), rtol=1e-5, atol=1e-6)


def test_hvp_reads_loop_stacks_as_lists() -> None:
    """A loop's backward pops per-step values; forward mode reads them at a counter."""
    h = srcgrad.hvp(H.loop_rnn)
    W, xs = 0.5 * r((3, 3)), r((4, 3))
    h(W, xs, r((3, 3)))
    text = h.gradient_jvp(W, xs).source
    assert ".pop()" not in text and "_k - 1" in text


def test_hvp_through_list_cotangents() -> None:
    # refused by name (item_cotangent had no JVP) until the list helpers had theirs
    x, v = r(3), r(3)
    got = srcgrad.hvp(H.loop_append)(x, v)
    g = srcgrad.grad(H.loop_append)
    np.testing.assert_allclose(
        got, (g(x + EPS * v) - g(x - EPS * v)) / (2 * EPS), rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_cli_show_and_gen_forward_mode(tmp_path: Path) -> None:
    env = {"SRCGRAD_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    target = f"{J.__file__}::straight"
    show = subprocess.run(
        [sys.executable, "-m", "srcgrad", "show", "--mode", "fwd", target],
        capture_output=True,
        text=True,
        env={**env, "PATH": ""},
        cwd=ROOT,
    )
    assert show.returncode == 0, show.stderr
    assert "def jvp_straight(x, W, t_x):" in show.stdout
    gen = subprocess.run(
        [sys.executable, "-m", "srcgrad", "gen", "--check", "--mode", "fwd", target],
        capture_output=True,
        text=True,
        env={**env, "PATH": ""},
        cwd=ROOT,
    )
    assert gen.returncode == 0, gen.stdout + gen.stderr


def _sin_sq(a, b):
    return np.sum(np.sin(a) * b**2 + a * b)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_of_a_gradient_is_the_hessian(mode, tmp_path, monkeypatch):
    # srcgrad.jacobian(srcgrad.grad(f)) stopped inside srcgrad (AttributeError _wrt_pos)
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    a = np.linspace(0.1, 1.0, 4)
    b = a[::-1] + 0.5
    h = srcgrad.jacobian(srcgrad.grad(_sin_sq, wrt="b"), wrt="b", mode=mode)(a, b)
    np.testing.assert_allclose(h, np.diag(2 * np.sin(a)), rtol=1e-12, atol=1e-12)
    cross = srcgrad.jacobian(srcgrad.grad(_sin_sq, wrt=0), wrt=1, mode=mode)(a, b)
    np.testing.assert_allclose(cross, np.diag(2 * b * np.cos(a) + 1), rtol=1e-12)
    full = srcgrad.jacobian(srcgrad.grad(_sin_sq), mode=mode)(a, b)
    np.testing.assert_allclose(full, srcgrad.hessian(_sin_sq)(a, b), rtol=1e-12)


def _dict_loss(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2) + np.sum(p["W"] ** 4)


def test_hessian_of_a_dict_argument_is_a_dict_of_dicts(tmp_path, monkeypatch):
    # a container argument stopped inside srcgrad (TypeError: ndarray has no children)
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(7)
    p = {"W": rng.standard_normal((3, 2)) * 0.5, "b": rng.standard_normal(2) * 0.5}
    x = rng.standard_normal((4, 3))
    hess = srcgrad.hessian(_dict_loss)(p, x)
    assert set(hess) == {"W", "b"} and set(hess["W"]) == {"W", "b"}
    df = srcgrad.grad(_dict_loss)
    eps = 1e-6
    for k2 in p:
        for j in np.ndindex(*p[k2].shape):
            up = {k: v.copy() for k, v in p.items()}
            down = {k: v.copy() for k, v in p.items()}
            up[k2][j] += eps
            down[k2][j] -= eps
            gu, gd = df(up, x), df(down, x)
            for k1 in p:
                want = (gu[k1] - gd[k1]) / (2 * eps)
                got = hess[k1][k2][(Ellipsis,) + j]
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert hess["W"]["b"].shape == (3, 2, 2) and hess["b"]["W"].shape == (2, 3, 2)
    # an array argument keeps its plain Hessian
    h2 = srcgrad.hessian(_dict_loss, wrt=1)(p, x)
    assert isinstance(h2, np.ndarray) and h2.shape == (4, 3, 4, 3)


def _list_pairs(x):
    hs = []
    h = x
    for _ in range(3):
        h = np.sin(h) * x
        hs.append(h)
    s = 0.0
    for t in range(3):
        s = s + hs[t] * hs[2 - t]
    return np.sum(s)


def _scattered(x):
    y = np.zeros(5)
    y[[0, 2, 4]] = np.sin(x) * x
    y[1:3] = x[:2] ** 2
    return np.sum(y**3)


@pytest.mark.parametrize("fn", [_list_pairs, _scattered], ids=["list-items", "setitem"])
def test_hessian_through_list_items_and_written_entries(fn, tmp_path, monkeypatch):
    # item_cotangent, list_cotangent_at and gather_at had no JVP: MissingRuleError
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    x = np.linspace(0.1, 0.9, 3)
    d = srcgrad.grad(fn)
    eps = 1e-6
    want = np.stack(
        [(d(x + eps * e) - d(x - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1
    )
    np.testing.assert_allclose(srcgrad.hessian(fn)(x), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.hvp(fn)(x, x), want @ x, rtol=1e-6)
