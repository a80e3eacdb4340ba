"""``srcgrad train`` and the zoo: small runs learn, ``--resume`` is bit-exact, a killed
run leaves its last checkpoint whole, the command refuses what it should, and the zoo's
emitted gradients ship with the package (an installed srcgrad reads them there and
writes nothing into the current directory)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import nn, serialization, shipped, tree, zoo
from srcgrad.cli import EXIT_USAGE, main
from srcgrad.zoo import datasets
from srcgrad.zoo.mlp import mlp_example, mlp_loss
from srcgrad.zoo.trainer import CHECKPOINT, Config, Run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Generated modules go to one directory for the session, never into generated/."""
    cache = tmp_path_factory.getbasetemp() / "train-cache"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(cache))
    return cache


def train(*args: str) -> tuple[int, str, str]:
    """``srcgrad train ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *args])
    return code, out.getvalue(), err.getvalue()


def metrics(out: Path) -> list[dict[str, float]]:
    lines = (out / "metrics.csv").read_text().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, map(float, line.split(",")))) for line in lines[1:]]


def learns(name: str, out: Path, *args: str) -> dict[str, float]:
    """Train ``name`` small for one epoch; its test loss must fall well below the
    untrained model's and its accuracy beat chance by a wide margin."""
    entry = zoo.get(name)
    splits = entry.splits(None, entry.classes)
    config = Config(name, 1, entry.batch_size, entry.lr, entry.optimizer, "constant")
    before = Run(entry, replace(config, subset=500), splits).evaluate()
    code, stdout, stderr = train(name, "--epochs", "1", "--out", str(out), *args)
    assert code == 0, stderr
    (row,) = metrics(out)
    chance = 1.0 / len(entry.classes or range(10))
    assert row["test_loss"] < 0.75 * before.mean_loss, (row, before.mean_loss)
    assert row["train_loss"] < before.mean_loss
    assert row["test_acc"] > chance + 0.4, row
    assert f"{name}: test accuracy" in stdout
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    return row


# -- small runs of each model --------------------------------------------------------


def test_mlp_small_run_learns(tmp_path: Path) -> None:
    learns("mlp", tmp_path / "run", "--subset", "1000", "--batch-size", "32")


@pytest.mark.slow
def test_lenet3_small_run_learns(tmp_path: Path) -> None:
    learns("lenet3", tmp_path / "run", "--subset", "1200", "--batch-size", "32")


def test_digits_mlp_small_run_learns(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    learns("digits-mlp", tmp_path / "run", "--batch-size", "16")


def test_digits_mlp_without_scikit_learn_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn fails
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, _, err = train("digits-mlp", "--out", str(tmp_path / "run"))
    assert code == EXIT_USAGE and "pip install scikit-learn" in err


# -- resume and checkpoints ----------------------------------------------------------


def _small(**kw: object) -> tuple[Config, datasets.Splits]:
    entry = zoo.get("mlp")
    config = Config("mlp", 2, 50, 1e-3, "adam", "cosine", seed=3, subset=400)
    return replace(config, **kw), entry.splits(None, entry.classes)


def _arrays(run: Run) -> list[np.ndarray]:
    return [np.asarray(a) for a in tree.leaves(run.model) if a is not None]


def test_resume_reproduces_an_uninterrupted_run_exactly(tmp_path: Path) -> None:
    config, splits = _small()
    entry, bar = zoo.get("mlp"), _no_bar
    whole = Run(entry, config, splits)
    for _ in range(2):
        whole.run_epoch(bar)
    first = Run(entry, config, splits)
    first.run_epoch(bar)
    first.save(tmp_path / CHECKPOINT)
    resumed = Run(entry, config, splits)
    resumed.restore(tmp_path / CHECKPOINT)
    assert resumed.epoch == 1 and resumed.step == first.step
    resumed.run_epoch(bar)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole.history]
    assert [
        {k: v for k, v in r.items() if k != "seconds"} for r in resumed.history
    ] == (strip)
    for a, b in zip(_arrays(whole), _arrays(resumed), strict=True):
        assert np.array_equal(a, b)
    # the optimizer state, its update count (the schedule's position) included
    for a, b in zip(tree.leaves(whole.opt_state), tree.leaves(resumed.opt_state)):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert tree.leaves(whole.opt_state) and resumed.step == whole.step


def test_checkpoint_is_npz_without_pickle(tmp_path: Path) -> None:
    config, splits = _small(epochs=1)
    r = Run(zoo.get("mlp"), config, splits)
    r.run_epoch(_no_bar)
    r.save(tmp_path / CHECKPOINT)
    with np.load(tmp_path / CHECKPOINT, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        assert "data_rng" in z.files and "meta" in z.files


@pytest.mark.slow
def test_cli_resume_continues_to_the_same_metrics(tmp_path: Path) -> None:
    # a constant learning rate: a run of 1 epoch starts like a run of 2
    common = ("--subset", "300", "--batch-size", "50", "--schedule", "constant")
    assert train("mlp", "--epochs", "2", "--out", str(tmp_path / "a"), *common)[0] == 0
    assert train("mlp", "--epochs", "1", "--out", str(tmp_path / "b"), *common)[0] == 0
    code, _, err = train(
        "mlp", "--epochs", "2", "--resume", "--out", str(tmp_path / "b")
    )
    assert code == 0, err
    assert "resuming" in err
    whole, resumed = metrics(tmp_path / "a"), metrics(tmp_path / "b")
    for row in whole + resumed:
        del row["seconds"]
    assert resumed == whole and len(whole) == 2


@pytest.mark.slow
def test_killed_mid_epoch_keeps_the_last_checkpoint_and_resumes_exactly(
    tmp_path: Path, _cache: Path
) -> None:
    args = ["mlp", "--epochs", "2", "--subset", "1500", "--batch-size", "16", "-q"]
    env = {**os.environ, "SRCGRAD_CACHE_DIR": str(_cache), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "srcgrad", "train", *args]
    subprocess.run([*cmd, "--out", str(tmp_path / "whole")], env=env, check=True)
    out = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env)
    ckpt = out / CHECKPOINT
    deadline = time.monotonic() + 300
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)  # into the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists()
    config = Config("mlp", 2, 16, 1e-3, "adam", "cosine", subset=1500)
    r = Run(zoo.get("mlp"), config, zoo.get("mlp").splits(None, None))
    r.restore(ckpt)  # whole: it loads
    assert r.epoch in (1, 2)
    assert not list(out.glob(".*.tmp"))
    subprocess.run([*cmd, "--resume", "--out", str(out)], env=env, check=True)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in metrics(out)]
    whole = [
        {k: v for k, v in r.items() if k != "seconds"}
        for r in metrics(tmp_path / "whole")
    ]
    assert strip == whole


class _NoBar:
    """A progress bar that shows nothing."""

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **kw: object) -> None:
        pass


def _no_bar(total: int) -> _NoBar:
    return _NoBar()


# -- what the command refuses ----------------------------------------------------------


def test_help_lists_every_model_one_per_line() -> None:
    code, out, _ = train("--help")
    assert code == 0
    lines = out.splitlines()
    for m in zoo.MODELS.values():
        assert any(line.split() and line.split()[0] == m.name and m.description in line
                   for line in lines), m.name  # fmt: skip


def test_unknown_model_is_a_usage_error_listing_the_zoo(tmp_path: Path) -> None:
    code, _, err = train("resnet9000", "--out", str(tmp_path / "run"))
    assert code == EXIT_USAGE
    assert all(name in err for name in zoo.names())
    assert not (tmp_path / "run").exists()


def test_existing_run_is_refused_without_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("epoch\n")
    code, _, err = train("mlp", "--out", str(out), "--subset", "100")
    assert code == EXIT_USAGE and "--resume" in err
    assert (out / "metrics.csv").read_text() == "epoch\n"


def test_resume_without_a_checkpoint_is_refused(tmp_path: Path) -> None:
    code, _, err = train("mlp", "--resume", "--out", str(tmp_path / "none"))
    assert code == EXIT_USAGE and CHECKPOINT in err


def test_resume_refuses_a_changed_setting(tmp_path: Path) -> None:
    out = str(tmp_path / "run")
    assert train("mlp", "--epochs", "1", "--subset", "100", "--out", out)[0] == 0
    code, _, err = train("mlp", "--resume", "--lr", "0.5", "--out", out)
    assert code == EXIT_USAGE and "--lr" in err


def test_cuda_without_cupy_or_gpu_says_so(tmp_path: Path) -> None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a GPU is here")
    except Exception:  # noqa: BLE001
        pass
    code, _, err = train("mlp", "--device", "cuda", "--out", str(tmp_path / "run"))
    assert code == EXIT_USAGE and "--device cuda is unavailable" in err


# -- data --------------------------------------------------------------------------


def test_shipped_subset_is_used_without_the_full_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "absent")
    s = datasets.fashion_mnist_splits()
    assert "subset shipped with srcgrad" in s.source
    x, y = s.train.arrays
    assert x.shape == (5000, 1, 28, 28) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [500] * 10
    assert np.bincount(s.test.arrays[1]).tolist() == [100] * 10
    assert 0.0 <= x.min() and x.max() <= 1.0
    three = datasets.fashion_mnist_splits(classes=(0, 1, 2))
    assert set(three.train.arrays[1].tolist()) == {0, 1, 2}
    assert datasets.SUBSET_FILE.stat().st_size < 4_000_000


def test_full_set_is_used_where_installed_or_named() -> None:
    directory = datasets.FASHION_MNIST_DIR
    if not (directory / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    for s in (
        datasets.fashion_mnist_splits(),
        datasets.fashion_mnist_splits(directory),
    ):
        assert "full Fashion-MNIST" in s.source
        assert len(s.train) == 60000 and len(s.test) == 10000


def test_shipped_subset_matches_the_full_set() -> None:
    """The shipped images are the first 500 (100) of each class, in file order."""
    directory = datasets.FASHION_MNIST_DIR
    if not (directory / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    full = datasets.fashion_mnist_splits().test
    with np.load(datasets.SUBSET_FILE) as z:
        x, y = z["x_test"], z["y_test"]
    keep = np.sort(
        np.concatenate([np.flatnonzero(full.arrays[1] == c)[:100] for c in range(10)])
    )
    assert np.array_equal(y, full.arrays[1][keep])
    assert np.array_equal(x, np.round(full.arrays[0][keep, 0] * 255).astype(np.uint8))


# -- the zoo's gradients ship with the package ---------------------------------------


@pytest.mark.slow
def test_each_zoo_loss_matches_central_differences() -> None:
    """The generated gradient of each zoo loss, in float64 on a tiny model."""
    from srcgrad.testing import check_grad

    for m in zoo.MODELS.values():
        model, x, labels = m.example()
        model = tree.map(
            lambda a: a.astype(np.float64) if isinstance(a, np.ndarray) else a, model
        )
        # two samples, or the example's four where BatchNorm1d normalises over the
        # batch (over two, its outputs are +-1 and central differences lose accuracy)
        n = 4 if any(isinstance(c, nn.BatchNorm1d) for c in model.modules()) else 2
        x = x.astype(np.float64)[:n]

        def loss(model, x, labels, fn=m.loss.forward):
            return fn(model, x, labels)[0]

        check_grad(loss, model, x, labels[:n], wrt=0)


@pytest.mark.parametrize(
    "name",
    [
        "mlp",
        pytest.param("lenet3", marks=pytest.mark.slow),
        pytest.param("digits-mlp", marks=pytest.mark.slow),
    ],
)
def test_zoo_loss_runs_on_a_device_namespace(name: str) -> None:
    """What --device cuda runs: the emitted loss and gradient on device arrays (the fake
    namespace refuses every copy to the host), equal to the numpy values."""
    from tests.fakexp import FakeArray

    entry = zoo.get(name)
    model, x, labels = entry.example()
    (loss, _), grads = entry.loss(model, x, labels)
    on_device = tree.map(
        lambda a: FakeArray(a) if isinstance(a, np.ndarray) else a, model
    )
    (dloss, dlogits), dgrads = entry.loss(on_device, FakeArray(x), FakeArray(labels))
    assert isinstance(dlogits, FakeArray) and isinstance(dgrads.fc1.weight, FakeArray)
    assert np.allclose(dloss._a, loss, rtol=1e-5)
    assert np.allclose(dgrads.fc1.weight._a, grads.fc1.weight, rtol=1e-4, atol=1e-6)


def test_own_files_are_named_the_same_from_any_directory(tmp_path: Path) -> None:
    from srcgrad.zoo import mlp

    assert shipped.own_display_path(mlp.__file__) == "srcgrad/zoo/mlp.py"
    assert shipped.own_display_path(str(tmp_path / "x.py")) is None


def _installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """An installed package's layout: the committed mlp module in ``_generated``, an
    empty cwd and user cache; returns (shipped file, user cache)."""
    committed = next((REPO / "generated" / "srcgrad.zoo.mlp").glob("mlp_loss__*.py"))
    ship = tmp_path / "_generated"
    (ship / "srcgrad.zoo.mlp").mkdir(parents=True)
    shutil.copy(committed, ship / "srcgrad.zoo.mlp" / committed.name)
    monkeypatch.setattr(shipped, "shipped_dir", lambda: ship)
    monkeypatch.delenv("SRCGRAD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return ship / "srcgrad.zoo.mlp" / committed.name, tmp_path / "xdg"


def test_installed_package_runs_the_shipped_module_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ship, user = _installed(monkeypatch, tmp_path)
    fresh = srcgrad.value_and_grad(mlp_loss.forward, has_aux=True)
    (loss, _), grads = fresh(*mlp_example())
    assert fresh.path == ship
    assert math.isfinite(float(loss)) and grads.fc1.weight.shape == (400, 784)
    assert not list((tmp_path / "cwd").iterdir())
    assert not user.exists()


@pytest.mark.slow
def test_installed_package_regenerates_a_stale_module_into_the_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ship, user = _installed(monkeypatch, tmp_path)
    stale = ship.read_text().replace("# key: ", "# key: 0", 1)
    ship.write_text(stale)
    fresh = srcgrad.value_and_grad(mlp_loss.forward, has_aux=True)
    fresh(*mlp_example())
    assert fresh.path == user / "srcgrad" / "srcgrad.zoo.mlp" / ship.name
    assert ship.read_text() == stale  # the package is never written
    assert not list((tmp_path / "cwd").iterdir())
    again = srcgrad.value_and_grad(mlp_loss.forward, has_aux=True)
    again(*mlp_example())
    assert again.path == fresh.path  # the user cache's copy is the one read from now on


@pytest.mark.slow
def test_committed_zoo_gradients_are_current() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SRCGRAD_CACHE_DIR"}
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run(
        [sys.executable, "-m", "srcgrad", "gen", "--check", "srcgrad/zoo/"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr + "\nrun `srcgrad gen srcgrad/zoo/` and commit"
    assert f"{len(zoo.MODELS)} files would be left unchanged" in r.stderr
