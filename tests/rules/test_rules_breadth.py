"""Breadth-rule tests that the registry-generated suite cannot express.

The rules in ``special``, ``scans``, ``indexing_more``, ``linalg_more``, ``fft`` and
``scipy_special`` declare ``shapes``/``params``/``domain`` so that ``test_rules.py`` and
``test_inlined.py`` check them on real inputs.  This file adds:

* complex inputs, with the real and imaginary parts of every input perturbed separately,
  under autograd's convention (the cotangent ``c`` of ``z`` pairs as ``Re(sum(c * dz))``);
* ``svd``, ``eigh`` and ``eig`` through gauge-invariant functions, end to end;
* ``rfft``/``irfft``/``hfft`` with odd and even ``n`` on complex spectra;
* forms whose parameters cannot be written as literals or need their own shapes
  (``ord=np.inf``, ``np.gradient`` spacings, ``compute_uv=False``, ``mode='r'``, 2-vector
  ``cross``) and the ``scipy.special`` ufunc rules (not registered yet, see that module);
* the cases the issue names as autograd's gaps, run through ``srcgrad.vjp``;
* a user rule registered with the public decorator, and random straight-line programs
  composed from the registry (hypothesis).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import textwrap
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcgrad.rules.registry import numpy_at_least, numpy_function
import srcgrad
from srcgrad.rules import lookup, registry
from srcgrad.testing import check_adjoint, check_grad

EPS = 1e-6


# --------------------------------------------------------------------------- helpers


def _pair(a: Any, b: Any) -> float:
    """``Re(sum(a * b))``: autograd's pairing of a cotangent with a tangent."""
    return float(np.real(np.sum(np.asarray(a, np.complex128) * np.asarray(b, np.complex128))))


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
    u = [_random_like(rng, y) if np.asarray(y).dtype.kind in "fc" else None for y in outs]
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
            assert np.asarray(cot).dtype == x.dtype, f"{rule.name}: dtype of cotangent of {name}"
        directions = [rng.standard_normal(x.shape)]
        if x.dtype.kind == "c":
            directions.append(1j * rng.standard_normal(x.shape))  # the imaginary part alone
        for d in directions:
            plus = list(inputs)
            minus = list(inputs)
            plus[k] = x + EPS * d
            minus[k] = x - EPS * d
            numeric = (value(plus) - value(minus)) / (2 * EPS)
            analytic = 0.0 if cot is None else _pair(cot, d)
            assert abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)), (
                f"{rule.name}: cotangent of {name} along {'imaginary' if np.iscomplexobj(d) else 'real'}"
                f" directions: {analytic} != {numeric}"
            )


def crandn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def check_rule(prim: Any, *inputs: Any, seed: int = 0, **params: Any) -> None:
    """check_adjoint on the registered rule of ``prim``."""
    rule = lookup(prim)
    assert rule is not None, f"no rule for {prim}"
    check_adjoint(prim, rule.adjoint, list(inputs), params, np.random.default_rng(seed), rule=rule)


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
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "generated"))


# --------------------------------------------------------------------------- complex inputs

HOLOMORPHIC = [
    np.exp,
    np.sin,
    np.cos,
    np.tanh,
    np.sinh,
    np.cosh,
    np.log,
    np.sqrt,
    np.square,
    np.reciprocal,
    np.expm1,
    np.log1p,
    np.exp2,
    np.log2,
    np.log10,
    np.tan,
    np.arctan,
    np.arcsinh,
    np.negative,
]


@pytest.mark.parametrize("prim", HOLOMORPHIC, ids=lambda p: p.__name__)
def test_holomorphic_elementwise_on_complex_inputs(prim):
    rng = np.random.default_rng(1)
    z = 0.5 * crandn(rng, 3, 4) + 1.0  # away from branch cuts
    check_complex(prim, [z])


@pytest.mark.parametrize(
    "prim",
    [np.real, np.imag, np.conjugate, np.angle, np.absolute, np.nan_to_num, np.real_if_close],
    ids=lambda p: p.__name__,
)
def test_complex_parts_on_complex_inputs(prim):
    rng = np.random.default_rng(2)
    check_complex(prim, [crandn(rng, 3, 4)])


def test_angle_in_degrees_on_complex_inputs():
    rng = np.random.default_rng(3)
    check_complex(np.angle, [crandn(rng, 5)], {"deg": True})


def test_nan_to_num_masks_real_and_imaginary_parts_separately():
    z = np.array([1 + 2j, np.nan + 1j, 2 + np.inf * 1j, -1 - 1j])
    check_complex(np.nan_to_num, [z], {"posinf": 3.0})


@pytest.mark.parametrize("prim", [np.add, np.multiply, np.divide, np.subtract, np.power])
def test_binary_on_complex_and_mixed_inputs(prim):
    rng = np.random.default_rng(4)
    z1 = crandn(rng, 3, 4) + 2.0
    check_complex(prim, [z1, crandn(rng, 4) + 2.0])
    check_complex(prim, [z1, rng.uniform(0.5, 2.0, size=(3, 1))])  # a real operand gets Re


@pytest.mark.parametrize("prim", [np.sum, np.mean, np.prod, np.cumsum, np.cumprod])
def test_reductions_and_scans_on_complex_inputs(prim):
    rng = np.random.default_rng(5)
    check_complex(prim, [crandn(rng, 3, 4)], {"axis": 0})


@pytest.mark.parametrize("prim", [np.matmul, np.kron, np.convolve, np.correlate, np.cross])
def test_products_on_complex_inputs(prim):
    rng = np.random.default_rng(6)
    if prim is np.matmul:
        a, b = crandn(rng, 3, 4), crandn(rng, 4, 2)
    elif prim is np.cross:
        a, b = crandn(rng, 2, 3), crandn(rng, 3)
    elif prim is np.kron:
        a, b = crandn(rng, 2, 2), crandn(rng, 3)
    else:
        a, b = crandn(rng, 5), crandn(rng, 3)
    check_complex(prim, [a, b])


# numpy >= 2.0 (vecdot) / 2.2 (vecmat, matvec): absent ones are left out on an older numpy
_PRODUCTS = [numpy_function(p) for p in ("vecdot", "linalg.vecdot", "vecmat", "matvec")]


@pytest.mark.parametrize("prim", [p for p in _PRODUCTS if p is not None])
def test_conjugating_products_on_complex_inputs(prim):
    rng = np.random.default_rng(7)
    if prim is getattr(np, "vecmat", None):
        a, b = crandn(rng, 2, 3), crandn(rng, 3, 4)
    elif prim is getattr(np, "matvec", None):
        a, b = crandn(rng, 2, 3, 4), crandn(rng, 4)
    else:
        a, b = crandn(rng, 3, 4), crandn(rng, 4)
    check_complex(prim, [a, b])


@pytest.mark.parametrize(
    "prim, params",
    [
        (np.fft.fft, {}),
        (np.fft.fft, {"n": 3, "norm": "ortho"}),
        (np.fft.ifft, {"n": 7, "axis": 0}),
        (np.fft.fft2, {"s": (2, 5)}),
        (np.fft.ifft2, {"norm": "forward"}),
        (np.fft.fftn, {"axes": (0, 1)}),
        (np.fft.ifftn, {"s": (4, 3), "axes": (1, 0)}),
        (np.fft.fftshift, {}),
        (np.fft.ifftshift, {"axes": 1}),
    ],
)
def test_complex_transforms_on_complex_inputs(prim, params):
    rng = np.random.default_rng(8)
    check_complex(prim, [crandn(rng, 3, 4)], params)


@pytest.mark.parametrize("n", [None, 4, 5, 6, 7, 9, 2])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_irfft_with_odd_and_even_n_on_complex_spectra(n, norm):
    rng = np.random.default_rng(9)
    spectrum = crandn(rng, 2, 4)  # the imaginary parts of bin 0 (and n/2) are ignored: 0 cotangent
    check_complex(np.fft.irfft, [spectrum], {"n": n, "norm": norm})


@pytest.mark.parametrize("n", [None, 4, 5, 8, 3])
def test_rfft_with_odd_and_even_n(n):
    rng = np.random.default_rng(10)
    check_complex(np.fft.rfft, [rng.standard_normal((3, 5))], {"n": n})


@pytest.mark.parametrize("s", [None, (4, 5), (3, 6), (2, 3)])
def test_irfftn_and_irfft2_on_complex_spectra(s):
    rng = np.random.default_rng(11)
    spectrum = crandn(rng, 2, 3, 4)
    check_complex(np.fft.irfftn, [spectrum], {"s": s, "axes": None if s is None else (1, 2)})
    check_complex(np.fft.irfft2, [spectrum], {"s": s})
    check_complex(
        np.fft.rfftn,
        [rng.standard_normal((2, 3, 4))],
        {"s": s, "axes": None if s is None else (0, 2)},
    )


@pytest.mark.parametrize("n", [None, 5, 6])
def test_hfft_and_ihfft(n):
    rng = np.random.default_rng(12)
    check_complex(np.fft.hfft, [crandn(rng, 3, 4)], {"n": n, "norm": "ortho"})
    check_complex(np.fft.ihfft, [rng.standard_normal((3, 6))], {"n": n})


@pytest.mark.parametrize("prim", [np.linalg.inv, np.linalg.det, np.linalg.slogdet])
def test_linalg_on_complex_matrices(prim):
    rng = np.random.default_rng(13)
    a = crandn(rng, 2, 3, 3) + 3 * np.eye(3)
    check_complex(prim, [a])


def test_solve_on_complex_matrices():
    rng = np.random.default_rng(14)
    check_complex(np.linalg.solve, [crandn(rng, 3, 3) + 3 * np.eye(3), crandn(rng, 3, 2)])
    if numpy_at_least("2.0.0"):  # a 1-d b for a batch of matrices: numpy >= 2
        check_complex(np.linalg.solve, [crandn(rng, 2, 3, 3) + 3 * np.eye(3), crandn(rng, 3)])


def test_eig_and_eigvals_on_complex_matrices():
    rng = np.random.default_rng(15)
    a = crandn(rng, 3, 3) + np.diag([0.0, 3.0, 6.0])
    check_complex(np.linalg.eig, [a])
    check_complex(np.linalg.eigvals, [a])


# --------------------------------------------------------------------------- gauge-invariant decompositions


def test_svd_through_gauge_invariant_functions_end_to_end():
    f = user_function("""
        def f(a):
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            top = u[:, :2] @ np.diag(s[:2]) @ vh[:2, :]  # best rank-2 approximation
            proj = u @ u.T  # projector onto the column space
            return np.sum(top * top) + np.sum(np.sin(3 * proj)) + np.sum(np.sqrt(s))
        """)
    rng = np.random.default_rng(16)
    for shape in [(4, 3), (3, 4), (3, 3)]:
        a = rng.standard_normal(shape)
        check_grad(f, a)


def test_eigh_through_a_matrix_function_end_to_end():
    f = user_function("""
        def f(a):
            w, v = np.linalg.eigh(a)
            expm = (v * np.exp(w)) @ v.T  # exp of the symmetric matrix the lower triangle makes
            return np.sum(expm * expm) + np.sum(v[:, -1] ** 2 * np.arange(3.0))
        """)
    rng = np.random.default_rng(17)
    a = rng.standard_normal((3, 3))
    a = a + a.T + np.diag([0.0, 3.0, 6.0])
    check_grad(f, a)


def test_eig_through_gauge_invariant_functions():
    rng = np.random.default_rng(18)
    a = 0.3 * rng.standard_normal((3, 3)) + np.array(
        [[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0]]
    )
    rule = lookup(np.linalg.eig)

    def invariant(x):
        w, v = np.linalg.eig(x)
        p = v[:, :1] @ np.linalg.inv(v)[:1, :]  # spectral projector: independent of the gauge
        return np.sum(np.real(p) ** 2) + np.sum(np.real(w * w))

    w, v = np.linalg.eig(a)
    assert np.iscomplexobj(v)  # a complex pair: the phase of those vectors is LAPACK's choice
    # cotangents of the two outputs from the projector expression, chained by hand
    eps = 1e-6
    grad_num = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            d = np.zeros_like(a)
            d[i, j] = eps
            grad_num[i, j] = (invariant(a + d) - invariant(a - d)) / (2 * eps)

    # d/dv and d/dw of the invariant, taken numerically on the outputs (complex: two parts)
    def outer(w_, v_):
        p = v_[:, :1] @ np.linalg.inv(v_)[:1, :]
        return np.sum(np.real(p) ** 2) + np.sum(np.real(w_ * w_))

    g_w = 2 * w
    g_v = np.zeros_like(v)
    for i in range(3):
        for j in range(3):
            for unit in (1, 1j):
                d = np.zeros_like(v)
                d[i, j] = eps * unit
                slope = (outer(w, v + d) - outer(w, v - d)) / (2 * eps)
                g_v[i, j] += slope * (1 if unit == 1 else -1j)  # autograd's convention
    got = rule.adjoint([g_w, g_v], (w, v), a)
    np.testing.assert_allclose(got, grad_num, rtol=1e-5, atol=1e-6)


def test_eigh_eigenvalues_only_stay_finite_at_repeated_eigenvalues():
    f = user_function("""
        def f(a):
            w, v = np.linalg.eigh(a)
            return np.sum(w * w)
        """)
    a = np.eye(3) * 2.0
    _, grads = srcgrad.value_and_grad(f)(a)
    assert np.all(np.isfinite(grads))
    np.testing.assert_allclose(grads, np.diag([4.0] * 3))  # d sum(w^2) = 2 A on the diagonal


@pytest.mark.skipif(not hasattr(np.linalg, "svdvals"), reason="np.linalg.svdvals: numpy >= 2.0")
def test_svd_values_only_and_svdvals_end_to_end():
    f = user_function("""
        def f(a):
            s = np.linalg.svd(a, compute_uv=False)
            return np.sum(s ** 3) + np.sum(np.linalg.svdvals(a))
        """)
    a = np.random.default_rng(19).standard_normal((4, 3))
    check_grad(f, a)


def test_qr_r_mode_and_complete_mode():
    rule = lookup(np.linalg.qr)
    rng = np.random.default_rng(20)
    for shape in [(4, 3), (3, 3), (3, 5)]:
        a = rng.standard_normal(shape)

        def r_only(x):
            return np.linalg.qr(x, mode="r")

        r = r_only(a)
        u = rng.standard_normal(r.shape)
        got = rule.adjoint(u, r, a, "r")
        d = rng.standard_normal(shape)
        numeric = np.sum(u * (r_only(a + EPS * d) - r_only(a - EPS * d))) / (2 * EPS)
        assert abs(np.sum(got * d) - numeric) < 1e-6 * max(1, abs(numeric))


def test_cholesky_on_a_positive_definite_batch_and_symmetric_perturbations():
    rng = np.random.default_rng(21)
    b = rng.standard_normal((2, 4, 4))
    a = b @ np.swapaxes(b, -1, -2) + 4 * np.eye(4)
    check_rule(np.linalg.cholesky, a)
    if numpy_at_least("2.0.0"):  # upper=: numpy >= 2
        check_rule(np.linalg.cholesky, a, upper=True)
    # the symmetric gradient (what autograd returns) is the symmetric part of ours
    rule = lookup(np.linalg.cholesky)
    low = np.linalg.cholesky(a)
    u = rng.standard_normal(low.shape)
    ours = rule.adjoint(u, low, a)
    d = rng.standard_normal(a.shape)
    d = d + np.swapaxes(d, -1, -2)
    numeric = np.sum(u * (np.linalg.cholesky(a + EPS * d) - np.linalg.cholesky(a - EPS * d))) / (
        2 * EPS
    )
    assert abs(np.sum(ours * d) - numeric) < 1e-6 * max(1, abs(numeric))


# --------------------------------------------------------------------------- forms outside the grids


@pytest.mark.parametrize("ord_", [np.inf, -np.inf])
def test_infinity_norms(ord_):
    rng = np.random.default_rng(22)
    check_rule(np.linalg.norm, rng.standard_normal(5), ord=ord_)
    check_rule(np.linalg.norm, rng.standard_normal((3, 4)), ord=ord_)
    check_rule(np.linalg.norm, rng.standard_normal((2, 3, 4)), ord=ord_, axis=(2, 0), keepdims=True)
    check_rule(np.linalg.norm, rng.standard_normal((2, 3, 4)), ord=ord_, axis=1)
    if hasattr(np.linalg, "vector_norm"):  # numpy >= 2.0
        check_rule(np.linalg.vector_norm, rng.standard_normal((2, 3)), ord=ord_)
        check_rule(np.linalg.matrix_norm, rng.standard_normal((2, 3, 4)), ord=ord_)
    check_rule(np.linalg.cond, rng.standard_normal((3, 3)) + 3 * np.eye(3), p=ord_)


def test_norm_ties_share_the_cotangent():
    x = np.array([1.0, -3.0, 3.0, 2.0])
    rule = lookup(np.linalg.norm)
    got = rule.adjoint(np.float64(1.0), np.linalg.norm(x, np.inf), x, np.inf)
    np.testing.assert_allclose(got, [0.0, -0.5, 0.5, 0.0])
    zero = rule.adjoint(np.float64(1.0), np.float64(0.0), np.zeros(3))
    np.testing.assert_array_equal(zero, np.zeros(3))


def test_norms_end_to_end_with_axis_keepdims_and_inf():
    f = user_function("""
        def f(x):
            a = np.linalg.norm(x, axis=1, keepdims=True)
            b = np.linalg.norm(x, ord=np.inf, axis=(0, 2))
            c = np.linalg.norm(x, ord="nuc", axis=(1, 2))
            return np.sum(a * a) + np.sum(b) + np.sum(c)
        """)
    check_grad(f, np.random.default_rng(23).standard_normal((2, 3, 4)))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_steps_and_coordinates(edge_order):
    rng = np.random.default_rng(24)
    f2 = rng.standard_normal((4, 5))
    xs = np.cumsum(rng.uniform(0.5, 1.5, 5))
    check_rule(np.gradient, rng.standard_normal(6), 0.7, edge_order=edge_order)
    check_rule(
        np.gradient,
        rng.standard_normal(6),
        np.cumsum(rng.uniform(0.5, 1.5, 6)),
        edge_order=edge_order,
    )
    check_rule(np.gradient, f2, xs, axis=1, edge_order=edge_order)
    check_rule(np.gradient, f2, 0.3, axis=0, edge_order=edge_order)


def test_gradient_end_to_end_with_coordinates():
    f = user_function("""
        def f(y, x):
            dy = np.gradient(y, x)
            return np.sum(dy * dy)
        """)
    rng = np.random.default_rng(25)
    y, x = rng.standard_normal(6), np.cumsum(rng.uniform(0.5, 1.5, 6))
    check_grad(f, y, x, wrt=("y", "x"))


def _two_vector_cross() -> bool:
    """Whether the installed numpy still computes np.cross of 2-vectors (deprecated in numpy
    2.0, removed in 2.5)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            np.cross(np.ones(2), np.ones(2))
    except ValueError:
        return False
    return True


@pytest.mark.skipif(not _two_vector_cross(), reason="this numpy has no 2-vector np.cross")
def test_cross_with_two_vectors():
    rng = np.random.default_rng(26)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_rule(np.cross, rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))
        check_rule(np.cross, rng.standard_normal((4, 2)), rng.standard_normal((4, 3)))


def test_cross_cotangents_never_call_two_vector_cross():
    """The rule pads to 3-vectors itself: it works on a numpy without 2-vector cross."""
    rng = np.random.default_rng(26)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        check_rule(np.cross, rng.standard_normal((4, 3)), rng.standard_normal((3,)))
        check_rule(np.cross, rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), axis=0)


def test_pad_modes_on_three_axes():
    rng = np.random.default_rng(27)
    x = rng.standard_normal((2, 3, 4))
    for mode in [
        "edge",
        "wrap",
        "reflect",
        "symmetric",
        "mean",
        "maximum",
        "median",
        "linear_ramp",
    ]:
        check_rule(np.pad, x, ((1, 2), (0, 1), (3, 0)), mode=mode)
    check_rule(np.pad, x, 7, mode="symmetric")
    check_rule(np.pad, x, ((1, 0), (2, 1), (0, 2)), mode="reflect", reflect_type="odd")
    check_rule(np.pad, x, 2, mode="minimum", stat_length=((1, 2), (2, 1), (3, 3)))


def test_sliding_window_view_scatters_back_overlapping_windows():
    rng = np.random.default_rng(28)
    view = np.lib.stride_tricks.sliding_window_view
    check_rule(view, rng.standard_normal((5, 6)), (3, 2))
    f = user_function("""
        def f(x):
            w = np.lib.stride_tricks.sliding_window_view(x, 3)
            return np.sum(np.max(w, axis=-1) ** 2)
        """)
    check_grad(f, rng.standard_normal(7))


def test_take_along_axis_from_argsort_end_to_end():
    f = user_function("""
        def f(x):
            order = np.argsort(x, axis=1)
            top = np.take_along_axis(x, order[:, -2:], axis=1)
            return np.sum(top * top) + np.sum(np.take(x, [0, 2, 2], axis=1))
        """)
    check_grad(f, np.random.default_rng(29).standard_normal((3, 4)))


def test_quantiles_with_array_q_and_keepdims():
    rng = np.random.default_rng(30)
    x = rng.standard_normal((3, 5, 4))
    check_rule(np.quantile, x, [0.1, 0.5, 0.95], axis=(0, 2), keepdims=True)
    check_rule(np.percentile, x, [[10.0, 50.0], [90.0, 100.0]], axis=1)
    check_rule(np.median, x, axis=(1, 2), keepdims=True)


@pytest.mark.parametrize("shape", [(5,), (2, 5)])
def test_cumprod_with_zeros_anywhere(shape):
    for zeros in [(), (0,), (2,), (4,), (1, 3), (0, 4)]:
        x = np.random.default_rng(31).uniform(0.5, 2.0, size=shape)
        x[..., list(zeros)] = 0.0
        check_rule(np.cumprod, x, axis=-1)
        check_rule(np.cumprod, x)


# --------------------------------------------------------------------------- scipy.special ufunc rules

scipy_special = pytest.importorskip("scipy.special")


def _ufunc_rules():
    from srcgrad.rules import scipy_special as module

    return module.UFUNC_RULES


@pytest.mark.parametrize("entry", _ufunc_rules(), ids=lambda e: e[0].__name__)
def test_scipy_ufunc_rules_match_central_differences(entry):
    prim, fn, spec = entry
    domain = spec.get("domain", (-2.0, 2.0))
    rng = np.random.default_rng(32)
    n_in = len([p for p in fn.__code__.co_varnames[2 : fn.__code__.co_argcount]])

    def draw(name: str) -> np.ndarray:
        d = domain.get(name, (-2.0, 2.0)) if isinstance(domain, dict) else domain
        return d(rng, (3, 4)) if callable(d) else rng.uniform(*d, size=(3, 4))

    names = fn.__code__.co_varnames[2 : 2 + n_in]
    inputs = [draw(n) for n in names]
    check_adjoint(prim, fn, inputs, {}, rng)


def test_series_digamma_and_trigamma_match_scipy():
    from srcgrad.runtime.scipy_special import _series_polygamma

    x = np.concatenate([np.linspace(-3.7, -0.1, 9) + 0.03, np.linspace(0.05, 30.0, 40)])
    np.testing.assert_allclose(
        _series_polygamma(np, x, 0), scipy_special.digamma(x), rtol=1e-10, atol=1e-11
    )
    np.testing.assert_allclose(
        _series_polygamma(np, x, 1), scipy_special.polygamma(1, x), rtol=1e-10
    )


def test_logsumexp_end_to_end():
    f = user_function("""
        import scipy.special


        def f(x):
            return np.sum(scipy.special.logsumexp(x, axis=1)) + scipy.special.softmax(x)[0, 1]
        """)
    check_grad(f, np.random.default_rng(33).standard_normal((3, 4)))


# --------------------------------------------------------------------------- autograd's gaps, end to end

GAPS = {
    "norm-axis-keepdims": ("np.sum(np.linalg.norm(x, axis=0, keepdims=True) * x)", (3, 4)),
    "cbrt": ("np.sum(np.cbrt(x) ** 2)", (3, 4)),
    "cumprod": ("np.sum(np.cumprod(x, axis=1))", (3, 4)),
    "average-weights": ("np.average(x, axis=1, weights=[1.0, 2.0, 3.0, 4.0]).sum()", (3, 4)),
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


# --------------------------------------------------------------------------- user rules


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


# --------------------------------------------------------------------------- random programs

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


# --------------------------------------------------------------------------- coverage, listing, README


def test_srcgrad_covers_every_numpy_function_autograd_differentiates():
    pytest.importorskip("autograd")
    from srcgrad.rules._coverage import compare

    cmp = compare()
    assert cmp.autograd is not None and cmp.autograd.count() >= 100
    assert cmp.missing == [], f"autograd differentiates these and srcgrad does not: {cmp.missing}"
    assert cmp.srcgrad.count() > cmp.autograd.count()


def test_describe_lists_every_rule_with_its_module_and_domains():
    rows = registry.describe()
    assert [r.primitive for r in rows] == sorted(r.name for r in registry.all_rules())
    by_name = {r.primitive: r for r in rows}
    assert by_name["linalg.cholesky"].module == "srcgrad.rules.linalg"
    assert "positive definite" in by_name["linalg.cholesky"].domains
    assert by_name["tanh"].domains == "(-2, 2)"
    assert "x2:" in by_name["divide"].domains
    everything = registry.describe(include_nondiff=True)
    assert any(r.primitive == "argmax" and r.module == "non-differentiable" for r in everything)


@pytest.mark.skipif(
    numpy_function("matvec") is None, reason="README.md lists the rules of numpy >= 2.2"
)
def test_readme_lists_the_covered_primitives_generated_from_the_registry():
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "gen_rules_table", root / "tools" / "gen_rules_table.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (root / "README.md").read_text()
    assert tool.render(readme) == readme, "README.md is stale: run python tools/gen_rules_table.py"
