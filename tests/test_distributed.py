"""srcgrad.distributed: the sampler's shards, gradients averaged over ranks (one
process, a simulated second rank, device arrays), the clear errors, and real ``mpirun
-n 2`` runs (marked slow; skipped where mpirun or mpi4py is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from srcgrad import data, distributed, nn, tree
from srcgrad.distributed import devices, grads
from srcgrad.distributed import ranks as ranks_module
from srcgrad.distributed.ranks import World
from tests.fakexp import FakeArray, fakexp, to_device, to_host

REPO = Path(__file__).resolve().parent.parent


# -- the sampler ------------------------------------------------------------------


def shards(n: int, batch: int, ranks: int, **kw) -> list[list[np.ndarray]]:
    """Each rank's batches of one epoch (every rank's sampler seeded alike)."""
    return [
        distributed.DistributedSampler(
            n, batch, rank=r, world_size=ranks, rng=7, **kw
        ).batches()
        for r in range(ranks)
    ]


@pytest.mark.parametrize(
    "n,batch,ranks", [(64, 16, 2), (61, 16, 2), (50, 7, 3), (17, 8, 2), (9, 4, 4)]
)
def test_shards_are_disjoint_and_cover_each_global_batch(n, batch, ranks) -> None:
    per_rank = shards(n, batch, ranks)
    order = np.random.default_rng(7).permutation(n)  # what one process would draw
    globals_ = [order[i : i + batch] for i in range(0, n, batch)]
    assert all(len(b) == len(globals_) for b in per_rank)  # the ranks step together
    for k, whole in enumerate(globals_):
        parts = [per_rank[r][k] for r in range(ranks)]
        assert np.array_equal(np.concatenate(parts), whole)  # in order, disjoint, all
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) <= 1


def test_a_last_batch_smaller_than_the_ranks_gives_empty_shards() -> None:
    per_rank = shards(9, 4, 2)  # last batch: 1 sample
    assert [len(b[-1]) for b in per_rank] == [0, 1]
    assert shards(9, 4, 2, drop_last=True)[0][-1].size == 2


def test_every_rank_draws_the_same_order_each_epoch() -> None:
    a = distributed.DistributedSampler(30, 10, rank=0, world_size=2, rng=3)
    b = distributed.DistributedSampler(30, 10, rank=1, world_size=2, rng=3)
    for _ in range(3):  # a new permutation per epoch, alike on both ranks
        whole = [np.concatenate(p) for p in zip(a.batches(), b.batches())]
        assert sorted(np.concatenate(whole).tolist()) == list(range(30))
    assert not np.array_equal(a.indices(), a.indices())


def test_sampler_feeds_the_data_loader_like_one_process() -> None:
    ds = data.ArrayDataset(np.arange(23.0)[:, None], np.arange(23))
    one = data.DataLoader(ds, batch_size=8, shuffle=True, rng=1)
    ranks = [
        data.DataLoader(
            ds,
            batch_sampler=distributed.DistributedSampler(
                data.RandomSampler(23, 1), 8, rank=r, world_size=2
            ),
        )
        for r in range(2)
    ]
    assert len(ranks[0]) == len(ranks[1]) == len(one) == 3
    for (x, y), (x0, y0), (x1, y1) in zip(one, *ranks):
        assert np.array_equal(np.concatenate([y0, y1]), y)
        assert x0.dtype == np.float32 and len(x0) + len(x1) == len(x)
    sampler = distributed.DistributedSampler(23, 8, rank=1, world_size=2)
    assert len(sampler) == len(sampler.indices()) == 4 + 4 + 4
    with pytest.raises(ValueError, match="batch_sampler"):
        data.DataLoader(ds, shuffle=True, batch_sampler=sampler)
    with pytest.raises(ValueError, match="rank 2"):
        distributed.DistributedSampler(23, 8, rank=2, world_size=2)


def test_one_process_takes_whole_batches() -> None:
    (batches,) = shards(10, 4, 1)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert distributed.DistributedSampler(10, 4).world_size == 1  # no mpirun here


# -- gradients on one process, and with a simulated second rank --------------------


def test_allreduce_on_one_process_is_the_identity() -> None:
    g = {"w": np.ones((2, 3), np.float32), "b": None}
    assert distributed.allreduce_grads(g, weight=5) is g
    assert distributed.world_size() == 1 and distributed.rank() == 0
    assert distributed.is_main_process() and not distributed.is_distributed()
    assert World().sum_floats(1.5, 2.0) == (1.5, 2.0)
    assert distributed.sync_buffers(nn.BatchNorm1d(3)) is not None


class OtherRank:
    """A communicator of two ranks whose other rank's buffers are given: each
    Allreduce adds the next of them (what MPI would sum in) and records what it was
    handed."""

    def __init__(self, others: list) -> None:
        self.others = list(others)
        self.seen: list = []

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 2

    def Allreduce(self, inplace, buf, op) -> None:
        self.seen.append(type(buf))
        other = self.others.pop(0)
        buf += other if isinstance(buf, np.ndarray) else to_device(other)

    def Iallreduce(self, inplace, buf, op) -> None:
        self.Allreduce(inplace, buf, op)


MPI_NAMES = types.SimpleNamespace(
    IN_PLACE=object(), SUM=object(), Request=types.SimpleNamespace(Waitall=len)
)


def packed(g: dict, weight: float, limit: int = grads.BUCKET_BYTES) -> list:
    leaves, _ = tree.flatten(g)
    picked = [i for i, v in enumerate(leaves) if grads._floating(v)]
    return [
        grads._pack(leaves, m, weight) for m in grads._buckets(leaves, picked, limit)
    ]


def two_grads() -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    make = lambda: {  # noqa: E731
        "w": rng.standard_normal((4, 5)).astype(np.float32),
        "b": rng.standard_normal(5),
        "s": np.float64(rng.standard_normal()),
        "buffer": None,
    }
    return make(), make()


@pytest.mark.parametrize("limit", [grads.BUCKET_BYTES, 24])
def test_weighted_mean_is_the_gradient_of_the_whole_batch(limit: int) -> None:
    mine, other = two_grads()
    comm = OtherRank(packed(other, 7.0, limit))
    got = distributed.allreduce_grads(
        mine, weight=3.0, world_=World(comm, MPI_NAMES), bucket_bytes=limit
    )
    assert len(comm.seen) == (2 if limit > 1000 else 3)  # per dtype; per leaf
    for k in ("w", "b", "s"):
        want = (3 * np.float64(mine[k]) + 7 * np.float64(other[k])) / 10
        np.testing.assert_allclose(got[k], want, rtol=1e-6)
        assert np.asarray(got[k]).dtype == np.asarray(mine[k]).dtype
    assert isinstance(got["s"], np.float64) and got["buffer"] is None


def test_all_weights_zero_is_refused() -> None:
    g = {"w": np.ones(3)}
    comm = OtherRank(packed({"w": np.zeros(3)}, 0.0))
    with pytest.raises(distributed.DistributedError, match="weight 0"):
        distributed.allreduce_grads(g, weight=0.0, world_=World(comm, MPI_NAMES))


@pytest.mark.parametrize("aware", ["1", "0"])
def test_device_arrays_are_reduced_on_the_device_or_copied_explicitly(
    aware: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake device refuses implicit host copies; without CUDA-aware MPI the one
    copy each way is explicit (cupy's asnumpy / asarray), with it there is none."""
    copies: list[str] = []
    monkeypatch.setenv("SRCGRAD_CUDA_AWARE_MPI", aware)
    devices.cuda_aware_mpi.cache_clear()
    monkeypatch.setattr(
        fakexp, "asnumpy", lambda a: copies.append("down") or to_host(a), raising=False
    )
    monkeypatch.setattr(
        fakexp, "asarray", lambda a: copies.append("up") or to_device(a)
    )
    mine, other = two_grads()
    del mine["s"], other["s"]
    comm = OtherRank(packed(other, 1.0))
    got = distributed.allreduce_grads(
        tree.map(to_device, mine), world_=World(comm, MPI_NAMES)
    )
    devices.cuda_aware_mpi.cache_clear()
    assert isinstance(got["w"], FakeArray)
    assert comm.seen == ([FakeArray] * 2 if aware == "1" else [np.ndarray] * 2)
    assert copies == ([] if aware == "1" else ["down", "down", "up", "up"])
    np.testing.assert_allclose(
        to_host(got["w"]), (mine["w"] + other["w"]) / 2, rtol=1e-6
    )


# -- models ----------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self, width: int = 4) -> None:
        self.fc = nn.Linear(3, width, rng=np.random.default_rng(0))
        self.bn = nn.BatchNorm1d(width)


def test_zeros_like_grads_has_a_gradient_layout() -> None:
    z = distributed.zeros_like_grads(Net())
    assert isinstance(z, Net) and z.bn.running_mean is None
    assert z.fc.weight.shape == (4, 3) and not z.fc.weight.any()


def test_model_signature_sees_names_and_shapes_not_values() -> None:
    a, b = Net(), Net()
    b.fc.weight = b.fc.weight + 1
    assert distributed.model_signature(a) == distributed.model_signature(b)
    assert distributed.parameters_digest(a) != distributed.parameters_digest(b)
    assert distributed.model_signature(a) != distributed.model_signature(Net(5))


# -- clear errors ----------------------------------------------------------------


def test_missing_mpi4py_names_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranks_module, "_WORLD", None)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails
    with pytest.raises(distributed.DistributedError) as err:
        distributed.world()
    for name in ("mpi4py", "openmpi-bin", "libopenmpi-dev"):
        assert name in str(err.value)


def test_train_nproc_without_mpi4py_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    from srcgrad.cli import EXIT_USAGE, main

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    code = main(["train", "mlp", "--nproc", "2", "--out", str(tmp_path / "r")])
    assert code == EXIT_USAGE
    assert "pip install mpi4py" in capsys.readouterr().err


def test_mpirun_command_passes_root_and_oversubscribe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from srcgrad.distributed import launcher as launch

    monkeypatch.setattr(launch, "import_mpi", lambda: None)
    monkeypatch.setattr(launch, "_is_open_mpi", lambda path: True)
    monkeypatch.setattr(launch.os, "geteuid", lambda: 0)
    many = (os.cpu_count() or 1) + 1
    cmd = launch.mpirun_command(many, ["prog"], mpirun="mpirun")
    assert cmd[:3] == ["mpirun", "-n", str(many)] and cmd[-1] == "prog"
    assert "--allow-run-as-root" in cmd and "--oversubscribe" in cmd
    monkeypatch.setattr(launch.os, "geteuid", lambda: 1000)
    cmd = launch.mpirun_command(1, ["prog"], mpirun="mpirun")
    assert "--allow-run-as-root" not in cmd and "--oversubscribe" not in cmd


# -- mpirun -n 2 -----------------------------------------------------------------


def mpirun(mode: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
    pytest.importorskip("mpi4py", reason="no mpi4py (pip install mpi4py)")
    env = dict(
        os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1"
    )
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = ["mpirun", "-n", "2", "--oversubscribe", sys.executable]
    cmd += [str(REPO / "tests" / "mpi_worker.py"), mode]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow  # two MPI processes start: seconds
def test_two_ranks_average_shard_and_refuse_together() -> None:
    done = mpirun("collectives")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0 ok" in done.stdout and "rank 1 ok" in done.stdout


@pytest.mark.slow  # two MPI processes start: seconds
def test_a_rank_that_dies_stops_the_others() -> None:
    done = mpirun("die", timeout=60)  # a hang would time out
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr
    assert "rank 0 was not stopped" not in done.stdout
