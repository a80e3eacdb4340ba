"""Thread pinning for the benchmark commands; imports nothing heavy (numpy reads the
thread-count variables once, at its first import, so they are set before it)."""

from __future__ import annotations

import os

__all__ = ["THREAD_ENV", "XLA_ONE_THREAD", "pin_thread_env"]

THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_thread_env() -> None:
    """Set the thread-count variables; they only take effect before numpy's first import."""
    for var in THREAD_ENV:
        os.environ[var] = "1"
    if XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (
            f"{os.environ.get('XLA_FLAGS', '')} {XLA_ONE_THREAD}".strip()
        )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
