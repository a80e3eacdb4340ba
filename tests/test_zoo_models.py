"""The zoo's models beyond ``mlp``/``lenet3``/``digits-mlp``: a few Adam steps on one
batch lower each one's loss (default run), one small epoch through ``srcgrad train``
learns (slow), and the regression path reports a mean squared error, not an accuracy.
The full runs and their figures are in the README's zoo table."""

from __future__ import annotations

import functools
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from srcgrad import optim, zoo
from srcgrad import data
from srcgrad.zoo.datasets import Splits
from srcgrad.zoo.trainer import Config, Run
from tests.test_train import REPO, learns, metrics, train

MODELS = [
    "mlp-dropout-bn",
    "resmlp",
    "lenet",
    "convnet",
    "gru",
    "lstm-bi",
    "transformer",
    "rnn-sin2cos",
]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Generated modules go to one directory for the session, never into generated/;
    it starts with a copy of the committed zoo modules (used where they are current,
    regenerated there where not), so the tests do not pay for generating them."""
    cache = tmp_path_factory.getbasetemp() / "train-cache"
    for committed in sorted((REPO / "generated").glob("srcgrad.zoo.*")):
        if not (cache / committed.name).exists():
            shutil.copytree(committed, cache / committed.name)
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(cache))
    return cache


@functools.lru_cache(maxsize=None)
def _first_batch(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` training samples of the model's data (read once per data set)."""
    entry = zoo.get(name)
    x, y = _splits(entry.splits).train.arrays
    return x[:n], y[:n]


@functools.lru_cache(maxsize=None)
def _splits(splits) -> Splits:
    return splits(None, None)


def _eval_loss(entry: zoo.ZooModel, model, x, y) -> float:
    model.eval()
    try:
        return float(entry.loss.forward(model, x, y)[0])
    finally:
        model.train()


@pytest.mark.parametrize("name", MODELS)
def test_a_few_steps_lower_the_loss(name: str) -> None:
    """Eight Adam steps (learning rate 5e-3) on one batch of 16 from the model's
    training data: the loss (in evaluation mode, so that dropout draws do not blur it)
    falls by a third or more."""
    entry = zoo.get(name)
    x, y = _first_batch(name, 16)
    model = entry.build(np.random.default_rng(0))
    opt = optim.adam(learning_rate=5e-3)
    state = opt.init(model)
    before = _eval_loss(entry, model, x, y)
    for _ in range(8):
        (loss, out), grads = entry.loss(model, x, y)
        assert np.isfinite(float(loss)) and out.shape[0] == 16
        updates, state = opt.update(grads, state, model)
        model = optim.apply_updates(model, updates)
    after = _eval_loss(entry, model, x, y)
    assert after < (2 / 3) * before, (before, after)


def test_batch_norm_sets_its_running_statistics_in_training_only() -> None:
    entry = zoo.get("convnet")
    x, y = _first_batch("convnet", 8)
    model = entry.build(np.random.default_rng(0))
    assert np.all(model.bn1.running_mean == 0)
    entry.loss(model, x, y)
    trained = model.bn1.running_mean.copy()
    assert not np.all(trained == 0)
    ds = data.ArrayDataset(x, y)
    run = Run(
        entry, Config("convnet", 1, 8, 1e-3, "adam", "constant"), Splits(ds, ds, "")
    )
    run.model = model
    run.evaluate()
    assert np.array_equal(model.bn1.running_mean, trained)  # evaluation leaves them
    assert model.training and model.bn1.training  # and goes back to training mode


# the recurrent and attention models start slower: 63 steps need a larger rate
SMALL_RUN_LR = {"gru": "5e-3", "transformer": "3e-3"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [m for m in MODELS if m != "rnn-sin2cos"])
def test_one_small_epoch_learns(name: str, tmp_path: Path) -> None:
    """One epoch of 2000 images (63 steps of 32) through ``srcgrad train``."""
    lr = ("--lr", SMALL_RUN_LR[name]) if name in SMALL_RUN_LR else ()
    learns(name, tmp_path / "run", "--subset", "2000", "--batch-size", "32", *lr)


def test_regression_reports_a_mean_squared_error(tmp_path: Path) -> None:
    entry = zoo.get("rnn-sin2cos")
    splits = entry.splits(None, None)
    config = Config("rnn-sin2cos", 1, 16, entry.lr, "adam", "constant", subset=500)
    before = Run(entry, config, splits).evaluate()
    assert math.isnan(before.accuracy)
    out = tmp_path / "run"
    args = ("--epochs", "1", "--subset", "500", "--batch-size", "16", "--out", str(out))
    code, stdout, stderr = train("rnn-sin2cos", *args)
    assert code == 0, stderr
    (row,) = metrics(out)
    assert row["test_loss"] < 0.1 * before.mean_loss, (row, before.mean_loss)
    assert math.isnan(row["test_acc"])
    assert "rnn-sin2cos: test MSE" in stdout and "accuracy" not in stdout


def test_sin2cos_refuses_a_data_path(tmp_path: Path) -> None:
    code, _, err = train("rnn-sin2cos", "--data", str(tmp_path), "--out", str(tmp_path))
    assert code != 0 and "synthetic" in err
