"""The registry as a list: coverage of numpy against HIPS autograd, ``describe`` (``srcgrad
rules``), the README's generated table, and the primitives every family must cover.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from srcgrad.rules import registry
from srcgrad.rules.registry import numpy_at_least, numpy_function
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)

MODULES = (
    "srcgrad.rules.reductions",
    "srcgrad.rules.shape",
    "srcgrad.rules.broadcasting",
    "srcgrad.rules.products",
)


def _my_rules():
    return [r for r in registry.all_rules() if r.module in MODULES]


def test_srcgrad_covers_every_numpy_function_autograd_differentiates():
    pytest.importorskip("autograd")
    from srcgrad.rules._coverage import compare

    cmp = compare()
    assert cmp.autograd is not None and cmp.autograd.count() >= 100
    assert (
        cmp.missing == []
    ), f"autograd differentiates these and srcgrad does not: {cmp.missing}"
    assert cmp.srcgrad.count() > cmp.autograd.count()


def test_describe_lists_every_rule_with_its_module_and_domains():
    rows = registry.describe()
    assert [r.primitive for r in rows] == sorted(r.name for r in registry.all_rules())
    by_name = {r.primitive: r for r in rows}
    assert by_name["linalg.cholesky"].module == "srcgrad.rules.linalg"
    assert "positive definite" in by_name["linalg.cholesky"].domains
    assert by_name["tanh"].domains == "(-2, 2)"
    assert "x2:" in by_name["divide"].domains
    everything = registry.describe(include_nondiff=True)
    assert any(
        r.primitive == "argmax" and r.module == "non-differentiable" for r in everything
    )


@pytest.mark.skipif(
    numpy_function("matvec") is None, reason="README.md lists the rules of numpy >= 2.2"
)
def test_readme_lists_the_covered_primitives_generated_from_the_registry():
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "gen_rules_table", root / "tools" / "gen_rules_table.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (root / "README.md").read_text()
    assert (
        tool.render(readme) == readme
    ), "README.md is stale: run python tools/gen_rules_table.py"


def test_every_listed_primitive_has_a_rule():
    names = {r.name for r in _my_rules()}
    expected = {
        "sum", "mean", "max", "amax", "min", "amin", "prod", "var", "std",
        "reshape", "ravel", "transpose", "matrix_transpose", "swapaxes", "moveaxis",
        "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "split",
        "array_split", "tile", "repeat",
        "matmul", "dot", "outer", "inner", "tensordot", "einsum",
    }  # fmt: skip
    if not numpy_at_least("2.0.0"):
        expected.discard("matrix_transpose")  # np.matrix_transpose: numpy >= 2.0
    assert expected <= names
