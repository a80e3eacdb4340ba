"""Internal crashes become right answers or SrcgradErrors at the user's line (issue 12, item 9).

- layouts real code has (black's output, one-line bodies, backslashes, comments in brackets)
  differentiate, and the emitted comments stay valid;
- recursion inside loops and comprehensions is right, or refused clearly;
- a called function's closure variables, like the differentiated function's own, are read
  when the gradient runs;
- random generator objects: draws are constants made on the user's object;
- a catalogue of unusual-but-valid functions: each gives a right gradient or a SrcgradError at
  its line, never another exception.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.engine import trust_layout as L
from tests.engine import trust_odd as O


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))


def _vec(k: int = 1) -> np.ndarray:
    return np.array([0.3, -0.4, 0.9]) * k


def _module(tmp_path: Path, name: str, text: str):
    """Import ``text`` as a module from a real file (srcgrad reads sources from files)."""
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _comments_point_at_their_lines(df, fn) -> None:
    """Every ``# file:line: text`` comment of the emitted code names a line of ``fn``'s file
    holding ``text``, and the emitted module compiles."""
    compile(df.source, "<emitted>", "exec")
    lines = Path(inspect.getsourcefile(fn)).read_text().splitlines()
    found = re.findall(r"^\s*# (\S+?):(\d+): (.*)$", df.source, re.MULTILINE)
    assert found
    for _file, line, text in found:
        text = text.removesuffix(" ...").strip()
        assert text in lines[int(line) - 1], (line, text)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("name", L.NAMES)
def test_layout_differentiates(name):
    fn = getattr(L, name)
    args = [_vec(k + 1) for k in range(fn.__code__.co_argcount)]
    check_grad(fn, *args)
    df = srcgrad.grad(fn)
    df(*args)
    _comments_point_at_their_lines(df, fn)


_COMPACT = [
    # (function source on few lines, number of array arguments)
    (
        "def f(x, w): return np.sum(np.tanh(x * w + 2.0) * np.exp(-x * x) + np.sin(w) * 3.0 - x / (1.0 + w * w))",
        2,
    ),
    (
        "def f(x, w):\n    y = np.clip(np.dot(x, w) * x + np.maximum(x, 0.0), a_min=-5.0, a_max=5.0)\n    return np.sum(np.mean(y * y, axis=0, keepdims=True))",
        2,
    ),
    (
        "def f(x, w):\n    a, b = x[0:2] * w[1:3], np.sum(x[::2] * w[::2], axis=0)\n    return np.sum(a * b) + np.sum(np.stack([x * w, x + w, x - w], axis=0)[1])",
        2,
    ),
    (
        "def f(x, w):\n    t = 0.0\n    for k in range(3):\n        t = t + np.sum(np.tanh(x * w * (k + 1.0)) * np.cos(x + k * w) + w * k)\n    return t",
        2,
    ),
    (
        "def f(x, w):\n    s = np.sum(x * w)\n    y = np.exp(x * w) * np.sin(x) if s > -100.0 else np.log(1.0 + w * w) * np.cos(x)\n    return np.sum(y * y)",
        2,
    ),
    (
        "def f(x, w):\n    rows = [np.sum(x * w * k) + np.sum(np.sin(x + k)) for k in range(3) if k != 1]\n    return sum(rows) + np.sum(_g(x, w, scale=2.0, shift=np.ones_like(x), power=2))",
        2,
    ),
]
_HELPER = "def _g(a, b, scale=1.0, shift=None, power=1):\n    return (a * b * scale + shift) ** power\n"


@pytest.mark.parametrize("line_length", [20, 60])
@pytest.mark.parametrize("k", range(len(_COMPACT)))
def test_black_output_differentiates(k, line_length, tmp_path):
    """The very output of black (narrow lines force every split black makes) differentiates."""
    import black

    src, n = _COMPACT[k]
    text = "import numpy as np\n\n\n" + _HELPER + "\n\n" + src + "\n"
    formatted = black.format_str(text, mode=black.Mode(line_length=line_length))
    assert formatted.count("\n") > text.count("\n")  # black did split something
    mod = _module(tmp_path, f"black_{k}_{line_length}", formatted)
    args = [_vec(j + 1) for j in range(n)]
    check_grad(mod.f, *args)
    df = srcgrad.grad(mod.f)
    df(*args)
    _comments_point_at_their_lines(df, mod.f)


def test_multiline_strings_keep_their_text(tmp_path):
    """Indenting or dedenting code never changes a multi-line string (value and gradient)."""
    text = textwrap.dedent('''
        import numpy as np


        class K:
            def method(x, w):
                label = """a
            b"""
                return np.sum(x * w) * len(label)


        def outer():
            def inner(x, w):
                label = """a
          b"""
                t = 0.0
                for k in range(2):
                    note = """x
        y"""
                    t = t + np.sum(x * w) * len(note)
                return t * len(label)

            return inner


        inner = outer()
        method = K.method
        ''')
    mod = _module(tmp_path, "strings_mod", text)
    x, w = _vec(), _vec(2)
    for fn in (mod.inner, mod.method, L.strings_with_newlines):
        value, g = srcgrad.value_and_grad(fn)(x, w)
        assert value == fn(x, w)
        check_grad(fn, x, w)


# --------------------------------------------------------------------------- recursion

_RECURSION = """
import numpy as np


def in_loop(p, n):
    if n == 0:
        return np.sum(p ** 2)
    t = 0.0
    for i in range(2):
        t = t + in_loop(p * 0.5, n - 1)
    return t


def in_loop_carried(p, n):
    if n <= 0:
        return np.sum(np.sin(p))
    acc = p
    for i in range(n):
        acc = acc + in_loop_carried(acc * 0.5, n - 1)
    return np.sum(acc)


def in_generator(p, n):
    if n == 0:
        return np.sum(p ** 2)
    return sum(in_generator(p, n - 1) for i in range(2))


def in_list_comprehension(p, n):
    if n == 0:
        return np.sum(p ** 3)
    return sum([in_list_comprehension(p * 0.5, n - 1) for i in range(2)])


def in_while(p, n):
    if n == 0:
        return np.sum(p ** 2)
    t = 0.0
    i = 0
    while i < 2:
        t = t + in_while(p, n - 1)
        i += 1
    return t


def over_list_display(p, n):
    if n == 0:
        return np.sum(p ** 2)
    t = 0.0
    for q in [p, p * 2.0]:
        t = t + over_list_display(q, n - 1)
    return t


def list_argument(params, n):
    if n == 0:
        return np.sum(params[0] ** 2) + np.sum(params[1])
    total = 0.0
    for i in range(2):
        total = total + list_argument(params, n - 1)
    return total


def list_argument_followed(W, b, n):
    if n == 0:
        return np.sum(W ** 2) + np.sum(b)
    total = 0.0
    for i in range(2):
        total = total + list_argument_followed(W, b, n - 1)
    return total
"""


@pytest.mark.parametrize(
    "name",
    [
        "in_loop",
        "in_loop_carried",
        "in_generator",
        "in_list_comprehension",
        "in_while",
        "over_list_display",
    ],
)
def test_recursion_inside_loops_and_comprehensions(name, tmp_path):
    mod = _module(tmp_path, f"rec_{name}", _RECURSION)
    check_grad(getattr(mod, name), _vec(), 2)


def test_recursion_with_a_container_argument_is_refused_and_the_hint_works(tmp_path):
    mod = _module(tmp_path, "rec_container", _RECURSION)
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(mod.list_argument)([_vec(), _vec(2)], 2)
    err = info.value
    assert err.construct == "recursion"
    line = next(
        i
        for i, ln in enumerate(_RECURSION.splitlines(), 1)
        if "list_argument(params, n - 1)" in ln
    )
    assert err.lineno == line
    assert "separate arguments" in err.hint
    check_grad(mod.list_argument_followed, _vec(), _vec(2), 2, wrt=(0, 1))


def test_path_read_on_one_branch_only():
    """A container leaf read on one branch gets a zero cotangent on the other."""
    text = """
import numpy as np


def branch_paths(params, c):
    if c > 0:
        return np.sum(params[0] ** 2)
    return np.sum(params[1] * 3.0)


def loop_paths(params, c):
    t = 0.0
    for i in range(3):
        if i == c:
            t = t + np.sum(params[0] ** 2)
        else:
            t = t + np.sum(params[1] * 3.0)
    return t


def items_on_one_branch(params, c):
    t = 0.0
    if c > 0:
        for i, p in enumerate(params):
            t = t + np.sum(p ** 2) * (i + 1)
            if t > 1e6:
                break
    else:
        t = np.sum(params[1] * 3.0)
    return t
"""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        mod = _module(Path(d), "paths_mod", text)
        for c in (0, 2):
            check_grad(mod.branch_paths, [_vec(), _vec(2)], c)
            check_grad(mod.loop_paths, [_vec(), _vec(2)], c)
            check_grad(mod.items_on_one_branch, [_vec(), _vec(2)], c)


_EARLY_RETURNS = """
import numpy as np


def _h(p, n):
    if n == 0:
        return np.sum(p ** 2)
    return np.sum(np.sin(p * 0.5) * p)


def _h3(p, n):
    if n == 0:
        return np.sum(p ** 2)
    elif n == 1:
        if np.sum(p) > 100.0:
            return np.sum(p)
        return np.sum(np.cos(p) * p)
    return np.sum(np.tanh(p))


def in_for(p, n):
    t = 0.0
    for i in range(2):
        t = t + _h(p, n - 1)
    return t


def loop_variant_test(p, n):
    t = 0.0
    for i in range(3):
        t = t + _h(p * (1.0 + t), i - n)
    return t


def nested_branches(p, n):
    t = 0.0
    for i in range(3):
        t = t + _h3(p, i + n)
    return t


def in_while(p, n):
    t = 0.0
    i = 0
    while i < 3:
        t = t + _h3(p * 0.5, i + n)
        i += 1
    return t


def in_comprehension(p, n):
    return sum([_h(p, k - n) * k for k in range(3)])


def _pair(p, n):
    if n == 0:
        return p * 2.0, np.sum(p)
    return p * 3.0, np.sum(p ** 2)


def _pair_list(p, n):
    if n == 0:
        return [p * 2.0, np.sum(p)]
    r = [p * 3.0, np.sum(p ** 2)]
    return r


def _pair_dict(p, n):
    if n == 0:
        return {"a": p * 2.0, "b": np.sum(p)}
    return {"a": p * 3.0, "b": np.sum(p ** 2)}


def _pair_nested(p, n):
    if n == 0:
        return (p, p * 2.0), np.sum(p)
    return (p * 3.0, p), np.sum(p ** 2)


def _find(p, n):
    for i in range(3):
        if np.sum(p) * i > n:
            return np.sum(p ** 2) * i
    return np.sum(p)


def _find_pair(p, n):
    i = 0
    while i < 3:
        if np.sum(p) * i > n:
            return p * i, np.sum(p) * i
        i += 1
    return p, np.sum(p)


def tuple_returns(p, n):
    a, b = _pair(p, n)
    return np.sum(a) * b


def tuple_returns_in_loop(p, n):
    t = 0.0
    for i in range(2):
        a, b = _pair(p, n + i)
        t = t + np.sum(a) * b
    return t


def list_returns(p, n):
    a, b = _pair_list(p, n)
    return np.sum(a) * b


def dict_returns(p, n):
    d = _pair_dict(p, n)
    return np.sum(d["a"]) * d["b"]


def nested_tuple_returns(p, n):
    (a, c), b = _pair_nested(p, n)
    return np.sum(a * c) * b


def loop_return(p, n):
    return _find(p, n * 0.5) * 2.0


def loop_return_in_loop(p, n):
    t = 0.0
    for k in range(2):
        t = t + _find(p * (k + 1.0), n * 0.5)
    return t


def loop_tuple_return_in_loop(p, n):
    t = 0.0
    for k in range(2):
        a, b = _find_pair(p * (k + 1.0), n * 0.5)
        t = t + np.sum(a) * b
    return t


def even(p, n):
    if n == 0:
        return np.sum(p ** 2)
    return odd(p * 0.5, n - 1)


def odd(p, n):
    if n == 0:
        return np.sum(np.sin(p))
    t = 0.0
    for i in range(2):
        t = t + even(p, n - 1)
    return t
"""


@pytest.mark.parametrize(
    "name",
    [
        "in_for",
        "loop_variant_test",
        "nested_branches",
        "in_while",
        "in_comprehension",
        "odd",
        "tuple_returns",
        "tuple_returns_in_loop",
        "list_returns",
        "dict_returns",
        "nested_tuple_returns",
        "loop_return",
        "loop_return_in_loop",
        "loop_tuple_return_in_loop",
    ],
)
@pytest.mark.parametrize("n", [0, 2])
def test_inlined_early_return(name, n, tmp_path):
    """A called function that returns from several places (inside an ``if`` or a loop), alone
    or called in a loop, returning one value or a tuple/list/dict of them: what its backward
    pass pops is what its forward pass pushed, and the items of what it returns carry their
    gradients (these crashed in generated code or gave zero gradients)."""
    mod = _module(tmp_path, f"early_{name}_{n}", _EARLY_RETURNS)
    check_grad(getattr(mod, name), _vec(), n)


def test_returns_of_different_kinds_are_refused(tmp_path):
    text = """
import numpy as np


def _mixed(p, n):
    if n == 0:
        return p * 2.0, np.sum(p)
    return p


def _lengths(p, n):
    if n == 0:
        return p, p
    return p, p, p


def mixed(p, n):
    r = _mixed(p, n)
    return np.sum(r[0])


def lengths(p, n):
    r = _lengths(p, n)
    return np.sum(r[0])
"""
    mod = _module(tmp_path, "mixed_returns", text)
    lines = text.splitlines()
    for name, marker in (("mixed", "    return p"), ("lengths", "    return p, p, p")):
        with pytest.raises(srcgrad.SrcgradError) as info:
            srcgrad.grad(getattr(mod, name))(_vec(), 1)
        err = info.value
        assert err.construct == "return"
        assert "every path" in err.hint
        expected = [i for i, ln in enumerate(lines, 1) if ln == marker]
        assert err.lineno in expected, str(err)


# --------------------------------------------------------------------------- closures

_CLOSURES = """
import numpy as np

c = 10.0


def top_closure(k):
    def f(x):
        return np.sum(x * k)

    return f


def callee_closure(k):
    def g(x):
        return x * k

    def f(x):
        return np.sum(g(x))

    return f


def callee_closure_attribute(cfg):
    def g(x):
        return x * cfg.scale

    def f(x):
        return np.sum(g(x))

    return f


def callee_closure_followed(k):
    def g(x, k):
        return x * k

    def f(x):
        return np.sum(g(x, k))

    return f


def shared_cell(k):
    def g(x):
        return x * k

    def f(x):
        return np.sum(g(x)) + np.sum(x * k)

    return f


def helper_reads_global(x):
    return x * c


def global_shadowed_by_closure(c):
    def f(x):
        return np.sum(helper_reads_global(x)) + c

    return f


def nested_reads_closure(k):
    def f(x):
        def g(v):
            return v * k

        h = lambda v: v + k
        return np.sum(g(x) * h(x)) + np.sum(np.array([x[i] * k[i] for i in range(3)]))

    return f


def nested_def_in_f():
    def f(x):
        k = 3.0

        def g(v):
            return v * k

        return np.sum(g(x))

    return f
"""


class _Cfg:
    scale = 4.0


def test_own_closure_variables_are_constants_read_at_call_time(tmp_path):
    mod = _module(tmp_path, "clo_own", _CLOSURES)
    k = np.array([1.0, 2.0, 3.0])
    f = mod.top_closure(k)
    check_grad(f, _vec())
    np.testing.assert_allclose(srcgrad.grad(f)(_vec()), k)
    g = mod.top_closure(2 * k)  # the same code, another cell: its own value
    np.testing.assert_allclose(srcgrad.grad(g)(_vec()), 2 * k)
    check_grad(mod.nested_def_in_f(), _vec())
    check_grad(
        mod.nested_reads_closure(k), _vec()
    )  # nested defs and lambdas read f's cells
    check_grad(mod.shared_cell(k), _vec())  # the callee's cell is f's own cell


@pytest.mark.parametrize("maker", ["callee_closure", "callee_closure_attribute"])
def test_callee_closure_variable_is_read_at_call_time(maker, tmp_path):
    mod = _module(tmp_path, f"clo_{maker}", _CLOSURES)
    cfg = _Cfg()
    arg = cfg if maker.endswith("attribute") else 2.0
    f = getattr(mod, maker)(arg)
    value, grad = srcgrad.value_and_grad(f)(_vec())
    assert value == f(_vec())
    np.testing.assert_allclose(grad, np.full(3, 4.0 if arg is cfg else 2.0))
    check_grad(f, _vec())
    if arg is cfg:  # the attribute is read when the gradient runs
        cfg.scale = -1.5
        np.testing.assert_allclose(srcgrad.grad(f)(_vec()), np.full(3, -1.5))
    # the earlier hint's form still works
    check_grad(mod.callee_closure_followed(2.0), _vec())


def test_callee_global_shadowed_by_a_closure_variable_reads_the_callees_global(
    tmp_path,
):
    # the callee's global is read through its module, never as the closure's cell
    mod = _module(tmp_path, "clo_shadow", _CLOSURES)
    f = mod.global_shadowed_by_closure(1.0)
    value, _ = srcgrad.value_and_grad(f)(_vec())
    assert value == f(_vec())
    check_grad(f, _vec())


# --------------------------------------------------------------------------- random generators

_RANDOM = """
import numpy as np

rs = np.random.RandomState(0)
gen = np.random.default_rng(0)


def global_random_state(x):
    return np.sum(x * rs.randn(3))


def global_generator(x):
    return np.sum(x * gen.normal(size=3))


def dropout(x, rng):
    m = rng.uniform(size=x.shape) > 0.5
    return np.sum(np.tanh(x) * m)


def generator_methods(x, rng):
    a = rng.normal(size=x.shape)
    b = rng.standard_normal(x.shape)
    c = rng.uniform(-1.0, 1.0, size=x.shape)
    i = rng.choice(x.shape[0], size=2, replace=False)
    p = rng.permutation(x.shape[0])
    y = x * a + x * x * b + np.sin(x) * c
    return np.sum(y[i]) + np.sum(x[p] ** 3)


def draw_decides_branch(x, rng):
    if rng.random() < 0.5:
        y = x * 2.0
    else:
        y = x ** 2
    return np.sum(y)


def draw_in_loop(x, rng):
    t = 0.0
    for k in range(3):
        t = t + np.sum(x * rng.standard_normal(x.shape)) ** 2
    return t


def _drop(h, rng, p):
    keep = rng.random(h.shape) >= p
    return h * keep / (1.0 - p)


def draw_in_callee(x, rng):
    return np.sum(_drop(np.tanh(x), rng, 0.3) ** 2)


def random_state_argument(x, rs):
    return np.sum(x * rs.randn(3) + x * x * rs.rand(3))


def recompute_line(x, rng):
    m = rng.random(x.shape) > 0.3  # srcgrad: recompute
    return np.sum(np.sin(x) * m)


def reparameterised(mu, rng):
    return np.sum((mu + 0.5 * rng.standard_normal(mu.shape)) ** 2)


def draw_from_active(mu, rng):
    return np.sum(rng.normal(mu, 1.0))


def draw_from_active_numpy(mu):
    return np.sum(np.random.normal(mu, 1.0))
"""


@pytest.mark.parametrize(
    "name",
    [
        "dropout",
        "generator_methods",
        "draw_decides_branch",
        "draw_in_loop",
        "draw_in_callee",
        "recompute_line",
        "reparameterised",
    ],
)
def test_generator_argument_draws_are_constants(name, tmp_path):
    mod = _module(tmp_path, f"rnd_{name}", _RANDOM)
    fn = getattr(mod, name)
    check_grad(fn, _vec() + 1.0, np.random.default_rng(3))
    # the draws happen on the user's object, once per call, as in the forward function
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    value, _ = srcgrad.value_and_grad(fn)(_vec(), r1)
    assert value == fn(_vec(), r2)
    assert r1.random() == r2.random()  # the same number of draws


def test_random_state_argument(tmp_path):
    mod = _module(tmp_path, "rnd_rs", _RANDOM)
    a, b = np.random.RandomState(7), np.random.RandomState(7)
    g = srcgrad.grad(mod.random_state_argument)(_vec(), a)
    n1, n2 = b.randn(3), b.rand(3)
    np.testing.assert_allclose(g, n1 + 2 * _vec() * n2)
    assert a.rand() == b.rand()


@pytest.mark.parametrize("name", ["global_random_state", "global_generator"])
def test_global_generator_objects(name, tmp_path):
    mod = _module(tmp_path, f"rnd_{name}", _RANDOM)
    fn = getattr(mod, name)
    df = srcgrad.grad(fn)
    df(_vec())  # generate
    assert "xp.randn" not in df.source and "xp.normal" not in df.source
    mod.rs.seed(11)
    mod.gen = np.random.default_rng(11)
    g = df(_vec())
    mod.rs.seed(11)
    expected = (
        mod.rs.randn(3)
        if name == "global_random_state"
        else np.random.default_rng(11).normal(size=3)
    )
    np.testing.assert_allclose(g, expected)


@pytest.mark.parametrize("name", ["draw_from_active", "draw_from_active_numpy"])
def test_draw_that_depends_on_an_active_value_is_refused(name, tmp_path):
    mod = _module(tmp_path, f"rnd_{name}", _RANDOM)
    fn = getattr(mod, name)
    args = (_vec(), np.random.default_rng(0))[: fn.__code__.co_argcount]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(*args)
    err = info.value
    assert err.construct == "random"
    assert "standard_normal" in err.hint
    line = (
        next(i for i, ln in enumerate(_RANDOM.splitlines(), 1) if f"def {name}(" in ln)
        + 1
    )
    assert err.lineno == line
    check_grad(mod.reparameterised, _vec(), np.random.default_rng(1))  # the hint's form


# --------------------------------------------------------------------------- odd inputs

# name -> None (a right gradient) or (line offset from the def, construct) of the error
ODD = [
    ("stacked_decorators", (0, "decorator")),
    ("docstring", None),
    ("annotated", None),
    ("annotated_bare", None),
    ("walrus", (1, "walrus")),
    ("walrus_in_comprehension", (1, "walrus")),
    ("starred_assign", (1, "starred-assign")),
    ("starred_assign_tuple", None),  # the items of a display: unpacked
    ("augassign_attribute", (2, "attribute-assign")),
    ("augassign_subscript", None),
    ("global_stmt", (1, "global")),
    ("nonlocal_stmt", (4, "nonlocal")),
    ("del_stmt", (3, "del")),
    ("with_stmt", (1, "with")),
    ("try_stmt", (1, "try")),
    ("match_stmt", (1, "match")),
    ("fstring", None),
    ("fstring_print", None),
    ("chained_comparison", None),
    ("chained_comparison_active", None),
    ("conditional_import", (2, "import")),
    ("nested_def", None),
    ("nested_def_closure", None),
    ("lambda_default", None),
    ("lambda_capture", None),
    ("kwonly", None),
    ("posonly", None),
    ("star_args", (0, "*args")),
    ("ternary", None),
    ("bool_ops", None),
    ("assert_raise", None),
    ("semicolons", None),
    ("tuple_swap", None),
    ("slice_assign_none", None),
    ("ellipsis_index", None),
    ("math_funcs", None),
    ("while_else", None),
    ("for_else_break", None),
    ("dict_comp", (1, "dict-comprehension")),
    ("set_literal", (1, "set")),
    ("generator_sum", None),
    ("unpack_shape", None),
    ("attribute_of_config", None),
    ("async_def_inside", (1, "def")),
    ("class_inside", (1, "class")),
    ("yield_inside", None),  # a nested generator never called
    ("string_concat", None),
    ("global_call_lambda", None),
    ("builtin_sum_list", None),
    ("complex_literal", None),
    ("star_call", None),  # np.add(*args) of a tuple built here: one argument per item
    ("kwargs_call", (2, "star-args")),
    ("try_finally", (1, "try")),
    ("nested_function_returns_function", (5, "call")),
    ("recursion_nested", (4, "recursion")),
    ("subscript_of_call", None),
    ("for_over_list_display", None),
    ("for_over_tuple_of_arrays", None),
    ("aug_on_global_attr", (1, "attribute-assign")),
    ("type_alias_annotation", None),
    ("lambda_in_call", (1, "lambda")),
    ("matmul_op", None),
    ("inplace_matmul", None),
    ("power_op", None),
    ("global_rebind_attr", (1, "attribute-assign")),
    ("conditional_expression_nested", None),
    ("lambda_immediately_called", (1, "call")),
    ("slice_step", None),
    ("not_op", None),
    ("int_division", None),
    ("comparison_in", None),
    ("is_none_check", None),
    ("bytes_literal", None),
    ("unicode_name", None),
    ("very_long_line", None),
    ("default_global", None),
    ("oneline_if_return", None),
    ("oneline_while", None),
    ("doc_oneline", None),
    ("print_stderr", None),
    ("np_array_comp", None),
    ("async_fn", (0, "async")),
    ("gen_fn", (1, "yield")),
    ("oneline_for_nested_def", None),
    ("ann_complex", None),
    ("semicolon_trailing", None),
    ("paren_return_unpack", None),
    ("subscript_chain", None),
    ("boolean_mask", None),
    ("tuple_return_index", (1, "subscript")),
    ("shadow_builtin", None),
    ("shadow_np", None),
    ("empty_return_path", (2, "return")),
    ("bare_raise_oneline", None),
    ("assert_oneline", None),
    ("deep_nesting", None),
    ("star_in_list_display", (2, "starred")),
    ("ellipsis_body", None),
    ("none_compare", None),
    ("calls_decorated_helper", (1, "user-call")),
    ("calls_staticmethod", None),
    ("calls_one_line_helper", None),
    ("function_argument", None),
]


def _odd_args(name):
    if name == "unpack_shape":
        return (np.ones((2, 3)) * 0.7,)
    if name == "math_funcs":
        return (0.7,)
    if name == "match_stmt":
        return (np.array([0.7, 1.3, 2.2]), "sq")
    return (np.array([0.7, 1.3, 2.2]),)


def test_odd_catalogue_is_complete():
    defined = {
        n
        for n, f in vars(O).items()
        if inspect.isfunction(f)
        and f.__code__.co_filename == O.__file__
        and n not in ("deco", "wrapper")
        and not n.isupper()
        and not n.startswith("_")
    }
    assert defined == {n for n, _ in ODD}
    assert len(ODD) >= 30


@pytest.mark.parametrize("name,expected", ODD, ids=[n for n, _ in ODD])
def test_odd_input_is_right_or_a_clear_error(name, expected, capsys):
    fn = getattr(O, name)
    args = _odd_args(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if expected is None:
            check_grad(fn, *args)
            return
        with pytest.raises(srcgrad.SrcgradError) as info:
            srcgrad.grad(fn)(*args)
    err = info.value
    offset, construct = expected
    first = inspect.getsourcelines(fn)[1]
    assert Path(err.filename).resolve() == Path(O.__file__).resolve()
    assert (err.lineno - first, err.construct) == (offset, construct), str(err)
    assert err.hint
    assert len(err.errors) == 1, str(err)  # one finding, no echoes of it
    assert not re.search(r"\b_[a-z]+\d+\b|\b[a-z]+_\d+\b", str(err)), str(err)


def test_errors_inside_split_layouts_point_at_the_token(tmp_path):
    text = (
        "import numpy as np\n"
        "\n"
        "\n"
        "def split_error(x, w):\n"
        "    y = np.tanh(\n"
        "        x * w\n"
        "        + np.unwrap(x),  # comment\n"
        "    )\n"
        "    return np.sum(y)\n"
        "\n"
        "\n"
        "def one_line_error(x): return np.sum(np.unwrap(x))\n"
        "\n"
        "\n"
        "def backslash_error(x):\n"
        "    y = x * 2.0 + \\\n"
        "        np.unwrap(x)\n"
        "    return np.sum(y)\n"
    )
    mod = _module(tmp_path, "split_errors", text)
    lines = text.splitlines()
    for name, args in (
        ("split_error", (_vec(), _vec())),
        ("one_line_error", (_vec(),)),
        ("backslash_error", (_vec(),)),
    ):
        with pytest.raises(srcgrad.SrcgradError) as info:
            srcgrad.grad(getattr(mod, name))(*args)
        err = info.value
        start = next(i for i, ln in enumerate(lines) if ln.startswith(f"def {name}("))
        line = next(i for i in range(start, len(lines)) if "np.unwrap" in lines[i]) + 1
        assert (err.lineno, err.col) == (
            line,
            lines[line - 1].index("np.unwrap") + 1,
        ), str(err)


@pytest.mark.slow
def test_check_command_reports_odd_inputs_without_internal_errors(capsys):
    """`srcgrad check` on the catalogues: findings (exit 1), never an internal error (123)."""
    from srcgrad.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["check", O.__file__, L.__file__])
    out = capsys.readouterr()
    assert rc == 1, out.err
    assert "internal" not in (out.out + out.err).lower()
    assert "Traceback" not in out.err


_EMPTY_INNER = """
import numpy as np


def pairwise_read_after(pts):
    total = 0.0
    j = 0
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            total = total + np.sum(d * d)
    return total * (j + 1)


def pairwise_unbound_before(pts):
    total = 0.0
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            total = total + np.sum(d * d)
    for i, j in zip([0, 1], [1, 2]):
        total = total + np.sum(pts[i] * pts[j])
    return total


def zero_rounds_then_read(pts):
    t = np.sum(pts)
    j = 0
    for j in range(len(pts) - 4):
        t = t * 2.0
    return t * (j + 1)


def triple(pts):
    total = 0.0
    k = 0
    for i in range(len(pts)):
        for j in range(i):
            for k in range(j):
                total = total + np.sum(pts[i] * pts[j] * pts[k])
    return total + k
"""


@pytest.mark.parametrize(
    "name",
    [
        "pairwise_read_after",
        "pairwise_unbound_before",
        "triple",
        "zero_rounds_then_read",
    ],
)
def test_inner_loop_that_runs_no_round(name, tmp_path):
    """``for j in range(i)`` runs no round when i == 0: its name keeps the value it had (it
    crashed in generated code with an unbound name)."""
    mod = _module(tmp_path, f"empty_inner_{name}", _EMPTY_INNER)
    fn = getattr(mod, name)
    pts = np.array([[0.1, 0.5], [0.7, -0.2], [1.1, 0.3], [0.4, 0.9]])
    assert srcgrad.value_and_grad(fn)(pts)[0] == fn(pts)
    check_grad(fn, pts)
