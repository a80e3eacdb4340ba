"""Starting N ranks of a command with the MPI library's own launcher (``mpirun``).

``srcgrad train --nproc N`` runs :func:`launch`: ``mpirun -n N python -m srcgrad
train ...`` without ``--nproc``.  For Open MPI it adds ``--allow-run-as-root`` when run
as root (containers, CI) and ``--oversubscribe`` when N exceeds the cores, and it gives
each rank an equal share of the cores for its BLAS threads unless the caller set them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from srcgrad.distributed.ranks import MPI_HINT, DistributedError, import_mpi

__all__ = ["THREAD_VARIABLES", "launch", "mpirun_command"]

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
)


def _is_open_mpi(mpirun: str) -> bool:
    try:
        text = subprocess.run(
            [mpirun, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in text or "OpenRTE" in text


def mpirun_command(nproc: int, argv: list[str], mpirun: str | None = None) -> list[str]:
    """The command line that starts ``argv`` on ``nproc`` ranks.

    Raises:
        DistributedError: no ``mpirun`` on the PATH, or mpi4py missing.
    """
    import_mpi()  # refuse here, before N ranks each fail
    found = mpirun or shutil.which("mpirun") or shutil.which("mpiexec")
    if found is None:
        raise DistributedError(
            "--nproc needs mpirun, which is not on the PATH", MPI_HINT
        )
    cmd = [found, "-n", str(nproc)]
    if _is_open_mpi(found):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        if nproc > (os.cpu_count() or 1):
            cmd.append("--oversubscribe")
        cmd += ["--bind-to", "none"]  # each rank's BLAS threads may use any core
    return cmd + argv


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``argv`` on ``nproc`` ranks and return mpirun's exit code."""
    cmd = mpirun_command(nproc, argv)
    env = dict(os.environ)
    share = str(max((os.cpu_count() or 1) // nproc, 1))
    for name in THREAD_VARIABLES:
        env.setdefault(name, share)
    return subprocess.run(cmd, env=env, check=False).returncode


def python_module_argv(module: str, args: list[str]) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
