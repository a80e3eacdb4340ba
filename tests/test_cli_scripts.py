"""``srcgrad gen`` and ``srcgrad check`` on real scripts: the gradients a script asks for by
calling ``grad(f, ...)`` (at module level, under ``__main__``, inside functions) are found
from its source without running it; calls whose function has no name get a diagnostic; and
``check`` lints only what a script differentiates (every function with ``--all``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from srcgrad.cli.requests import read_requests
from tests.test_cli import run, write

TRAIN = """
import csv

import numpy as np
from srcgrad import grad


def load_data(path):
    rows = []
    with open(path) as fh:
        for row in csv.reader(fh):
            rows.append([float(v) for v in row])
    data = np.array(rows)
    return data[:, :-1], data[:, -1]


def plot_losses(losses, title="loss"):
    for i, value in enumerate(losses):
        print("{}: step {:4d} {:.4f}".format(title, i, value))
    print(f"final {title}: {losses[-1]:.3e}")


def loss(w, x, y):
    return np.mean((np.tanh(x @ w) - y) ** 2)


if __name__ == "__main__":
    open(SENTINEL, "w").close()
    x, y = load_data("data.csv")
    grad_loss = grad(loss)
    w = np.zeros(x.shape[1])
    losses = []
    for _ in range(100):
        w -= 0.1 * grad_loss(w, x, y)
        losses.append(loss(w, x, y))
    plot_losses(losses)
"""


def _line_of(path: Path, text: str) -> int:
    return 1 + next(
        i for i, ln in enumerate(path.read_text().splitlines()) if text in ln
    )


@pytest.mark.slow
def test_gen_finds_grad_called_under_main_without_running_it(tmp_path):
    sentinel = tmp_path / "ran"
    write(tmp_path / "train.py", TRAIN.replace("SENTINEL", repr(str(sentinel))))
    cache = tmp_path / "c"
    r = run("gen", "train.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "generated" in r.stderr and "(train.py::loss)" in r.stderr
    assert "1 file generated" in r.stderr
    assert (cache / "train" / "loss__wrt-w.py").is_file()
    assert sorted(p.name for p in (cache / "train").glob("*.py")) == ["loss__wrt-w.py"]
    assert not sentinel.exists()  # the main block did not run
    r = run("gen", "--check", "train.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0 and "1 file would be left unchanged" in r.stderr
    # a directory finds it too
    r = run("gen", "--check", ".", cwd=tmp_path, cache=cache)
    assert r.returncode == 0 and "1 file would be left unchanged" in r.stderr


@pytest.mark.slow
def test_check_lints_what_the_script_differentiates(tmp_path):
    sentinel = tmp_path / "ran"
    path = write(tmp_path / "train.py", TRAIN.replace("SENTINEL", repr(str(sentinel))))
    r = run("check", "-v", "train.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "ok train.py::loss" in r.stderr
    assert "load_data" not in r.stderr and "plot_losses" not in r.stderr
    assert "All done! 1 function can be differentiated." in r.stderr
    assert not sentinel.exists()
    r = run("check", "--all", "train.py", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    with_line = _line_of(path, "with open(path)")
    assert f"train.py:{with_line}:5: error: with statement" in r.stdout
    assert f"train.py:{_line_of(path, '.format(')}:" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    assert re.search(r"Oh no! \d+ problems in 2 of 3 functions\.", r.stderr), r.stderr


@pytest.mark.slow
def test_value_and_grad_inside_a_function_and_other_spellings(tmp_path):
    path = write(
        tmp_path / "fit.py",
        """
        import numpy as np
        import srcgrad as sg
        from srcgrad import value_and_grad


        def f(a, b, x):
            return np.sum(np.sin(a * x) * b)


        def g(p, q):
            return np.sum(p * q)


        def h(u):
            return np.sum(np.exp(u))


        def fit(x, f_local=None):
            vg = value_and_grad(f, wrt=(0, 1))
            dq = sg.grad(wrt="q")(g)
            both = [sg.vjp(h) for _ in range(2)]
            return vg, dq, both


        class Model:
            def step(self, f):
                return value_and_grad(f)  # the parameter, not the module's f
        """,
    )
    cache = tmp_path / "c"
    r = run("gen", "fit.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    names = sorted(p.name for p in (cache / "fit").glob("*.py"))
    assert names == ["f__wrt-a-b.py", "g__wrt-q.py", "h__wrt-u.py"], names
    assert "3 files generated" in r.stderr
    line = _line_of(path, "return value_and_grad(f)")
    assert (
        f"fit.py:{line}:31: warning: srcgrad.value_and_grad of the local name `f` cannot "
        "be generated ahead of time" in r.stdout
    )
    assert "srcgrad gen FILE::f" in r.stdout


@pytest.mark.slow
def test_unnamed_functions_get_a_diagnostic_with_the_way_to_name_them(tmp_path):
    path = write(
        tmp_path / "lam.py",
        """
        import numpy as np
        import srcgrad

        W = np.ones(3)


        def loss(w, x):
            return np.sum((x @ w) ** 2)


        class Model:
            def loss(self, w):
                return np.sum(w * w)


        if __name__ == "__main__":
            x = np.ones((4, 3))
            g = srcgrad.grad(lambda w: loss(w, x))
            m = Model()
            gm = srcgrad.grad(m.loss)
            wrt = (0,)
            gw = srcgrad.grad(loss, wrt=wrt)
        """,
    )
    cache = tmp_path / "c"
    r = run("gen", "lam.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    lam = _line_of(path, "lambda w")
    assert (
        f"lam.py:{lam}:22: warning: srcgrad.grad of a lambda cannot be generated ahead of "
        "time; hint: define it with def at module level and pass it by name, or generate "
        "it with srcgrad gen FILE::func" in r.stdout
    )
    attr = _line_of(path, "m.loss)")
    assert (
        f"lam.py:{attr}:23: warning: srcgrad.grad of the method `m.loss` of an object"
        in r.stdout
    )
    assert "def loss_of(...): return m.loss(...)" in r.stdout
    assert "srcgrad gen FILE::loss_of" in r.stdout
    lit = _line_of(path, "wrt=wrt")
    assert f"lam.py:{lit}:23: warning: srcgrad.grad of `loss` with a wrt=" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    assert not (cache / "lam").exists()
    assert "no gradients found" in r.stderr
    r = run("gen", "lam.py::loss", "--wrt", "0", cwd=tmp_path, cache=cache)
    assert r.returncode == 0 and (cache / "lam" / "loss__wrt-w.py").is_file()
    # check: the script differentiates something (unnamed), so its functions are not linted
    r = run("check", "lam.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": warning: ") == 3
    assert "All done! 0 functions can be differentiated; 3 warnings." in r.stderr
    # the method's hint, followed, generates it
    text = path.read_text().replace("if __name__", "m = Model()\n\n\nif __name__")
    path.write_text(text + "\n\ndef loss_of(w):\n    return m.loss(w)\n")
    r = run("gen", "lam.py::loss_of", cwd=tmp_path, cache=cache)
    assert r.returncode == 0 and (cache / "lam" / "loss_of__wrt-w.py").is_file()


@pytest.mark.slow
def test_check_prints_generator_warnings_as_diagnostics(tmp_path):
    path = write(
        tmp_path / "zero.py",
        """
        import numpy as np
        from srcgrad import grad


        def f(a, b, x):
            return np.sum(np.sin(a * x)) + np.floor(b).sum()


        def broken(a):
            y = np.unwrap(a)
            return np.sum(y)


        if __name__ == "__main__":
            df = grad(f, (0, 1))
            db = grad(broken)
        """,
    )
    r = run("check", "zero.py", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(
        r"^zero\.py:\d+:\d+: warning: the gradient w\.r\.t\. 'b' is structurally zero",
        r.stdout,
        re.MULTILINE,
    ), r.stdout
    unwrap = _line_of(path, "np.unwrap(a)")
    assert f"zero.py:{unwrap}:9: error: no adjoint rule for np.unwrap" in r.stdout
    assert "ZeroGradientWarning" not in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "Oh no! 1 problem in 1 of 2 functions." in r.stderr


@pytest.mark.slow
def test_a_script_that_differentiates_nothing_is_linted_whole(tmp_path):
    write(
        tmp_path / "lib.py",
        """
        import numpy as np


        def a(x):
            return np.sum(np.sin(x))


        def b(x):
            return np.sum(np.cos(x))
        """,
    )
    r = run("check", "-v", "lib.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok lib.py::a" in r.stderr and "ok lib.py::b" in r.stderr


def test_read_requests_scopes(tmp_path):
    path = write(
        tmp_path / "s.py",
        """
        from srcgrad import grad as G
        import srcgrad


        def f(x):
            return x


        def uses_param(f):
            return G(f)


        def shadows():
            f = 3
            return G(f)


        def declares_global():
            global f
            f = f
            return G(f)


        class C:
            f = None
            direct = G(f)

            def method(self):
                return G(f, wrt=0, has_aux=True)


        comp = [G(f) for f in range(3)]
        nothing = srcgrad.grad(wrt=0)
        srcgrad.grad(None)
        """,
    )
    req = read_requests(path)
    assert req is not None and req.functions == [
        "f", "uses_param", "shadows", "declares_global"
    ]  # fmt: skip
    calls = [(r.name, r.wrt, r.has_aux, r.line) for r in req.calls]
    assert calls == [
        ("f", None, False, _line_of(path, "global f") + 2),
        ("f", 0, True, _line_of(path, "has_aux=True")),
    ]
    assert [u.line for u in req.unnamed] == [
        _line_of(path, "def uses_param") + 1,
        _line_of(path, "f = 3") + 1,
        _line_of(path, "direct = G(f)"),
        _line_of(path, "comp = "),
    ]
    assert req.names() == ["f"] and req.differentiates


LAYERS = """
import numpy as np
import srcgrad


def mlp(params, x):
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    return np.sum(h)


def indexed(params, x):
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
    return np.sum(h)


def pairs(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys):
        total = total + np.sum(a * b)
    return total


if __name__ == "__main__":
    print(srcgrad.grad(mlp), srcgrad.grad(indexed), srcgrad.grad(pairs))
"""


def test_gen_leaves_lists_of_layers_to_the_first_call(tmp_path):
    # a parameter unpacked into (W, b) in a loop is a list of tuples: its module is
    # specialised on the first call, never refused as an array with unpacked rows
    write(tmp_path / "layers.py", LAYERS)
    cache = tmp_path / "c"
    r = run("gen", "layers.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "skipped layers.py::mlp: parameter 'params' (iterated as tuples)" in out
    assert "skipped layers.py::indexed: parameter 'params'" in out
    assert "error" not in out
    assert [p.name for p in (cache / "layers").glob("*.py")] == ["pairs__wrt-xs.py"]


STEPS = """
import numpy as np
import srcgrad


def per_step(W, inputs, h):
    hs = {}
    hs[-1] = h
    loss = 0.0
    for t in range(len(inputs)):
        hs[t] = np.tanh(W[:, inputs[t]] + hs[t - 1])
        loss = loss + np.sum(hs[t])
    return loss


def array_steps(W, xs):
    h = np.zeros(W.shape[0])
    for t in range(len(xs)):
        h = np.tanh(W @ xs[t] + h)
    return np.sum(h)


if __name__ == "__main__":
    print(srcgrad.grad(per_step), srcgrad.grad(array_steps))
"""


@pytest.mark.slow
def test_gen_leaves_loops_filling_dicts_step_by_step_to_the_first_call(tmp_path):
    # the length of `inputs` (a list of indices) sets a loop that fills a dict per step:
    # that loop runs once per step, with the length only the first call gives; a loop
    # over an array's length that fills nothing is generated ahead of time
    write(tmp_path / "steps.py", STEPS)
    cache = tmp_path / "c"
    r = run("gen", "steps.py", cwd=tmp_path, cache=cache)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "skipped steps.py::per_step: parameter 'inputs' (its length sets" in out
    assert "'hs'" in out and "error" not in out
    assert [p.name for p in (cache / "steps").glob("*.py")] == ["array_steps__wrt-W.py"]
    r = run("check", "steps.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
