"""Run srcgrad's gradient benchmarks; write their section of ``benchmarks/RESULTS.md`` (issue 6).

Usage (from the repository root)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.run [--quick]
    python benchmarks/run.py --out benchmarks/RESULTS.md

On some machines OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set so that old OpenBLAS builds
work; they slow a current numpy down, so unset both in the benchmark command (and nowhere
else). RESULTS.md records their values and the BLAS kernel that actually ran.

What it does:

1. Pins every BLAS/OpenMP pool to one thread before numpy is imported (environment variables,
   then threadpoolctl if installed), PyTorch to one thread and XLA's CPU backend to one
   thread.
2. For each benchmark (MLP, RNN, layer norm) builds every implementation: the hand-written
   numpy baseline (the reference), srcgrad's ``value_and_grad`` when ``import srcgrad`` works
   and the gradient generates, HIPS autograd, PyTorch eager and JAX (eager and jit) when
   installed, and the bare numpy forward pass for context. Unavailable ones are reported with
   the reason, never fatal.
3. Checks every implementation's loss and gradient against the hand-written one (allclose;
   srcgrad must also match the structure and dtypes) before timing; a mismatch is reported and
   not timed.
4. Times them round-robin (the first in each round rotates), after warm-up, with medians of
   ``--reps`` (>= 30 unless ``--quick``) samples.
5. Measures srcgrad's cached-call overhead (``df(x)`` minus the emitted ``grad_<f>`` it runs)
   and the generation time of synthetic straight-line functions of 10 to 500 statements (cold
   cache each time), written to ``gen_time.csv`` and ``gen_time.png``.
6. Writes its section, ``benchmarks/results/cpu_gradients.md`` (tables, goals, machine,
   command), next to which the CSV and PNG go, and assembles ``benchmarks/RESULTS.md`` from
   the section files (:mod:`benchmarks.report`).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    _NUMPY_WAS_IMPORTED = "numpy" in sys.modules
    if __package__ in (None, ""):  # run as `python benchmarks/run.py`
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.pinning import pin_thread_env

    pin_thread_env()
else:
    _NUMPY_WAS_IMPORTED = True

import argparse
import datetime
import platform
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import baselines, gen_time, impls, models, report
from benchmarks.pinning import THREAD_ENV as _THREAD_ENV
from benchmarks.harness import (
    Impl,
    check_against,
    first_line,
    leaves,
    summarize,
    time_interleaved,
)

GEN_SIZES = (10, 50, 100, 200, 500)


@dataclass
class Benchmark:
    """One model, its hand-written reference, and the goal for srcgrad's ratio."""

    key: str
    title: str
    model: Callable[..., Any]
    wrt: int | tuple[int, ...]
    make_args: Callable[[np.random.Generator], tuple]
    hand: Callable[..., Any]
    extras: list[tuple[str, Callable[..., Any], str]] = field(default_factory=list)
    goal: float | None = None
    impls: list[Impl] = field(default_factory=list)
    error: str = ""
    profile: list[Any] = field(default_factory=list)  # benchmarks.profile.Line
    profile_error: str = ""


def _benchmarks() -> list[Benchmark]:
    return [
        Benchmark(
            "mlp",
            "MLP 784-400-100-10, ReLU, softmax cross-entropy, batch 128, float32, "
            "grad w.r.t. the parameter dict",
            models.mlp_loss,
            0,
            models.mlp_inputs,
            baselines.mlp_value_and_grad,
            goal=1.10,
        ),
        Benchmark(
            "rnn",
            "tanh RNN as a Python loop, 200 steps, hidden 16, input 8, batch 1, float64, "
            "loss = mean over steps of sum(h_t**2), grad w.r.t. {Wx, Wh, b}",
            models.rnn_loss,
            0,
            models.rnn_inputs,
            baselines.rnn_value_and_grad,
            extras=[
                (
                    "hand-written numpy, hoisted",
                    baselines.rnn_value_and_grad_hoisted,
                    "non-recurrent work batched over steps; context",
                )
            ],
            goal=1.2,
        ),
        Benchmark(
            "layernorm",
            "layer norm + linear + MSE, x 64x256, W 256x256, float64, grad w.r.t. (params, x)",
            models.layernorm_mse_loss,
            (0, 1),
            models.layernorm_inputs,
            baselines.layernorm_mse_value_and_grad,
        ),
    ]


@dataclass
class Options:
    """Settings derived from the command line."""

    quick: bool
    reps: int
    warmup: int
    min_sample: float
    gen_repeats: int
    gen_sizes: list[int]
    overhead_sample: float


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------


def run_benchmark(bench: Benchmark, opts: Options) -> None:
    """Build, check and time every implementation of one benchmark (fills ``bench.impls``)."""
    _log(f"[{bench.key}] building implementations")
    args = bench.make_args(np.random.default_rng(0))
    reference = bench.hand(*args)
    built = [impls.numpy_reference("hand-written numpy", bench.hand, args)]
    built += [
        impls.numpy_reference(name, fn, args, kind="grad", note=note)
        for name, fn, note in bench.extras
    ]
    for build in (impls.srcgrad_impl, impls.autograd_impl, impls.torch_impl):
        try:
            built.append(build(bench.model, bench.wrt, args))
        except Exception as exc:  # noqa: BLE001 - report, never crash
            built.append(
                Impl(build.__name__, None, reason=f"failed: {first_line(exc)}")
            )
    try:
        built += impls.jax_impls(bench.model, bench.wrt, args)
    except Exception as exc:  # noqa: BLE001
        built.append(Impl("JAX", None, reason=f"failed: {first_line(exc)}"))
    built.append(impls.numpy_forward(bench.model, args))
    bench.impls = built

    _log(f"[{bench.key}] checking gradients against the hand-written baseline")
    for impl in built:
        if not impl.available or impl.kind == "reference":
            continue
        try:
            mismatch = check_against(reference, impl.to_numpy(impl.call()), impl.strict)
        except Exception as exc:  # noqa: BLE001
            mismatch = f"raised {first_line(exc)}"
        if mismatch:
            impl.reason = f"WRONG, not timed: {mismatch}"
            _log(f"    {impl.name}: {impl.reason}")

    _log(f"[{bench.key}] timing {sum(i.available for i in built)} implementations")
    time_interleaved(built, opts.reps, opts.warmup, opts.min_sample, log=_log)


@dataclass
class Overhead:
    """srcgrad's cached-call overhead on :func:`benchmarks.models.tiny_loss`."""

    impls: list[Impl] = field(default_factory=list)
    overhead: float | None = None
    overhead_vg: float | None = None
    error: str = ""
    note: str = ""


def _paired_median(a: Impl, b: Impl) -> float:
    """Median over rounds of ``a``'s time minus ``b``'s time in the same round."""
    return float(np.median(np.asarray(a.times) - np.asarray(b.times)))


def measure_overhead(opts: Options) -> Overhead:
    """Time ``df(x)`` and ``vg(x)`` against the emitted ``grad_tiny_loss(x)`` they run."""
    result = Overhead()
    srcgrad, reason = impls.srcgrad_status()
    if srcgrad is None:
        result.error = reason
        return result
    args = models.tiny_inputs(np.random.default_rng(0))
    expected = baselines.tiny_value_and_grad(*args)[1]
    try:
        df = srcgrad.grad(models.tiny_loss)
        vg = srcgrad.value_and_grad(models.tiny_loss)
        got = df(*args)
        vg(*args)
    except Exception as exc:  # noqa: BLE001
        result.error = f"gradient not generated: {first_line(exc)}"
        return result
    mismatch = check_against((0.0, expected), (0.0, got), strict=True)
    if mismatch:
        result.error = f"WRONG gradient of tiny_loss: {mismatch}"
        return result
    emitted, why = impls.emitted_function(df, models.tiny_loss)
    result.impls = [
        Impl("srcgrad.grad(tiny_loss)(x)", lambda: df(*args)),
        Impl("srcgrad.value_and_grad(tiny_loss)(x)", lambda: vg(*args)),
        Impl("hand-written numpy", lambda: baselines.tiny_value_and_grad(*args)),
    ]
    if emitted is None:
        result.error = f"emitted grad_tiny_loss not reachable: {why}"
    else:
        try:
            emitted_grad = leaves(emitted(*args))[-1]
            if not np.allclose(emitted_grad, expected):
                result.note = "emitted grad_tiny_loss's last output is not the gradient"
        except Exception as exc:  # noqa: BLE001
            result.note = f"emitted grad_tiny_loss raised {first_line(exc)}"
        result.impls.append(Impl("emitted grad_tiny_loss(x)", lambda: emitted(*args)))
    _log("[overhead] timing cached calls")
    time_interleaved(result.impls, opts.reps, opts.warmup * 100, opts.overhead_sample)
    if emitted is not None:
        result.overhead = _paired_median(result.impls[0], result.impls[-1])
        result.overhead_vg = _paired_median(result.impls[1], result.impls[-1])
    return result


# --------------------------------------------------------------------------------------------
# Machine information
# --------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas_info() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
        return [
            (
                f"{blas.get('name', '?')} {blas.get('version', '?')} "
                "(threadpoolctl not installed: thread count not verified)"
            )
        ]
    rows = []
    for pool in threadpool_info():
        name = Path(pool.get("filepath", "")).name
        if pool.get("user_api") == "blas":
            rows.append(
                f"{pool.get('internal_api')} {pool.get('version')}, kernel "
                f"{pool.get('architecture')}, {pool.get('num_threads')} thread(s) ({name})"
            )
        else:
            rows.append(
                f"{pool.get('user_api')} {name}: {pool.get('num_threads')} thread(s)"
            )
    return rows


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_info(load_before: str) -> list[tuple[str, str]]:
    """Rows for the machine section of RESULTS.md.

    Args:
        load_before: the 1/5/15-minute load averages when the run started.
    """
    versions = impls.framework_versions()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    rows = [
        (
            "date",
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        ("CPU", _cpu_model()),
        ("CPU count", f"{os.cpu_count()} (usable: {usable})"),
        (
            "load average 1/5/15 min",
            f"{load_before} at the start, {_loadavg()} at the end",
        ),
        ("platform", platform.platform()),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("BLAS", "; ".join(_blas_info())),
    ]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        rows.append((var, os.environ.get(var, "unset")))
    rows.append(
        (
            "thread pinning",
            ", ".join(f"{v}={os.environ.get(v)}" for v in _THREAD_ENV[:3])
            + "; threadpoolctl limit 1; torch.set_num_threads(1); "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}",
        )
    )
    for dist in ("srcgrad", "autograd", "torch", "jax", "jaxlib", "threadpoolctl"):
        rows.append((dist, versions[dist]))
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.3f} s"


def _load_warning(load_before: str) -> list[str]:
    """A caution when other processes were busy as the run started."""
    try:
        busy = float(load_before.split(" / ")[0]) >= 0.5
    except ValueError:
        busy = False
    if not busy:
        return []
    return [
        (
            f"> The 1-minute load average was {load_before.split(' / ')[0]} when the run "
            "started: other processes shared the CPUs, so absolute times are noisy. The "
            "interleaved ratios are the figures to compare; rerun on an idle machine to quote."
        ),
        "",
    ]


# What closes the remaining gap, per benchmark (shown with its profile in RESULTS.md).
_GAP_NOTES = {
    "mlp": (
        "The forward pass and the six matmuls are the same BLAS calls as the hand-written "
        "code, and the profiled statements differ by about 3%: the ReLU cotangent "
        "(`split_cotangent` keeps the exact 1/2 share at ties, the convention of autograd and "
        "of `jnp.maximum`; the hand-written `d *= h > 0` gives ties 0) and the exact "
        "cotangent of `np.max` in the softmax shift (the hand-written code knows it sums to "
        "zero and drops it). The rest is outside the statements: the call itself (binding "
        "the arguments, the abstract-signature lookup, gradients returned as a dict: about "
        "25 µs), and memory traffic, since the hand-written code reuses three buffers where "
        "the generated code allocates. Measured options: writing the ReLU cotangent into "
        "the incoming cotangent's buffer saves about 1% (in-place backward updates of "
        "temporaries nothing else reads, as the forward pass already does); a ReLU written as "
        "`x * (x > 0)` costs what the hand-written mask costs, with its tie convention."
    ),
    "rnn": (
        "The backward loop body is now the hand-written one statement for statement "
        "(`d_h5 @ Wh.T`, `h_1.T @ d_h5`, `d_h5.sum(axis=0)`, no helper calls). The rest is "
        "per-step Python: the forward pass keeps the user's `loss = loss + np.sum(h * h)` "
        "(two numpy calls where the hand-written code uses one `vdot`), pushes a tuple per "
        "step, and rebinds the carried names."
    ),
}


def profile_benchmark(bench: Benchmark, opts: Any) -> list[Any]:
    """The statement-level profile of srcgrad's gradient and the hand-written one."""
    import srcgrad

    from benchmarks import profile

    _log(f"[{bench.key}] statement profile")
    args = bench.make_args(np.random.default_rng(0))
    df = srcgrad.value_and_grad(bench.model, wrt=bench.wrt)
    df(*args)
    return profile.profile_pair(df, bench.hand, args, calls=20 if opts.quick else 100)


def _profile_section(benches: list[Benchmark]) -> list[str]:
    out: list[str] = []
    for bench in benches:
        if not bench.profile and not bench.profile_error:
            continue
        ratio = _srcgrad_ratio(bench)
        status = (
            "met"
            if ratio is not None and bench.goal is not None and ratio <= bench.goal
            else "missed"
        )
        out += [f"#### {bench.key} (goal {status})", ""]
        if bench.profile_error:
            out += [f"Not profiled: {bench.profile_error}", ""]
            continue
        totals = {
            w: sum(
                x.micros
                for x in bench.profile
                if x.where == w and not x.text.startswith(("for ", "while ", "if "))
            )
            for w in ("fwd", "bwd", "hand")
        }
        out += [
            (
                f"Mean µs per call of each statement over 100 instrumented calls (timers add "
                f"about 0.1 µs per statement; loops are shown as their header's total and "
                f"statement by statement). Sums of the statements: srcgrad forward "
                f"{totals['fwd']:.0f} µs + backward {totals['bwd']:.0f} µs, hand-written "
                f"{totals['hand']:.0f} µs. Statements under 2 µs are left out."
            ),
            "",
            "| pass | line | statement | µs |",
            "| --- | --- | --- | --- |",
        ]
        for x in bench.profile:
            if x.micros < 2.0:
                continue
            where = {
                "fwd": "srcgrad fwd",
                "bwd": "srcgrad bwd",
                "hand": "hand-written",
            }[x.where]
            text = x.text if len(x.text) <= 70 else x.text[:67] + "..."
            text = text.replace("|", "\\|")
            out.append(f"| {where} | {x.lineno} | `{text}` | {x.micros:.1f} |")
        out.append("")
        note = _GAP_NOTES.get(bench.key)
        if note:
            out += [
                (
                    "What the rest is, and what would close it: "
                    if status == "missed"
                    else "What the rest is: "
                )
                + note,
                "",
            ]
    if out:
        out = ["### Where the time goes", ""] + out
    return out


def _srcgrad_ratio(bench: Benchmark) -> float | None:
    times = {i.name: i.times for i in bench.impls if i.times}
    if "srcgrad" not in times or "hand-written numpy" not in times:
        return None
    return (
        summarize(times["srcgrad"]).median
        / summarize(times["hand-written numpy"]).median
    )


def _goal_rows(
    benches: list[Benchmark], overhead: Overhead | None, gen: gen_time.GenResult | None
) -> list[tuple[str, str, str, str]]:
    rows = []
    for bench in benches:
        if bench.goal is None:
            continue
        ratio = _srcgrad_ratio(bench)
        srcgrad = next((i for i in bench.impls if i.name == "srcgrad"), None)
        if ratio is not None:
            measured, status = f"{ratio:.2f}×", (
                "MET" if ratio <= bench.goal else "MISSED"
            )
        else:
            measured = "—"
            status = "NOT MEASURED: " + (
                srcgrad.reason if srcgrad else bench.error or "benchmark not run"
            )
        rows.append(
            (
                f"{bench.key} gradient vs hand-written",
                f"≤ {bench.goal:.2f}×",
                measured,
                status,
            )
        )
    if overhead is not None:
        if overhead.overhead is not None:
            ok = overhead.overhead < 20e-6
            rows.append(
                (
                    "cached srcgrad.grad call overhead",
                    "< 20 µs",
                    _fmt_time(overhead.overhead),
                    "MET" if ok else "MISSED",
                )
            )
        else:
            rows.append(
                (
                    "cached srcgrad.grad call overhead",
                    "< 20 µs",
                    "—",
                    f"NOT MEASURED: {overhead.error}",
                )
            )
    if gen is not None:
        med = gen.medians()
        if 50 in med:
            rows.append(
                (
                    "generation of a 50-line function",
                    "< 1 s",
                    _fmt_time(med[50]),
                    "MET" if med[50] < 1.0 else "MISSED",
                )
            )
        else:
            rows.append(
                (
                    "generation of a 50-line function",
                    "< 1 s",
                    "—",
                    f"NOT MEASURED: {gen.error or gen.failures.get(50, 'N=50 not run')}",
                )
            )
        verdict = _linearity(gen)
        rows.append(
            ("generation cost grows linearly (10–500 lines)", "linear", *verdict)
        )
    return rows


def _linearity(gen: gen_time.GenResult) -> tuple[str, str]:
    """(measured, status) for the linear-growth goal.

    Linear means: a straight line fits the medians with R² >= 0.98, and the marginal cost per
    statement over the last interval is at most twice the median marginal cost.
    """
    med = gen.medians()
    fit = gen.fit()
    if fit is None or len(med) < 3:
        return "—", f"NOT MEASURED: {gen.error or 'too few sizes'}"
    ns, ts = list(med), list(med.values())
    marginal = [(ts[i + 1] - ts[i]) / (ns[i + 1] - ns[i]) for i in range(len(ns) - 1)]
    slope, _, r2 = fit
    ok = r2 >= 0.98 and marginal[-1] <= 2 * float(np.median(marginal))
    measured = (
        f"{slope * 1e3:.2f} ms/line, R²={r2:.3f}, marginal "
        + ", ".join(f"{m * 1e3:.2f}" for m in marginal)
        + " ms/line"
    )
    return measured, "MET" if ok else "MISSED"


def write_report(
    path: Path,
    command: str,
    opts: Options,
    benches: list[Benchmark],
    overhead: Overhead | None,
    gen: gen_time.GenResult | None,
    gen_plot_note: str,
    elapsed: float,
    load_before: str,
) -> str:
    """Write RESULTS.md; return its text."""
    out: list[str] = ["## CPU gradients of single functions", ""]
    if opts.quick:
        out += [
            (
                "> **Quick run** (`--quick`): few repetitions, for a smoke test only. "
                "Quote only a full run."
            ),
            "",
        ]
    out += [
        "Written to `results/cpu_gradients.md` by `benchmarks/run.py`; do not edit by hand. "
        "Rerun with:",
        "",
        "```",
        command,
        "```",
        "",
        (
            f"Total run time {elapsed:.0f} s. Every timing is the median of {opts.reps} samples "
            f"(after {opts.warmup} warm-up calls); a sample is enough back-to-back calls to last "
            f"≥ {opts.min_sample * 1e3:.0f} ms, with the garbage collector off. Implementations "
            "are interleaved round-robin (the first one rotates each round). IQR is the "
            "interquartile range of the samples. The ratio is against the hand-written numpy "
            "backward pass of the same benchmark. Every gradient is checked against the "
            "hand-written one (allclose) before it is timed."
        ),
        "",
        *_load_warning(load_before),
        "### Goals (issue 6)",
        "",
        "| goal | target | measured | status |",
        "| --- | --- | --- | --- |",
    ]
    for row in _goal_rows(benches, overhead, gen):
        out.append("| " + " | ".join(row) + " |")
    out += [""] + _profile_section(benches)
    out += ["### Gradient benchmarks", ""]
    out += [
        "| benchmark | implementation | median | IQR | ratio vs hand-written | notes |"
    ]
    out += ["| --- | --- | --- | --- | --- | --- |"]
    for bench in benches:
        ref = next((i for i in bench.impls if i.kind == "reference" and i.times), None)
        ref_med = summarize(ref.times).median if ref else None
        if bench.error:
            out.append(f"| {bench.key} | — | — | — | — | failed: {bench.error} |")
        for impl in bench.impls:
            if impl.times:
                s = summarize(impl.times)
                ratio = f"{s.median / ref_med:.2f}×" if ref_med else "—"
                iqr = f"{_fmt_time(s.q1)} – {_fmt_time(s.q3)}"
                notes = "; ".join(
                    x for x in (impl.note, f"{impl.number} call(s)/sample") if x
                )
                cells = [
                    bench.key,
                    impl.name,
                    f"**{_fmt_time(s.median)}**",
                    iqr,
                    ratio,
                    notes,
                ]
            else:
                cells = [
                    bench.key,
                    impl.name,
                    "—",
                    "—",
                    "—",
                    impl.reason or "not timed",
                ]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [""]
    for bench in benches:
        out.append(f"- **{bench.key}**: {bench.title}.")
    out += [
        (
            "- Implementations: *hand-written numpy* is `benchmarks/baselines.py` (the reference); "
            "*srcgrad*, *HIPS autograd* and *JAX* differentiate the very same source in "
            "`benchmarks/models.py` (the `np` global swapped for `autograd.numpy` / `jax.numpy`); "
            "*PyTorch eager* runs an idiomatic transliteration (`torch.relu`, `log_softmax`, "
            "`F.layer_norm`, `F.mse_loss`) with `torch.autograd.grad`; *numpy forward only* is the "
            "model's forward pass without a gradient. Inputs are converted to each framework's "
            "arrays once, outside the timed call; JAX results are blocked on."
        ),
        "",
        "### Cached-call overhead",
        "",
    ]
    if overhead is None:
        out.append("Not run.")
    else:
        if overhead.error:
            out.append(f"Not measured: {overhead.error}")
            out.append("")
        if overhead.impls and any(i.times for i in overhead.impls):
            out += [
                (
                    "`tiny_loss(x) = np.sum(x * x)` on 4 float64 numbers. The overhead is the "
                    "median over rounds of (the call through the srcgrad object − the emitted "
                    "`grad_tiny_loss` executed from the cached file, in the same round)."
                ),
                "",
                "| call | median | IQR |",
                "| --- | --- | --- |",
            ]
            for impl in overhead.impls:
                if impl.times:
                    s = summarize(impl.times)
                    out.append(
                        f"| `{impl.name}` | {_fmt_time(s.median)} | "
                        f"{_fmt_time(s.q1)} – {_fmt_time(s.q3)} |"
                    )
            out.append("")
            if overhead.overhead is not None:
                out.append(
                    f"Overhead of `grad`: **{_fmt_time(overhead.overhead)}**; of "
                    f"`value_and_grad`: **{_fmt_time(overhead.overhead_vg)}**."
                )
            if overhead.note:
                out.append(f"Note: {overhead.note}.")
    out += ["", "### Generation time", ""]
    if gen is None:
        out.append("Not run.")
    else:
        if gen.error:
            out += [f"Not measured: {gen.error}", ""]
        for n, why in gen.failures.items():
            out += [f"- N={n} failed: {why}"]
        if gen.failures:
            out.append("")
        if gen.warmup_first_call is not None:
            out += [
                (
                    "Warm-up generation (N=10; the first one in the process also pays for "
                    "importing libcst and black), left out below: "
                    f"{_fmt_time(gen.warmup_first_call)}."
                ),
                "",
            ]
        med = gen.medians()
        if med:
            out += [
                "Synthetic straight-line `f(x, W)` of N statements (tanh, *, +, sin, @ in "
                "turn), `srcgrad.grad(f, wrt=(0, 1))`, cold cache (`SRCGRAD_CACHE_DIR` emptied "
                "and the module re-imported under a new name before each measurement). "
                "Generation = first call − cached call. Raw data: "
                "[gen_time.csv](results/gen_time.csv)"
                + (
                    "; plot: [gen_time.png](results/gen_time.png)."
                    if not gen_plot_note
                    else "."
                ),
                "",
                "| N | median generation | min – max | per statement |",
                "| --- | --- | --- | --- |",
            ]
            for n, t in med.items():
                runs = [r.generation for r in gen.rows if r.n_lines == n]
                spread = f"{_fmt_time(min(runs))} – {_fmt_time(max(runs))}"
                out.append(f"| {n} | {_fmt_time(t)} | {spread} | {_fmt_time(t / n)} |")
            if gen_plot_note:
                out += ["", f"No plot: {gen_plot_note}."]
    out += ["", "### Machine", "", "| | |", "| --- | --- |"]
    for key, value in machine_info(load_before):
        out.append(f"| {key} | {str(value).replace('|', '/')} |")
    out.append("")
    text = "\n".join(out)
    path.write_text(text)
    return text


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--quick", action="store_true", help="smoke run: few repetitions")
    p.add_argument(
        "--out",
        type=Path,
        default=report.RESULTS_DIR / "cpu_gradients.md",
        help=(
            "section path; gen_time.csv/png go next to it (default: "
            "benchmarks/results/cpu_gradients.md); benchmarks/RESULTS.md is then "
            "assembled from the section files"
        ),
    )
    p.add_argument(
        "--reps", type=int, help="samples per implementation (default 41; quick 5)"
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=["mlp", "rnn", "layernorm", "overhead", "gen"],
        help="run only these parts",
    )
    p.add_argument(
        "--gen-sizes",
        type=int,
        nargs="+",
        default=list(GEN_SIZES),
        help="function lengths for the generation-time measurement",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        help="SRCGRAD_CACHE_DIR for the run (default: a temporary directory, removed after)",
    )
    return p.parse_args(argv)


def _command(argv: list[str]) -> str:
    prog = (
        "python -m benchmarks.run"
        if __spec__ is not None
        else "python benchmarks/run.py"
    )
    prefix = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    return prefix + " ".join([prog, *argv])


def main(argv: list[str] | None = None) -> int:
    """Run the suite; returns the process exit code (0 unless the report cannot be written)."""
    argv = sys.argv[1:] if argv is None else argv
    ns = _parse(argv)
    opts = Options(
        quick=ns.quick,
        reps=ns.reps or (5 if ns.quick else 41),
        warmup=1 if ns.quick else 3,
        min_sample=0.002 if ns.quick else 0.005,
        gen_repeats=1 if ns.quick else 3,
        gen_sizes=ns.gen_sizes,
        overhead_sample=0.005 if ns.quick else 0.02,
    )
    parts = set(ns.only or ["mlp", "rnn", "layernorm", "overhead", "gen"])
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    if _NUMPY_WAS_IMPORTED and __name__ == "__main__":
        _log("warning: numpy was imported before the thread variables were set")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            _log(
                f"warning: {var}={os.environ[var]} is set; it slows current numpy. "
                "Unset it for this command (env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)."
            )

    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=1)
    except ImportError:
        _log("threadpoolctl not installed: relying on the thread environment variables")

    own_cache = ns.cache_dir is None
    cache_dir = (
        Path(tempfile.mkdtemp(prefix="srcgrad-bench-")) if own_cache else ns.cache_dir
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SRCGRAD_CACHE_DIR"] = str(cache_dir)
    impls.setup_torch()  # pin torch's threads before anything runs in it

    start = time.perf_counter()
    load_before = _loadavg()
    benches = [b for b in _benchmarks() if b.key in parts]
    overhead = None
    gen = None
    gen_plot_note = "not run"
    try:
        for bench in benches:
            try:
                run_benchmark(bench, opts)
            except Exception as exc:  # noqa: BLE001 - report, never crash
                traceback.print_exc()
                bench.error = first_line(exc)
        for bench in benches:
            if bench.goal is not None and not bench.error:
                try:
                    bench.profile = profile_benchmark(bench, opts)
                except Exception as exc:  # noqa: BLE001 - report, never crash
                    traceback.print_exc()
                    bench.profile_error = first_line(exc)
        if "overhead" in parts:
            try:
                overhead = measure_overhead(opts)
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                overhead = Overhead(error=first_line(exc))
        if "gen" in parts:
            srcgrad, reason = impls.srcgrad_status()
            if srcgrad is None:
                gen = gen_time.GenResult(rows=[], warmup_first_call=None, error=reason)
            else:
                _log("[gen] generation time")
                with tempfile.TemporaryDirectory(prefix="srcgrad-bench-src-") as work:
                    # Runs last: emptying the whole cache directory loses nothing needed.
                    gen = gen_time.measure_generation(
                        srcgrad,
                        opts.gen_sizes,
                        opts.gen_repeats,
                        Path(work),
                        cache_dir,
                        log=_log,
                    )
            gen_time.write_csv(gen, ns.out.parent / "gen_time.csv")
            gen_plot_note = gen_time.plot(gen, ns.out.parent / "gen_time.png")
    finally:
        if own_cache:
            shutil.rmtree(cache_dir, ignore_errors=True)

    elapsed = time.perf_counter() - start
    text = write_report(
        ns.out,
        _command(argv),
        opts,
        benches,
        overhead,
        gen,
        gen_plot_note,
        elapsed,
        load_before,
    )
    if limiter is not None:
        limiter.restore_original_limits()
    print(text)
    _log(f"wrote {ns.out}")
    if ns.out.resolve().parent == report.RESULTS_DIR:
        report.assemble()
        _log(f"assembled {report.RESULTS_DIR.parent / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
