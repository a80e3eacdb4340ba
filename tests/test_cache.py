"""The generated/ cache (DESIGN §7).

* eight racing processes leave one valid file and no temporaries;
* a source edit regenerates the file;
* a file whose body was edited but whose header was kept never runs (a sentinel proves it);
* a stale key, a malformed or a truncated file is regenerated, never run;
* a cache hit imports neither libcst nor black;
* ``SRCGRAD_CACHE=off`` writes nothing; emitted text is deterministic; file names;
* errors raised inside emitted code carry a note naming the user's file and line, and
  ``linecache`` knows the emitted text.

Every test points ``SRCGRAD_CACHE_DIR`` at its own directory and writes the functions it
differentiates into a module file of its own, because srcgrad reads source with ``inspect``.
"""

from __future__ import annotations

import re

import hashlib
import importlib.util
import itertools
import json
import linecache
import os
import subprocess
import sys
import textwrap
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad import cache

_COUNTER = itertools.count()
EPS = 1e-6


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(d))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)
    monkeypatch.delenv("SRCGRAD_DEBUG", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return d


class Modules:
    """Writes user modules under ``tmp_path/src`` and imports them under unique names."""

    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_name: str
    ) -> None:
        self.dir = tmp_path / "src"
        self.dir.mkdir(exist_ok=True)
        self.mp = monkeypatch
        digest = hashlib.sha1(test_name.encode()).hexdigest()[:8]
        self.prefix = f"sgcache_{digest}_{os.getpid()}"

    def new_name(self) -> str:
        return f"{self.prefix}_{next(_COUNTER)}"

    def write(self, name: str, source: str) -> Path:
        path = self.dir / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        linecache.checkcache(str(path))
        return path

    def load(self, source: str, name: str | None = None) -> types.ModuleType:
        """Write ``source`` to ``<name>.py`` and import it (again, if it was already)."""
        name = name or self.new_name()
        path = self.write(name, source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        self.mp.setitem(sys.modules, name, mod)
        spec.loader.exec_module(mod)
        return mod


@pytest.fixture
def modules(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cache_dir: Path,
    request: pytest.FixtureRequest,
) -> Modules:
    return Modules(tmp_path, monkeypatch, request.node.name)


def numeric_grad(
    fun: Callable[..., Any], args: tuple[Any, ...], pos: int
) -> np.ndarray:
    """Central differences in float64 of scalar ``fun`` w.r.t. array argument ``pos``."""
    args = tuple(
        np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args
    )
    x = args[pos]
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += EPS
        xm[i] -= EPS
        plus = fun(*args[:pos], xp, *args[pos + 1 :])
        minus = fun(*args[:pos], xm, *args[pos + 1 :])
        g[i] = (float(plus) - float(minus)) / (2 * EPS)
    return g


def assert_close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-5, atol=1e-6)


def parts_of(df: srcgrad.GradFunction, has_aux: bool = False) -> dict[str, Any]:
    """The key inputs srcgrad.api uses for a function without str/bool/None arguments (the
    spec is the abstract signature of the last call's arguments, "" before any call)."""
    fn = df.forward
    spec = df._state.spec if df._state is not None else ""
    return {
        "qualname": fn.__qualname__,
        "wrt": tuple(df.wrt),
        "has_aux": has_aux,
        "spec": spec,
        "origin": cache.source_and_line(fn)[1],
    }


def valid_text(df: srcgrad.GradFunction, path: Path | None = None) -> str | None:
    return cache.read_valid(
        path or df.path, cache.function_source(df.forward), parts_of(df), df.forward
    )


def files_under(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.is_file())


def run_child(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> Any:
    """Run a python script in a fresh process, in this process's working directory (the
    emitted header shows the user's file relative to it), with ``tmp_path/src`` on sys.path
    and ``tmp_path`` as ``ROOT``; its last stdout line is JSON."""
    script = tmp_path / f"child_{next(_COUNTER)}.py"
    script.write_text(_prelude(tmp_path) + textwrap.dedent(body), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=_this_checkout(env or dict(os.environ)),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _this_checkout(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this checkout first on PYTHONPATH: the child imports the srcgrad under
    test, not whichever copy is installed."""
    root = str(Path(__file__).resolve().parent.parent)
    rest = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": root + (os.pathsep + rest if rest else "")}


def _prelude(tmp_path: Path) -> str:
    return (
        "import sys, os, json\n"
        "sys.dont_write_bytecode = True\n"
        f"sys.path.insert(0, {str(tmp_path / 'src')!r})\n"
        f"ROOT = {str(tmp_path)!r}\n"
    )


SMOOTH = """\
import numpy as np


def f(x, y):
    h = np.tanh(x * y + 1.0)
    return np.sum(h * h + x)
"""


def smooth_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.normal(size=(3, 4)), rng.normal(size=(3, 4))


def check_smooth(mod: types.ModuleType, gx: Any, gy: Any) -> None:
    x, y = smooth_inputs()
    assert_close(gx, numeric_grad(mod.f, (x, y), 0))
    assert_close(gy, numeric_grad(mod.f, (x, y), 1))


# --------------------------------------------------------------------------- races


RACE_DRIVER = """
import hashlib
import multiprocessing as mp
from pathlib import Path
import numpy as np
import srcgrad
from srcgrad import api, cache
import srcgrad.codegen.pipeline  # noqa: F401  (warm: the processes race on generation itself)
import {mod} as m

root = Path({root!r})
n = {n}


def racer(me, start, writing):
    generated = []
    real_generate = api.GradFunction._generate
    real_write = cache.write_atomic

    def counting_generate(self, *a, **k):
        generated.append(1)
        return real_generate(self, *a, **k)

    def barrier_write(path, text):
        writing.wait(60)  # every process has generated (so missed the cache) before any writes
        real_write(path, text)

    api.GradFunction._generate = counting_generate
    cache.write_atomic = barrier_write
    x, y = np.load(root / "x.npy"), np.load(root / "y.npy")
    start.wait(60)
    df = srcgrad.grad(m.f, wrt=(0, 1))
    gx, gy = df(x, y)
    np.save(root / ("gx_%d.npy" % me), gx)
    np.save(root / ("gy_%d.npy" % me), gy)
    report = {{"generated": len(generated), "path": str(df.path),
              "sha": hashlib.sha256(df.source.encode()).hexdigest()}}
    (root / ("report_%d.json" % me)).write_text(json.dumps(report))


if __name__ == "__main__":
    ctx = mp.get_context("fork")  # one import of numpy/libcst/black, eight processes
    start, writing = ctx.Barrier(n), ctx.Barrier(n)
    procs = [ctx.Process(target=racer, args=(i, start, writing)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    print(json.dumps([p.exitcode for p in procs]))
"""


def test_eight_racing_processes_leave_one_valid_file(
    tmp_path: Path, modules: Modules, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 8
    name = modules.new_name()
    mod = modules.load(SMOOTH, name)
    x, y = smooth_inputs()
    root = tmp_path / "race"
    root.mkdir()
    np.save(root / "x.npy", x)
    np.save(root / "y.npy", y)
    # the racers run with another hash seed than this process: the emitted text must not
    # depend on set or dict order
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    env = dict(
        os.environ, PYTHONHASHSEED=seed, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"
    )
    exitcodes = run_child(
        tmp_path, RACE_DRIVER.format(mod=name, root=str(root), n=n), env
    )
    assert exitcodes == [0] * n
    reports = [json.loads((root / f"report_{i}.json").read_text()) for i in range(n)]

    # every process missed the cache, generated and wrote: this was a real race
    assert [r["generated"] for r in reports] == [1] * n
    # exactly one file, no temporaries
    files = files_under(cache_dir)
    assert len(files) == 1 and files[0].parent == cache_dir / name, files
    assert re.fullmatch(r"f__wrt-x-y__[0-9a-f]{8}\.py", files[0].name), files
    assert not [
        p for p in cache_dir.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"
    ]
    assert {r["path"] for r in reports} == {str(files[0])}
    # the file is valid and is what every process emitted
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    df(x, y)
    text = valid_text(df, files[0])
    assert text is not None
    assert {r["sha"] for r in reports} == {hashlib.sha256(text.encode()).hexdigest()}
    # ... and what this process emits, whatever its hash seed
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "here"))
    here = srcgrad.grad(mod.f, wrt=(0, 1))
    here(x, y)
    assert here.source == text
    # and every process got the right gradient
    for i in range(n):
        check_smooth(mod, np.load(root / f"gx_{i}.npy"), np.load(root / f"gy_{i}.npy"))


# --------------------------------------------------------------------------- freshness


def test_source_edit_regenerates(
    modules: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = modules.new_name()
    mod = modules.load(SMOOTH, name)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    check_smooth(mod, *df(x, y))
    path = df.path
    old = path.read_text()
    old_key = cache.parse_header(old)[0]  # type: ignore[index]

    edited = SMOOTH.replace("h * h + x", "h * x * x - np.sin(y) * 2.0")
    mod2 = modules.load(edited, name)  # the same module, edited and imported again
    df2 = srcgrad.grad(mod2.f, wrt=(0, 1))
    gx, gy = df2(x, y)
    assert df2.path == path
    new = path.read_text()
    assert cache.parse_header(new)[0] != old_key  # type: ignore[index]
    assert "np.sin" not in old and "xp.sin(y)" in new
    assert valid_text(df2) == new
    assert_close(gx, numeric_grad(mod2.f, (x, y), 0))
    assert_close(gy, numeric_grad(mod2.f, (x, y), 1))
    assert not np.allclose(gx, numeric_grad(mod.f, (x, y), 0))

    # the old GradFunction notices that its function changed when f.__code__ is swapped
    mod.f.__code__ = mod2.f.__code__
    gx_old_obj, _ = df(x, y)
    assert_close(gx_old_obj, numeric_grad(mod2.f, (x, y), 0))


def _tamper_bwd(text: str, statement: str) -> str:
    """Insert ``statement`` as the first line of bwd_f's body; the header is kept."""
    lines = text.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("def bwd_f("))
    lines.insert(at + 1, "    " + statement)
    return "\n".join(lines)


def _with_digest(text: str) -> str:
    """``text`` with its header digest recomputed for its (edited) body."""
    head = text.split("\n", cache.HEADER_LINES)
    body = head[cache.HEADER_LINES]
    head[4] = f"# digest: {cache.body_digest(body)}"
    return "\n".join(head)


def test_tampered_body_never_runs(tmp_path: Path, modules: Modules) -> None:
    name = modules.new_name()
    mod = modules.load(SMOOTH, name)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    df(x, y)
    path = df.path
    good = path.read_text()
    sentinel = tmp_path / "sentinel"
    path.write_text(_tamper_bwd(good, f"open({str(sentinel)!r}, 'w').close()"))

    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    report = run_child(
        tmp_path,
        f"""
        import numpy as np
        import srcgrad
        import {name} as m
        x, y = np.load(ROOT + "/x.npy"), np.load(ROOT + "/y.npy")
        gx, gy = srcgrad.grad(m.f, wrt=(0, 1))(x, y)
        np.save(ROOT + "/gx.npy", gx)
        np.save(ROOT + "/gy.npy", gy)
        print(json.dumps({{}}))
        """,
    )
    assert report == {}
    assert not sentinel.exists(), "a tampered file was executed"
    check_smooth(mod, np.load(tmp_path / "gx.npy"), np.load(tmp_path / "gy.npy"))
    assert path.read_text() == good  # rewritten, valid
    assert valid_text(df) == good

    # control: the same edit with a matching digest does run, so the sentinel would show it
    path.write_text(
        _with_digest(_tamper_bwd(good, f"open({str(sentinel)!r}, 'w').close()"))
    )
    srcgrad.grad(mod.f, wrt=(0, 1))(x, y)
    assert sentinel.exists()


def test_stale_key_regenerates_and_never_runs(tmp_path: Path, modules: Modules) -> None:
    mod = modules.load(SMOOTH)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    df(x, y)
    good = df.path.read_text()
    key = cache.parse_header(good)[0]  # type: ignore[index]
    sentinel = tmp_path / "sentinel"
    stale = _with_digest(_tamper_bwd(good, f"open({str(sentinel)!r}, 'w').close()"))
    stale = stale.replace(f"# key: {key}", "# key: " + "0" * len(key))
    assert stale != good
    df.path.write_text(stale)
    assert valid_text(df) is None

    gx, gy = srcgrad.grad(mod.f, wrt=(0, 1))(x, y)
    assert not sentinel.exists()
    check_smooth(mod, gx, gy)
    assert df.path.read_text() == good


def test_a_changed_generator_makes_cached_modules_stale(
    modules: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a module an older generator wrote is never run by a newer one (its key covers a
    # digest of srcgrad/codegen), even when the function and its rules are unchanged
    mod = modules.load(SMOOTH)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    df(x, y)
    assert valid_text(df) is not None
    fingerprint = cache.engine_fingerprint()
    assert len(fingerprint) == 16
    monkeypatch.setattr(cache, "engine_fingerprint", lambda: "another-generator")
    assert valid_text(df) is None


@pytest.mark.parametrize(
    "damage", ["truncated", "empty", "no-header", "garbage", "bad-utf8"]
)
def test_malformed_file_regenerates(modules: Modules, damage: str) -> None:
    mod = modules.load(SMOOTH)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    df(x, y)
    good = df.path.read_bytes()
    bad = {
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "no-header": good.split(b"\n", cache.HEADER_LINES)[cache.HEADER_LINES],
        "garbage": b"# key: x\n# rules: y\n# digest: z\n)))(((\n",
        "bad-utf8": good[:200] + b"\xff\xfe\xfa" + good[200:],
    }[damage]
    df.path.write_bytes(bad)
    gx, gy = srcgrad.grad(mod.f, wrt=(0, 1))(x, y)
    check_smooth(mod, gx, gy)
    assert df.path.read_bytes() == good


# --------------------------------------------------------------------------- cheap hits


HIT_CHILD = """
import numpy as np
import srcgrad
import {name} as m
x, y = np.load(ROOT + "/x.npy"), np.load(ROOT + "/y.npy")
df = srcgrad.grad(m.f, wrt=(0, 1))
gx, gy = df(x, y)
np.save(ROOT + "/gx_{tag}.npy", gx)
np.save(ROOT + "/gy_{tag}.npy", gy)
print(json.dumps({{
    "libcst": "libcst" in sys.modules,
    "black": "black" in sys.modules,
    "codegen": sorted(k for k in sys.modules if k.startswith("srcgrad.codegen.")),
    "path": str(df.path),
}}))
"""


def test_cache_hit_imports_neither_libcst_nor_black(
    tmp_path: Path, modules: Modules
) -> None:
    name = modules.new_name()
    mod = modules.load(SMOOTH, name)
    x, y = smooth_inputs()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)

    first = run_child(tmp_path, HIT_CHILD.format(name=name, tag="miss"))
    assert first["libcst"] and first["black"]  # the miss generated the file
    path = Path(first["path"])
    text, stamp = path.read_bytes(), path.stat().st_mtime_ns

    hit = run_child(tmp_path, HIT_CHILD.format(name=name, tag="hit"))
    assert hit["path"] == first["path"]
    assert not hit["libcst"], "a cache hit imported libcst"
    assert not hit["black"], "a cache hit imported black"
    assert hit["codegen"] == [], "a cache hit reached the code generator"
    assert (
        path.read_bytes() == text and path.stat().st_mtime_ns == stamp
    )  # not rewritten
    check_smooth(
        mod, np.load(tmp_path / "gx_hit.npy"), np.load(tmp_path / "gy_hit.npy")
    )
    check_smooth(
        mod, np.load(tmp_path / "gx_miss.npy"), np.load(tmp_path / "gy_miss.npy")
    )


# --------------------------------------------------------------------------- control


def test_cache_off_writes_nothing(
    modules: Modules, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE", "off")
    mod = modules.load(SMOOTH)
    x, y = smooth_inputs()
    df = srcgrad.grad(mod.f, wrt=(0, 1))
    source = df.source  # before any call
    assert "def fwd_f(" in source and "def bwd_f(" in source
    assert isinstance(df.path, Path)
    assert df.path.name.endswith("f__wrt-x-y.py>") or df.path.name == "f__wrt-x-y.py"
    assert mod.__name__ in str(df.path)
    check_smooth(mod, *df(x, y))
    vg = srcgrad.value_and_grad(mod.f, wrt=(0, 1))
    _, (gx, gy) = vg(x, y)
    check_smooth(mod, gx, gy)
    assert not cache_dir.exists() or files_under(cache_dir) == []
    # the in-memory module is still registered with linecache
    assert linecache.getline(str(df.path), 6).strip() != ""


def test_emitted_text_is_deterministic(
    tmp_path: Path, modules: Modules, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod = modules.load(SMOOTH)
    x, y = smooth_inputs()
    texts = []
    for sub in ("a", "b"):
        monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / sub))
        df = srcgrad.grad(mod.f, wrt=(0, 1))
        check_smooth(mod, *df(x, y))
        assert df.path.is_relative_to(tmp_path / sub)
        texts.append(df.path.read_bytes())
    assert texts[0] == texts[1]


def test_file_names(modules: Modules, cache_dir: Path) -> None:
    mod = modules.load("""\
        import numpy as np


        def f(x, y):
            return np.sum(np.sin(x) * y)


        def outer(c):
            def inner(x):
                return np.sum(np.sin(x) * c)

            return inner
        """)
    x, y = smooth_inputs()
    d = cache_dir / mod.__name__
    df = srcgrad.grad(mod.f)
    assert_close(df(x, y), numeric_grad(mod.f, (x, y), 0))
    # a call specialises the file to its arguments' kinds (dtype, rank, unit axes)
    spec = r"__[0-9a-f]{8}\.py"
    assert df.path.parent == d and re.fullmatch("f__wrt-x" + spec, df.path.name)
    assert df.path.is_file()
    dfy = srcgrad.grad(mod.f, wrt=(1, 0))
    dfy(x, y)
    assert re.fullmatch("f__wrt-y-x" + spec, dfy.path.name)

    # a nested function: <locals> becomes locals; the closure is read at call time, so two
    # closures of one code object share the file and still get their own gradients
    inner2, inner5 = mod.outer(2.0), mod.outer(5.0)
    g2, g5 = srcgrad.grad(inner2), srcgrad.grad(inner5)
    assert_close(g2(x), numeric_grad(inner2, (x,), 0))
    assert re.fullmatch("outer.locals.inner__wrt-x" + spec, g2.path.name)
    assert g2.path.parent == d and g2.path.is_file()
    stamp = g2.path.stat().st_mtime_ns
    assert_close(g5(x), numeric_grad(inner5, (x,), 0))
    assert g5.path == g2.path and g5.path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in files_under(cache_dir)) == sorted(
        [df.path.name, dfy.path.name, g2.path.name]
    )
    # the file of the generic code (no call yet) has no spec suffix
    assert srcgrad.grad(mod.f).path == d / "f__wrt-x.py"


# --------------------------------------------------------------------------- debugging


MATMUL = """\
import numpy as np


def mm(A, B):
    C = A @ B
    return np.sum(np.tanh(C))
"""


def test_exception_in_emitted_code_names_the_user_line(modules: Modules) -> None:
    mod = modules.load(MATMUL)
    user_file = Path(mod.__file__)  # type: ignore[arg-type]
    line = MATMUL.splitlines().index("    C = A @ B") + 1
    df = srcgrad.grad(mod.mm, wrt=(0, 1))
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    gA, gB = df(A, B)
    assert_close(gA, numeric_grad(mod.mm, (A, B), 0))
    assert_close(gB, numeric_grad(mod.mm, (A, B), 1))

    with pytest.raises(ValueError) as info:
        df(A, rng.normal(size=(4, 5)))  # shape mismatch inside the forward matmul
    notes = getattr(info.value, "__notes__", [])
    assert any(f"{user_file.name}:{line}" in n for n in notes), notes
    assert any(str(df.path) in n for n in notes), notes


def test_linecache_has_emitted_text(modules: Modules) -> None:
    mod = modules.load(MATMUL)
    df = srcgrad.grad(mod.mm, wrt=(0, 1))
    rng = np.random.default_rng(0)
    A = rng.normal(size=(2, 3))
    with pytest.raises(ValueError) as info:
        df(A, rng.normal(size=(4, 5)))
    text = df.path.read_text()
    lines = text.splitlines()
    for n in (1, 10, len(lines)):
        assert linecache.getline(str(df.path), n) == lines[n - 1] + "\n"
    tb = "".join(traceback.format_exception(info.value))
    emitted = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "C = A @ B")
    assert f'File "{df.path}", line {emitted}, in fwd_mm' in tb
    assert "    C = A @ B\n" in tb  # the emitted line itself is shown
