"""Calls to user functions (inlined), @custom_vjp, and in-place writes, end to end."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

import srcgrad
from tests.engine.loader import load_source
from srcgrad.testing import check_grad

SOURCE = """
import numpy as np
import srcgrad


def dense(W, b, x):
    return np.tanh(x @ W + b)


def norm2(v, eps=1e-8):
    s = np.sum(v * v)
    if s < eps:
        return eps
    return s


def split2(x):
    return x[0], x[1]


def model(W1, b1, W2, b2, x):
    h = dense(W1, b1, x)
    out = dense(W2, b2, h)
    a, b = split2(out)
    return norm2(a) + norm2(v=b)


@srcgrad.custom_vjp
def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@logsumexp.defvjp
def logsumexp_vjp(g, ans, x):
    return g * np.exp(x - ans)


def lse_loss(x, w):
    return logsumexp(x * w) ** 2


def particles(x0, v, dt):
    pos = np.zeros((5, x0.shape[0]))
    pos[0] = x0
    for t in range(1, 5):
        pos[t] = pos[t - 1] + dt * v
    return np.sum(pos**2)


def dp_table(a):
    n = a.shape[0]
    best = np.zeros(n)
    best[0] = a[0]
    for i in range(1, n):
        best[i] = np.maximum(best[i - 1] + a[i], a[i])
    return np.sum(best)


def histogram(w, idx):
    h = np.zeros(4)
    h[idx] += w
    return np.sum(h * np.arange(1.0, 5.0))


def masked_scale(x, c):
    y = x.copy()
    y[y > 0] *= c
    y[0] = 2.0 * c
    return np.sum(y**2)


def fancy_reads(x, idx):
    return np.sum(x[idx] ** 2) + np.sum(x[x > 0]) + np.sum(x[1, :, 0])
"""


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    d = tmp_path_factory.mktemp("calls")
    m = load_source(d, "engine_calls_src", textwrap.dedent(SOURCE))
    return m


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


rng = np.random.default_rng(3)


def test_inlined_helpers_match_central_differences(mod):
    args = (
        rng.normal(size=(3, 4)),
        rng.normal(size=4),
        rng.normal(size=(4, 2)),
        rng.normal(size=2),
        rng.normal(size=(5, 3)),
    )
    check_grad(mod.model, *args, wrt=(0, 1, 2, 3))
    src = srcgrad.grad(mod.model, wrt=0).source
    assert "calls: " in src  # the callees are part of the cache key
    assert re.search(
        r"engine_calls_src.py:\d+: return np.tanh\(x @ W \+ b\)", src
    )  # callee lines


def test_custom_vjp_rule_is_called_in_the_backward(mod):
    check_grad(mod.lse_loss, rng.normal(size=4), rng.normal(size=4), wrt=(0, 1))
    assert "logsumexp.vjp(" in srcgrad.grad(mod.lse_loss).source


def test_custom_vjp_without_rule_is_an_error(mod, tmp_path):
    f = srcgrad.custom_vjp(lambda x: x)
    mod.norule = f
    src = "def use_norule(x):\n    return norule(x)\n"
    text = "import numpy as np\nfrom engine_calls_src import norule\n" + src
    m = load_source(tmp_path, "norule_src", text)
    with pytest.raises(srcgrad.MissingRuleError, match="defvjp"):
        srcgrad.grad(m.use_norule)(np.ones(3))


@pytest.mark.parametrize("name", ["particles", "dp_table", "masked_scale"])
def test_subscript_writes_match_central_differences(mod, name):
    f = getattr(mod, name)
    args = {
        "particles": ((rng.normal(size=3), rng.normal(size=3), 0.1), (0, 1, 2)),
        "dp_table": ((rng.normal(size=6),), 0),
        "masked_scale": ((rng.normal(size=6), 1.5), (0, 1)),
    }[name]
    check_grad(f, *args[0], wrt=args[1])
    x = args[0][0].copy()
    srcgrad.grad(f, wrt=args[1])(*args[0])
    np.testing.assert_array_equal(x, args[0][0])  # inputs never written


def test_repeated_indices_follow_numpy_last_write_wins(mod):
    idx = np.array([0, 2, 2, 3, 0])
    w = rng.normal(size=5)
    check_grad(mod.histogram, w, idx, wrt=0)
    g = srcgrad.grad(mod.histogram)(w, idx)
    assert g[0] == 0.0 and g[1] == 0.0  # overwritten by the later duplicates


def test_fancy_and_mask_reads_accumulate(mod):
    x = rng.normal(size=(3, 4, 2))
    idx = (np.array([0, 0, 2]),)
    check_grad(mod.fancy_reads, x, idx, wrt=0)


CLOSURES = """
import functools
import numpy as np


def scaled_tanh(x, a, b=1.0):
    return b * np.tanh(a * x)


half = functools.partial(scaled_tanh, a=0.5)


class Layer:
    def __init__(self, W):
        self.W = W

    def apply(self, x):
        return np.tanh(x @ self.W)


layer = Layer(np.ones((3, 2)) * 0.3)


def closures(x, w):
    def inner(v, k=2.0):
        return v * w * k

    sq = lambda v: v * v  # noqa: E731
    y = inner(x) + sq(x)
    return np.sum(half(y)) + np.sum(layer.apply(y[None, :3]))
"""


def test_nested_defs_lambdas_partials_and_bound_methods(tmp_path):
    m = load_source(tmp_path, "closures_src", CLOSURES)
    check_grad(m.closures, rng.normal(size=4), rng.normal(size=4), wrt=(0, 1))
    # captured names are constants read at call time: changing the object changes the result
    x, w = rng.normal(size=4), rng.normal(size=4)
    g1 = srcgrad.grad(m.closures)(x, w)
    m.layer.W = m.layer.W * 2.0
    g2 = srcgrad.grad(m.closures)(x, w)
    assert not np.allclose(g1, g2)
    check_grad(m.closures, x, w, wrt=0)


RECURSIVE = """
import numpy as np


def tree_sum(x, depth):
    if depth == 0:
        return np.sum(np.tanh(x))
    half = x.shape[0] // 2
    return tree_sum(x[:half], depth - 1) + tree_sum(x[half:], depth - 1) * 0.5


def is_even_poly(x, n):
    if n == 0:
        return x
    return is_odd_poly(x * 1.1, n - 1)


def is_odd_poly(x, n):
    if n == 0:
        return np.sin(x)
    return is_even_poly(x + 0.3, n - 1)


def mutual(x):
    return np.sum(is_even_poly(x, 5))
"""


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    m = load_source(d, "recursive_src", RECURSIVE)
    return m


def test_recursion_and_mutual_recursion(rec):
    check_grad(rec.tree_sum, rng.normal(size=8), 3, wrt=0)
    check_grad(rec.mutual, rng.normal(size=3), wrt=0)
    src = srcgrad.grad(rec.tree_sum).source
    assert re.search(r"call_vjp\(\s*tree_sum", src) and "_pullback(" in src


def test_racing_threads_on_a_recursive_gradient_agree(rec, tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "race"))
    x = rng.normal(size=16)
    df = srcgrad.grad(rec.tree_sum)
    results: list = [None, None]
    barrier = threading.Barrier(2)

    def run(i):
        barrier.wait()
        results[i] = df(x, 4)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[0], results[1])
    check_grad(rec.tree_sum, x, 4, wrt=0)


SECOND = """
import numpy as np

grad_f = None  # the emitted grad_f, set by the test


def f(x):
    return np.sin(x) * x**2 + np.exp(0.5 * x)


def fprime(x):
    return grad_f(x)[1][0]
"""


def test_an_emitted_gradient_differentiates_again(tmp_path):
    m = load_source(tmp_path, "second_src", SECOND)
    df = srcgrad.grad(m.f)
    m.grad_f = df.emitted("grad")  # the generated code itself, not the original f
    for x in (0.7, -1.3, 2.1):
        d2 = srcgrad.grad(m.fprime)(x)
        exact = (
            -np.sin(x) * x**2
            + 4 * x * np.cos(x)
            + 2 * np.sin(x)
            + 0.25 * np.exp(0.5 * x)
        )
        assert abs(d2 - exact) < 1e-10 * max(1.0, abs(exact))
        eps = 1e-5
        assert abs(d2 - (df(x + eps) - df(x - eps)) / (2 * eps)) < 1e-6


STAR = """
import numpy as np


def total(*xs, scale=1.0, **extra):
    s = 0.0
    for x in xs:
        s = s + np.sum(x * x)
    return scale * s + np.sum(extra["bias"])


def use_star(a, b):
    return total(a, b * 2.0, scale=0.5, bias=a)
"""


def test_callees_take_star_args_and_keyword_args(tmp_path):
    m = load_source(tmp_path, "star_src", STAR)
    check_grad(m.use_star, rng.normal(size=3), rng.normal(size=3), wrt=(0, 1))


MULTI = """
import numpy as np


def split_read(x):
    y = np.split(x, 2)
    return np.sum(y[0] ** 2) + np.sum(np.sin(y[1]))


def eigh_read(a):
    s = a @ a.T + 3.0 * np.eye(3)
    return np.sum(np.linalg.eigh(s)[0] ** 2)
"""


def test_multi_output_results_read_by_index(tmp_path):
    m = load_source(tmp_path, "multi_src", MULTI)
    check_grad(m.split_read, rng.normal(size=6))
    check_grad(m.eigh_read, rng.normal(size=(3, 3)))


PARAMS_LOOP = """
import numpy as np


def mlp(params, x):
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.maximum(h, 0.1 * h)
    a, (c, d) = h, (h[0], h[1])
    return np.sum(a ** 2) + np.sum(c * d)
"""


def test_loops_over_list_arguments_unroll_and_nested_unpacking(tmp_path):
    m = load_source(tmp_path, "params_loop_src", PARAMS_LOOP)
    params = [
        (rng.normal(size=(4, 5)), rng.normal(size=5)),
        (rng.normal(size=(5, 3)), rng.normal(size=3)),
    ]
    check_grad(m.mlp, params, rng.normal(size=(2, 4)), wrt=(0, 1))
    g = srcgrad.grad(m.mlp)(params, rng.normal(size=(2, 4)))
    assert isinstance(g, list) and isinstance(g[0], tuple) and g[0][0].shape == (4, 5)


DICT_WRITES = """
import numpy as np


def build(a, b):
    out = {}
    out["s"] = a + b
    for k in ("p", "q"):
        out[k] = a * (2.0 if k == "p" else 3.0)
    return np.sum(out["s"] ** 2) + np.sum(out["p"] * out["q"])
"""


def test_item_assignment_into_dicts_built_here(tmp_path):
    m = load_source(tmp_path, "dict_writes_src", DICT_WRITES)
    check_grad(m.build, rng.normal(size=3), rng.normal(size=3), wrt=(0, 1))


CONFIG = """
import numpy as np


def configured(x, activation, normalize, scale=None):
    if activation.startswith("tan"):
        h = np.tanh(x)
    else:
        h = np.maximum(x, 0.1 * x)
    if normalize and scale is None:
        h = h / np.sqrt(np.sum(h * h))
    return np.sum(h ** 2)
"""


def test_str_bool_none_arguments_are_configuration(tmp_path):
    m = load_source(tmp_path, "config_src", CONFIG)
    x = rng.normal(size=4)
    for act, norm in (("tanh", True), ("leaky", False)):
        check_grad(m.configured, x, act, norm, wrt=0)
        df = srcgrad.grad(m.configured)
        df(x, act, norm)  # the argument kinds are known once it is called
        src = df.source
        bwd = src[src.index("def bwd_configured") :]
        assert 'if activation.startswith("tan"):' in bwd  # a plain if on both sides
    with pytest.raises(srcgrad.WrtError):
        srcgrad.grad(m.configured, wrt="activation")(x, "tanh", True)
