"""The processes of a data-parallel run: which one this is and how many there are.

A process started by ``mpirun -n N`` (Open MPI or MPICH) is one of N *ranks*; MPI itself
is reached through mpi4py, imported only when the launcher's environment says there is
more than one rank.  Anywhere else (a plain ``python`` or ``srcgrad train``, or mpi4py
missing from a one-rank launch) the world is this one process: rank 0 of 1, and every
collective below is the identity.  Nothing here is a transport of its own.

When the world has several ranks, :func:`world` installs an excepthook that prints the
error and calls ``MPI_Abort``, so that a rank that dies of an exception stops the others
(which would otherwise wait forever in their next collective); a rank killed outright is
noticed by ``mpirun``, which stops the job.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

import numpy as np

from srcgrad.errors import SrcgradError

__all__ = [
    "DistributedError",
    "World",
    "abort",
    "is_distributed",
    "is_main_process",
    "launched_size",
    "rank",
    "world",
    "world_size",
]

# (environment variable, launcher) giving the number of ranks
_SIZE_VARIABLES = (
    ("OMPI_COMM_WORLD_SIZE", "Open MPI"),
    ("PMI_SIZE", "MPICH's hydra, Slurm"),
)

MPI_HINT = (
    "pip install mpi4py (or pip install 'srcgrad[mpi]'), on top of an MPI library: "
    "on Debian apt-get install openmpi-bin libopenmpi-dev"
)


class DistributedError(SrcgradError, RuntimeError):
    """A data-parallel run that cannot go on: MPI missing, ranks that disagree, or a
    rank that failed."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)


def launched_size() -> int:
    """The number of ranks the MPI launcher's environment announces (1 outside one)."""
    for name, _ in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def import_mpi() -> Any:
    """``mpi4py.MPI``, or a :class:`DistributedError` naming what to install."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise DistributedError(
            f"data-parallel training needs mpi4py, which cannot be imported ({err})",
            hint=MPI_HINT,
        ) from None
    return MPI


class World:
    """The ranks of a run, over an mpi4py communicator (``comm=None``: this process
    alone); ``mpi``: the module with ``IN_PLACE`` and ``SUM`` (default ``mpi4py.MPI``).

    Attributes:
        comm: the communicator, or None.
        rank: this process's rank, 0 to ``size - 1``.
        size: the number of ranks.
    """

    def __init__(self, comm: Any = None, mpi: Any = None) -> None:
        self.comm = comm
        self.mpi = mpi if mpi is not None or comm is None else import_mpi()
        self.rank = 0 if comm is None else int(comm.Get_rank())
        self.size = 1 if comm is None else int(comm.Get_size())

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def allreduce_sum(self, buffer: Any) -> Any:
        """Sum a contiguous array over the ranks, in place; returns it."""
        if self.size > 1:
            self.comm.Allreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM)
        return buffer

    def sum_floats(self, *values: float) -> tuple[float, ...]:
        """Python floats summed over the ranks (float64, one Allreduce)."""
        buf = np.array(values, dtype=np.float64)
        return tuple(float(v) for v in self.allreduce_sum(buf))

    def allgather_array(self, local: np.ndarray) -> np.ndarray:
        """Every rank's ``local`` (a contiguous float64 array of the same shape on each)
        stacked in rank order: one Allgather."""
        every = np.empty((self.size,) + local.shape, dtype=local.dtype)
        if self.size > 1:
            self.comm.Allgather(local, every)
        else:
            every[0] = local
        return every

    def allgather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (a small picklable object), in rank order."""
        return [value] if self.size == 1 else list(self.comm.allgather(value))

    def barrier(self) -> None:
        if self.size > 1:
            self.comm.Barrier()

    def check_same(self, what: str, value: str) -> None:
        """Raise on every rank when the ranks' ``value`` strings differ.

        Raises:
            DistributedError: naming the ranks that disagree with rank 0.
        """
        values = self.allgather(value)
        odd = [r for r, v in enumerate(values) if v != values[0]]
        if odd:
            raise DistributedError(
                f"the ranks disagree on {what}: ranks {odd} differ from rank 0 "
                f"({values[odd[0]][:300]} vs {values[0][:300]})",
                hint="start every rank with the same program, model and settings",
            )

    def abort(self, code: int = 1) -> None:
        """Stop every rank now (``MPI_Abort``); a no-op on one process."""
        if self.size > 1:
            sys.stdout.flush()
            sys.stderr.flush()
            self.comm.Abort(code)


_WORLD: World | None = None


def world() -> World:
    """The world of this process, set up on first use: MPI's ``COMM_WORLD`` when the
    launcher started several ranks, else this process alone.

    Raises:
        DistributedError: several ranks were launched and mpi4py cannot be imported.
    """
    global _WORLD
    if _WORLD is None:
        size = launched_size()
        if size > 1:
            mpi = import_mpi()
            _WORLD = World(mpi.COMM_WORLD, mpi)
            _install_excepthook(_WORLD)
        else:
            _WORLD = World(None)
    return _WORLD


def _install_excepthook(w: World) -> None:
    previous = sys.excepthook

    def hook(kind: type, value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        sys.stderr.write(f"rank {w.rank}: aborting every rank after this error\n")
        w.abort(1)

    sys.excepthook = hook


def rank() -> int:
    """This process's rank (0 outside MPI)."""
    return world().rank


def world_size() -> int:
    """The number of ranks (1 outside MPI)."""
    return world().size


def is_main_process() -> bool:
    """True on rank 0, the one process that writes files and prints."""
    return world().rank == 0


def is_distributed() -> bool:
    """True when there is more than one rank."""
    return world().size > 1


def abort(code: int = 1) -> None:
    """Stop every rank (``MPI_Abort``); nothing on one process."""
    world().abort(code)


def digest(*parts: Any) -> str:
    """A sha256 of strings and arrays (an array's dtype, shape and bytes)."""
    h = hashlib.sha256()
    for p in parts:
        if hasattr(p, "dtype") and hasattr(p, "shape"):
            h.update(f"{p.dtype}{tuple(p.shape)}".encode())
            h.update(np.ascontiguousarray(_host_copy(p)).tobytes())
        else:
            h.update(str(p).encode())
    return h.hexdigest()


def _host_copy(a: Any) -> np.ndarray:
    if isinstance(a, (np.ndarray, np.generic)):
        return np.asarray(a)
    get = getattr(a, "get", None)  # cupy
    return np.asarray(get() if get is not None else a)
