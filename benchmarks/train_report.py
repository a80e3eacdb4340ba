"""The ``results/cpu_training.md`` section written by ``python -m benchmarks train``."""

from __future__ import annotations

from benchmarks.harness import summarize
from benchmarks.train import (
    AUTOGRAD,
    HAND,
    SRCGRAD,
    TORCH,
    Options,
    ScalePoint,
    WorkloadResult,
)
from benchmarks.train_models import WORKLOADS

__all__ = ["section"]

# (workload, target ratio srcgrad / PyTorch eager); W7's goal is 0.15.
TORCH_GOALS = {
    "W1": 1.0,
    "W2": 1.0,
    "W3": 1.3,
    "W4": 1.0,
    "W5": 1.0,
    "W6": 1.0,
    "W7": 0.15,
}
HAND_GOAL, MEMORY_GOAL, AUTOGRAD_GOAL = 1.05, 1.2, 20.0

# What the profiles show and what would close each gap (read from the profiles below).
CLOSE = {
    "W2": (
        "The same six matmuls dominate both steps. The statements that differ: the ReLU "
        "cotangents (`split_cotangent`, the exact tie-splitting rule, where the "
        "hand-written code multiplies by a mask in place) and `d_h1 = d_h2 + d_h24 @ "
        "_h21.T`, which allocates where the hand-written `dh2 += ...` accumulates in "
        "place. The ratio lies within the run's interquartile ranges. Closing it: "
        "in-place accumulation into a cotangent nothing else reads, and a mask-multiply "
        "ReLU cotangent."
    ),
    "W3": (
        "The convolutions dominate both steps. srcgrad's backward re-forms the im2col "
        "matrix its forward `tensordot` built and dropped, once in each "
        "`tensordot_cotangent_*`, and `unwindow` (the sliding-window adjoint) scatters the "
        "25 offsets; the hand-written step builds each im2col matrix once and reuses it. "
        "Closing it: keep the im2col matrix of a tensordot over a sliding-window view as the "
        "residual. Against PyTorch the gap is the convolution itself (native `conv2d` and "
        "pooling, no im2col copy): no numpy formulation reaches it; a native "
        "sliding-window-tensordot kernel in srcgrad's runtime would."
    ),
    "W4": (
        "As W3, plus max pooling: the adjoint of `max(axis=(2, 4))` builds a hits mask, "
        "divides by the tie count and multiplies (three full-size passes; the hand-written "
        "code multiplies by one boolean mask), and the ReLU cotangent `split_cotangent` is "
        "the exact tie-splitting rule where the hand-written code masks in place. The second "
        "convolution's cotangents and `unwindow` dominate, each copying the 6-d window view. "
        "Closing it: the im2col residual, an in-place mask for temporaries nothing else "
        "reads, and a single-pass max-pool adjoint. The page faults come from about 120 MiB "
        "of fresh temporaries per step that the allocator hands back to the kernel."
    ),
    "W5": (
        "Both run the same 28-step loops and the same matmuls; srcgrad adds each step's "
        "weight-gradient product at once (`step_sum`, at batch 128) and joins each gate "
        "cotangent in one `scatter_pieces` call. What remains: the forward's written "
        "sigmoid makes four temporaries per gate where the hand-written `_sigmoid` works in "
        "place on one (n, 2H) buffer, and the backward joins the gate cotangents into two "
        "(n, 3H) arrays per step (`d_gh`, `d_gi`) where the hand-written code writes them "
        "into one preallocated (n, T, 3H) buffer. Closing it: in-place elementwise chains "
        "inside loops for temporaries nothing else reads, and a joined cotangent written "
        "straight into the buffer of the kept steps."
    ),
    "W6": (
        "Memory: srcgrad's step peaks at about 3x the hand-written bytes and faults "
        "thousands of pages back in per step (the hand-written step: none), because every "
        "elementwise stage of the attention softmax and the two layer norms is a fresh "
        "(n, heads, T, T) or (n, T, D) array, kept as a residual or rebuilt in the "
        "backward, where the hand-written code updates them in place. Closing it: in-place "
        "updates of temporaries nothing else reads, and recomputing cheap elementwise "
        "residuals instead of keeping them."
    ),
    "W7": (
        "Per-step overhead of numpy calls on (1, 16) arrays. What srcgrad's generated "
        "gradient does that the hand-written one does not: the input projection is one "
        "product before the loop and the weight-gradient sums one product after it (the "
        "input-weight factor read from `xs[::-1]` itself, nothing kept a step); the tanh "
        "slopes `1 - h * h` of every step are one array operation before the backward loop "
        "(codegen/step_batches.py); the backward's 2-D products are `ndarray.dot` (no "
        "matmul-ufunc dispatch). What is left per step: forward one matmul, two adds and the "
        "tanh (the user's operations, kept bit for bit: the forward's `h @ Wh` stays a "
        "matmul); backward one multiply and one product. The backward's cotangents "
        "underflow to subnormal floats after about 150 of the 200 steps (float32), which "
        "slows every implementation's arithmetic alike. The goal against autograd (20x) "
        "moves with autograd's own time."
    ),
    "startup": (
        "`import srcgrad` imports every rule module eagerly, among them scipy.stats and "
        "scipy.linalg (about 3.5 s of it under this load, `python -X importtime`); "
        "registering the scipy rules on first use would remove it."
    ),
}


def _t(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    if abs(n) >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if abs(n) >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n} B"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _ratio(res: WorkloadResult, a: str, b: str) -> float | None:
    ma, mb = res.median(a), res.median(b)
    return ma / mb if ma is not None and mb is not None else None


def _status(value: float | None, target: float, at_most: bool = True) -> str:
    if value is None:
        return "NOT MEASURED"
    ok = value <= target if at_most else value >= target
    return "MET" if ok else "MISSED"


def _why(res: WorkloadResult, status: str) -> str:
    """A link to the workload's profile and the note on what would close the gap."""
    if status != "MISSED":
        return ""
    return f"[{res.work.key} profile and what would close it](#{res.work.key.lower()}-profile)"


def goal_rows(
    results: list[WorkloadResult], startup: tuple[float, float] | None
) -> list[list[str]]:
    """The speed and memory goals of issue 18, one row each."""
    rows = []
    for res in results:
        key = res.work.key
        if key != "W7":
            r = _ratio(res, SRCGRAD, HAND)
            st = _status(r, HAND_GOAL)
            rows.append(
                [
                    key,
                    "srcgrad ÷ hand-written numpy",
                    f"≤ {HAND_GOAL}",
                    _x(r),
                    st,
                    _why(res, st),
                ]
            )
        r = _ratio(res, SRCGRAD, TORCH)
        st = _status(r, TORCH_GOALS[key])
        rows.append(
            [
                key,
                "srcgrad ÷ PyTorch eager",
                f"≤ {TORCH_GOALS[key]}",
                _x(r),
                st,
                _why(res, st),
            ]
        )
        if key == "W7":
            r = _ratio(res, AUTOGRAD, SRCGRAD)
            st = _status(r, AUTOGRAD_GOAL, at_most=False)
            rows.append(
                [
                    key,
                    "HIPS autograd ÷ srcgrad",
                    f"≥ {AUTOGRAD_GOAL:.0f}",
                    _x(r),
                    st,
                    _why(res, st),
                ]
            )
    return rows + _memory_goal_rows(results) + _startup_rows(startup)


def _memory_goal_rows(results: list[WorkloadResult]) -> list[list[str]]:
    rows = []
    for res in results:
        mem_s, mem_h = res.memory.get(SRCGRAD), res.memory.get(HAND)
        if mem_s is None or mem_h is None or not mem_h.peak:
            continue
        r = mem_s.peak / mem_h.peak
        rows.append(
            [
                res.work.key,
                "srcgrad peak bytes ÷ hand-written",
                f"≤ {MEMORY_GOAL}",
                _x(r),
                _status(r, MEMORY_GOAL),
                _why(res, _status(r, MEMORY_GOAL)),
            ]
        )
        limit = max(2.0 * mem_h.faults, 100.0)
        rows.append(
            [
                res.work.key,
                "srcgrad minor page faults per step (no storm)",
                f"≤ max(2 × hand-written, 100) = {limit:.0f}",
                f"{mem_s.faults:.0f}",
                _status(mem_s.faults, limit),
                _why(res, _status(mem_s.faults, limit)),
            ]
        )
    return rows


def _startup_rows(startup: tuple[float, float] | None) -> list[list[str]]:
    total = sum(startup) if startup is not None else None
    measured = "—"
    if startup is not None:
        measured = (
            f"{_t(total)} (import {_t(startup[0])} + first cached W1 call "
            f"{_t(startup[1])})"
        )
    status = _status(total, 0.05)
    return [
        [
            "—",
            "`import srcgrad` + a cached gradient call (fresh process)",
            "< 50 ms",
            measured,
            status,
            CLOSE["startup"] if status == "MISSED" else "",
        ],
        [
            "W1-W7",
            "the same goals for srcgrad.nn / srcgrad.optim code",
            "as above",
            "—",
            "NOT MEASURED: srcgrad has no nn / optim modules yet",
            "",
        ],
    ]


def _x(r: float | None) -> str:
    return f"{r:.2f}×" if r is not None else "—"


def timing_rows(results: list[WorkloadResult]) -> list[str]:
    out = [
        "| workload | implementation | median step | IQR | ÷ hand-written | ÷ PyTorch eager "
        "| notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for res in results:
        if res.error:
            out.append(_row([res.work.key, "—", "—", "—", "—", "—", res.error]))
        hand, torch = res.median(HAND), res.median(TORCH)
        for impl in res.impls:
            if not impl.times:
                out.append(
                    _row(
                        [
                            res.work.key,
                            impl.name,
                            "—",
                            "—",
                            "—",
                            "—",
                            impl.reason or "not timed",
                        ]
                    )
                )
                continue
            s = summarize(impl.times)
            notes = "; ".join(
                x for x in (impl.note, f"{impl.number} step(s)/sample") if x
            )
            out.append(
                _row(
                    [
                        res.work.key,
                        impl.name,
                        f"**{_t(s.median)}**",
                        f"{_t(s.q1)} – {_t(s.q3)}",
                        f"{s.median / hand:.2f}×" if hand else "—",
                        f"{s.median / torch:.2f}×" if torch else "—",
                        notes,
                    ]
                )
            )
    return out


def memory_rows(results: list[WorkloadResult]) -> list[str]:
    out = [
        "| workload | implementation | peak bytes per step | bytes left after the step "
        "| residuals held by the pullback | minor page faults per step |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for res in results:
        for name, mem in res.memory.items():
            residual = "—"
            if name == SRCGRAD:
                residual = (
                    _bytes(res.residual)
                    if res.residual is not None
                    else (res.residual_error or "—")
                )
            peak = _bytes(mem.peak) if mem.peak is not None else "— (not numpy's heap)"
            out.append(
                _row(
                    [
                        res.work.key,
                        name,
                        peak,
                        _bytes(mem.left),
                        residual,
                        f"{mem.faults:.0f}",
                    ]
                )
            )
    return out


def scaling_rows(points: list[ScalePoint]) -> list[str]:
    impls = list(dict.fromkeys(p.impl for p in points))
    out = [
        "| workload | axis | value | " + " | ".join(impls) + " | srcgrad ÷ hand |",
        "| --- | --- | --- | " + " | ".join("---" for _ in impls) + " | --- |",
    ]
    keys = list(dict.fromkeys((p.workload, p.axis, p.value) for p in points))
    for key in keys:
        by = {p.impl: p.median for p in points if (p.workload, p.axis, p.value) == key}
        ratio = by[SRCGRAD] / by[HAND] if SRCGRAD in by and HAND in by else None
        cells = [str(k) for k in key] + [_t(by[i]) if i in by else "—" for i in impls]
        out.append(_row(cells + [_x(ratio)]))
    return out


def profile_rows(res: WorkloadResult, top: int = 14) -> list[str]:
    """The slowest statements of srcgrad's forward and backward and of the hand-written."""
    if res.profile_error:
        return [f"Not profiled: {res.profile_error}", ""]
    totals = {
        w: sum(
            x.micros
            for x in res.profile
            if x.where == w and not x.text.startswith(("for ", "while ", "if "))
        )
        for w in ("fwd", "bwd", "hand")
    }
    out = [
        (
            f"Mean µs per call of each statement (instrumented; loops shown as their "
            f"header's total and statement by statement). Sums of the statements: srcgrad "
            f"forward {totals['fwd']:.0f} µs + backward {totals['bwd']:.0f} µs = "
            f"{totals['fwd'] + totals['bwd']:.0f} µs; hand-written {totals['hand']:.0f} µs "
            f"(gradient only: the optimizer update is not in either). The {top} slowest "
            "statements of each:"
        ),
        "",
        "| pass | line | statement | µs |",
        "| --- | --- | --- | --- |",
    ]
    names = {"fwd": "srcgrad fwd", "bwd": "srcgrad bwd", "hand": "hand-written"}
    for where in ("fwd", "bwd", "hand"):
        lines = sorted(
            (x for x in res.profile if x.where == where), key=lambda x: -x.micros
        )[:top]
        for x in lines:
            text = x.text if len(x.text) <= 80 else x.text[:77] + "..."
            out.append(
                _row([names[where], str(x.lineno), f"`{text}`", f"{x.micros:.0f}"])
            )
    return out + [""]


def section(
    results: list[WorkloadResult],
    points: list[ScalePoint],
    plot_note: str,
    opts: Options,
    argv: list[str],
    elapsed: float,
    load_before: str,
    startup: tuple[float, float] | None = None,
) -> str:
    """The whole ``cpu_training.md`` text."""
    from benchmarks.run import _loadavg, machine_info

    command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + " ".join(
        ["python -m benchmarks train", *argv]
    )
    out = _header(opts, command, elapsed, load_before, _loadavg())
    out += [
        "### Goals",
        "",
        "| workload | goal | target | measured | status | why / what would close it |",
        "| --- | --- | --- | --- | --- | --- |",
        *[_row(r) for r in goal_rows(results, startup)],
        "",
        "### Step times",
        "",
        *timing_rows(results),
        "",
        "### Memory per step",
        "",
        MEMORY_NOTE,
        "",
        *memory_rows(results),
        "",
    ]
    out += _scaling_part(points, plot_note)
    profiled = [r for r in results if r.profile or r.profile_error]
    if profiled:
        out += ["### Where srcgrad's time goes", ""]
        for res in profiled:
            out += [f'<a id="{res.work.key.lower()}-profile"></a>', ""]
            out += [f"#### {res.work.key} profile", ""]
            out += profile_rows(res)
            if CLOSE.get(res.work.key):
                out += [CLOSE[res.work.key], ""]
    out += _workloads_part()
    out += ["### Machine", "", "| | |", "| --- | --- |"]
    for key, value in machine_info(load_before):
        out.append(f"| {key} | {str(value).replace('|', '/')} |")
    return "\n".join(out) + "\n"


MEMORY_NOTE = (
    "Peak bytes: the most a step allocates above what was live before it; bytes "
    "left: what is still allocated after it (both `tracemalloc`, which sees numpy's "
    "arrays, not PyTorch's or XLA's; medians of 3 steps). Residuals: the bytes a "
    "`srcgrad.vjp` pullback holds between its forward and backward pass. Minor page "
    "faults: `getrusage` `ru_minflt` per step, over several back-to-back steps."
)


def _header(
    opts: Options, command: str, elapsed: float, load_before: str, load_after: str
) -> list[str]:
    out = ["## CPU training steps (issue 18)", ""]
    if opts.quick:
        out += ["> **Quick run** (`--quick`): few repetitions, a smoke test only.", ""]
    out += [
        "Written to `results/cpu_training.md` by `python -m benchmarks train`; do not edit "
        "by hand. Rerun with:",
        "",
        "```",
        command,
        "```",
        "",
        (
            f"Total run time {elapsed:.0f} s. A training step is forward, backward and "
            f"optimizer update at batch {opts.batch}, float32 (W7: batch 1, gradient only). "
            f"Every timing is the median of {opts.reps} samples after {opts.warmup} warm-up "
            f"steps; a sample is enough back-to-back steps to last ≥ "
            f"{opts.min_sample * 1e3:.0f} ms, with the garbage collector off; the "
            "implementations are interleaved round-robin (the first rotates each round). "
            "IQR is the interquartile range of the samples. Before anything is timed, every "
            "implementation's loss and gradient are checked against the hand-written ones "
            "on a batch of 8 (rtol 2e-3, atol 1e-4 × the largest gradient entry)."
        ),
        "",
        (
            f"> **Noisy machine.** The 1/5/15-minute load average was {load_before} when "
            f"the run started and {load_after} at the end, on 2 cores shared with other "
            "work: absolute times move by 10-30 % from run to run. Compare the ratios, "
            "which come from interleaved samples of one run."
        ),
        "",
    ]
    return out


def _scaling_part(points: list[ScalePoint], plot_note: str) -> list[str]:
    out = ["### Scaling with batch size and width (W1, W2)", ""]
    if not points:
        return out + [f"Not run: {plot_note}.", ""]
    out += [
        (
            "Median step time (5 interleaved samples each) against the batch size at the "
            "default widths, and against the hidden width at batch 128 (W1: hidden layers "
            "h and h/4; W2: both hidden layers h). Raw data: "
            "[scaling.csv](results/scaling.csv)."
        ),
        "",
    ]
    if plot_note:
        out += [f"No plot: {plot_note}.", ""]
    else:
        out += ["![step time vs batch size and width](results/scaling.png)", ""]
    return out + scaling_rows(points) + [""]


def _workloads_part() -> list[str]:
    out = ["### Workloads and implementations", ""]
    for work in WORKLOADS.values():
        out.append(f"- **{work.key}**: {work.title} (`benchmarks/train_models.py`).")
    out += [
        (
            "- *srcgrad* differentiates the plain numpy functions of "
            "`benchmarks/train_models.py` with `srcgrad.value_and_grad`; *hand-written "
            "numpy* is `benchmarks/train_hand.py` (forward and backward by hand, the "
            "reference); both, and *HIPS autograd* (same source, `np` swapped for "
            "`autograd.numpy`, sliding windows built from slices), update the parameters "
            "with the same numpy Adam / SGD (`benchmarks/train_impls.py`). *PyTorch eager* is "
            "an idiomatic transliteration (`F.conv2d`, `nn.GRU`, "
            "`nn.TransformerEncoderLayer`, `F.cross_entropy`) with `torch.optim`; *JAX* "
            "differentiates the same source with `jax.numpy` and updates with the same Adam "
            "in `jax.numpy`; *JAX jit* compiles the whole step (compilation is not timed)."
        ),
        "",
    ]
    return out
