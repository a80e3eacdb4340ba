"""Training a zoo model: the optimizer and schedule by name, the epoch loop (a tqdm bar
per epoch, evaluation after each), and the checkpoint that makes ``--resume`` bit-exact.

The checkpoint is one ``.npz`` written atomically (:func:`srcgrad.serialization.save`:
a temporary file, then ``os.replace``) after every epoch.  It holds the model, the
optimizer state (whose update count is the schedule's position), the data loader's
random generator, and a JSON text with the run's settings, the epoch, the step and the
metrics so far.  Nothing is pickled.  Resuming restores all of it and replays the next
epoch exactly as an uninterrupted run would.

Under ``mpirun -n N`` (:mod:`srcgrad.distributed`) the run is data-parallel: every rank
draws the same epoch order, trains on its shard of each batch, and the gradients are
averaged over the ranks weighted by shard size, so each update is the one-process
update of the whole batch; the epoch's statistics and the test set's evaluation are
summed over the ranks.  After each epoch the ranks average their buffers (BatchNorm's
running statistics) and check that their parameters are bit-identical.  With
``sync_bn`` (``--sync-bn``) the model's batch norms are :class:`srcgrad.nn.SyncBatchNorm`:
they normalise with the whole global batch's statistics, and the gradient is still
exactly the whole batch's.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from srcgrad import data, distributed, nn, optim, schedules, serialization, tree
from srcgrad.zoo.datasets import Splits
from srcgrad.zoo.registry import ZooModel

__all__ = [
    "CHECKPOINT",
    "Config",
    "OPTIMIZERS",
    "SCHEDULES",
    "Run",
    "make_optimizer",
    "make_schedule",
]

CHECKPOINT = "checkpoint.npz"
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "nadam", "radam", "rmsprop", "lion")
SCHEDULES = ("constant", "cosine", "step", "warmup-cosine", "one-cycle")
EVAL_BATCH = 1000


@dataclass
class Config:
    """The settings of a run (what ``srcgrad train`` was given, defaults filled in)."""

    model: str
    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    schedule: str
    seed: int = 0
    subset: int | None = None
    data: str | None = None
    device: str = "cpu"
    sync_bn: bool = False  # batch norms with the global batch's statistics


def make_schedule(name: str, lr: float, total_steps: int) -> schedules.Schedule:
    """The learning rate per step: ``constant``, ``cosine`` (to 0 over the run),
    ``step``
    (halved at each third of the run), ``warmup-cosine`` (linear warm-up over the first
    5% of the steps, then cosine) or ``one-cycle``."""
    total = max(int(total_steps), 1)
    if name == "constant":
        return schedules.constant(lr)
    if name == "cosine":
        return schedules.cosine_decay(lr, decay_steps=total)
    if name == "step":
        return schedules.step_decay(lr, step_size=max(total // 3, 1), gamma=0.5)
    if name == "warmup-cosine":
        steps = max(total // 20, 1)
        return schedules.warmup(schedules.cosine_decay(lr, total - steps), steps)
    if name == "one-cycle":
        return schedules.one_cycle(lr, total)
    raise ValueError(f"no schedule {name!r}; choose from {', '.join(SCHEDULES)}")


def make_optimizer(name: str, lr: schedules.Schedule) -> optim.Transform:
    """The optimizer ``name`` (PyTorch's defaults besides the learning rate)."""
    if name == "momentum":
        return optim.sgd(learning_rate=lr, momentum=0.9)
    if name not in OPTIMIZERS:
        raise ValueError(f"no optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return getattr(optim, name)(learning_rate=lr)


def _seeded(seed: int, stream: int) -> np.random.Generator:
    """The generator of one stream (0: initialisation, 1: data order) of a seed."""
    return np.random.default_rng([seed, stream])


def _first(ds: data.ArrayDataset, n: int | None) -> data.ArrayDataset:
    return ds if n is None else data.ArrayDataset(*(a[:n] for a in ds.arrays))


@dataclass
class EpochStats:
    """Running sums over the batches of one pass."""

    loss: float = 0.0
    correct: int = 0
    seen: int = 0
    regression: bool = False  # no classes: the accuracy is nan

    def add(self, loss: Any, logits: Any, labels: Any) -> None:
        """Add one batch.  On a device (cupy) the sums stay device scalars, so a step
        waits for no device-to-host copy; they come to the host when read."""
        n = len(labels)
        if n == 0:  # this rank's shard of a short last batch
            return
        if isinstance(loss, (float, np.generic, np.ndarray)):
            self.loss += float(loss) * n
        else:
            self.loss = self.loss + loss.astype("float64") * n
        if not self.regression:
            hits = (logits.argmax(axis=1) == labels).sum()
            self.correct = self.correct + (int(hits) if _host(hits) else hits)
        self.seen += n

    def summed(self, world: distributed.World) -> EpochStats:
        """The sums over every rank's share of the pass (on the host)."""
        loss, correct, seen = world.sum_floats(
            float(self.loss), int(self.correct), self.seen
        )
        return EpochStats(loss, int(correct), int(seen), self.regression)

    @property
    def mean_loss(self) -> float:
        return float(self.loss) / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        if self.regression:
            return math.nan
        return int(self.correct) / max(self.seen, 1)


def _host(x: Any) -> bool:
    return isinstance(x, (int, float, np.generic, np.ndarray))


@dataclass
class Run:
    """One training run of a zoo model: its data, model, optimizer and progress.

    ``history`` holds one dict per finished epoch with the keys of ``metrics.csv``.
    """

    entry: ZooModel
    config: Config
    splits: Splits
    device: Any = None  # cupy for --device cuda, else None
    history: list[dict[str, float]] = field(default_factory=list)
    step: int = 0
    world: Any = None  # the ranks (srcgrad.distributed.World); None: MPI's world

    def __post_init__(self) -> None:
        train = _first(self.splits.train, self.config.subset)
        self.train_set = train
        self.test_set = _first(self.splits.test, self.config.subset)
        self.steps_per_epoch = math.ceil(len(train) / self.config.batch_size)
        total = self.steps_per_epoch * self.config.epochs
        lr = make_schedule(self.config.schedule, self.config.lr, total)
        self.opt = make_optimizer(self.config.optimizer, lr)
        model = self.entry.build(_seeded(self.config.seed, 0))
        if self.config.sync_bn:
            model = nn.convert_sync_batchnorm(model)
        self.model = self._to_device(model)
        self.opt_state = self.opt.init(self.model)
        self.data_rng = _seeded(self.config.seed, 1)
        self.world = distributed.world() if self.world is None else self.world
        self.replicas: list[str] = []  # each rank's parameters digest (several ranks)
        if self.world.size > 1:
            distributed.check_same_model(self.model, self.world)
            settings = {**asdict(self.config), "samples": len(train)}
            self.world.check_same("the settings", json.dumps(settings, sort_keys=True))

    # -- device -------------------------------------------------------------------
    def _to_device(self, x: Any) -> Any:
        if self.device is None:
            return x
        xp = self.device

        def leaf(a: Any) -> Any:
            if isinstance(a, np.ndarray):
                return xp.asarray(a)
            if isinstance(a, np.random.Generator):  # dropout draws its masks there
                return xp.random.default_rng(int(a.integers(2**63)))
            return a

        return tree.map(leaf, x)

    @property
    def epoch(self) -> int:
        return len(self.history)

    # -- training -----------------------------------------------------------------
    def _update(self, grads: Any) -> None:
        if self.opt._fused is not None:
            self.opt_state = self.opt.step(self.model, grads, self.opt_state)
        else:
            updates, self.opt_state = self.opt.update(grads, self.opt_state, self.model)
            self.model = optim.apply_updates(self.model, updates)

    def _batches(self) -> Iterator[tuple[Any, Any]]:
        n, w = len(self.train_set), self.world
        sampler = data.RandomSampler(n, self.data_rng)  # one order, on every rank
        shards = distributed.DistributedSampler(
            sampler, self.config.batch_size, rank=w.rank, world_size=w.size
        )
        loader = data.DataLoader(self.train_set, batch_sampler=shards)
        for x, labels in loader:
            yield self._to_device(x), self._to_device(labels)

    def _stand_in_step(self) -> None:
        """With synchronised batch norms, a rank whose shard is empty still joins their
        collectives: it runs a step on a stand-in batch (the first two training samples)
        that counts for nothing (:func:`srcgrad.distributed.empty_shard`)."""
        if not self.config.sync_bn or self.world.size == 1:
            return
        stand_in = np.arange(min(2, len(self.train_set)))
        x, labels = data.to_float32(self.train_set.batch(stand_in))
        with distributed.empty_shard():
            self.entry.loss(self.model, self._to_device(x), self._to_device(labels))

    def train_epoch(self, bar: Callable[..., Any]) -> EpochStats:
        """One pass over the training set, the bar showing loss, accuracy, samples/s."""
        stats = EpochStats(regression=self.entry.task == "regression")
        start = time.perf_counter()
        with bar(total=self.steps_per_epoch) as progress:
            for i, (x, labels) in enumerate(self._batches()):
                if len(labels):
                    (loss, logits), grads = self.entry.loss(self.model, x, labels)
                else:  # an empty shard: weight 0 in the average
                    loss = logits = None
                    self._stand_in_step()
                    grads = distributed.zeros_like_grads(self.model)
                grads = distributed.allreduce_grads(
                    grads, weight=len(labels), world_=self.world
                )
                self._update(grads)
                self.step += 1
                stats.add(loss, logits, labels)
                progress.update(1)
                if i % 10 == 0 or i + 1 == self.steps_per_epoch:
                    seen = stats.seen * self.world.size  # about, for the bar
                    rate = seen / max(time.perf_counter() - start, 1e-9)
                    progress.set_postfix(
                        loss=f"{stats.mean_loss:.4f}",
                        acc=f"{stats.accuracy:.4f}",
                        samples_per_s=f"{rate:.0f}",
                        refresh=False,
                    )
        return stats.summed(self.world)

    def evaluate(self, ds: data.ArrayDataset | None = None) -> EpochStats:
        """Loss and accuracy over ``ds`` (default the test set), in large batches: the
        forward pass alone, in evaluation mode (dropout off, batch norm's running
        statistics), then back to training mode."""
        stats = EpochStats(regression=self.entry.task == "regression")
        ds = self.test_set if ds is None else ds
        lo, hi = distributed.shard_range(len(ds), self.world.rank, self.world.size)
        if self.world.size > 1:  # this rank's part
            ds = data.ArrayDataset(*(a[lo:hi] for a in ds.arrays))
        self.model.eval()
        try:
            for x, labels in data.DataLoader(ds, batch_size=EVAL_BATCH):
                x, labels = self._to_device(x), self._to_device(labels)
                loss, logits = self._forward(x, labels)
                stats.add(loss, logits, labels)
        finally:
            self.model.train()
        return stats.summed(self.world)

    def _sync_replicas(self) -> None:
        """Average the ranks' buffers and check their parameters are identical."""
        if self.world.size == 1:
            return
        self.model = distributed.sync_buffers(self.model, self.world)
        self.replicas = self.world.allgather(distributed.parameters_digest(self.model))
        if len(set(self.replicas)) > 1:
            raise distributed.DistributedError(
                f"the ranks' parameters differ after step {self.step}: "
                f"{self.replicas}",
                hint="every rank must apply the same update; report this",
            )

    def _forward(self, x: Any, labels: Any) -> tuple[Any, Any]:
        """(loss, logits): the function's own forward pass on numpy arrays; on a
        device, the emitted module (written for any array namespace)."""
        if self.device is None:
            return self.entry.loss.forward(self.model, x, labels)
        (loss, logits), _ = self.entry.loss(self.model, x, labels)
        return loss, logits

    def run_epoch(self, bar: Callable[..., Any]) -> dict[str, float]:
        """Train one epoch, evaluate, and record (and return) the epoch's metrics."""
        start = time.perf_counter()
        train = self.train_epoch(bar)
        self._sync_replicas()
        test = self.evaluate()
        row = {
            "epoch": self.epoch + 1,
            "train_loss": train.mean_loss,
            "train_acc": train.accuracy,
            "test_loss": test.mean_loss,
            "test_acc": test.accuracy,
            "seconds": time.perf_counter() - start,
        }
        self.history.append(row)
        return row

    # -- checkpoint ---------------------------------------------------------------
    def _state(self, meta: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "opt_state": self.opt_state,
            "data_rng": self.data_rng,
            "meta": meta,
        }

    def save(self, path: Path) -> None:
        """Write the checkpoint (atomically: a reader sees the old file or the new)."""
        meta = {
            "config": asdict(self.config),
            "epoch": self.epoch,
            "step": self.step,
            "history": self.history,
            "world_size": self.world.size,
            "replica_digests": self.replicas,
        }
        serialization.save(path, self._state(json.dumps(meta)))

    def restore(self, path: Path) -> None:
        """Load the checkpoint at ``path`` into this run (built with its config)."""
        state = serialization.load(path, self._state(""))
        meta = json.loads(state["meta"])
        self.model = state["model"]
        self.opt_state = state["opt_state"]
        self.data_rng = state["data_rng"]
        self.step = int(meta["step"])
        self.history = list(meta["history"])


def read_config(path: Path) -> Config:
    """The settings stored in the checkpoint at ``path``."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    return Config(**meta["config"])


def default_bar(desc: str, disable: bool = False) -> Callable[..., Any]:
    """A tqdm bar factory for one epoch (on stderr)."""
    from tqdm import tqdm

    def bar(total: int) -> Any:
        return tqdm(
            total=total,
            desc=desc,
            unit="batch",
            file=sys.stderr,
            leave=True,
            disable=disable,
        )

    return bar
