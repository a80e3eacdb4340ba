"""The training-step benchmark harness (issue 18), in a tiny configuration.

Nothing here times anything that matters: the tests check that every implementation's
gradient agrees with the hand-written one, that the check catches a wrong gradient, and that
RESULTS.md is assembled from the section files without losing any. PyTorch and JAX are
optional: their test is slow-marked and skips without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import report, train, train_impls
from benchmarks.train_models import WORKLOADS, init_params


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def test_compare_catches_a_wrong_gradient_and_accepts_rounding() -> None:
    ref = (1.0, {"W": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)})
    assert train.compare(ref, ref) == ""
    noisy = (1.0, {"W": np.ones((2, 2)), "b": np.full(2, 1e-9)})
    assert train.compare(ref, noisy) == ""  # an exactly-zero gradient, rounded
    wrong = (1.0, {"W": np.ones((2, 2)) * 1.01, "b": np.zeros(2)})
    assert "dW" in train.compare(ref, wrong)
    assert "keys" in train.compare(ref, (1.0, {"W": np.ones((2, 2))}))
    assert "loss" in train.compare(ref, (1.1, ref[1]))


@pytest.mark.parametrize("key", ["W1", "W7"])
def test_srcgrad_and_autograd_agree_with_the_hand_written_gradient(key) -> None:
    reasons = train.check_workload(WORKLOADS[key], (train.SRCGRAD, train.AUTOGRAD))
    assert reasons[train.SRCGRAD] == ""
    assert reasons[train.AUTOGRAD] in ("", "not installed")


def test_a_wrong_implementation_is_reported_and_not_timed(monkeypatch) -> None:
    def wrong(work, params, batch):
        step = train_impls.build_hand(work, params, batch)
        loss, g = step.grads()
        g["Wx"] = g["Wx"] * 2
        return train_impls.Step(step.step, lambda: (loss, g))

    monkeypatch.setitem(train_impls.BUILDERS, "wrong", wrong)
    opts = train.Options(reps=1, warmup=0, min_sample=0.0, impls=(train.HAND, "wrong"))
    result = train.run_workload(WORKLOADS["W7"], opts)
    by_name = {i.name: i for i in result.impls}
    assert by_name["wrong"].reason.startswith("WRONG, not timed: dWx")
    assert not by_name["wrong"].times and by_name[train.HAND].times
    assert result.memory[train.HAND].peak is not None


def test_shared_adam_moves_parameters_against_the_gradient() -> None:
    params = {"w": np.array([1.0, -1.0], np.float32)}
    opt = train_impls.Adam(params, lr=0.1)
    opt.step(params, {"w": np.array([2.0, -3.0], np.float32)})
    # The first Adam step is lr * sign(g) (up to eps).
    np.testing.assert_allclose(params["w"], [0.9, -0.9], rtol=1e-5)


def test_results_md_keeps_sections_it_did_not_write(tmp_path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "gpu.md").write_text("## GPU\n\ngpu numbers\n")
    (results / "cpu_training.md").write_text("## CPU training steps\n\ncpu numbers\n")
    text = report.assemble(results)
    assert text.index("cpu numbers") < text.index("gpu numbers")
    assert "multi-process: not run yet" in text
    (results / "cpu_training.md").write_text("## CPU training steps\n\nnew numbers\n")
    text = report.assemble(results)
    assert "gpu numbers" in text and "new numbers" in text and "cpu numbers" not in text
    assert (tmp_path / "RESULTS.md").read_text() == text


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(WORKLOADS))
def test_every_installed_implementation_agrees(key) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    reasons = train.check_workload(WORKLOADS[key], tuple(train_impls.BUILDERS))
    wrong = {k: v for k, v in reasons.items() if v.startswith("WRONG")}
    assert not wrong
    assert reasons[train.SRCGRAD] == "" and reasons[train.TORCH] == ""


def test_init_params_are_float32_and_seeded() -> None:
    work = WORKLOADS["W3"]
    a = init_params(work, np.random.default_rng(0))
    b = init_params(work, np.random.default_rng(0))
    assert all(v.dtype == np.float32 for v in a.values())
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_the_section_reports_goals_memory_and_missing_implementations() -> None:
    from benchmarks import train_report
    from benchmarks.harness import Impl
    from benchmarks.profile import Line

    res = train.WorkloadResult(WORKLOADS["W7"])
    for i, name in enumerate((train.HAND, train.SRCGRAD, train.TORCH, train.AUTOGRAD)):
        res.impls.append(Impl(name, lambda: 0, times=[0.01 * (1 + i)] * 3))
    res.impls.append(Impl(train.JAX_JIT, None, reason="not installed"))
    res.memory = {
        train.HAND: train.Memory(100, 0, 1.0),
        train.SRCGRAD: train.Memory(110, 0, 5000.0),
    }
    res.profile = [Line("fwd", 3, "h = f(h)", 5.0), Line("hand", 5, "a | b", 2.0)]
    text = train_report.section(
        [res], [], "not run", train.Options(), [], 1.0, "0 / 0 / 0", (1.0, 0.1)
    )
    rows = {
        line.split(" | ")[1]: line for line in text.splitlines() if "| W7 |" in line
    }
    assert "0.67×" in rows["srcgrad ÷ PyTorch eager"]
    assert "MISSED" in rows["srcgrad ÷ PyTorch eager"]
    assert "MET" in rows["srcgrad peak bytes ÷ hand-written"]
    assert "MISSED" in rows["srcgrad minor page faults per step (no storm)"]
    assert "not installed" in text and "`a \\| b`" in text
    assert 'id="w7-profile"' in text
