"""Training-step benchmarks (issue 18): ``python -m benchmarks train [--quick]``.

For each workload W1-W7 of :mod:`benchmarks.train_models` (batch 128, float32) it

1. builds every implementation of :mod:`benchmarks.train_impls` that can run here
   (hand-written numpy, srcgrad, PyTorch eager, HIPS autograd, JAX eager and jit); a
   missing framework or a refused workload is reported with its reason, never fatal;
2. checks every implementation's loss and gradient against the hand-written ones on a
   small batch (8 rows; W7 has batch 1) before anything is timed; a mismatch is reported,
   not timed;
3. times whole training steps (forward, backward, optimizer update) round-robin, the
   first implementation rotating each round, and reports medians and interquartile ranges;
4. measures memory: the peak bytes a step allocates above what was live before it and
   the bytes it leaves allocated (``tracemalloc``, for the implementations whose arrays
   are numpy's), the residual bytes a srcgrad pullback holds between its forward and
   backward pass (``srcgrad.vjp``), and minor page faults per step (``getrusage``) for
   every one;
5. profiles srcgrad's emitted forward and backward statement by statement next to the
   hand-written gradient (:mod:`benchmarks.profile`) for every workload;
6. times W1 and W2 against batch size (32-1024) and hidden width (``scaling.png``);
7. writes ``benchmarks/results/cpu_training.md`` and assembles
   ``benchmarks/RESULTS.md``.

BLAS, OpenMP, PyTorch and XLA are pinned to one thread.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
import resource
import sys
import time
import tracemalloc
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report, train_impls, train_models
from benchmarks.harness import Impl, first_line, summarize, time_interleaved
from benchmarks.train_impls import Step, Unavailable
from benchmarks.train_models import WORKLOADS, Workload, init_params

__all__ = ["Options", "WorkloadResult", "check_workload", "main", "run_workload"]

HAND, SRCGRAD, TORCH = "hand-written numpy", "srcgrad", "PyTorch eager"
AUTOGRAD, JAX_EAGER, JAX_JIT = "HIPS autograd", "JAX (no jit)", "JAX jit"
CHECK_BATCH = 8


@dataclass
class Options:
    """Settings derived from the command line."""

    quick: bool = False
    reps: int = 11
    warmup: int = 2
    min_sample: float = 0.03
    batch: int = 128
    impls: tuple[str, ...] = tuple(train_impls.BUILDERS)
    scaling: bool = True
    profile: bool = True
    memory: bool = True


@dataclass
class Memory:
    """Memory per step of one implementation (``None``: not measurable for it)."""

    peak: int | None
    left: int | None
    faults: float


@dataclass
class WorkloadResult:
    """Everything measured on one workload."""

    work: Workload
    impls: list[Impl] = field(default_factory=list)
    memory: dict[str, Memory] = field(default_factory=dict)
    residual: int | None = None
    residual_error: str = ""
    profile: list[Any] = field(default_factory=list)
    profile_error: str = ""
    error: str = ""

    def median(self, name: str) -> float | None:
        impl = next((i for i in self.impls if i.name == name and i.times), None)
        return summarize(impl.times).median if impl else None


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _batch(work: Workload, n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    return work.batch(np.random.default_rng(seed), 1 if work.key == "W7" else n)


def _params(work: Workload, width: int | None = None) -> dict[str, np.ndarray]:
    return init_params(work, np.random.default_rng(0), width)


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


def compare(reference: tuple[float, dict], candidate: tuple[float, dict]) -> str:
    """``""`` when a candidate's (loss, grads) match the reference's, else the first mismatch.

    float32 tolerances: rtol 2e-3 on the loss and every gradient entry, and an absolute
    tolerance of 1e-4 times the largest reference gradient entry of the whole step (a
    gradient that is exactly zero in theory, such as the attention key bias's, is rounding
    noise in every implementation).
    """
    ref_loss, ref = reference
    loss, got = candidate
    if not np.isclose(loss, ref_loss, rtol=2e-3, atol=0.0):
        return f"loss {loss!r} != reference {ref_loss!r}"
    if sorted(got) != sorted(ref):
        return f"gradient keys {sorted(got)} != {sorted(ref)}"
    scale = max(float(np.max(np.abs(r))) for r in ref.values())
    for key in sorted(ref):
        g, r = np.asarray(got[key]), ref[key]
        if g.shape != r.shape:
            return f"d{key}: shape {g.shape} != {r.shape}"
        if not np.allclose(g, r, rtol=2e-3, atol=1e-4 * scale):
            return f"d{key}: max abs error {float(np.max(np.abs(g - r))):.3g}"
    return ""


def _build(name: str, work: Workload, params, batch) -> tuple[Step | None, str]:
    try:
        return train_impls.BUILDERS[name](work, params, batch), ""
    except Unavailable as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - report, never crash
        return None, f"refused: {first_line(exc)}"


def check_workload(work: Workload, names: tuple[str, ...]) -> dict[str, str]:
    """Check each implementation's gradient against the hand-written one on a small batch.

    Returns:
        name -> ``""`` (agrees) or the reason it is not timed.
    """
    params, batch = _params(work), _batch(work, CHECK_BATCH, seed=2)
    reference = train_impls.build_hand(work, params, batch).grads()
    out = {}
    for name in names:
        step, reason = _build(name, work, params, batch)
        if step is not None:
            try:
                mismatch = compare(reference, step.grads())
                reason = f"WRONG, not timed: {mismatch}" if mismatch else ""
            except Exception as exc:  # noqa: BLE001
                reason = f"refused: {first_line(exc)}"
        out[name] = reason
        if reason:
            _log(f"    {name}: {reason}")
    return out


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


def _traced(call: Callable[[], Any], repeats: int = 3) -> tuple[int, int]:
    """(median peak bytes above the start, median bytes left allocated) of ``call``."""
    peaks, lefts = [], []
    tracemalloc.start()
    try:
        call()
        for _ in range(repeats):
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            kept = call()
            current, peak = tracemalloc.get_traced_memory()
            del kept
            peaks.append(peak - before)
            lefts.append(current - before)
    finally:
        tracemalloc.stop()
    return int(np.median(peaks)), int(np.median(lefts))


def page_faults(call: Callable[[], Any], steps: int) -> float:
    """Minor page faults per call over ``steps`` back-to-back calls."""
    call()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        call()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps


def measure_memory(step: Step, steps: int) -> Memory:
    faults = page_faults(step.step, steps)
    if not step.numpy_memory:
        return Memory(None, None, faults)
    peak, left = _traced(step.step)
    return Memory(peak, left, faults)


def srcgrad_residual(work: Workload, params, batch) -> int:
    """Bytes a srcgrad pullback holds between the forward and the backward pass."""
    import srcgrad

    vjp = srcgrad.vjp(work.loss)
    vjp(params, *batch)  # generate outside the measurement
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        out, pullback = vjp(params, *batch)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del out, pullback
    return held


# --------------------------------------------------------------------------------------------
# One workload
# --------------------------------------------------------------------------------------------


def run_workload(work: Workload, opts: Options) -> WorkloadResult:
    """Check, time and measure every implementation of one workload."""
    result = WorkloadResult(work)
    _log(f"[{work.key}] checking gradients on a batch of {CHECK_BATCH}")
    reasons = check_workload(work, opts.impls)
    params, batch = _params(work), _batch(work, opts.batch)
    steps: dict[str, Step] = {}
    for name in opts.impls:
        step, reason = (
            (None, reasons[name])
            if reasons[name]
            else _build(name, work, params, batch)
        )
        if step is not None:
            steps[name] = step
        result.impls.append(
            Impl(name, step.step if step else None, reason=reason, note=_note(step))
        )
    _log(f"[{work.key}] timing {len(steps)} implementations")
    time_interleaved(result.impls, opts.reps, opts.warmup, opts.min_sample, log=_log)
    if opts.memory:
        _log(f"[{work.key}] memory")
        for impl in result.impls:
            if impl.name in steps:
                n = max(3, min(impl.number * 3, 50))
                result.memory[impl.name] = measure_memory(steps[impl.name], n)
        if SRCGRAD in steps:
            try:
                result.residual = srcgrad_residual(work, params, batch)
            except Exception as exc:  # noqa: BLE001
                result.residual_error = first_line(exc)
    return result


def _note(step: Step | None) -> str:
    return step.note if step is not None else ""


def profile_workload(result: WorkloadResult, opts: Options) -> None:
    """Statement profile of srcgrad's emitted gradient next to the hand-written one."""
    import srcgrad

    from benchmarks import profile

    work = result.work
    params, batch = _params(work), _batch(work, opts.batch)
    df = srcgrad.value_and_grad(work.loss)
    df(params, *batch)
    calls = 2 if opts.quick else 5
    result.profile = profile.profile_pair(
        df,
        train_impls.hand_grad(work),
        (params, *batch),
        calls=calls,
        user_globals=vars(train_models),
    )


# --------------------------------------------------------------------------------------------
# Scaling with batch size and width
# --------------------------------------------------------------------------------------------

SCALING_IMPLS = (HAND, SRCGRAD, TORCH)


@dataclass(frozen=True)
class ScalePoint:
    workload: str
    axis: str  # "batch" or "width"
    value: int
    impl: str
    median: float


def scaling(opts: Options) -> list[ScalePoint]:
    """Step times of W1 and W2 against batch size and hidden width."""
    if opts.quick:
        batches, widths = (32, 128), {"W1": (100, 400), "W2": (256, 1024)}
    else:
        batches = (32, 64, 128, 256, 512, 1024)
        widths = {"W1": (100, 200, 400, 800, 1600), "W2": (256, 512, 1024, 2048)}
    points = []
    for key in ("W1", "W2"):
        work = WORKLOADS[key]
        cases = [("batch", b, None, b) for b in batches]
        cases += [("width", w, w, opts.batch) for w in widths[key]]
        for axis, value, width, n in cases:
            _log(f"[scaling] {key} {axis} {value}")
            params, batch = _params(work, width), _batch(work, n)
            impls = []
            for name in SCALING_IMPLS:
                if name not in opts.impls:
                    continue
                step, _ = _build(name, work, params, batch)
                if step is not None:
                    impls.append(Impl(name, step.step))
            reps = 3 if opts.quick else 5
            time_interleaved(impls, reps, 1, opts.min_sample / 2)
            points += [
                ScalePoint(key, axis, value, i.name, summarize(i.times).median)
                for i in impls
                if i.times
            ]
    return points


def write_scaling(points: list[ScalePoint], out_dir: Path) -> str:
    """``scaling.csv`` and ``scaling.png``; returns ``""`` or why there is no plot."""
    with open(out_dir / "scaling.csv", "w") as fh:
        fh.write("workload,axis,value,implementation,median_seconds\n")
        for p in points:
            fh.write(f"{p.workload},{p.axis},{p.value},{p.impl},{p.median:.6g}\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:  # noqa: BLE001
        return f"matplotlib unavailable ({first_line(exc)})"
    fig, axes = plt.subplots(2, 2, figsize=(10, 8), dpi=110)
    for col, key in enumerate(("W1", "W2")):
        for row, axis in enumerate(("batch", "width")):
            ax = axes[row][col]
            for name in SCALING_IMPLS:
                pts = [
                    p
                    for p in points
                    if (p.workload, p.axis, p.impl) == (key, axis, name)
                ]
                if pts:
                    ax.plot(
                        [p.value for p in pts],
                        [p.median * 1e3 for p in pts],
                        "o-",
                        label=name,
                    )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            what = "batch size"
            if axis == "width":
                what = "hidden width (h, h/4)" if key == "W1" else "hidden width (h, h)"
            ax.set_xlabel(what)
            ax.set_ylabel("ms per training step")
            ax.set_title(f"{key}: step time vs {what}")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "scaling.png")
    plt.close(fig)
    return ""


_STARTUP = """
import time
import numpy as np
from benchmarks.train_models import WORKLOADS, init_params
w = WORKLOADS["W1"]
p = init_params(w, np.random.default_rng(0))
x, y = w.batch(np.random.default_rng(1), 128)
t0 = time.perf_counter()
import srcgrad
t1 = time.perf_counter()
srcgrad.grad(w.loss)(p, x, y)
print(t1 - t0, time.perf_counter() - t1)
"""


def startup_time(runs: int = 3) -> tuple[float, float] | None:
    """Seconds for ``import srcgrad`` and for a cached W1 gradient call, in a fresh process.

    The first process generates the gradient into a temporary cache; the fastest of ``runs``
    later processes is returned (``None`` when a process fails).
    """
    import subprocess

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="srcgrad-startup-") as cache:
        env = {**os.environ, "SRCGRAD_CACHE_DIR": cache}
        times = []
        for _ in range(runs + 1):
            proc = subprocess.run(
                [sys.executable, "-c", _STARTUP],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                _log(f"[startup] failed: {proc.stderr.strip().splitlines()[-1:]}")
                return None
            imp, call = proc.stdout.split()[-2:]
            times.append((float(imp), float(call)))
    return min(times[1:], key=sum)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks train", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--quick", action="store_true", help="smoke run: few repetitions")
    p.add_argument("--only", nargs="+", choices=list(WORKLOADS), help="these workloads")
    p.add_argument("--reps", type=int, help="samples per implementation (11; quick 3)")
    p.add_argument("--no-scaling", action="store_true", help="skip the scaling figures")
    p.add_argument(
        "--no-profile", action="store_true", help="skip the statement profiles"
    )
    p.add_argument(
        "--out-dir",
        type=Path,
        default=report.RESULTS_DIR,
        help="where cpu_training.md, scaling.csv/png go (default benchmarks/results); "
        "RESULTS.md is assembled only for the default",
    )
    return p.parse_args(argv)


def _save_raw(results, points, plot_note, startup, load_before) -> None:
    """Pickle the measurements (without the step callables) to the temporary folder, so a
    report can be rewritten from them (:func:`benchmarks.train_report.section`)."""
    import pickle

    for res in results:
        for impl in res.impls:
            impl.call = impl.to_numpy = None
    raw = (results, points, plot_note, startup, load_before)
    path = Path(tempfile.gettempdir()) / "srcgrad-train-raw.pkl"
    try:
        path.write_bytes(pickle.dumps(raw))
        _log(f"measurements saved to {path}")
    except Exception as exc:  # noqa: BLE001 - a convenience, never fatal
        _log(f"measurements not saved: {first_line(exc)}")


def main(argv: list[str] | None = None) -> int:
    """Run the training benchmarks and write their section."""
    argv = sys.argv[1:] if argv is None else argv
    ns = _parse(argv)
    opts = Options(quick=ns.quick, scaling=not ns.no_scaling, profile=not ns.no_profile)
    if ns.quick:
        opts.reps, opts.warmup, opts.min_sample = 3, 1, 0.01
    if ns.reps:
        opts.reps = ns.reps
    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=1)
    except ImportError:
        _log("threadpoolctl not installed: relying on the thread environment variables")
    from benchmarks.run import _loadavg

    own_cache = "SRCGRAD_CACHE_DIR" not in os.environ
    if own_cache:  # generated code goes to a temporary cache, never into generated/
        os.environ["SRCGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="srcgrad-train-")
    try:
        return _run(ns, opts, argv, _loadavg)
    finally:
        if own_cache:
            shutil.rmtree(os.environ.pop("SRCGRAD_CACHE_DIR"), ignore_errors=True)
        if limiter is not None:
            limiter.restore_original_limits()


def _run(ns: argparse.Namespace, opts: Options, argv: list[str], loadavg) -> int:
    from benchmarks import train_report

    load_before, start = loadavg(), time.perf_counter()
    results = []
    for key in ns.only or list(WORKLOADS):
        try:
            results.append(run_workload(WORKLOADS[key], opts))
        except Exception as exc:  # noqa: BLE001 - report, never crash
            traceback.print_exc()
            results.append(WorkloadResult(WORKLOADS[key], error=first_line(exc)))
    if opts.profile:
        for res in results:
            if any(i.name == SRCGRAD and i.times for i in res.impls):
                try:
                    _log(f"[{res.work.key}] statement profile")
                    profile_workload(res, opts)
                except Exception as exc:  # noqa: BLE001
                    res.profile_error = first_line(exc)
    points, plot_note = [], "not run (--no-scaling)"
    if opts.scaling:
        points = scaling(opts)
        plot_note = write_scaling(points, ns.out_dir)
    startup = startup_time()
    _save_raw(results, points, plot_note, startup, load_before)
    text = train_report.section(
        results,
        points,
        plot_note,
        opts,
        argv,
        time.perf_counter() - start,
        load_before,
        startup,
    )
    ns.out_dir.mkdir(parents=True, exist_ok=True)
    (ns.out_dir / "cpu_training.md").write_text(text)
    _log(f"wrote {ns.out_dir / 'cpu_training.md'}")
    if ns.out_dir.resolve() == report.RESULTS_DIR:
        report.assemble()
    return 0


if __name__ == "__main__":
    sys.exit(main())
