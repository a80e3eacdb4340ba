"""What each rank runs in tests/test_distributed.py's ``mpirun -n 2`` tests.

``python tests/mpi_worker.py MODE``:

* ``collectives``: the weighted mean of uneven gradients (one buffer and several
  buckets), the sampler's shards over the real ranks, buffers averaged, a model of
  another shape refused on every rank; prints ``rank R ok``.
* ``die``: rank 1 raises while rank 0 waits in an Allreduce; the excepthook must abort
  both (the test asserts a prompt non-zero exit).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from srcgrad import distributed, nn  # noqa: E402


def grads_of(rank: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(rank)
    return {
        "w": rng.standard_normal((3, 4)).astype(np.float32),
        "b": rng.standard_normal(4),  # float64: a bucket of its own
        "none": None,
    }


def collectives() -> None:
    w = distributed.world()
    assert w.size == 2 and distributed.world_size() == 2
    assert distributed.is_main_process() == (w.rank == 0)
    weights = (3.0, 5.0)  # shards of 3 and 5 samples
    g0, g1 = grads_of(0), grads_of(1)
    want = {k: (3 * g0[k] + 5 * g1[k]) / 8 for k in ("w", "b")}
    for bucket_bytes in (distributed.BUCKET_BYTES, 16):  # one buffer; many buckets
        got = distributed.allreduce_grads(
            grads_of(w.rank), weight=weights[w.rank], bucket_bytes=bucket_bytes
        )
        assert got["none"] is None and got["w"].dtype == np.float32
        for k in ("w", "b"):
            np.testing.assert_allclose(got[k], want[k], rtol=1e-6)
        assert (
            distributed.parameters_digest(got)
            == w.allgather(distributed.parameters_digest(got))[0]
        )
    # an empty shard: weight 0, zero gradients
    mine = grads_of(1) if w.rank else distributed.zeros_like_grads(grads_of(0))
    got = distributed.allreduce_grads(mine, weight=float(w.rank))
    np.testing.assert_allclose(got["w"], grads_of(1)["w"], rtol=1e-6)
    # the sampler: the same order everywhere, this rank's part of each batch
    shards = distributed.DistributedSampler(21, 8, rng=5).batches()
    every = w.allgather([s.tolist() for s in shards])
    order = np.random.default_rng(5).permutation(21)
    for k, whole in enumerate(np.split(order, [8, 16])):
        assert sorted(every[0][k] + every[1][k]) == sorted(whole.tolist())
        assert every[0][k] + every[1][k] == whole.tolist()
    # buffers averaged, parameters left alone
    bn = nn.BatchNorm1d(3)
    bn.running_mean = np.full(3, float(w.rank))
    synced = distributed.sync_buffers(bn)
    np.testing.assert_allclose(synced.running_mean, 0.5)
    # ranks disagreeing on the model: refused on both
    model = nn.Linear(3, 4 + w.rank, rng=np.random.default_rng(0))
    try:
        distributed.check_same_model(model)
    except distributed.DistributedError as err:
        assert "ranks disagree on the model signature" in str(err), err
    else:
        raise AssertionError("models of two shapes were not refused")
    print(f"rank {w.rank} ok", flush=True)


def die() -> None:
    w = distributed.world()
    if w.rank == 1:
        raise RuntimeError("rank 1 fails on purpose")
    distributed.allreduce_grads({"w": np.ones(3)})  # waits for rank 1 forever, unless
    print("rank 0 was not stopped", flush=True)


if __name__ == "__main__":
    {"collectives": collectives, "die": die}[sys.argv[1]]()
