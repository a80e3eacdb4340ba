"""The benchmark runner's machinery: gradient checks, timing loop, synthetic sources.

Fast unit tests only; nothing here times anything that matters (benchmarks are never timed
unit tests, DESIGN §11).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import gen_time, impls
from benchmarks.harness import (
    Impl,
    check_against,
    leaves,
    structure,
    summarize,
    time_interleaved,
)


def test_leaves_and_structure_sort_dict_keys() -> None:
    tree = ({"b": 2, "a": 1}, [3])
    assert leaves(tree) == [1, 2, 3]
    assert structure(tree) == structure(({"a": 0, "b": 0}, [0]))
    assert structure(tree) != structure(({"a": 0, "b": 0}, (0,)))


def test_check_against_accepts_equal_and_reports_mismatches() -> None:
    ref = (1.5, {"W": np.ones((2, 3)), "b": np.zeros(3)})
    assert check_against(ref, ref, strict=True) == ""
    wrong = (1.5, {"W": np.ones((2, 3)) * 1.01, "b": np.zeros(3)})
    assert "max abs error" in check_against(ref, wrong, strict=False)
    assert "loss" in check_against(ref, (1.6, ref[1]), strict=False)
    as_f32 = (1.5, {k: v.astype(np.float32) for k, v in ref[1].items()})
    assert check_against(ref, as_f32, strict=False) == ""
    assert "dtype" in check_against(ref, as_f32, strict=True)
    assert "structure" in check_against(
        ref, (1.5, [ref[1]["W"], ref[1]["b"]]), strict=True
    )
    assert check_against(ref, (1.5, None), strict=False) == ""  # forward only


def test_time_interleaved_skips_unavailable_and_fills_times() -> None:
    calls: list[str] = []
    a = Impl("a", lambda: calls.append("a"))
    b = Impl("b", lambda: calls.append("b"))
    missing = Impl("missing", None, reason="not installed")
    wrong = Impl("wrong", lambda: calls.append("w"), reason="WRONG")
    time_interleaved([a, b, missing, wrong], reps=4, warmup=1, min_sample=0.0)
    assert len(a.times) == len(b.times) == 4
    assert not missing.times and not wrong.times and "w" not in calls
    assert summarize(a.times).n == 4


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_synthetic_source_defines_a_runnable_straight_line_function(n: int) -> None:
    src = gen_time.synthetic_source(n)
    namespace: dict = {}
    exec(compile(src, "<synthetic>", "exec"), namespace)  # noqa: S102
    f = namespace["f"]
    body = [line for line in src.splitlines() if line.startswith("    a")]
    assert len(body) == n
    rng = np.random.default_rng(0)
    value = f(rng.standard_normal((4, 8)), np.linalg.qr(rng.standard_normal((8, 8)))[0])
    assert np.isfinite(value)


def test_emitted_function_is_loaded_from_the_cached_file(tmp_path: Path) -> None:
    def tiny_loss(x):
        return x

    path = tmp_path / "tiny_loss.py"
    path.write_text("def grad_tiny_loss(x, d_out=None):\n    return x, (2 * x,)\n")
    fn, why = impls.emitted_function(types.SimpleNamespace(path=path), tiny_loss)
    assert why == "" and fn(3.0) == (3.0, (6.0,))
    fn, why = impls.emitted_function(object(), tiny_loss)
    assert fn is None and ".path" in why
    fn, why = impls.emitted_function(
        types.SimpleNamespace(path=tmp_path / "no.py"), tiny_loss
    )
    assert fn is None and "does not exist" in why


def test_srcgrad_impl_reports_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("cannot differentiate this\nsecond line")

    fake = types.SimpleNamespace(grad=broken, value_and_grad=broken)
    monkeypatch.setitem(sys.modules, "srcgrad", fake)
    impl = impls.srcgrad_impl(lambda x: x, 0, (1.0,))
    assert not impl.available
    assert (
        impl.reason == "gradient not generated: RuntimeError: cannot differentiate this"
    )
    monkeypatch.setitem(sys.modules, "srcgrad", types.SimpleNamespace())
    assert (
        "no grad, value_and_grad" in impls.srcgrad_impl(lambda x: x, 0, (1.0,)).reason
    )
