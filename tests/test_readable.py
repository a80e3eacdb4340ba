"""The emitted module as a reviewer reads it: the compact line table, the names of
temporaries and cotangents, closed forms, no placeholder pushes, and the file names of
scripts run by path."""

from __future__ import annotations

import ast
import re
import runpy
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import linetable
from srcgrad.testing import check_grad
from tests.engine import golden_src

ROOT = Path(__file__).resolve().parent.parent


def test_line_table_round_trips_runs_and_odd_rule_names() -> None:
    lines = {
        10: ("a.py", 3, "matmul"),
        11: ("a.py", 3, "add"),
        12: ("a.py", 3, "add"),
        14: ("a.py", 3, "add"),
        15: ("b dir/c.py", 7, "my rule*;x"),
        40: ("a.py", 4, "tanh"),
        41: ("a.py", 3, "tanh"),
    }
    text = linetable.encode(lines)
    ns: dict = {}
    exec(text, ns)
    assert linetable.decode(ns[linetable.NAME]) == lines
    assert all(len(ln) <= 88 for ln in text.splitlines())


def test_line_table_is_a_small_share_of_a_long_module() -> None:
    lines = {k: ("examples/models/x.py", 10 + k // 7, "multiply") for k in range(400)}
    text = linetable.encode(lines)
    assert len(text.splitlines()) < 40  # 400 emitted lines, 58 user lines


def test_emitted_examples_keep_the_table_to_about_a_tenth() -> None:
    # about: the table's three fixed lines weigh on the smallest modules, and each source
    # file after the first adds two (its name and closing line: a higher order's module
    # maps lines of the order below and of the function that wraps it)
    for path in (ROOT / "generated").rglob("*.py"):
        text = path.read_text()
        start = text.index(f"{linetable.NAME} = ")
        table = text[start:]
        sources = sum(1 for line in table.splitlines() if line.endswith('": ('))
        share = (table.count("\n") - 2 * max(0, sources - 1)) / text.count("\n")
        assert share <= 0.12, (path, share)


def _module(fn, wrt, *args):
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    return df.source


def _names(text: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}


@pytest.mark.parametrize(
    "fn, wrt, make",
    [
        (golden_src.attention, (0, 1, 2), lambda r: (r(3, 4), r(5, 4), r(5, 2))),
        (golden_src.layer_norm, (0, 1, 2), lambda r: (r(3, 5), r(5), r(5))),
    ],
    ids=["attention", "layer_norm"],
)
def test_cotangents_are_d_of_exactly_a_name_and_nothing_looks_alike(
    fn, wrt, make, rng, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    text = _module(fn, wrt, *make(lambda *s: rng.normal(size=s)))
    names = _names(text)
    for n in names:
        if n.startswith("d_") and n != "d_out":
            assert n[2:] in names, f"{n} is the cotangent of no name"
    squashed: dict[str, str] = {}
    for n in sorted(names):
        other = squashed.setdefault(n.replace("_", ""), n)
        assert other == n, f"{other} and {n} differ only by underscores"
    assert not re.search(
        r"\b_[a-z]\w*\d+\b", text.split("def bwd_")[1].split("\n\n\n")[0]
    )


def test_square_has_a_closed_form_of_the_same_value_and_dtype(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))

    def f(x, y):
        return np.sum(x**2 * y + (y**2.0) ** 2)

    x, y = np.float32([1.5, -2.0, 0.25]), np.float32([0.5, 3.0, -1.0])
    df = srcgrad.grad(f, wrt=(0, 1))
    gx, gy = df(x, y)
    assert "power_slope" not in df.source and "(2 * x)" in df.source
    assert gx.dtype == np.float32 and gy.dtype == np.float32
    check_grad(f, x.astype(np.float64), y.astype(np.float64), wrt=(0, 1))
    assert srcgrad.grad(lambda a: a**2)(1.5) == 3.0


def test_a_while_loop_pushes_no_placeholder() -> None:
    text = (
        ROOT / "generated" / "examples.newton" / "sqrt_newton__wrt-a__86453170.py"
    ).read_text()
    assert ".append(None)" not in text
    backward = text[text.index("def bwd_") : text.index("def grad_")]
    assert "if " not in backward  # both branches of the if give d_x_new = d_x_1


SCRIPT = """
import numpy as np
import srcgrad

def loss(w, x):
    return np.sum(np.tanh(x * w + {shift}) ** 2)

grads = srcgrad.grad(loss)(np.ones(3), np.arange(3.0))
"""


def test_scripts_run_by_path_are_named_after_their_file(tmp_path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(cache))
    keys, results = [], []
    for sub, shift in (("a", 0.0), ("b", 1.0), ("a", 0.0)):
        script = tmp_path / sub / "model.py"
        script.parent.mkdir(exist_ok=True)
        script.write_text(textwrap.dedent(SCRIPT.format(shift=shift)))
        ns = runpy.run_path(str(script))  # its module name is "<run_path>"
        files = list(cache.rglob("*.py"))
        assert [p.parent.name for p in files] == ["model"]
        keys.append(re.search(r"# key: (\w+)", files[0].read_text()).group(1))
        results.append(ns["grads"])
        want = 2 * np.tanh(np.arange(3.0) + shift)
        want = want * (1 - np.tanh(np.arange(3.0) + shift) ** 2) * np.arange(3.0)
        np.testing.assert_allclose(ns["grads"], want, rtol=1e-12)
    assert keys[0] != keys[1] and keys[0] == keys[2]


HIDDEN_GLOBAL = """
import numpy as np

scale = 0.5


def norm(v):
    scale = np.sqrt(np.sum(v * v))
    return v / scale


def shrink(v):
    return v * scale


def loss(w, x):
    return np.sum(shrink(norm(x * w)) * x)
"""


def test_a_global_hidden_by_an_inlined_local_is_read_by_its_name(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "hidden_global_mod.py"
    path.write_text(HIDDEN_GLOBAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("hidden_global_mod")
    w, x = np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.5, -1.0])
    df = srcgrad.grad(mod.loss)
    g = df(w, x)
    code = [ln for ln in df.source.splitlines() if not ln.lstrip().startswith("#")]
    assert not any("hidden_global_mod.scale" in ln for ln in code)
    assert "import hidden" not in df.source
    assert "* scale" in df.source and "scale_local" in df.source
    check_grad(mod.loss, w, x, wrt=0)
    mod.scale = 2.0  # read when the code runs
    np.testing.assert_allclose(df(w, x), 4 * g, rtol=1e-12)


def _pool(x, size, stride=None, smoothing=0.0):
    if stride is None:
        stride = size
    if smoothing > 0.0:
        x = x * (1.0 - smoothing)
    return x[:: stride[0]] * size[0]


def pooled(x):
    return np.sum(np.tanh(_pool(x, (2, 2), (3, 3))) ** 2)


def test_a_test_that_constants_decide_leaves_only_its_branch(
    tmp_path, monkeypatch, rng
) -> None:
    # ``stride`` bound to a constant tuple, ``smoothing`` to a float: both tests are known
    # when the code is generated, so neither ``if`` reaches the emitted module
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    x = rng.normal(size=7)
    text = _module(pooled, 0, x)
    forward = text[text.index("def fwd_") : text.index("def bwd_")]
    assert "if " not in forward and "is None" not in forward
    check_grad(pooled, x)


def _scale(x, w, shift=None):
    if shift is None:
        shift = (1, 1)
    out = x * w + shift[0]
    return out


def chained(params, x):
    layers = params["layers"]
    first = layers[0]
    unused = layers[1]  # noqa: F841
    h = _scale(x, first)
    h = np.tanh(h)
    return np.sum(h * h)


def _copies(function: str) -> list[str]:
    """The statements ``a = b`` between two names of an emitted function."""
    tree = ast.parse(textwrap.dedent(function))
    return [
        ast.unparse(n)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, ast.Name)
    ]


def test_copy_chains_collapse_and_unread_reads_go(tmp_path, monkeypatch, rng) -> None:
    # the callee's ``out`` returned into the caller's ``h``: one statement, named ``h``;
    # ``unused`` and the default ``shift = None`` are read by nothing
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    params = {"layers": [rng.normal(size=3), rng.normal(size=3)]}
    x = rng.normal(size=3)
    text = _module(chained, "params", params, x)
    forward = text[
        text.index("def fwd_") : text.index("\n\n\n", text.index("def fwd_"))
    ]
    assert _copies(forward) == []
    assert "unused" not in forward and "None" not in forward
    assert re.search(r"\n    h = \w+ \+ ", forward)
    grads = srcgrad.grad(chained, wrt="params")(params, x)
    assert np.array_equal(grads["layers"][1], np.zeros(3))
    check_grad(chained, params, x, wrt="params")


def small_conv_loss(model, x):
    return np.sum(model(x) ** 2)


def mlp_of_features(model, x):
    h = np.tanh(x.reshape(x.shape[0], -1))
    return np.sum(model(h) ** 2)


def test_inlined_layers_read_their_constants_inline(tmp_path, monkeypatch, rng) -> None:
    # the layers' static fields (stride, padding, channel counts) are literals where they
    # are read; the weightless Sigmoid layer is not read; no copies between the layers
    from srcgrad import nn

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    r = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=r), nn.Sigmoid(), nn.AvgPool2d(2))
    x = rng.normal(size=(2, 1, 6, 6))
    text = _module(small_conv_loss, "model", model, x)
    forward = text[
        text.index("def fwd_") : text.index("\n\n\n", text.index("def fwd_"))
    ]
    assert _copies(forward) == []
    assert not re.search(r"= \(?-?\d+(, -?\d+)*\)?\n", forward), forward
    assert "if " not in forward and "[1]\n" not in forward
    assert re.search(r"avg_pool2d\(\w+, \(2, 2\), \(2, 2\), \(0, 0\), True\)", forward)
    check_grad(small_conv_loss, model, x, wrt="model")


def test_a_layer_reads_its_callers_name(tmp_path, monkeypatch, rng) -> None:
    # ``x = check_input(..., x, ...)`` of a Linear called on ``h``: no copy ``x_1 = h``,
    # the product reads ``h``
    from srcgrad import nn

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    r = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 4, rng=r), nn.Tanh(), nn.Linear(4, 2, rng=r))
    x = rng.normal(size=(5, 2, 3))
    text = _module(mlp_of_features, "model", model, x)
    forward = text[
        text.index("def fwd_") : text.index("\n\n\n", text.index("def fwd_"))
    ]
    assert _copies(forward) == []
    assert re.search(r"= h @ ", forward), forward
    check_grad(mlp_of_features, model, x, wrt="model")
