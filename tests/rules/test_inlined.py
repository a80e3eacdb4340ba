"""Every rule inlined into emitted code, checked through the public API (DESIGN §6, §10.1).

For each rule and parameter set this writes a one-line user module such as::

    import numpy as np

    def f(x1, x2):
        return np.add(x1, x2)

imports it, and runs ``value, pullback = srcgrad.vjp(f, wrt=...)(*inputs)``.  The value must
be bit-identical to the direct numpy call, and ``pullback`` must satisfy the same
central-difference identity as the rule itself (``srcgrad.testing.check_adjoint`` with the
pullback in the rule's place).  Every call is written twice where numpy allows it: with
arguments passed positionally and with every keyword-capable argument passed by keyword, which
catches renaming and argument-binding bugs in inlining.  Cases: every ``params`` combination
of a rule's first input case, plus the first combination of each other input case.
"""

from __future__ import annotations

import builtins
import importlib.util
import inspect
import operator
import re
import sys
import types
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.rules.registry import Rule, all_rules
from srcgrad.testing import check_adjoint
from tests.rules._cases import RuleCase, positional_parameters, rule_cases

# --------------------------------------------------------------------------- rendering


def _primitive_path(rule: Rule) -> tuple[str, str]:
    """``(import line, dotted name)`` to call the primitive from a user module."""
    prim = rule.primitive
    obj: Any = np
    try:
        for part in rule.name.split("."):
            obj = getattr(obj, part)
        if obj is prim or isinstance(prim, types.BuiltinMethodType) and obj == prim:
            return "", f"np.{rule.name}"  # (np.add.reduceat: a new object every access)
    except AttributeError:
        pass
    name = getattr(prim, "__name__", "")
    if getattr(np, name, None) is prim:
        return "", f"np.{name}"
    if getattr(builtins, name, None) is prim:
        return "", name
    if rule.name.startswith("special."):  # scipy.special's ufuncs carry no __module__
        return "import scipy.special", f"scipy.{rule.name}"
    if rule.name.startswith("stats."):  # a method of a scipy.stats distribution
        return "import scipy.stats", f"scipy.{rule.name}"
    module = getattr(prim, "__module__", "") or ""
    parts = module.split(".")
    for k in range(1, len(parts) + 1):  # the shortest public module that has it
        public = ".".join(parts[:k])
        try:
            mod = importlib.import_module(public)
        except ImportError:
            continue
        if getattr(mod, name, None) is prim:
            return f"import {public}", f"{public}.{name}"
    raise LookupError(f"cannot spell a call of {prim!r} in user code")


def _literal(value: Any) -> str:
    if isinstance(value, type) and getattr(np, value.__name__, None) is value:
        return f"np.{value.__name__}"
    if isinstance(value, np.dtype):
        return repr(str(value))
    text = repr(value)
    if text.startswith("<"):
        raise ValueError(f"no literal for {value!r}")
    return text


def _subscript(key: Any) -> str:
    """``key`` written as subscript syntax: ``1:3, None``, ``..., 0``."""

    def one(k: Any) -> str:
        if k is Ellipsis:
            return "..."
        if isinstance(k, slice):
            parts = ["" if v is None else repr(v) for v in (k.start, k.stop)]
            return ":".join(parts) + ("" if k.step is None else f":{k.step!r}")
        return _literal(k)

    if isinstance(key, tuple):
        return ", ".join(one(k) for k in key) if key else "()"
    return one(key)


def _numpy_parameters(prim: Any) -> dict[str, inspect.Parameter] | None:
    try:
        return dict(inspect.signature(prim).parameters)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Inlined:
    """A rendered user module for one case and call style."""

    source: str
    params: tuple[str, ...]  # f's parameters
    slots: tuple[
        int, ...
    ]  # for each of f's parameters: its index in the primitive's args
    wrt: tuple[int, ...]  # positions in f's parameters
    operands: tuple[tuple[int, ...], ...]  # per rule operand: positions in f's params


def render(case: RuleCase, style: str) -> Inlined:
    """The user module calling the case's primitive on the case's inputs.

    Values that the case draws become parameters of ``f``; values the case takes from
    ``params`` (axes, shapes, subscripts) are written as literals.
    """
    rule = case.rule
    args, kwargs = case.call()
    imports, callee = (
        ("", "") if rule.primitive is operator.getitem else _primitive_path(rule)
    )
    positional = positional_parameters(rule)
    given = set(case.params)
    f_params: list[str] = []
    slots: list[int] = []
    pieces: list[tuple[str, str]] = []  # (name or "", text), in call order
    index = 0
    for p in positional:
        if p.kind is p.VAR_POSITIONAL:
            for k in range(index, len(args)):
                name = f"{p.name}{k - index}"
                f_params.append(name)
                slots.append(k)
                pieces.append(("", name))
            index = len(args)
        elif p.name in given:
            pieces.append((p.name, _literal(args[index])))
            index += 1
        else:
            f_params.append(p.name)
            slots.append(index)
            pieces.append((p.name, p.name))
            index += 1
    keywords = [(k, _literal(v)) for k, v in kwargs.items()]

    if rule.primitive is operator.getitem:
        (_, target), _ = pieces
        call = f"{target}[{_subscript(args[1])}]"
    else:
        numpy_ps = _numpy_parameters(rule.primitive) or {}
        order = [n for n, p in numpy_ps.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        order = [n for n, p in numpy_ps.items() if p.kind is p.POSITIONAL_ONLY] + order
        texts = []
        # scipy.stats methods take loc, scale and the shapes through **kwds
        any_keyword = any(p.kind is p.VAR_KEYWORD for p in numpy_ps.values())
        if style == "keyword":
            ok = []
            for name, _ in pieces:
                p = numpy_ps.get(name)
                ok.append(
                    (p is None and name in rule.operands and any_keyword)
                    or (
                        p is not None
                        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                    )
                )
            # a rule that names a helper's parameter otherwise (its own g, ans) passes
            # it, and everything before it, by position
            last = max((i for i, k in enumerate(ok) if not k), default=-1)
            for i, (name, text) in enumerate(pieces):
                texts.append(f"{name}={text}" if i > last else text)
            texts += [f"{k}={t}" for k, t in keywords]
        else:
            texts = [t for _, t in pieces]
            rest = dict(keywords)
            for name in order[len(pieces) :]:  # keep going positionally while we can
                if name not in rest:
                    break
                texts.append(rest.pop(name))
            texts += [f"{k}={t}" for k, t in rest.items()]
        call = f"{callee}({', '.join(texts)})"

    source = "\n".join(
        ["import numpy as np", *([imports] if imports else []), "", ""]
        + [f"def f({', '.join(f_params)}):", f"    return {call}", ""]
    )
    operands: list[tuple[int, ...]] = []
    for name in rule.operands:
        if name == rule.varargs:
            operands.append(
                tuple(
                    i for i, n in enumerate(f_params) if re.fullmatch(rf"{name}\d+", n)
                )
            )
        else:
            operands.append(tuple(i for i, n in enumerate(f_params) if n == name))
    wrt = tuple(i for group in operands for i in group if _is_float(args[slots[i]]))
    return Inlined(source, tuple(f_params), tuple(slots), wrt, tuple(operands))


def _is_float(x: Any) -> bool:
    if isinstance(x, (list, tuple)):  # a flag may ride along: cho_solve's (c, lower)
        return any(_is_float(v) for v in x) and all(
            _is_float(v) or np.result_type(v) == bool for v in x
        )
    return isinstance(x, float) or getattr(getattr(x, "dtype", None), "kind", "") == "f"


# --------------------------------------------------------------------------- cases


def _inlined_cases() -> list[RuleCase]:
    out = []
    for rule in all_rules():
        cases = rule_cases([rule], noncontig=False)
        first = cases[0].case_id
        seen_ids = set()
        for case in cases:
            if case.case_id == first or case.case_id not in seen_ids:
                out.append(case)
            seen_ids.add(case.case_id)
    return out


def _styled(cases: list[RuleCase]) -> list[tuple[RuleCase, str]]:
    out = []
    for case in cases:
        out.append((case, "positional"))
        if render(case, "keyword").source != render(case, "positional").source:
            out.append((case, "keyword"))
    return out


CASES = _styled(_inlined_cases())


def _case_id(item: tuple[RuleCase, str]) -> str:
    case, style = item
    return f"{case.label}[{case.variant}-{style}]"


# --------------------------------------------------------------------------- the test


def _import_module(path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _assert_same_value(value: Any, expected: Any, where: str) -> None:
    if isinstance(expected, (list, tuple)):
        assert isinstance(value, (list, tuple)) and len(value) == len(expected), where
        for v, e in zip(value, expected):
            _assert_same_value(v, e, where)
        return
    assert np.shape(value) == np.shape(expected), f"{where}: shape"
    assert np.result_type(value) == np.result_type(expected), f"{where}: dtype"
    np.testing.assert_array_equal(
        value, expected, err_msg=f"{where}: value not bit-identical"
    )


def test_every_rule_is_inlined() -> None:
    assert {case.rule.name for case, _ in CASES} == {rule.name for rule in all_rules()}


@pytest.mark.parametrize("item", CASES, ids=_case_id)
def test_inlined_rule_matches_central_differences(
    item: tuple[RuleCase, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, style = item
    rule = case.rule
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))
    args, kwargs = case.call()
    inl = render(case, style)
    name = f"inlined_{zlib.crc32(_case_id(item).encode()):08x}"
    path = tmp_path / f"{name}.py"
    path.write_text(inl.source)
    f = _import_module(path, name, monkeypatch).f
    where = f"{_case_id(item)}\n{inl.source}"
    assert inl.wrt, f"{where}: nothing to differentiate"
    wrt = inl.wrt if len(inl.wrt) > 1 else inl.wrt[0]

    f_args = [args[s] for s in inl.slots]
    value, _ = srcgrad.vjp(f, wrt=wrt)(*f_args)
    _assert_same_value(value, rule.primitive(*args, **kwargs), where)

    def through_pullback(g: Any, ans: Any, *all_args: Any, **all_kwargs: Any) -> Any:
        if (
            rule.multi_output
        ):  # the public pullback takes zeros, not None, for unused outputs
            # (an output that is itself None, cov_cotangents' d_y without y, takes None)
            g = [
                u if u is not None or a is None else np.zeros_like(a)
                for u, a in zip(g, ans)
            ]
        _, pullback = srcgrad.vjp(f, wrt=wrt)(*[all_args[s] for s in inl.slots])
        grads = pullback(g)
        grads = grads if isinstance(wrt, tuple) else (grads,)
        by_param = dict(zip(inl.wrt, grads))
        cots = []
        for name_, group in zip(rule.operands, inl.operands):
            if name_ == rule.varargs:
                cots.append(tuple(by_param.get(i) for i in group))
            else:
                cots.append(by_param.get(group[0]) if group else None)
        return cots[0] if len(cots) == 1 else tuple(cots)

    try:
        check_adjoint(
            rule.primitive,
            through_pullback,
            args,
            kwargs,
            rng=np.random.default_rng(case.seed),
            rule=rule,
        )
    except AssertionError as err:
        raise AssertionError(f"{err}\nemitted for:\n{inl.source}") from None
