"""``srcgrad train MODEL``: train a zoo model on its data with generated gradients.

A tqdm bar per epoch shows the running loss, accuracy and samples/s; the test set is
evaluated after each epoch; a summary line closes the run.  ``--out`` (default
``runs/MODEL``) receives ``metrics.csv``, ``curves.png`` and ``checkpoint.npz`` after
every epoch; a directory that already holds a run is refused unless ``--resume``
continues it.

Under ``mpirun -n N`` (or with ``--nproc N``, which starts mpirun itself) the run is
data-parallel over N ranks (:mod:`srcgrad.distributed`); rank 0 alone prints and writes.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from srcgrad.cli.exits import EXIT_CLEAN, EXIT_INTERNAL, EXIT_USAGE, UsageError
from srcgrad.cli.output import Out, display

# what a resumed run takes from its checkpoint (--epochs and --device may change)
_FIXED_ON_RESUME = (
    "batch_size",
    "lr",
    "optimizer",
    "schedule",
    "seed",
    "subset",
    "data",
    "sync_bn",
)


def _models_epilog() -> str:
    from srcgrad import zoo

    width = max(map(len, zoo.names()))
    lines = [f"  {m.name:<{width}}  {m.description}" for m in zoo.MODELS.values()]
    return "models:\n" + "\n".join(lines)


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    from srcgrad.zoo.trainer import OPTIMIZERS, SCHEDULES

    p = sub.add_parser(
        "train",
        parents=[common],
        help="train a zoo model (srcgrad train --help lists them)",
        description="Train a model of the zoo on its data; every gradient comes "
        "from a\n"
        "generated backward pass (under generated/).  Writes metrics.csv, curves.png\n"
        "and a checkpoint after every epoch to --out.",
        epilog=_models_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="a zoo model (listed below)")
    p.add_argument("--epochs", type=int, help="epochs in all (default: the model's)")
    p.add_argument("--batch-size", type=int, help="samples per step")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the model's")
    p.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--seed", type=int, help="seeds initialisation and data order")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/MODEL)")
    p.add_argument(
        "--subset", type=int, metavar="N", help="train on the first N samples only"
    )
    p.add_argument(
        "--data", metavar="PATH", help="a directory of Fashion-MNIST idx(.gz) files"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out where it ended"
    )
    p.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train data-parallel on N processes (starts mpirun; needs mpi4py)",
    )
    p.add_argument(
        "--sync-bn",
        action="store_true",
        default=None,
        help="with several ranks, batch norms use the whole global batch's "
        "statistics (nn.SyncBatchNorm) rather than each rank's shard's",
    )
    p.set_defaults(func=run)


def _device(name: str) -> Any:
    """cupy for ``cuda`` (refused clearly without cupy or a GPU), else None."""
    if name != "cuda":
        return None
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001  (no cupy, no driver, no device)
        raise UsageError(
            f"--device cuda is unavailable here ({type(err).__name__}: {err}); hint: "
            'pip install "srcgrad[gpu]" on a machine with an NVIDIA GPU, or use '
            "--device cpu"
        ) from None
    if count < 1:
        raise UsageError("--device cuda: cupy sees no GPU; hint: use --device cpu")
    return cupy


def _config(ns: argparse.Namespace, entry: Any, checkpoint: Path) -> Any:
    """The run's settings: the checkpoint's when resuming (a different value given for
    one of them is refused), else the options over the model's defaults."""
    from srcgrad.zoo.trainer import Config, read_config

    given = {
        k: getattr(ns, k)
        for k in ("epochs", *_FIXED_ON_RESUME)
        if getattr(ns, k) is not None
    }
    for k in ("epochs", "batch_size", "subset"):
        if k in given and given[k] < 1:
            raise UsageError(f"--{k.replace('_', '-')} must be at least 1")
    if ns.resume:
        stored = read_config(checkpoint)
        if stored.model != entry.name:
            raise UsageError(
                f"{display(checkpoint)} is a run of {stored.model!r}, "
                f"not {entry.name!r}"
            )
        for k in _FIXED_ON_RESUME:
            if k in given and given[k] != getattr(stored, k):
                raise UsageError(
                    f"--resume continues with the run's --{k.replace('_', '-')} "
                    f"{getattr(stored, k)!r}; hint: leave it out, or start a new --out"
                )
        return Config(
            **{**asdict(stored), "epochs": given.get("epochs", stored.epochs)},
        )
    defaults = {
        k: getattr(entry, k)
        for k in ("epochs", "batch_size", "lr", "optimizer", "schedule")
    }
    return Config(model=entry.name, **{**defaults, "seed": 0, **given})


def _prepare_out(ns: argparse.Namespace, out: Path, checkpoint: Path) -> None:
    from srcgrad.zoo.report import COLUMNS  # noqa: F401  (the files a run writes)

    has_run = checkpoint.exists() or (out / "metrics.csv").exists()
    if ns.resume and not checkpoint.exists():
        raise UsageError(
            f"--resume: no {checkpoint.name} in {display(out)}; hint: start the run "
            "without --resume"
        )
    if has_run and not ns.resume:
        raise UsageError(
            f"{display(out)} already holds a run; hint: pass --resume to continue it, "
            "or choose another --out"
        )


def _check_batch_norms(entry: Any) -> None:
    """Refuse ``--sync-bn`` for a model without batch norms."""
    import numpy as np

    from srcgrad import nn

    model = entry.build(np.random.default_rng(0))
    if not any(isinstance(m, nn.norm._BatchNorm) for m in model.modules()):
        raise UsageError(
            f"--sync-bn: {entry.name} has no BatchNorm layer to synchronise; hint: "
            "leave it out, or choose a model with batch norms (mlp-dropout-bn, convnet)"
        )


def _splits(entry: Any, data_path: str | None) -> Any:
    try:
        return entry.splits(data_path, entry.classes)
    except ImportError as err:
        raise UsageError(f"{entry.name}: {err}") from None
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(f"{entry.name}: {err}") from None


def _setup(ns: argparse.Namespace) -> tuple[Any, ...]:
    """What a run needs, from the options: refused with a UsageError before any
    training (on every rank alike)."""
    from srcgrad import zoo
    from srcgrad.zoo.trainer import CHECKPOINT

    try:
        entry = zoo.get(ns.model)
    except KeyError as err:
        raise UsageError(str(err.args[0])) from None
    out = Path(ns.out) if ns.out else Path("runs") / entry.name
    checkpoint = out / CHECKPOINT
    _prepare_out(ns, out, checkpoint)
    config = _config(ns, entry, checkpoint)
    config.device = ns.device
    if config.sync_bn:
        _check_batch_norms(entry)
    device = _device(ns.device)
    splits = _splits(entry, config.data)
    return entry, out, checkpoint, config, device, splits


def run(ns: argparse.Namespace) -> int:
    from srcgrad import distributed

    if ns.nproc is not None and ns.nproc < 1:
        raise UsageError("--nproc must be at least 1")
    launched = distributed.launched_size()
    if ns.nproc is not None and ns.nproc > 1 and launched == 1:
        return _launch(ns)
    if ns.nproc is not None and launched > 1 and ns.nproc != launched:
        raise UsageError(
            f"--nproc {ns.nproc} under an MPI launch of {launched} ranks; hint: leave "
            "out --nproc when starting srcgrad with mpirun"
        )
    try:
        world = distributed.world()
    except distributed.DistributedError as err:
        raise UsageError(str(err).removeprefix("error: ")) from None
    if world.size == 1:
        return _train(ns, world, _setup(ns))
    if not world.is_main:
        Out.quiet = True
    try:  # a refusal on any rank stops every rank, with its message, before training
        setup, refusal = _setup(ns), None
    except UsageError as err:
        setup, refusal = None, str(err)
    refusals = [r for r in world.allgather(refusal) if r is not None]
    if refusals:  # said once, by rank 0
        if world.is_main:
            raise UsageError(refusals[0])
        return EXIT_USAGE
    try:
        return _train(ns, world, setup)
    except BaseException as err:  # a rank that fails stops them all (no rank hangs)
        code = EXIT_USAGE if isinstance(err, UsageError) else EXIT_INTERNAL
        sys.stderr.write(f"rank {world.rank}: error: {type(err).__name__}: {err}\n")
        if not isinstance(err, (UsageError, distributed.DistributedError)):
            traceback.print_exc()
        world.abort(code)
        raise


def _launch(ns: argparse.Namespace) -> int:
    """``srcgrad train ... --nproc N``: the same command on N ranks under mpirun."""
    from srcgrad import distributed

    args = [ns.model, "--device", ns.device]
    for name in ("epochs", "batch_size", "lr", "optimizer", "schedule", "seed"):
        if getattr(ns, name) is not None:
            args += [f"--{name.replace('_', '-')}", str(getattr(ns, name))]
    for name in ("out", "subset", "data"):
        if getattr(ns, name) is not None:
            args += [f"--{name}", str(getattr(ns, name))]
    args += ["--resume"] * bool(ns.resume) + ["-q"] * bool(ns.quiet)
    args += ["--sync-bn"] * bool(ns.sync_bn)
    args += ["-v"] * bool(ns.verbose)
    argv = [sys.executable, "-m", "srcgrad", "train", *args]
    try:
        command = distributed.mpirun_command(ns.nproc, argv)
        Out.info(f"starting {ns.nproc} ranks: {' '.join(command)}")
        return distributed.launch(ns.nproc, argv)
    except distributed.DistributedError as err:
        raise UsageError(str(err).removeprefix("error: ")) from None


def _train(ns: argparse.Namespace, world: Any, setup: tuple[Any, ...]) -> int:
    from srcgrad.zoo.report import write_curves, write_metrics
    from srcgrad.zoo.trainer import Run, default_bar

    entry, out, checkpoint, config, device, splits = setup
    if world.is_main:
        out.mkdir(parents=True, exist_ok=True)
    Out.info(f"data: {splits.source}")
    r = Run(entry, config, splits, device=device, world=world)
    if ns.resume:
        r.restore(checkpoint)
        Out.info(f"resuming {display(out)} after epoch {r.epoch} (step {r.step})")
    Out.info(
        f"training {entry.name} for {config.epochs} epochs: {len(r.train_set)} "
        f"samples, batch {config.batch_size}, {config.optimizer} lr {config.lr:g} "
        f"({config.schedule}), seed {config.seed}, {ns.device}"
        + (f", {world.size} ranks" if world.size > 1 else "")
    )
    while r.epoch < config.epochs:
        desc = f"epoch {r.epoch + 1}/{config.epochs}"
        bar = default_bar(desc, disable=Out.quiet)
        row = r.run_epoch(bar)
        if not world.is_main:
            continue
        r.save(checkpoint)
        write_metrics(out / "metrics.csv", r.history)
        write_curves(out / "curves.png", r.history, entry.name)
        Out.info(
            f"{desc}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f} | "
            f"test loss {row['test_loss']:.4f} acc {row['test_acc']:.4f} | "
            f"{row['seconds']:.1f} s"
        )
    if world.is_main:
        _summary(entry.name, r, out)
    return EXIT_CLEAN


def _summary(name: str, r: Any, out: Path) -> None:
    if not r.history:
        print(f"{name}: nothing to train (0 epochs)")
        return
    last = r.history[-1]
    per_epoch = sum(row["seconds"] for row in r.history) / len(r.history)
    if r.entry.task == "regression":
        figure = f"test MSE {last['test_loss']:.3g}"
    else:
        figure = (
            f"test accuracy {last['test_acc']:.2%} (test loss {last['test_loss']:.4f})"
        )
    print(
        f"{name}: {figure} after {r.epoch} epochs, {per_epoch:.1f} s/epoch; "
        f"wrote {display(out / 'metrics.csv')}, curves.png, checkpoint.npz"
    )
