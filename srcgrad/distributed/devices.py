"""Where a buffer is summed over the ranks: in place for numpy arrays, and for device
arrays (cupy) on the device when the MPI library is CUDA-aware, else through an explicit
copy to the host and back.

The buckets are reduced with non-blocking ``Iallreduce`` calls started one after the
other and waited for together, so MPI works on one while the next is handed over.

Whether the MPI library is CUDA-aware: ``SRCGRAD_CUDA_AWARE_MPI=1`` or ``0`` says so;
otherwise Open MPI is asked (``ompi_info``: ``mpi_built_with_cuda_support``) and any
other library is taken not to be.  Nothing here runs until a device array is met.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from typing import Any

import numpy as np

from srcgrad import backend
from srcgrad.distributed.ranks import World

__all__ = ["cuda_aware_mpi", "reduce_buffers"]


@functools.cache
def cuda_aware_mpi() -> bool:
    """True when MPI may be handed device pointers (see the module docstring)."""
    said = os.environ.get("SRCGRAD_CUDA_AWARE_MPI", "").strip()
    if said in ("0", "1"):
        return said == "1"
    ompi_info = shutil.which("ompi_info")
    if ompi_info is None:
        return False
    try:
        text = subprocess.run(
            [ompi_info, "--parsable", "--all"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "mpi_built_with_cuda_support:value:true" in text


def _synchronize(xp: Any) -> None:
    """Wait for the device's queued work: MPI reads device memory outside its stream."""
    cuda = getattr(xp, "cuda", None)
    if cuda is not None:
        cuda.get_current_stream().synchronize()


def reduce_buffers(w: World, buffers: list[Any]) -> list[Any]:
    """Each flat contiguous buffer summed over the ranks of ``w``; numpy buffers are
    summed in place, device buffers as the module docstring says."""
    on_host: list[Any] = []
    for buf in buffers:
        if isinstance(buf, np.ndarray):
            on_host.append(buf)
            continue
        xp = backend.namespace(buf)
        if cuda_aware_mpi():
            _synchronize(xp)
            on_host.append(buf)
        else:
            on_host.append(xp.asnumpy(buf))  # one explicit device-to-host copy
    _allreduce_all(w, on_host)
    out = []
    for buf, reduced in zip(buffers, on_host):
        if reduced is buf:
            out.append(buf)
        else:  # back to the device: one explicit host-to-device copy
            out.append(backend.namespace(buf).asarray(reduced))
    return out


def _allreduce_all(w: World, buffers: list[Any]) -> None:
    """Sum every buffer in place: one Allreduce, or Iallreduce for several."""
    if w.size == 1:
        return
    if len(buffers) == 1:
        w.allreduce_sum(buffers[0])
        return
    requests = [w.comm.Iallreduce(w.mpi.IN_PLACE, buf, op=w.mpi.SUM) for buf in buffers]
    w.mpi.Request.Waitall(requests)
