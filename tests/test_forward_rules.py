"""Every rule's JVP (srcgrad/rules/tangents.py), parametrised over the registry: against
central differences in float64, and against its VJP through <u, J v> = <J^T u, v>.

The default run checks the first case of every rule; ``-m slow`` sweeps every case and
parameter combination.  The rules without a JVP are listed in :data:`WITHOUT_JVP`: forward
mode refuses them, naming the primitive.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from srcgrad.errors import MissingRuleError
from srcgrad.rules import tangents
from srcgrad.rules.registry import Rule, all_rules
from tests.rules._cases import (
    RuleCase,
    flat_pairs,
    operand_values,
    per_operand,
    positional_parameters,
    rule_cases,
)

# the rules forward mode refuses (no JVP declared yet)
WITHOUT_JVP = {
    "angle", "divmod", "frexp", "geomspace", "gradient", "interp", "linalg.eig",
    "linalg.eigvals", "linalg.lstsq",
    "linalg.pinv", "linalg.qr", "linalg.svd", 
    "linalg.tensorinv", "linalg.tensorsolve", "logspace", "meshgrid",
    "modf", "nancumprod", "nn.cross_entropy", "nn.max_pool2d",
    "partition", "scipy.linalg.cho_factor", "scipy.linalg.cho_solve",
    "scipy.linalg.cholesky", "scipy.linalg.expm", "scipy.linalg.solve",
    "scipy.linalg.solve_triangular", "stats.multivariate_normal.logpdf",
    "scipy.linalg.inv", "cumulative_prod",
    # runtime helpers' reverse-mode rules (higher orders): forward mode reads these helpers
    # through the JVPs of rules/tangent_helpers.py instead (helper_rules)
    "cast_like", "digamma", "expand_to", "matmul_cotangent_x1", "matmul_cotangent_x2",
    "polygamma_of", "reduce_like", "trigamma",
    "add_at", "add_cotangents", "add_list_cotangents", "append_cotangents",
    "concatenate_pieces", "expand_rows", "expand_sum", "filled", "gather_at",
    "item_cotangent", "list_cotangent_at", "split_concatenated", "stack_kind",
    "stacked_cotangents", "sum_cotangents", "unstack_cotangent",
    "unstack_cotangent_pieces", "unstack_like", "zero_at", "zeros_if_none",
    "cumsum_cotangent", "diag_cotangent", "diagflat_cotangent", "diagonal_cotangent",
    "diff_cotangent", "dot_cotangent_a", "dot_cotangent_b", "inner_cotangent_a",
    "inner_cotangent_b", "matvec_cotangent_x1", "matvec_cotangent_x2", "pad_cotangent",
    "reshape_like", "rollaxis_cotangent", "take_along_axis_cotangent", "take_cotangent",
    "tensordot_cotangent_a", "tensordot_cotangent_b", "trace_cotangent", "unrepeat",
    "unroll", "untile", "vecdot_cotangent_x1", "vecdot_cotangent_x2",
    "vecmat_cotangent_x1", "vecmat_cotangent_x2",
    "avg_pool2d_cotangent", "col2im", "embedding_cotangent", "extremum_cotangent",
    "log_or_zero", "logsumexp_cotangent", "require_length", "require_not_array",
    "require_unshared", "unfold",
    "matrix_norm_cotangent", "norm_cotangent", "vector_norm_cotangent",
    "broadcast_arrays_cotangents", "compress_cotangent", "cross_cotangent_a",
    "cross_cotangent_b", "delete_cotangent", "expand_each", "kron_cotangent_a",
    "kron_cotangent_b", "linspace_cotangents", "nan_to_num_cotangent",
    "average_cotangent", "choose_cotangents", "select_cotangents",
    "trapezoid_cotangent",
}  # fmt: skip

ALL = rule_cases(noncontig=False)
COVERED = [c for c in ALL if tangents.how(c.rule) is not None]
FIRST = list({c.rule.name: c for c in reversed(COVERED)}.values())


def test_every_rule_has_a_jvp_or_is_listed() -> None:
    tangents.check_declarations()
    assert set(tangents.without_jvp()) == WITHOUT_JVP


@pytest.mark.parametrize(
    "rule", [r for r in all_rules() if r.name in WITHOUT_JVP], ids=lambda r: r.name
)
def test_rules_without_jvp_refuse_naming_the_primitive(rule: Rule) -> None:
    with pytest.raises(MissingRuleError, match=rule.name.replace(".", r"\.")):
        tangents.jvp_rule(rule)


def _bind(rule: Rule, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    sig = inspect.signature(rule.adjoint)
    got = sig.bind(None, None, *args, **kwargs).arguments
    out: dict[str, Any] = {}
    for name, value in list(got.items())[2:]:
        if sig.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        else:
            out[name] = value
    return out


def _with(rule: Rule, args: list, kwargs: dict, values: list) -> tuple[list, dict]:
    """The call's arguments with its operands replaced by ``values``."""
    positional = [p.name for p in positional_parameters(rule)]
    args, kwargs = list(args), dict(kwargs)
    for name, value in zip(rule.operands, values):
        if name == rule.varargs:
            args[positional.index(name) :] = list(value)
        elif name in positional:
            args[positional.index(name)] = value
        elif name in kwargs:
            kwargs[name] = value
    return args, kwargs


def _is_float(x: Any) -> bool:
    return isinstance(x, float) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")


def _random_tangents(rng: np.random.Generator, values: list) -> list:
    def one(x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [one(v) for v in x]
        if not _is_float(x):
            return None
        return rng.standard_normal(np.shape(x)) if np.ndim(x) else rng.standard_normal()

    return [one(v) for v in values]


def _moved(values: list, dots: list, eps: float) -> list:
    def one(x: Any, d: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return type(x)(one(v, e) for v, e in zip(x, d))
        return x if d is None else x + eps * d

    return [one(v, d) for v, d in zip(values, dots)]


def _flat(x: Any) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        parts = [_flat(v) for v in x if v is not None]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(x, dtype=np.complex128))


def _run(case: RuleCase) -> None:
    rule = case.rule
    args, kwargs = case.call()
    values = operand_values(rule, args, kwargs)
    rng = np.random.default_rng(case.seed + 1)
    dots = _random_tangents(rng, values)
    ans = rule.primitive(*args, **kwargs)
    jvp = tangents.jvp_rule(rule)
    got = jvp(ans, tuple(dots), _bind(rule, args, kwargs))
    eps = case.rule.extra.get("check", {}).get("eps", 1e-6)
    hi_args, hi_kwargs = _with(rule, args, kwargs, _moved(values, dots, eps))
    lo_args, lo_kwargs = _with(rule, args, kwargs, _moved(values, dots, -eps))
    hi = rule.primitive(*hi_args, **hi_kwargs)
    lo = rule.primitive(*lo_args, **lo_kwargs)
    want = (_flat(hi) - _flat(lo)) / (2 * eps)
    got_flat = _flat(got)
    assert got_flat.shape == want.shape, (got_flat.shape, want.shape)
    np.testing.assert_allclose(got_flat, want, rtol=1e-5, atol=1e-5)
    # <u, J v> = <J^T u, v>: the JVP against the rule's own VJP
    if rule.multi_output:
        u = [rng.standard_normal(np.shape(a)) for a in ans]
        got_list = list(got)
    else:
        u = rng.standard_normal(np.shape(ans))
        got_list = got
    if np.iscomplexobj(_flat(ans)):
        return  # complex outputs: the VJP pairs with the conjugate; the FD check covers it
    cots = per_operand(rule, rule.adjoint(u, ans, *args, **kwargs))
    left = float(np.real(np.vdot(_flat(u), _flat(got_list))))
    right = 0.0
    for _, value, cot, dot in _pairs(rule, values, cots, dots):
        if dot is None or cot is None:
            continue
        right += float(np.real(np.vdot(_flat(cot), _flat(dot))))
    assert np.isclose(left, right, rtol=1e-7, atol=1e-8), (left, right)


def _pairs(rule: Rule, values: list, cots: list, dots: list) -> list[tuple]:
    flat_dots = [d for _, _, d in flat_pairs(rule, values, dots)]
    return [
        (n, v, c, d) for (n, v, c), d in zip(flat_pairs(rule, values, cots), flat_dots)
    ]


# cases a covered rule refuses (its JVP raises, naming the primitive), by case id
REFUSED_CASES = {
    "pad_adjoint[matrix-pad_width=(1,2)-mode=maximum]",
    "pad_adjoint[matrix-pad_width=(1,2)-mode=median]",
    "pad_adjoint[matrix-pad_width=(2,1)-mode=minimum-stat_length=2]",
    "percentile_adjoint[matrix-q=[0.0,75.0]-axis=None]",
    "percentile_adjoint[matrix-q=[0.0,75.0]-axis=0]",
    "quantile_adjoint[matrix-q=[0.2,1.0]]",
    "quantile_adjoint[3d-q=[0.2,1.0]]",
}


@pytest.mark.parametrize("case", FIRST, ids=str)
def test_jvp_of_every_covered_rule(case: RuleCase) -> None:
    _run(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", COVERED, ids=str)
def test_jvp_of_every_case(case: RuleCase) -> None:
    if str(case) in REFUSED_CASES:
        with pytest.raises(MissingRuleError, match=case.rule.name):
            _run(case)
        return
    _run(case)
