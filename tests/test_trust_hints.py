"""Hints are things the user can do that then work (issue 12, item 10).

Every case in tests/engine/trust_hints_src.py fails with a SrcgradError whose message and hint
name only the user's own names, no libcst class names, and no "nearest" rule for a name that
is not numpy's; the case's ``__followed`` twin is the function rewritten the way the hint says,
and it must differentiate correctly.
"""

from __future__ import annotations

import re
from pathlib import Path

import libcst
import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.engine import trust_hints_src as H

SRC = Path(H.__file__)
LINES = SRC.read_text().splitlines()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _x() -> np.ndarray:
    return np.array([0.7, 1.3, 2.2])


# name -> (extra arguments after x, construct, words the hint must contain)
CASES = {
    "vectorized": ((), "vec", ["numpy functions"]),
    "nested_def_as_value": ((), "def", ["g(...)"]),
    "object_method_on_active": ((H.Config(),), ".apply()", ["module-level function"]),
    "attribute_of_active": ((), "attribute", ["ravel"]),
    "fill_method": ((), ".fill()", ["np.full_like(y, value)"]),
    "lambda_value": ((), "lambda", ["bind the lambda to a name"]),
    "unknown_numpy": (
        (np.array([0.1, 0.2, 0.4]),),
        "np.unwrap",
        ["srcgrad.stop_gradient"],
    ),
    "constant_parameter": (
        (),
        "special.logsumexp:b",
        ["logsumexp(a + np.log(w))"],
    ),
    "builtin_sorted": ((), "sorted", ["np.sort(x)"]),
    "dict_float_keys": ((), "dict-comprehension", ["ints or strings"]),
    "starred_target": ((), "starred-assign", ["slice"]),
    "call_of_call": ((), "call", ["define it with def", "as arguments"]),
    "nested_recursion": ((), "recursion", ["module level"]),
    "match_on_mode": (("sq",), "match", ["if/elif"]),
    "with_errstate": ((), "with", ["outside the function"]),
    "global_statement": ((), "global", ["argument"]),
    "random_from_active": ((np.random.default_rng(0),), "random", ["standard_normal"]),
    "conditional_import": ((), "import", ["module level"]),
    "callee_error": ((), ".frobnicate()", ["numpy functions"]),
    "list_slice": ((), "list-slice", ["np.stack(items)[1:]"]),
    "list_of_tuples": ((), "list-of-containers", ["zip(As, Bs)"]),
    "reduce_fold": ((), "functools.reduce", ["acc = f(acc, item)"]),
    "list_in_dict": ((), ".append()", ["items = []", "items.append(...)"]),
}

_LIBCST_CLASSES = {n for n in dir(libcst) if n[:1].isupper() and len(n) > 3}
_GENERATED = re.compile(r"\b_[A-Za-z]\w*\d\b|\b[A-Za-z]\w*_\d+\b")


def _first_line_of(name: str) -> int:
    return next(i for i, ln in enumerate(LINES, 1) if ln.startswith(f"def {name}("))


def _check_text(text: str) -> None:
    words = set(re.findall(r"\b[A-Z][A-Za-z]+\b", text))
    assert not words & _LIBCST_CLASSES, text
    assert not _GENERATED.search(text), text


@pytest.mark.parametrize("name", sorted(CASES))
def test_hint_is_clean_and_following_it_works(name):
    extra, construct, words = CASES[name]
    fn = getattr(H, name)
    first = (
        np.array([[0.1, 0.5], [0.7, -0.2], [1.1, 0.3]])
        if name == "list_of_tuples"
        else _x()
    )
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(first, *extra)
    err = info.value
    assert len(err.errors) == 1, str(err)  # one finding, no follow-on echoes
    assert err.construct == construct, str(err)
    assert Path(err.filename).resolve() == SRC.resolve()
    start = _first_line_of({"callee_error": "_broken_helper"}.get(name, name))
    end = next(
        (
            i
            for i in range(start + 1, len(LINES) + 1)
            if LINES[i - 1].startswith("def ")
        ),
        0,
    )
    assert start <= err.lineno < end, str(err)
    _check_text(err.message)
    _check_text(err.hint)
    for w in words:
        assert w in err.hint, err.hint
    assert "nearest supported" not in str(err) or name == "unknown_numpy"
    followed = getattr(H, name + "__followed", None)
    if followed is None:
        return
    args = (_x(), *extra)
    if name == "global_statement":
        args = (_x(), 2.0)
    if name == "list_of_tuples":
        args = (np.array([[0.1, 0.5], [0.7, -0.2], [1.1, 0.3]]),)
    check_grad(followed, *args)


# cases that were refused and now differentiate: name -> extra arguments after x
NOW_SUPPORTED = {
    "local_alias": (),  # g = np.log; g(x)
    "function_argument": (np.tanh,),  # a function passed in
    "list_concatenation": (),  # state = state + [v]: grown in place, as append
}


@pytest.mark.parametrize("name", sorted(NOW_SUPPORTED))
def test_former_refusals_differentiate(name):
    fn = getattr(H, name)
    args = (_x(), *NOW_SUPPORTED[name])
    value, _ = srcgrad.value_and_grad(fn)(*args)
    assert value == fn(*args)
    check_grad(fn, *args)
    followed = getattr(H, name + "__followed")
    np.testing.assert_allclose(
        srcgrad.grad(fn)(*args),
        srcgrad.grad(followed)(*args[: 1 if name == "function_argument" else None]),
    )


def test_config_object_argument_is_a_constant():
    """`cfg.scale` on a config object argument: read once per call, never differentiated."""
    cfg = H.Config()
    g = srcgrad.grad(H.config_argument)(_x(), cfg)
    np.testing.assert_allclose(g, np.full(3, 6.0))
    cfg.scale = 5.0  # read at call time, never folded into the emitted file
    g = srcgrad.grad(H.config_argument)(_x(), cfg)
    np.testing.assert_allclose(g, np.full(3, 10.0))
    check_grad(H.config_argument, _x(), cfg)


def test_nearest_is_only_offered_for_numpy_names():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(H.unknown_numpy)(_x(), _x())
    assert (
        "nearest supported" in info.value.message
    )  # np.unwrap is numpy's: near names help
    assert "np.unwrap" not in info.value.message.split("nearest supported:")[1]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(H.vectorized)(_x())
    assert "nearest" not in str(info.value)
    assert "vectorize" in info.value.message


def test_every_case_is_listed():
    bad = {
        n
        for n in dir(H)
        if callable(getattr(H, n))
        and not n.startswith("_")
        and "__" not in n
        and getattr(getattr(H, n), "__module__", None) == H.__name__
        and n
        not in (
            "Config",
            "vec",
            "config_argument",
            "function_argument__followed",
            "rebound_list",
            *NOW_SUPPORTED,
        )
    }
    assert bad == set(CASES)


def test_config_object_ahead_of_time():
    """Generated without arguments (srcgrad gen/check): an attribute or method that is not an
    array's, read from an argument that is not differentiated, is the same constant read.
    """
    from srcgrad.codegen.pipeline import generate

    _, em = generate(H.config_argument, ["x"], {})
    assert "cfg.scale" in em.body and "cfg.factor()" in em.body
    with pytest.raises(srcgrad.SrcgradError) as info:
        generate(H.object_method_on_active, ["x"], {})
    assert info.value.construct == ".apply()"
    assert "module-level function" in info.value.hint


def test_a_rebound_list_passed_to_numpy_is_the_array_of_its_items():
    x = np.array([0.3, -0.4, 0.8])
    assert srcgrad.value_and_grad(H.rebound_list)(x)[0] == H.rebound_list(x)
    check_grad(H.rebound_list, x)
