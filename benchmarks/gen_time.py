"""Generation time of srcgrad against function length (issue 6: < 1 s at 50 lines, linear).

A synthetic straight-line function of N statements is written as source text into a module
file in a temporary directory and imported under a fresh module name for every measurement,
with the srcgrad cache directory emptied first, so each measurement generates from scratch.
The generation time is the first call of ``srcgrad.grad(f)`` minus the median of later
(cached) calls. The first generation in the process pays for importing libcst and black; it is
measured separately and left out of the fit.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import first_line

__all__ = [
    "GenResult",
    "GenRow",
    "measure_generation",
    "plot",
    "synthetic_source",
    "write_csv",
]

# Each statement combines the two previous values, so every line is active and needed. The
# cycle keeps values bounded: tanh and sin squash, W has spectral norm about 1.
_PATTERNS = (
    "a{k} = np.tanh(a{k1})",
    "a{k} = a{k1} * a{k2}",
    "a{k} = a{k1} + 0.5 * a{k2}",
    "a{k} = np.sin(a{k1}) - a{k2}",
    "a{k} = a{k1} @ W",
)


@dataclass(frozen=True)
class GenRow:
    """One generation measurement (seconds)."""

    n_lines: int
    repeat: int
    first_call: float
    cached_call: float

    @property
    def generation(self) -> float:
        """Time spent generating: the first call minus a cached call."""
        return self.first_call - self.cached_call


@dataclass
class GenResult:
    """All measurements, the warm-up, and why generation failed (overall or per length)."""

    rows: list[GenRow]
    warmup_first_call: float | None
    error: str = ""
    failures: dict[int, str] = field(default_factory=dict)

    def medians(self) -> dict[int, float]:
        """Median generation time per length."""
        by_n: dict[int, list[float]] = {}
        for row in self.rows:
            by_n.setdefault(row.n_lines, []).append(row.generation)
        return {n: float(np.median(v)) for n, v in sorted(by_n.items())}

    def fit(self) -> tuple[float, float, float] | None:
        """Least-squares line through the medians: ``(slope s/line, intercept s, R^2)``."""
        med = self.medians()
        if len(med) < 2:
            return None
        n = np.array(list(med), dtype=float)
        t = np.array(list(med.values()))
        slope, intercept = np.polyfit(n, t, 1)
        resid = t - (slope * n + intercept)
        total = float(np.sum((t - t.mean()) ** 2))
        r2 = 1.0 - float(np.sum(resid**2)) / total if total > 0 else 1.0
        return float(slope), float(intercept), r2


def synthetic_source(n_lines: int) -> str:
    """Source of a module defining ``f(x, W)``: ``n_lines`` straight-line statements.

    Args:
        n_lines: statements in the body before the ``return`` (at least 1).

    Returns:
        The module text.
    """
    body = ["a0 = np.tanh(x @ W)"]
    for k in range(1, n_lines):
        pattern = _PATTERNS[(k - 1) % len(_PATTERNS)]
        body.append(pattern.format(k=k, k1=k - 1, k2=max(k - 2, 0)))
    lines = [
        f'"""Synthetic straight-line function of {n_lines} statements (srcgrad benchmark)."""',
        "import numpy as np",
        "",
        "",
        "def f(x, W):",
        *(f"    {line}" for line in body),
        f"    return np.sum(a{n_lines - 1})",
        "",
    ]
    return "\n".join(lines)


def _load(path: Path, module_name: str) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _one(
    srcgrad: Any, path: Path, module_name: str, cache_dir: Path, args: tuple
) -> tuple[float, float]:
    """(first call, median cached call) of ``srcgrad.grad(f, wrt=(0, 1))``, from a cold cache."""
    _empty(cache_dir)
    module = _load(path, module_name)
    try:
        df = srcgrad.grad(module.f, wrt=(0, 1))
        start = time.perf_counter()
        df(*args)
        first = time.perf_counter() - start
        cached = []
        for _ in range(5):
            start = time.perf_counter()
            df(*args)
            cached.append(time.perf_counter() - start)
        return first, float(np.median(cached))
    finally:
        sys.modules.pop(module_name, None)


def measure_generation(
    srcgrad: Any,
    sizes: list[int],
    repeats: int,
    workdir: Path,
    cache_dir: Path,
    log: Any = print,
) -> GenResult:
    """Generation time of :func:`synthetic_source` functions of each length.

    Args:
        srcgrad: the imported srcgrad package.
        sizes: function lengths, in statements.
        repeats: measurements per length (interleaved: all lengths, then again).
        workdir: where the module files are written.
        cache_dir: ``$SRCGRAD_CACHE_DIR``; emptied before every measurement.
        log: progress messages.

    Returns:
        The measurements; ``error`` says why none could be made (the warm-up failed), and
        ``failures`` why a length failed (it is not retried).
    """
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    args = (rng.standard_normal((4, 8)), q)
    paths = {}
    for n in sorted(set(sizes) | {10}):
        paths[n] = workdir / f"srcgrad_bench_synthetic_{n}.py"
        paths[n].write_text(synthetic_source(n))
    result = GenResult(rows=[], warmup_first_call=None)
    try:
        first, _ = _one(srcgrad, paths[10], "srcgrad_bench_warmup", cache_dir, args)
    except Exception as exc:  # noqa: BLE001 - report, never crash
        result.error = first_line(exc)
        return result
    result.warmup_first_call = first
    for r in range(repeats):
        for n in sizes:
            if n in result.failures:
                continue
            try:
                first, cached = _one(
                    srcgrad,
                    paths[n],
                    f"srcgrad_bench_synthetic_{n}_r{r}",
                    cache_dir,
                    args,
                )
            except Exception as exc:  # noqa: BLE001
                result.failures[n] = first_line(exc)
                log(f"    N={n}: failed: {result.failures[n]}")
                continue
            result.rows.append(GenRow(n, r, first, cached))
            log(f"    N={n} repeat {r}: {first - cached:.3f} s")
    return result


def write_csv(result: GenResult, path: Path) -> None:
    """One row per measurement: lines, repeat, generation, first call, cached call (seconds)."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["n_lines", "repeat", "generation_s", "first_call_s", "cached_call_s"]
        )
        for row in result.rows:
            writer.writerow(
                [
                    row.n_lines,
                    row.repeat,
                    f"{row.generation:.6f}",
                    f"{row.first_call:.6f}",
                    f"{row.cached_call:.6f}",
                ]
            )


def plot(result: GenResult, path: Path) -> str:
    """Plot generation time against length with the fitted line; ``""`` or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:  # noqa: BLE001
        return f"matplotlib unavailable ({first_line(exc)})"
    if not result.rows:
        return "no measurements"
    fig, (ax, ax_per) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    ax.plot(
        [r.n_lines for r in result.rows],
        [r.generation for r in result.rows],
        "o",
        alpha=0.5,
        label="measurement",
    )
    med = result.medians()
    ax.plot(list(med), list(med.values()), "s", color="C1", label="median")
    fit = result.fit()
    if fit:
        slope, intercept, r2 = fit
        xs = np.linspace(0, max(med), 50)
        sign = "+" if intercept >= 0 else "−"
        ax.plot(
            xs,
            slope * xs + intercept,
            "--",
            color="C2",
            label=(
                f"fit: {slope * 1e3:.2f} ms/line {sign} {abs(intercept) * 1e3:.0f} ms "
                f"(R²={r2:.3f})"
            ),
        )
    ax.axhline(1.0, color="C3", lw=0.8, ls=":", label="1 s")
    ax.set_xlabel("statements in the function")
    ax.set_ylabel("generation time (s)")
    ax.set_title("srcgrad generation time (cold cache)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax_per.plot(
        [r.n_lines for r in result.rows],
        [r.generation / r.n_lines * 1e3 for r in result.rows],
        "o",
        alpha=0.5,
        label="measurement",
    )
    ax_per.plot(
        list(med),
        [t / n * 1e3 for n, t in med.items()],
        "s-",
        color="C1",
        label="median",
    )
    ax_per.set_xscale("log")
    ax_per.set_ylim(bottom=0)
    ax_per.set_xlabel("statements in the function (log scale)")
    ax_per.set_ylabel("generation time per statement (ms)")
    ax_per.set_title("per statement: flat means linear growth")
    ax_per.legend(fontsize=8)
    ax_per.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return ""
