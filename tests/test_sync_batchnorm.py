"""nn.SyncBatchNorm: on one process it is BatchNorm (outputs, running statistics and
gradients, the gradient against central differences in float64, no mpi4py imported);
convert_sync_batchnorm; the statistics combined over ranks against the whole batch's
(a simulated second rank); evaluation never talks to the other ranks; ``srcgrad train
--sync-bn``; and a real ``mpirun -n 2`` run whose loss, gradient and running statistics
equal one process's on the whole batch (marked slow; skipped without mpirun or mpi4py).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import nn, tree
from srcgrad.distributed import batchnorm as sync
from srcgrad.distributed import ranks as ranks_module
from srcgrad.distributed.ranks import World
from srcgrad.testing import check_grad

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path_factory.getbasetemp() / "syncbn-cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(cache))


def loss(model, x):
    return np.sum(np.tanh(model(x)) ** 2)


def f64(model):
    return nn.astype(model, np.float64)


CASES = [  # (a model with batch norms, an input)
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), (6, 3)),
    (
        lambda: nn.Sequential(nn.BatchNorm1d(3), nn.BatchNorm1d(3, affine=False)),
        (5, 3, 2),
    ),
    (lambda: nn.Sequential(nn.Conv2d(2, 3, 2), nn.BatchNorm2d(3)), (4, 2, 3, 3)),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_one_process_it_is_batchnorm(make, shape, rng) -> None:
    plain = f64(make())
    synced = nn.convert_sync_batchnorm(copy.deepcopy(plain))
    assert any(type(m) is nn.SyncBatchNorm for m in synced.modules())
    assert not any(
        type(m) in (nn.BatchNorm1d, nn.BatchNorm2d) for m in synced.modules()
    )
    x = rng.standard_normal(shape) * 3.0 + 2.0
    want_value, want = srcgrad.value_and_grad(loss, wrt=(0, 1))(plain, x)
    got_value, got = srcgrad.value_and_grad(loss, wrt=(0, 1))(synced, x)
    assert got_value == want_value  # the same forward pass, bit for bit
    pairs = list(zip(tree.leaves(got), tree.leaves(want)))
    assert len(pairs) == len(tree.leaves(want))
    for a, b in pairs:
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for mine, theirs in zip(synced.modules(), plain.modules()):
        for name in ("running_mean", "running_var"):
            if getattr(theirs, name, None) is not None:
                np.testing.assert_array_equal(
                    getattr(mine, name), getattr(theirs, name)
                )
    check_grad(loss, synced, x, wrt=(0, 1))
    synced.eval()
    plain.eval()
    np.testing.assert_array_equal(synced(x), plain(x))


def test_without_running_statistics_eval_uses_the_batch(rng) -> None:
    bn = f64(nn.SyncBatchNorm(3, track_running_stats=False))
    x = rng.standard_normal((5, 3, 2))
    bn.eval()
    want = (x - x.mean(axis=(0, 2))[:, None]) / np.sqrt(
        x.var(axis=(0, 2))[:, None] + 1e-5
    )
    np.testing.assert_allclose(bn(x), want)
    check_grad(loss, bn, x, wrt=(0, 1))


def test_one_process_imports_no_mpi4py() -> None:
    code = (
        "import sys, numpy as np\n"
        "from srcgrad import nn\n"
        "from srcgrad.nn.sync_norm import global_moments\n"
        "x = np.arange(12.0).reshape(4, 3)\n"
        "bn = nn.SyncBatchNorm(3, dtype=np.float64)\n"
        "y = bn(x)\n"
        "global_moments.vjp(np.ones((3, 3)), global_moments(x, (0,)), x, (0,))\n"
        "assert 'mpi4py' not in sys.modules\n"
        "print('ok')\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
    }
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_convert_replaces_every_batch_norm_and_keeps_its_state(rng) -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            self.blocks = [nn.BatchNorm1d(2), nn.Linear(2, 2, rng=rng)]
            self.heads = {"a": nn.BatchNorm2d(3, momentum=0.3, eps=1e-3)}
            self.seq = nn.Sequential(nn.BatchNorm1d(4, affine=False))
            self.other = nn.LayerNorm(2)

    net = Net()
    net.blocks[0].running_mean = np.array([1.0, 2.0])
    net.eval()
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert out is net
    first, head = net.blocks[0], net.heads["a"]
    assert type(first) is nn.SyncBatchNorm and type(head) is nn.SyncBatchNorm
    assert type(net.seq[0]) is nn.SyncBatchNorm and net.seq[0].weight is None
    assert type(net.blocks[1]) is nn.Linear and type(net.other) is nn.LayerNorm
    np.testing.assert_array_equal(first.running_mean, [1.0, 2.0])
    assert (head.momentum, head.eps, head.num_features) == (0.3, 1e-3, 3)
    assert not first.training
    # the running statistics stay buffers: no gradient flows to them
    assert nn.field_kinds(first)["running_mean"] == "constant"
    alone = nn.convert_sync_batchnorm(nn.BatchNorm1d(2))
    assert type(alone) is nn.SyncBatchNorm


class TwoRanks:
    """A communicator of rank 0 of 2 whose other rank holds ``other``: its Allgather
    and Allreduce bring in what that rank would send."""

    def __init__(
        self, other_local: np.ndarray, other_buffer: np.ndarray | None
    ) -> None:
        self.other_local = other_local
        self.other_buffer = other_buffer
        self.calls: list[str] = []

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 2

    def Allgather(self, send: np.ndarray, recv: np.ndarray) -> None:
        self.calls.append("Allgather")
        recv[0], recv[1] = send, self.other_local

    def Allreduce(self, _inplace, buf: np.ndarray, op=None) -> None:
        self.calls.append("Allreduce")
        buf += self.other_buffer


def fake_world(comm: TwoRanks) -> World:
    return World(comm, mpi=type("MPI", (), {"IN_PLACE": None, "SUM": None}))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_statistics_combined_over_ranks_are_the_whole_batch(dtype, rng) -> None:
    # float32 samples far from 0: summing x and x**2 would cancel badly
    whole = (rng.standard_normal((9, 4, 3)) + 1000.0).astype(dtype)
    mine, theirs = whole[:5], whole[5:]
    w = fake_world(TwoRanks(sync._local(theirs, (0, 2)), None))
    mean, var, count = sync.global_moments(mine, (0, 2), w)
    w64 = whole.astype(np.float64)
    np.testing.assert_allclose(mean, w64.mean(axis=(0, 2)), rtol=1e-12)
    # float32: the squared deviations are rounded (a sum of x**2 would lose 1e-1)
    rtol = 1e-6 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(var, w64.var(axis=(0, 2)), rtol=rtol)
    assert count == 27
    # an empty shard on this side: the other rank's statistics alone
    mean0, var0, count0 = sync.global_moments(mine[:0], (0, 2), w)
    np.testing.assert_allclose(mean0, theirs.astype(np.float64).mean(axis=(0, 2)))
    assert count0 == 12


def test_cotangents_are_weighted_by_shard_size() -> None:
    g_mine, g_theirs = np.full((3, 2), 1.0), np.full((3, 2), 4.0)
    other = np.concatenate(
        [(g_theirs * 6).ravel(), [6 * 2]]
    )  # 6 samples, 2 values each
    w = fake_world(TwoRanks(None, other))
    g, count = sync.reduce_cotangents(g_mine, 2.0, 2 * 2, w)
    np.testing.assert_allclose(g, (2 * g_mine + 6 * g_theirs) / 2)
    assert count == 16
    g, count = sync.reduce_cotangents(np.full((3, 2), np.nan), 0.0, 0, w)  # empty
    assert not g.any() and count == 12


def test_evaluation_talks_to_no_other_rank(monkeypatch, rng) -> None:
    comm = TwoRanks(None, None)
    monkeypatch.setattr(ranks_module, "_WORLD", fake_world(comm))
    bn = f64(nn.SyncBatchNorm(3))
    x = rng.standard_normal((4, 3))
    bn.eval()
    bn(x)
    assert comm.calls == []
    bn.train()
    comm.other_local = sync._local(x, (0,))  # the other rank: the same samples
    y = bn(x)
    assert comm.calls == ["Allgather"]
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0) * 8 / 7)


def test_train_sync_bn_is_refused_for_a_model_without_batch_norms(tmp_path) -> None:
    from tests.test_train import train

    code, _, err = train("mlp", "--sync-bn", "--out", str(tmp_path / "run"))
    assert code != 0 and "mlp has no BatchNorm layer" in err


@pytest.mark.slow  # two short training runs: seconds
def test_train_sync_bn_keeps_it_on_resume(tmp_path) -> None:
    from srcgrad.zoo.trainer import CHECKPOINT, read_config
    from tests.test_train import train

    out = tmp_path / "run"
    common = ["--subset", "40", "--batch-size", "16", "--out", str(out), "-q"]
    code, _, err = train("convnet", "--sync-bn", "--epochs", "1", *common)
    assert code == 0, err
    assert read_config(out / CHECKPOINT).sync_bn
    code, _, err = train("convnet", "--epochs", "2", "--resume", "--out", str(out))
    assert code == 0, err
    assert read_config(out / CHECKPOINT).sync_bn


@pytest.mark.slow  # two MPI processes start and generate their gradients: seconds
def test_two_ranks_give_the_whole_batch_loss_and_gradient(tmp_path) -> None:
    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
    pytest.importorskip("mpi4py", reason="no mpi4py (pip install mpi4py)")
    env = dict(
        os.environ,
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        SRCGRAD_CACHE_DIR=str(tmp_path / "cache"),
    )
    cmd = ["mpirun", "-n", "2", "--oversubscribe", sys.executable]
    cmd += [str(REPO / "tests" / "mpi_syncbn_worker.py")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0 ok" in done.stdout and "rank 1 ok" in done.stdout
