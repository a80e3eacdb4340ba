"""What a run leaves in its ``--out`` directory besides the checkpoint: ``metrics.csv``
(one row per epoch) and ``curves.png`` (loss and accuracy, train and test).  Both are
rewritten whole after every epoch, through a temporary file and ``os.replace``."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

__all__ = ["COLUMNS", "write_curves", "write_metrics"]

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_metrics(path: Path, history: list[dict[str, float]]) -> None:
    """``metrics.csv``: the header ``COLUMNS`` and one row per epoch (floats written by
    ``repr``, so the file holds the exact values)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in history:
        writer.writerow(
            [int(row["epoch"])] + [repr(float(row[c])) for c in COLUMNS[1:]]
        )
    _replace(path, buf.getvalue().encode())


def write_curves(path: Path, history: list[dict[str, float]], title: str) -> None:
    """``curves.png``: loss (left) and accuracy (right) per epoch, train and test; a
    regression (accuracy nan throughout) gets its loss alone, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    epochs = [int(r["epoch"]) for r in history]
    regression = all(math.isnan(r["test_acc"]) for r in history)
    panels = [("loss", "mean squared error" if regression else "loss")]
    if not regression:
        panels.append(("acc", "accuracy"))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5 * len(panels), 4), constrained_layout=True
    )
    axes = [axes] if regression else list(axes)
    if regression:
        axes[0].set_yscale("log")
    for ax, (what, label) in zip(axes, panels):
        for split, style in (("train", "o-"), ("test", "s--")):
            ax.plot(epochs, [r[f"{split}_{what}"] for r in history], style, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label}")
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    _replace(path, buf.getvalue())
