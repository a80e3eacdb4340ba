"""hypothesis: random broadcasting for binary rules, random axes for reductions (DESIGN §10.2).

Shapes only are drawn by hypothesis; values come from each rule's ``domain`` with a seeded
generator, and every example is checked with ``check_adjoint`` (central differences).
"""

from __future__ import annotations

import zlib

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcgrad.rules.registry import Rule, all_rules
from srcgrad.testing import check_adjoint
from tests.rules._cases import build_call, param_grid, positional_parameters

SETTINGS = settings(max_examples=25, deadline=None, database=None)


def _is_plain_binary(rule: Rule) -> bool:
    ps = positional_parameters(rule)
    return (
        rule.module.endswith(".binary")
        and rule.shapes is None
        and len(ps) == 2
        and all(p.kind is not p.VAR_POSITIONAL for p in ps)
    )


BINARY = [rule for rule in all_rules() if _is_plain_binary(rule)]


def _takes_tuple_axes(rule: Rule) -> bool:
    return any(isinstance(c.get("axis"), tuple) for c in param_grid(rule))


REDUCTIONS = [
    rule
    for rule in all_rules()
    if rule.module.endswith(".reductions")
    and "axis" in rule.params
    and not callable(rule.domain)
    and len(positional_parameters(rule)) == 1
]


def test_random_shape_suites_are_not_empty() -> None:
    assert {"add", "multiply", "power", "maximum"} <= {r.name for r in BINARY}
    assert {"sum", "mean"} <= {r.name for r in REDUCTIONS}


@pytest.mark.parametrize("rule", BINARY, ids=lambda r: f"{r.name}_adjoint")
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
def test_binary_rule_on_random_broadcast_shapes(rule: Rule, shapes) -> None:
    seed = zlib.crc32(repr((rule.name, shapes.input_shapes)).encode())
    rng = np.random.default_rng(seed)
    args, kwargs = build_call(rule, tuple(shapes.input_shapes), {}, rng)
    check_adjoint(rule.primitive, rule.adjoint, args, kwargs, rng=rng, rule=rule)


@st.composite
def _reduction_call(draw, rule: Rule):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    ndim = len(shape)
    axes = st.none() | st.integers(-ndim, ndim - 1)
    if _takes_tuple_axes(rule):
        axes = axes | hnp.valid_tuple_axes(ndim, min_size=1)
    params = {"axis": draw(axes)}
    if "keepdims" in rule.params:
        params["keepdims"] = draw(st.booleans())
    return shape, params


@pytest.mark.parametrize("rule", REDUCTIONS, ids=lambda r: f"{r.name}_adjoint")
@SETTINGS
@given(data=st.data())
def test_reduction_rule_on_random_shapes_and_axes(rule: Rule, data) -> None:
    shape, params = data.draw(_reduction_call(rule))
    rng = np.random.default_rng(zlib.crc32(repr((rule.name, shape, params)).encode()))
    args, kwargs = build_call(rule, (shape,), params, rng)
    check_adjoint(rule.primitive, rule.adjoint, args, kwargs, rng=rng, rule=rule)
