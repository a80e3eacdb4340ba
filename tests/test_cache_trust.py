"""The cache never runs a stale gradient (DESIGN §7, issue 12 item 1).

The key covers every callee the emitted code depends on, however it is reached: a nested
function, a closure's function, a global helper (also rebound), a helper in another module
(also transitively), a method, a ``functools.partial``, a lambda, a user rule (also dropped),
a ``custom_vjp``, a non-differentiable declaration, an emitted gradient module differentiated
again.  Across processes: the second process, sharing the cache directory, must compute the
gradient of the edited code.  In one process: rebinding or redefining a callee regenerates.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import string
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import srcgrad
from srcgrad import api, cache
from srcgrad.errors import SourceNotFoundError

ROOT = Path(__file__).resolve().parent.parent
X = [0.3, -0.7, 1.1]


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(d))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)
    return d


@pytest.fixture
def load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., types.ModuleType]:
    """Write a module under tmp_path/src (a fresh name each time) and import it."""
    src = tmp_path / "src"
    src.mkdir()
    monkeypatch.syspath_prepend(str(src))
    made: list[str] = []

    def load(text: str, name: str | None = None) -> types.ModuleType:
        name = name or f"sgtrust_{uuid.uuid4().hex[:8]}"
        (src / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
        importlib.invalidate_caches()
        made.append(name)
        return importlib.import_module(name)

    yield load  # type: ignore[misc]
    for name in made:
        sys.modules.pop(name, None)


class Generations:
    """Counts code generations (cache misses) per differentiated function."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real = api.GradFunction._generate

        def counting(gf: api.GradFunction, *a: Any, **k: Any) -> str:
            self.names.append(gf.forward.__qualname__)
            return real(gf, *a, **k)

        monkeypatch.setattr(api.GradFunction, "_generate", counting)

    def __len__(self) -> int:
        return len(self.names)


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> Generations:
    return Generations(monkeypatch)


def fd_grad(f: Callable[[Any], Any], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of scalar ``f`` in float64."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (float(f(xp)) - float(f(xm))) / (2 * eps)
    return g


def close(a: Any, b: Any, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol
    )


# --------------------------------------------------------------------------- across processes

# Every case_* function is differentiated by the child; $-placeholders differ between the
# first version (A) and the edited one (B).
USER = string.Template("""
import functools

import numpy as np

import srcgrad
from srcgrad.rules import adjoint, nondifferentiable

import $other as other
from $other import scale_from


# a nested function reached through the differentiated function's closure
def make_nested():
    def inner(v):
        return $nested

    def outer(x):
        return np.sum(inner(x))

    return outer


case_nested = make_nested()


# a function captured by a closure: edited, and swapped for another one
def act_c(v):
    return $act_c


def act_one(v):
    return v * v


def act_two(v):
    return v * v * v


def make_model(act):
    def model(x):
        return np.sum(act(x))

    return model


def make_other_model(act):  # one factory per case: a factory's closures share a file name
    def model(x):
        return np.sum(act(x))

    return model


case_closure_edit = make_model(act_c)
case_closure_swap = make_other_model($swap)


# a global helper: edited, and a global name rebound to another function
def helper(v):
    return $helper


def case_global(x):
    return np.sum(helper(x))


def twice(v):
    return 2.0 * v


def thrice(v):
    return 3.0 * v


scaler = $scaler


def case_rebound(x):
    return np.sum(scaler(x) * x)


# a global name bound to a library function, then to another one
act_lib = $act_lib


def case_library(x):
    return np.sum(act_lib(x))


# helpers in another module: through the module, imported by name, and transitively
def case_other_module(x):
    return np.sum(other.scale(x))


def case_other_by_name(x):
    return np.sum(scale_from(x))


def middle(v):
    return other.deep(v) + v


def case_transitive(x):
    return np.sum(middle(x))


# a method of a module-level object
class Model:
    def __init__(self):
        self.k = 1.5

    def forward(self, v):
        return $method


model = Model()


def case_method(x):
    return np.sum(model.forward(x))


# functools.partial and a lambda
def scaled(a, v):
    return $partial


pscale = functools.partial(scaled, 2.0)


def case_partial(x):
    return np.sum(pscale(x))


sq = lambda v: $lam  # noqa: E731


def case_lambda(x):
    return np.sum(sq(x))


# a user rule (edited), a user rule that goes away, a custom_vjp, a nondiff declaration
def myprim(v):
    return v * v


@adjoint(myprim)
def myprim_adjoint(g, ans, v):
    return $rule


def case_rule(x):
    return np.sum(myprim(x))


def dropped(v):
    return v * v


$dropped_rule


def case_rule_dropped(x):
    return np.sum(dropped(x))


@srcgrad.custom_vjp
def soft(v):
    return v * v


@soft.defvjp
def soft_vjp(g, ans, v):
    return $custom


def case_custom(x):
    return np.sum(soft(x))


def snap(v):
    return v * v


$nondiff


def case_nondiff(x):
    return np.sum(snap(x) + x)


# an emitted gradient differentiated again
def base(v):
    return $base


grad_base = srcgrad.grad(base).emitted("grad")


def case_emitted(x):
    return np.sum(grad_base(x)[1][0] * x)
""")

OTHER = string.Template("""
import numpy as np


def scale(v):
    return $scale


def scale_from(v):
    return $scale_from


def deep(v):
    return $deep
""")

A = dict(
    nested="np.sin(v) * 2.0",
    act_c="np.tanh(v)",
    swap="act_one",
    helper="v * v",
    scaler="twice",
    act_lib="np.tanh",
    method="self.k * v * v",
    partial="a * v * v",
    lam="v * v",
    rule="g * 2.0 * v",
    dropped_rule="@adjoint(dropped)\ndef dropped_adjoint(g, ans, v):\n    return g * 7.0 * v",
    custom="g * 2.0 * v",
    nondiff="nondifferentiable(snap)",
    base="np.sum(np.sin(v))",
    scale="2.0 * np.sin(v)",
    scale_from="v * v",
    deep="np.exp(v)",
)
B = dict(
    nested="np.cos(v) * 3.0",
    act_c="np.sin(v)",
    swap="act_two",
    helper="v * v * v",
    scaler="thrice",
    act_lib="np.sin",
    method="self.k * v * v * v",
    partial="a * v * v * v",
    lam="v * v * v",
    rule="g * 5.0 * v",
    dropped_rule="",
    custom="g * 6.0 * v",
    nondiff="",
    base="np.sum(np.cos(v))",
    scale="2.0 * np.cos(v)",
    scale_from="v * v * v",
    deep="np.sin(v)",
)


def expected(version: str) -> dict[str, np.ndarray]:
    """The gradient of every case at X, worked out by hand (the rules are deliberately not
    the derivatives of their forwards: the numbers say which rule ran)."""
    x = np.array(X)
    s, c = np.sin(x), np.cos(x)
    if version == "A":
        return {
            "case_nested": 2.0 * c,
            "case_closure_edit": 1 - np.tanh(x) ** 2,
            "case_closure_swap": 2 * x,
            "case_global": 2 * x,
            "case_rebound": 4 * x,
            "case_library": 1 - np.tanh(x) ** 2,
            "case_other_module": 2.0 * c,
            "case_other_by_name": 2 * x,
            "case_transitive": np.exp(x) + 1,
            "case_method": 3.0 * x,
            "case_partial": 4.0 * x,
            "case_lambda": 2 * x,
            "case_rule": 2.0 * x,
            "case_rule_dropped": 7.0 * x,
            "case_custom": 2.0 * x,
            "case_nondiff": np.ones(3),
            "case_emitted": -s * x + c,
        }
    return {
        "case_nested": -3.0 * s,
        "case_closure_edit": c,
        "case_closure_swap": 3 * x**2,
        "case_global": 3 * x**2,
        "case_rebound": 6 * x,
        "case_library": c,
        "case_other_module": -2.0 * s,
        "case_other_by_name": 3 * x**2,
        "case_transitive": c + 1,
        "case_method": 4.5 * x**2,
        "case_partial": 6.0 * x**2,
        "case_lambda": 3 * x**2,
        "case_rule": 5.0 * x,
        "case_rule_dropped": 2.0 * x,
        "case_custom": 6.0 * x,
        "case_nondiff": 2 * x + 1,
        "case_emitted": -c * x - s,
    }


CHILD = """
import json
import math
import sys

import numpy as np

from srcgrad import api

generated = []
real = api.GradFunction._generate


def counting(gf, *a, **k):
    generated.append(gf.forward.__qualname__)
    return real(gf, *a, **k)


api.GradFunction._generate = counting
import srcgrad  # noqa: E402
import {user} as user  # noqa: E402

out = {{}}
for name in sorted(n for n in dir(user) if n.startswith("case_")):
    before = len(generated)
    try:
        g = srcgrad.grad(getattr(user, name))(np.array({x!r}))
        out[name] = {{"grad": np.asarray(g, dtype=float).tolist(),
                     "generated": len(generated) - before}}
    except Exception as exc:  # reported, and the test fails on it
        out[name] = {{"error": f"{{type(exc).__name__}}: {{exc}}"}}
out["__libcst__"] = "libcst" in sys.modules
out["__black__"] = "black" in sys.modules
print(json.dumps(out))
"""


def write_version(src: Path, user: str, other: str, version: dict[str, str]) -> None:
    (src / f"{user}.py").write_text(
        USER.substitute(version, other=other), encoding="utf-8"
    )
    (src / f"{other}.py").write_text(OTHER.substitute(version), encoding="utf-8")


def run_child(src: Path, cache_root: Path, user: str) -> dict[str, Any]:
    """A fresh process importing this checkout's srcgrad and the user module from ``src``,
    with the shared cache directory; returns what it computed."""
    script = src.parent / "child.py"
    script.write_text(CHILD.format(user=user, x=X), encoding="utf-8")
    env = dict(os.environ)
    env.pop("SRCGRAD_CACHE", None)
    env.update(
        SRCGRAD_CACHE_DIR=str(cache_root),
        PYTHONPATH=os.pathsep.join([str(src), str(ROOT)] + [env.get("PYTHONPATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",  # a .pyc written within the same second could be stale
        OPENBLAS_NUM_THREADS="1",
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(src.parent),
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_result(result: dict[str, Any], version: str) -> None:
    want = expected(version)
    assert sorted(k for k in result if k.startswith("case_")) == sorted(want)
    wrong = {}
    for name, g in want.items():
        r = result[name]
        if "error" in r or not np.allclose(r["grad"], g, atol=1e-9, rtol=1e-9):
            wrong[name] = r.get("error") or (r["grad"], g.tolist())
    assert not wrong, f"version {version}: wrong or failed gradients {wrong}"


@pytest.mark.slow
def test_edits_between_processes_run_the_new_gradient(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    cache_root = tmp_path / "cache"
    user, other = (
        f"trust_user_{uuid.uuid4().hex[:6]}",
        f"trust_other_{uuid.uuid4().hex[:6]}",
    )
    write_version(src, user, other, A)

    first = run_child(src, cache_root, user)
    check_result(first, "A")
    assert all(
        first[k]["generated"] == 1 for k in first if k.startswith("case_")
    ), first

    # unchanged sources: every case is a cache hit, and a hit parses nothing
    again = run_child(src, cache_root, user)
    check_result(again, "A")
    assert [k for k in again if k.startswith("case_") and again[k]["generated"]] == []
    assert not again["__libcst__"] and not again["__black__"]

    # every callee edited (the differentiated functions' own text is unchanged)
    write_version(src, user, other, B)
    edited = run_child(src, cache_root, user)
    check_result(edited, "B")
    stale = [k for k in edited if k.startswith("case_") and not edited[k]["generated"]]
    assert stale == [] or stale == [
        "case_custom"
    ], stale  # custom: its vjp runs by name


def test_header_records_how_callees_are_reached(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    other = load("import numpy as np\n\n\ndef deep(v):\n    return np.sin(v)\n")
    m = load(f"""
        import numpy as np
        import {other.__name__} as other


        def middle(v):
            return other.deep(v) * 2.0


        def make():
            def inner(v):
                return middle(v) + v

            def f(x):
                return np.sum(inner(x))

            return f


        f = make()
        """)
    df = srcgrad.grad(m.f)
    close(df(np.array(X)), 2 * np.cos(X) + 1)
    parsed = cache.parse_header(df.source)
    assert parsed is not None
    assert [str(r) for r in parsed[4]] == ["0:inner", "1:middle", "2:other.deep"]
    assert "missing" not in df.source.splitlines()[3]


# --------------------------------------------------------------------------- in one process

GLOBAL_HELPERS = """
import numpy as np


def square(v):
    return v * v


def cube(v):
    return v * v * v


helper = square


def f(x):
    return np.sum(helper(x) + x)
"""


def test_rebinding_a_global_helper_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType], generations: Generations
) -> None:
    m = load(GLOBAL_HELPERS)
    df = srcgrad.grad(m.f)
    x = np.array(X)
    close(df(x), 2 * x + 1)
    close(df(x), 2 * x + 1)
    assert len(generations) == 1
    m.helper = m.cube
    close(df(x), 3 * x**2 + 1)
    m.helper = (
        m.square
    )  # back again: the file now holds the cube's gradient, regenerated
    close(df(x), 2 * x + 1)
    m.helper = lambda v: 4.0 * v  # noqa: E731  (a lambda defined here)
    close(df(x), 4.0 + np.ones(3))
    # a fresh GradFunction sees the current binding too
    close(srcgrad.grad(m.f)(x), 5.0 * np.ones(3))


def test_rebinding_a_name_to_another_library_function_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType], generations: Generations
) -> None:
    m = load("""
        import math

        import numpy as np
        from numpy import exp

        act = np.tanh


        def f(x):
            return np.sum(exp(x) + act(x))


        def g(s):
            return exp(s) * 2.0
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), np.exp(x) + 1 - np.tanh(x) ** 2)
    m.act = np.sin
    close(df(x), np.exp(x) + np.cos(x))
    m.exp = np.log1p
    close(df(x), 1 / (1 + x) + np.cos(x))
    assert len(generations) == 3
    # a Python float through math.exp, then through math.sin
    m.exp = math.exp
    dg = srcgrad.grad(m.g)
    assert abs(dg(0.4) - 2.0 * math.exp(0.4)) < 1e-12
    m.exp = math.sin
    assert abs(dg(0.4) - 2.0 * math.cos(0.4)) < 1e-12


def test_redefining_a_helpers_code_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load(GLOBAL_HELPERS)
    df = srcgrad.grad(m.f)
    x = np.array(X)
    close(df(x), 2 * x + 1)
    m.square.__code__ = m.cube.__code__  # same function object, new code
    close(df(x), 3 * x**2 + 1)


def test_a_new_closure_cell_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load("""
        import numpy as np


        def square(v):
            return v * v


        def sine(v):
            return np.sin(v)


        def make(act):
            def model(x):
                return np.sum(act(x))

            return model
        """)
    x = np.array(X)
    f = m.make(m.square)
    df = srcgrad.grad(f)
    close(df(x), 2 * x)
    f.__closure__[0].cell_contents = m.sine  # the captured function, not a value
    close(df(x), np.cos(x))
    # the same factory, another function: same qualname and file name, new gradient
    close(srcgrad.grad(m.make(m.square))(x), 2 * x)
    close(srcgrad.grad(m.make(m.sine))(x), np.cos(x))


def test_a_method_redefined_on_its_class_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load("""
        import numpy as np


        class Layer:
            def forward(self, v):
                return v * v


        layer = Layer()


        def f(x):
            return np.sum(layer.forward(x))
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), 2 * x)

    def forward(self: Any, v: Any) -> Any:
        return np.sin(v)

    m.Layer.forward = forward
    close(df(x), np.cos(x))


def test_a_method_reached_through_self_is_tracked(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load("""
        import numpy as np


        class Net:
            def act(self, v):
                return v * v

            def loss(self, v):
                return np.sum(self.act(v))


        net = Net()


        def f(x):
            return net.loss(x) * 2.0
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), 4.0 * x)
    parsed = cache.parse_header(df.source)
    assert parsed is not None
    assert [str(r) for r in parsed[4]] == ["0:net.loss.__func__", "0:net.act.__func__"]

    def act(self: Any, v: Any) -> Any:
        return np.sin(v)

    m.Net.act = act
    close(df(x), 2.0 * np.cos(x))


def test_a_partials_function_rebound_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load("""
        import functools

        import numpy as np


        def scaled(a, v):
            return a * v * v


        def scaled_sin(a, v):
            return a * np.sin(v)


        p = functools.partial(scaled, 3.0)


        def f(x):
            return np.sum(p(x))
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), 6.0 * x)
    m.p = functools.partial(m.scaled_sin, 3.0)
    close(df(x), 3.0 * np.cos(x))
    m.p = functools.partial(m.scaled_sin, a=0.5)  # keyword-bound: other emitted code
    close(df(x), 0.5 * np.cos(x))


SECOND = """
import numpy as np

import srcgrad


def second_derivative(f):
    g = srcgrad.grad(f).emitted("grad")

    def h(x):
        return g(x)[1][0]

    return srcgrad.grad(h)


def second_derivative_lambda(f):
    g = srcgrad.grad(f).emitted("grad")
    return srcgrad.grad(lambda x: g(x)[1][0])


def f1(x):
    return np.sin(x) * x


def f2(x):
    return x * x * x


def f3(x):
    return np.exp(0.5 * x) + np.cos(x)


f4 = lambda x: np.tanh(x) * 2.0  # noqa: E731
"""


@pytest.mark.parametrize("helper", ["second_derivative", "second_derivative_lambda"])
def test_second_derivative_helper_is_right_for_every_function(
    cache_dir: Path, load: Callable[..., types.ModuleType], helper: str
) -> None:
    m = load(SECOND)
    d2 = getattr(m, helper)
    for x0, f in ((0.7, m.f1), (-1.2, m.f2), (0.4, m.f3), (1.3, m.f4), (-0.5, m.f1)):
        df = srcgrad.grad(f)
        got = d2(f)(x0)
        want = (df(x0 + 1e-5) - df(x0 - 1e-5)) / 2e-5
        assert abs(got - want) < 1e-6, (f.__name__, x0, got, want)


@pytest.mark.slow
def test_second_derivative_across_processes(tmp_path: Path) -> None:
    """The helper's file is shared by every f (same qualname); a new process must not run
    the first f's second derivative for the next f."""
    src = tmp_path / "src"
    src.mkdir()
    name = f"trust_second_{uuid.uuid4().hex[:6]}"
    (src / f"{name}.py").write_text(SECOND, encoding="utf-8")
    script = src.parent / "second.py"
    script.write_text(
        textwrap.dedent(f"""
            import json, sys
            import {name} as m
            f = getattr(m, sys.argv[1])
            print(json.dumps([m.second_derivative(f)(x) for x in (0.7, -1.2)]))
            """),
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        SRCGRAD_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("SRCGRAD_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(src), str(ROOT), env.get("PYTHONPATH", "")]
    )
    want = {
        "f1": [2 * np.cos(x) - x * np.sin(x) for x in (0.7, -1.2)],
        "f2": [6 * x for x in (0.7, -1.2)],
    }
    for fname in ("f1", "f2"):
        proc = subprocess.run(
            [sys.executable, str(script), fname],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(tmp_path),
            timeout=240,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        close(json.loads(proc.stdout.strip().splitlines()[-1]), want[fname], 1e-9)


def test_emitted_gradients_sharing_a_file_name_differentiate_right(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    """Two closures of one factory emit two texts under one file name: differentiating the
    first one's emitted gradient must read its own text, not the last one written."""
    m = load("""
        import numpy as np


        def make(act):
            def model(x):
                return act(x)

            return model


        def cube(v):
            return v * v * v


        def sine(v):
            return np.sin(v)
        """)
    fa, fb = m.make(m.cube), m.make(m.sine)
    ga = srcgrad.grad(fa).emitted("grad")
    gb = srcgrad.grad(fb).emitted("grad")
    assert srcgrad.grad(fa).path == srcgrad.grad(fb).path  # the shared name

    def ha(x: Any) -> Any:
        return ga(x)[1][0]

    def hb(x: Any) -> Any:
        return gb(x)[1][0]

    for x0 in (0.7, -1.1):
        assert abs(srcgrad.grad(ha)(x0) - 6 * x0) < 1e-12
        assert abs(srcgrad.grad(hb)(x0) + np.sin(x0)) < 1e-12


def _summed(f: Any) -> Any:
    def summed(v: Any) -> Any:
        return np.sum(f(v))

    return summed


def _second(g: Any) -> Any:
    def second(v: Any) -> Any:
        return np.sum(g(v)[1][0] * v)

    return second


def _value(g: Any) -> Any:
    def value(v: Any) -> Any:
        return np.sum(g(v)[0])

    return value


def test_differentiating_emitted_gradients_of_different_functions(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load(SECOND)
    x = np.array(X)
    results = []
    for f in (m.f1, m.f3, m.f1):
        h = _second(srcgrad.grad(_summed(f)).emitted("grad"))
        got = srcgrad.grad(h)(x)
        results.append(got)
        close(got, fd_grad(h, x), 1e-5)
    close(results[0], results[2])
    assert not np.allclose(results[0], results[1])
    # the emitted forward functions, differentiated again through one wrapper
    for f in (m.f1, m.f2, m.f1):
        value = _value(srcgrad.grad(f).emitted("fwd"))
        close(srcgrad.grad(value)(x), fd_grad(_summed(f), x), 1e-5)


def test_emitted_functions_are_keyed_by_their_module_text(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load(SECOND)
    g1 = srcgrad.grad(m.f1).emitted("grad")
    g2 = srcgrad.grad(m.f2).emitted("grad")
    t1, t2 = cache.callee_text(g1), cache.callee_text(g2)
    assert t1 != t2 and "emitted" in t1
    assert t1 == cache.callee_text(srcgrad.grad(m.f1).emitted("grad"))  # stable


# --------------------------------------------------------------------------- refusals and units


def test_a_callee_without_source_is_keyed_by_its_code(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    ns: dict[str, Any] = {"np": np}
    exec(
        "def a(v):\n    return v * 2.0\n\ndef b(v):\n    return v * 3.0\n", ns
    )  # no source
    ta, tb = cache.callee_text(ns["a"]), cache.callee_text(ns["b"])
    assert ta.startswith("code ") and tb.startswith("code ") and ta != tb
    # a custom_vjp whose function has no source: keyed by its code, and it works
    m = load("""
        import numpy as np
        import srcgrad


        def f(x):
            return np.sum(twice(x))
        """)
    twice = srcgrad.custom_vjp(ns["a"])
    twice.defvjp(lambda g, ans, v: g * 2.0)
    m.twice = twice
    close(srcgrad.grad(m.f)(np.array(X)), 2.0 * np.ones(3))
    thrice = srcgrad.custom_vjp(ns["b"])
    thrice.defvjp(lambda g, ans, v: g * 3.0)
    m.twice = thrice
    close(srcgrad.grad(m.f)(np.array(X)), 3.0 * np.ones(3))


def test_a_callees_default_values_are_keyed() -> None:
    def helper(v: Any, k: Any = 2.0) -> Any:
        return k * v

    before = cache.callee_text(helper)
    helper.__defaults__ = (3.0,)  # what a def with `k=SCALE` gets when SCALE changes
    assert cache.callee_text(helper) != before
    helper.__defaults__ = (np.ones(2),)  # not foldable: keyed by type, stable
    assert cache.callee_text(helper) == cache.callee_text(helper)


def test_a_custom_vjp_of_a_compiled_function_is_keyed_by_its_signature(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    m = load("""
        import numpy as np
        import srcgrad

        t = srcgrad.custom_vjp(np.tanh)
        t.defvjp(lambda g, ans, x: g * 2.0)


        def f(x):
            return np.sum(t(x))
        """)
    close(srcgrad.grad(m.f)(np.array(X)), 2.0 * np.ones(3))
    assert cache.callee_text(m.t).startswith("compiled numpy.tanh(")
    assert cache.callee_text(m.t) != cache.callee_text(srcgrad.custom_vjp(np.arctan2))


def test_a_callee_with_neither_source_nor_code_is_refused() -> None:
    class Opaque:  # a callable object: no source, no code object, no signature
        __signature__ = property(lambda self: (_ for _ in ()).throw(ValueError("none")))

        def __call__(self, v: Any) -> Any:
            return v

    weird = srcgrad.custom_vjp(Opaque())
    weird.fn.__qualname__ = "opaque"
    with pytest.raises(SourceNotFoundError) as err:
        cache.callee_text(weird, cache.Ref(0, ("weird",)))
    assert "opaque" in str(err.value) and "weird" in str(err.value)
    assert "def" in (err.value.hint or "")


def test_refs_parse_and_reject_malformed_text() -> None:
    assert cache.Ref.parse("2:model.forward.__func__") == cache.Ref(
        2, ("model", "forward", "__func__")
    )
    assert str(cache.Ref(0, ("g",))) == "0:g"
    for bad in ("missing", "x:g", "0:", "0:a..b", "srcgrad.generated.f__wrt-x:grad_f"):
        assert cache.Ref.parse(bad) is None
    head = "#\n#\n# key: k\n# rules: add; calls: srcgrad.generated.f:grad_f\n# digest: d\nbody"
    assert cache.parse_header(head) is None  # an old-format header is never trusted


def test_a_rule_that_is_gone_invalidates_the_file(
    cache_dir: Path, load: Callable[..., types.ModuleType], generations: Generations
) -> None:
    from srcgrad.rules import registry

    assert cache.rule_fingerprint("no_such_rule_anywhere") is None
    m = load("""
        import numpy as np
        from srcgrad.rules import adjoint


        def prim(v):
            return v * v


        @adjoint(prim, name="trust_prim_gone")
        def prim_adjoint(g, ans, v):
            return g * 9.0 * v


        def f(x):
            return np.sum(prim(x))
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), 9.0 * x)
    assert len(generations) == 1
    rule = registry._BY_NAME.pop("trust_prim_gone")
    registry._RULES.pop(id(rule.primitive))
    registry.GENERATION += 1
    try:
        close(df(x), 2.0 * x)  # now an inlined user function
        assert len(generations) == 2
    finally:
        registry._BY_NAME.pop("trust_prim_gone", None)


def test_registering_a_new_rule_in_the_same_process_regenerates(
    cache_dir: Path, load: Callable[..., types.ModuleType]
) -> None:
    from srcgrad.rules import adjoint

    m = load("""
        import numpy as np
        from srcgrad.rules import adjoint


        def prim(v):
            return v * v


        @adjoint(prim, name="trust_prim_rereg")
        def prim_adjoint(g, ans, v):
            return g * 2.0 * v


        def prim_adjoint4(g, ans, v):
            return g * 4.0 * v


        def f(x):
            return np.sum(prim(x))
        """)
    x = np.array(X)
    df = srcgrad.grad(m.f)
    close(df(x), 2.0 * x)
    try:
        adjoint(m.prim, name="trust_prim_rereg")(m.prim_adjoint4)
        close(df(x), 4.0 * x)
        close(srcgrad.grad(m.f)(x), 4.0 * x)
    finally:
        from srcgrad.rules import registry

        rule = registry._BY_NAME.pop("trust_prim_rereg", None)
        if rule is not None:
            registry._RULES.pop(id(rule.primitive), None)


def test_the_per_call_check_stays_cheap_on_a_hit(
    cache_dir: Path, load: Callable[..., types.ModuleType], generations: Generations
) -> None:
    m = load(GLOBAL_HELPERS)
    df = srcgrad.grad(m.f)
    x = np.array(X)
    for _ in range(50):
        df(x)
    assert len(generations) == 1
    st = df._state
    assert st is not None and [str(r) for r in st.refs] == ["0:helper"]
    assert cache.refs_current(m.f, st.refs, st.callees, st.codes)


def test_clean_removes_files_with_an_old_format_header(tmp_path: Path) -> None:
    from srcgrad.cli import main

    d = tmp_path / "cache" / "mod"
    d.mkdir(parents=True)
    old = d / "h__wrt-x.py"
    old.write_text(
        "# Generated by srcgrad from mod.py:4 (h). Do not edit:\n"
        "# rebuilt when the source, the rules it uses or the formatter change.\n"
        "# key: 0123\n"
        "# rules: add; calls: srcgrad.generated.f__wrt-x:grad_f\n"
        "# digest: 4567\n"
        "def fwd_h(x):\n    return x\n",
        encoding="utf-8",
    )
    foreign = d / "notes.py"
    foreign.write_text("x = 1\n", encoding="utf-8")
    assert main(["clean", "-q", str(tmp_path / "cache")]) == 0
    assert not old.exists() and foreign.exists()
