"""A rule with a flipped sign must be caught by its rule test and by an end-to-end test."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import registry
from srcgrad.testing import check_adjoint
from tests.engine import golden_src

FLIPPED = {
    "tanh": (
        np.tanh,
        "def tanh_adjoint(g, ans, x):\n    return -(g * (1.0 - ans * ans))\n",
        golden_src.mse_tanh,
        ("W", "b"),
    ),
    "multiply": (
        np.multiply,
        "def multiply_adjoint(g, ans, x1, x2):\n"
        "    return unbroadcast(-(g * x2), x1), unbroadcast(-(g * x1), x2)\n",
        golden_src.layer_norm,
        (1,),
    ),
}


def _load_flipped(tmp_path, name, body):
    path = tmp_path / f"flipped_{name}.py"
    path.write_text(
        "import numpy as np\nfrom srcgrad.runtime import unbroadcast\n\n"
        + textwrap.dedent(body)
    )
    spec = importlib.util.spec_from_file_location(f"flipped_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", sorted(FLIPPED))
def test_flipped_rule_is_caught(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    prim, body, corpus_fn, wrt = FLIPPED[name]
    original = registry.lookup(prim)
    rng = np.random.default_rng(1)
    args = {
        "tanh": lambda: (
            rng.normal(size=(4, 3)),
            rng.normal(size=3),
            rng.normal(size=(5, 4)),
            rng.normal(size=(5, 3)),
        ),
        "multiply": lambda: (
            rng.normal(size=(3, 5)),
            rng.normal(size=5),
            rng.normal(size=5),
        ),
    }[name]()
    # the real rule passes both checks
    srcgrad.testing.check_grad(corpus_fn, *args, wrt=wrt)
    mod = _load_flipped(tmp_path, name, body)
    try:
        fn = getattr(mod, f"{name}_adjoint")
        registry.adjoint(
            prim,
            operator=original.operator,
            nondiff=original.nondiff,
            name=original.name,
        )(fn)
        x = rng.normal(size=(3, 4))
        operands = [x] if name == "tanh" else [x, rng.normal(size=(3, 4))]
        with pytest.raises(AssertionError):
            check_adjoint(prim, fn, operands, {}, rng=rng)
        with pytest.raises(AssertionError):
            srcgrad.testing.check_grad(corpus_fn, *args, wrt=wrt)
    finally:
        registry.reinstate(original)
    assert registry.lookup(prim) is original  # facts and all
