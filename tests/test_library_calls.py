"""Calls of library functions without an adjoint rule are reported at the user's line.

A user's function may call a function of an installed package (here a small fake library
written into a temporary ``site-packages`` folder), of the standard library, or of scipy.
Whatever srcgrad cannot do with it (no rule, a decorator, a construct it refuses inside the
library's body, a source it cannot read) is one error at the user's file:line:col that names
the library function (``scipy.linalg.expm_frechet``, ``fakelib.decorated``) and gives a hint;
following the hint (``stop_gradient`` for a constant, registering a rule with
``@srcgrad.rules.adjoint``) works.  A library's plain numpy helpers are still inlined, and a
program installed as a package inlines its own helpers.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import MissingRuleError, SrcgradError
from srcgrad.rules import registry
from srcgrad.testing import check_grad

pytest.importorskip("scipy")

FAKELIB = """
import functools

import numpy as np


def scale(x):
    return 2.0 * np.tanh(x)


def _batched(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


@_batched
def decorated(x):
    return np.sin(x)


def calls_decorated(x):
    return decorated(x) + 1.0


def guarded(x):
    try:
        return np.exp(x)
    except FloatingPointError:
        return x


exec("def unreadable(x):\\n    return x * 2.0\\n")


class Model:
    def __init__(self, w):
        self.w = w

    def apply(self, x):
        return np.sum(self.w * x)

    def guarded(self, x):
        try:
            return np.sum(self.w * x)
        except ValueError:
            return 0.0
"""

# a program installed as a package: its helpers are its own code, inlined as usual
FAKEAPP = {
    "__init__.py": "",
    "helpers.py": """
import numpy as np


def guarded(x):
    try:
        return np.exp(x)
    except FloatingPointError:
        return x
""",
    "model.py": """
import numpy as np

from fakeapp_sl import helpers


def loss(x):
    return np.sum(helpers.guarded(x))
""",
}

USER = """
import functools
import statistics

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special
from scipy.linalg import expm_frechet

import srcgrad
import fakelib_sl
from fakelib_sl import decorated

MODEL = fakelib_sl.Model(np.array([1.0, -2.0, 0.5]))
ROSEN = functools.partial(scipy.optimize.rosen)
LOWER_CHOLESKY = functools.partial(scipy.linalg.cholesky, lower=True)


def plain(x):
    return np.sum(fakelib_sl.scale(x))


def method(x):
    return MODEL.apply(x) ** 2


def constant_input(x, y):
    return np.sum(x * fakelib_sl.calls_decorated(srcgrad.stop_gradient(y)))


def direct_decorated(x):
    return np.sum(decorated(x))


def indirect_decorated(x):
    return np.sum(fakelib_sl.calls_decorated(x))


def refused_inside(x):
    return np.sum(fakelib_sl.guarded(x))


def unreadable(x):
    return np.sum(fakelib_sl.unreadable(x))


def refused_method(x):
    return MODEL.guarded(x)


def stdlib(x):
    return statistics.fmean([x[0], x[1]])


def optimize(x):
    return scipy.optimize.rosen(x)


def bare_name(x):
    return np.sum(expm_frechet(np.diag(x), np.eye(3))[1])


def special_ufunc(x):
    return np.sum(scipy.special.exprel(x))


def partial_of_scipy(x):
    return ROSEN(x)


def det_of(a):
    return scipy.linalg.det(a)


def partial_with_rule(a):
    return np.sum(LOWER_CHOLESKY(a))


def partial_with_rule_hinted(a):
    return np.sum(scipy.linalg.cholesky(a, lower=True))
"""


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """The user module, importing the fake library from a temporary site-packages."""
    root = tmp_path_factory.mktemp("library_calls")
    site = root / "lib" / "site-packages"
    (site / "fakelib_sl").mkdir(parents=True)
    (site / "fakelib_sl" / "__init__.py").write_text(FAKELIB)
    (site / "fakeapp_sl").mkdir()
    for name, text in FAKEAPP.items():
        (site / "fakeapp_sl" / name).write_text(text)
    program = root / "program"
    program.mkdir()
    (program / "user_sl.py").write_text(textwrap.dedent(USER))
    sys.path[:0] = [str(site), str(program)]
    try:
        yield importlib.import_module("user_sl")
    finally:
        sys.path.remove(str(site))
        sys.path.remove(str(program))
        for name in [n for n in sys.modules if n.split(".")[0].endswith("_sl")]:
            del sys.modules[name]


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))


X = np.array([0.3, -0.4, 0.8])


def _refusal(fn, *args, **kw):
    """The error of differentiating ``fn``, checked to sit at a line of the user's file."""
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(fn, **kw)(*args)
    err = info.value
    assert err.filename is not None and Path(err.filename).name == "user_sl.py", str(
        err
    )
    line = Path(fn.__code__.co_filename).read_text().splitlines()[err.lineno - 1]
    return err, line


def test_library_helpers_are_still_inlined(user):
    check_grad(user.plain, X)
    check_grad(user.method, X)


@pytest.mark.parametrize(
    "name, called, library",
    [
        ("direct_decorated", "decorated(x)", "fakelib_sl.decorated"),
        (
            "indirect_decorated",
            "fakelib_sl.calls_decorated(x)",
            "fakelib_sl.calls_decorated",
        ),
        ("refused_inside", "fakelib_sl.guarded(x)", "fakelib_sl.guarded"),
        ("unreadable", "fakelib_sl.unreadable(x)", "fakelib_sl.unreadable"),
        ("refused_method", "MODEL.guarded(x)", "fakelib_sl.Model.guarded"),
        ("stdlib", "statistics.fmean(", "statistics.fmean"),
        ("optimize", "scipy.optimize.rosen(x)", "scipy.optimize.rosen"),
        ("bare_name", "expm_frechet(", "scipy.linalg.expm_frechet"),
        ("special_ufunc", "scipy.special.exprel(x)", "scipy.special.exprel"),
        ("partial_of_scipy", "ROSEN(x)", "scipy.optimize.rosen"),
    ],
)
def test_library_refusals_are_at_the_users_call(user, name, called, library):
    err, line = _refusal(getattr(user, name), X)
    assert isinstance(err, MissingRuleError), str(err)
    assert line[err.col - 1 :].startswith(called), str(err)  # the call's own column
    text = str(err)
    assert library in err.message, text
    assert (
        "stop_gradient" in text and f"@srcgrad.rules.adjoint({library})" in text
    ), text
    assert len(err.errors) == 1, text  # one finding, not one per line of the library


def test_the_place_inside_the_library_is_named(user):
    err, _ = _refusal(user.refused_inside, X)
    assert "site-packages" in err.message and "try statement" in err.message


def test_stop_gradient_hint_works(user):
    # the library function's input wrapped in stop_gradient: a constant, no refusal
    check_grad(user.constant_input, X, X + 1.0)


@pytest.fixture
def restore_registry():
    rules, names = dict(registry._RULES), dict(registry._BY_NAME)
    yield
    registry._RULES.clear()
    registry._RULES.update(rules)
    registry._BY_NAME.clear()
    registry._BY_NAME.update(names)
    registry.GENERATION += 1


def test_registering_a_rule_as_the_hint_says_works(user, restore_registry):
    import fakelib_sl

    @srcgrad.rules.adjoint(fakelib_sl.decorated, name="fakelib_sl.decorated")
    def decorated_adjoint(g, ans, x):
        return g * np.cos(x)

    @srcgrad.rules.adjoint(scipy_optimize().rosen, name="optimize.rosen")
    def rosen_adjoint(g, ans, x):  # a rule body: numpy and srcgrad.runtime names only
        r = x[1:] - x[:-1] ** 2
        head = -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
        zero = np.zeros(1)
        return g * (np.concatenate([head, zero]) + np.concatenate([zero, 200.0 * r]))

    check_grad(user.direct_decorated, X)
    check_grad(user.indirect_decorated, X)
    check_grad(user.optimize, X)


def scipy_optimize():
    import scipy.optimize

    return scipy.optimize


def test_a_program_installed_as_a_package_inlines_its_own_helpers(user):
    model = importlib.import_module("fakeapp_sl.model")
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(model.loss)(X)
    # the helper is the program's own code: its own line is reported, as for any program
    assert Path(info.value.filename).name == "helpers.py", str(info.value)
    assert "try statement" in info.value.message


def test_a_library_function_passed_to_grad_itself_is_refused_with_a_hint_that_works(
    user,
):
    import scipy.linalg

    for fn, has_rule in ((scipy.linalg.det, True), (scipy.linalg.lu_factor, False)):
        with pytest.raises(MissingRuleError) as info:
            srcgrad.grad(fn)(np.eye(3) * 2.0)
        err = info.value
        name = f"scipy.linalg.{fn.__name__}"
        assert name in err.message and "def f(a)" in err.hint, str(err)
        assert ("it has a rule" in err.hint) is has_rule, str(err)
        assert "site-packages" not in str(err)  # never a place in scipy's files
    check_grad(user.det_of, np.eye(3) * 2.0 + 0.1 * np.ones((3, 3)))


def test_an_exception_while_reading_library_code_is_reported_at_the_users_call(
    user, monkeypatch
):
    from srcgrad.codegen.normalize import inlining

    real = inlining.read_function

    def failing(fn):
        if fn.__module__ == "fakelib_sl":
            raise RuntimeError("the loader of this package serves no source")
        return real(fn)

    monkeypatch.setattr(inlining, "read_function", failing)
    err, line = _refusal(user.plain, X)
    assert isinstance(err, MissingRuleError), str(err)
    assert line[err.col - 1 :].startswith("fakelib_sl.scale(x)"), str(err)
    assert "fakelib_sl.scale" in err.message and "serves no source" in err.message


def test_a_partial_of_a_function_with_a_rule_is_refused_with_a_hint_that_works(user):
    a = np.eye(3) * 2.0 + 0.1 * np.ones((3, 3))
    err, line = _refusal(user.partial_with_rule, a)
    assert line[err.col - 1 :].startswith("LOWER_CHOLESKY(a)"), str(err)
    assert "scipy.linalg.cholesky" in err.message and "no adjoint rule" not in str(err)
    check_grad(user.partial_with_rule_hinted, a)
