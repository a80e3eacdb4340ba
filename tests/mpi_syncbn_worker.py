"""What each rank runs in tests/test_sync_batchnorm.py's ``mpirun -n 2`` test.

``python tests/mpi_syncbn_worker.py``: a small float64 model with two synchronised batch
norms (one on (N, C, L) input, one on (N, C)) takes one step on a batch of 7 samples
split over the 2 ranks as 4/3, 7/0 and 0/7 (an empty shard run on its empty batch), and
7/0 again with rank 1 running on a stand-in batch inside ``distributed.empty_shard()``.
Each time the loss (weighted by shard size and summed over the ranks), the gradient
after ``allreduce_grads`` and the running statistics must equal what one process
computes on the whole batch with plain BatchNorm, to 1e-10; prints ``rank R ok``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402
from srcgrad import distributed, nn, tree  # noqa: E402

TOL = 1e-10


class Net(nn.Module):
    """(N, 2, 3) -> Linear 3->3 -> (N, 3, 2) -> BatchNorm1d(3) -> Linear 6->4 ->
    BatchNorm1d(4) -> tanh -> Linear 4->2."""

    def __init__(self, rng: np.random.Generator) -> None:
        f64 = np.float64
        self.fc0 = nn.Linear(3, 3, rng=rng, dtype=f64)
        self.bn0 = nn.BatchNorm1d(3, dtype=f64)
        self.fc1 = nn.Linear(6, 4, rng=rng, dtype=f64)
        self.bn1 = nn.BatchNorm1d(4, dtype=f64)
        self.out = nn.Linear(4, 2, rng=rng, dtype=f64)

    def __call__(self, x):
        h = np.swapaxes(self.fc0(x), 1, 2)
        h = self.bn0(h).reshape(x.shape[0], 6)
        return self.out(np.tanh(self.bn1(self.fc1(h))))


def loss(model, x):
    """The mean over the samples of the squared outputs' sum."""
    return np.mean(np.sum(model(x) ** 2, axis=1))


def close(a, b, what: str) -> None:
    err = float(np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0))
    assert err <= TOL * max(1.0, float(np.max(np.abs(b), initial=0.0))), (what, err)


def step(bounds: tuple[int, int], stand_in: bool) -> None:
    w = distributed.world()
    x = np.random.default_rng(3).standard_normal((7, 2, 3)) * 2.0 + 1.0
    whole = Net(np.random.default_rng(0))
    want_loss, want = srcgrad.value_and_grad(loss)(whole, x)
    model = nn.convert_sync_batchnorm(Net(np.random.default_rng(0)))
    assert type(model.bn1) is nn.SyncBatchNorm
    lo, hi = (0, bounds[0]) if w.rank == 0 else bounds
    shard = x[lo:hi]
    n = len(shard)
    if n == 0 and stand_in:
        with distributed.empty_shard():
            srcgrad.value_and_grad(loss)(model, x[:2])
        mine, grads = 0.0, distributed.zeros_like_grads(model)
    else:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no samples
            mine, grads = srcgrad.value_and_grad(loss)(model, shard)
        if n == 0:  # nothing flows from an empty shard, and nothing undefined
            for g in tree.leaves(grads):
                assert g is None or not np.any(g), g
    got_loss = w.sum_floats(n * mine if n else 0.0)[0] / len(x)
    got = distributed.allreduce_grads(grads, weight=n)
    close(got_loss, want_loss, "loss")
    pairs = list(zip(tree.leaves_with_paths(got), tree.leaves_with_paths(want)))
    assert len(pairs) == len(tree.leaves(want)) > 0
    for (path, g), (path_want, g_want) in pairs:
        assert path == path_want and (g is None) == (g_want is None), path
        if g is not None:
            close(g, g_want, tree.path_string(path))
    for name in ("bn0", "bn1"):
        for buf in ("running_mean", "running_var"):
            layer, one = getattr(model, name), getattr(whole, name)
            close(getattr(layer, buf), getattr(one, buf), f"{name}.{buf}")
    model.eval()
    whole.eval()
    close(model(x), whole(x), "evaluation")


def main() -> None:
    w = distributed.world()
    assert w.size == 2
    for bounds, stand_in in (((4, 7), False), ((7, 7), False), ((0, 7), False)):
        step(bounds, stand_in)
    step((7, 7), True)
    print(f"rank {w.rank} ok", flush=True)


if __name__ == "__main__":
    main()
