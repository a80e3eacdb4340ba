"""srcgrad.save / srcgrad.load: bit-for-bit round trips of models and optimizer-like
state, the errors for trees and files that do not fit, and atomic writes (a process
killed while saving leaves the old file whole).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import srcgrad
from srcgrad import nn, tree

ROOT = Path(__file__).resolve().parents[1]


class Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.W = rng.normal(size=(n_in, n_out))
        self.b = rng.normal(size=n_out).astype(np.float32)


class Norm(nn.Module):
    scale: np.ndarray
    running_mean: np.ndarray = nn.buffer()
    momentum: float = 0.9
    axis: int = nn.static(-1)


class Net(nn.Module):
    def __init__(self, rng: np.random.Generator, act: str = "tanh") -> None:
        self.blocks = [Dense(3, 4, rng), Dense(4, 2, rng)]
        self.heads = {"norm": Norm(rng.normal(size=2), rng.normal(size=2))}
        self.act = act
        self.eps = float(rng.uniform())
        self.rng = np.random.default_rng(int(rng.integers(1000)))


class AdamState(NamedTuple):
    count: int
    mu: list


def _checkpoint(seed: int) -> tuple[Net, AdamState]:
    rng = np.random.default_rng(seed)
    model = Net(rng)
    model.blocks[0].W[0, :3] = [np.nan, -0.0, np.inf]  # bits, not just values
    state = AdamState(count=seed, mu=[tree.map(np.zeros_like, nn.parameters(model))])
    return model, state


def _bits(x: object) -> list[tuple[str, object]]:
    """Every leaf, compared bit for bit (arrays by dtype, shape and bytes)."""
    out = []
    for path, leaf in tree.leaves_with_paths(x):
        if isinstance(leaf, (np.ndarray, np.generic)):
            leaf = (leaf.dtype.str, leaf.shape, np.asarray(leaf).tobytes())
        elif isinstance(leaf, np.random.Generator):
            leaf = leaf.bit_generator.state
        elif isinstance(leaf, float):
            leaf = (float, leaf.hex())
        out.append((tree.path_string(path), (type(leaf).__name__, leaf)))
    return out


# -------------------------------------------------------------------------- round trips


def test_a_model_and_its_state_round_trip_bit_for_bit(tmp_path):
    saved = _checkpoint(1)
    srcgrad.save(tmp_path / "ckpt.npz", saved)
    like = _checkpoint(2)
    before = _bits(like)
    loaded = srcgrad.load(tmp_path / "ckpt.npz", like=like)
    assert _bits(loaded) == _bits(saved) != before
    assert _bits(like) == before  # like is not changed
    model, state = loaded
    assert type(model) is Net and type(model.heads["norm"]) is Norm
    assert type(state) is AdamState and type(state.count) is int
    assert model.act == "tanh" and model.heads["norm"].axis == -1  # static, from like
    assert nn.field_kinds(model) == nn.field_kinds(saved[0])
    assert model.rng.random() == saved[0].rng.random()  # the generator's stream goes on
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left


def test_leaf_kinds_keys_and_skipped_nones(tmp_path):
    x = {
        "f": 0.1,
        "i": -(2**40),
        "t": True,
        "c": 1 + 2j,
        "s": "adam",
        "h": np.float16(1.5),
        "none": None,
        "nested": [np.arange(3, dtype=np.int8), (np.ones((0, 2)),)],
    }
    srcgrad.save(tmp_path / "x.npz", x)
    with np.load(tmp_path / "x.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(
            ["f", "i", "t", "c", "s", "h", "nested.0", "nested.1.0", "__srcgrad__"]
        )
        assert data["f"].shape == () and data["nested.0"].dtype == np.int8
    like = {
        "f": 0.0,
        "i": 0,
        "t": False,
        "c": 0j,
        "s": "",
        "h": np.float16(0),
        "none": None,
        "nested": [np.zeros(3, np.int8), (np.zeros((0, 2)),)],
    }
    back = srcgrad.load(str(tmp_path / "x.npz"), like)
    assert _bits(back) == _bits(x)
    assert [type(back[k]) for k in "fitcsh"] == [
        float,
        int,
        bool,
        complex,
        str,
        np.float16,
    ]


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "w.npz"
    srcgrad.save(path, {"w": np.ones(2)})
    srcgrad.save(path, {"w": np.full(2, 3.0)})
    assert np.array_equal(srcgrad.load(path, {"w": np.zeros(2)})["w"], [3.0, 3.0])
    assert os.listdir(tmp_path) == ["w.npz"]


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "leaf, name",
    [(np.array([{}], dtype=object), "ndarray"), (lambda v: v, "function")],
    ids=["object-array", "function"],
)
def test_leaves_that_need_pickle_are_refused_and_the_old_file_stays(
    tmp_path, leaf, name
):
    path = tmp_path / "a.npz"
    srcgrad.save(path, {"w": np.ones(2)})
    old = path.read_bytes()
    with pytest.raises(srcgrad.CheckpointError, match=f"{name} at 'opt.fn'"):
        srcgrad.save(path, {"w": np.ones(2), "opt": {"fn": leaf}})
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["a.npz"]


def test_two_leaves_with_one_path_are_refused(tmp_path):
    with pytest.raises(srcgrad.CheckpointError, match="two leaves at the path 'a.b'"):
        srcgrad.save(tmp_path / "d.npz", {"a.b": 1.0, "a": {"b": 2.0}})


def test_a_wrong_shape_or_dtype_names_the_field_and_both(tmp_path):
    path = tmp_path / "m.npz"
    srcgrad.save(path, _checkpoint(1))
    model, state = _checkpoint(2)
    model.blocks[1].W = np.zeros((4, 3))
    model.heads["norm"].scale = model.heads["norm"].scale.astype(np.float32)
    with pytest.raises(srcgrad.CheckpointError) as err:
        srcgrad.load(path, (model, state))
    text = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "'0.blocks.1.W' has shape (4, 2) and dtype float64 in the file" in text
    assert "shape (4, 3) and dtype float64 in `like`" in text
    assert "'0.heads.norm.scale' has shape (2,) and dtype float64 in the file" in text
    assert "dtype float32 in `like`" in text


def test_missing_extra_and_other_kinds_of_leaves_are_named(tmp_path):
    path = tmp_path / "m.npz"
    srcgrad.save(path, {"a": np.ones(2), "b": {"c": 1.0}, "d": 2.0})
    with pytest.raises(srcgrad.CheckpointError) as err:
        srcgrad.load(path, {"a": np.ones(2), "b": {"c": 1.0, "e": np.ones(1)}})
    assert "missing from the file: 'b.e'" in str(err.value)
    assert "in the file but not in `like`: 'd'" in str(err.value)
    with pytest.raises(srcgrad.CheckpointError, match="'b.c' is a float in the file"):
        srcgrad.load(path, {"a": np.ones(2), "b": {"c": np.ones(1)}, "d": 2.0})


def test_a_truncated_or_foreign_file_is_refused(tmp_path):
    path = tmp_path / "t.npz"
    srcgrad.save(path, _checkpoint(1))
    data = path.read_bytes()
    like = _checkpoint(2)
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(srcgrad.CheckpointError, match="not a whole checkpoint"):
            srcgrad.load(path, like)
    np.save(tmp_path / "single.npy", np.ones(2))
    with pytest.raises(srcgrad.CheckpointError, match="not a whole checkpoint"):
        srcgrad.load(tmp_path / "single.npy", like)
    with pytest.raises(FileNotFoundError):
        srcgrad.load(tmp_path / "absent.npz", like)


# ------------------------------------------------------------------------ atomic writes

# The child imports the checkpoint module without the package's __init__ (which loads
# the whole generator, scipy included): an empty ``srcgrad`` package stands in for it.
CHILD_PRELUDE = f"""
import os, sys, time, types
import numpy as np
package = types.ModuleType("srcgrad")
package.__path__ = [{str(ROOT / "srcgrad")!r}]
sys.modules["srcgrad"] = package
from srcgrad import serialization
path = sys.argv[1]
"""

PAUSE_IN = {
    # after the first member of the zip is written: the temporary file is half done
    "write": "np.lib.format.write_array",
    # the new file is whole but not yet moved over the old one
    "fsync": "os.fsync",
}


def _child(body: str, path: Path) -> subprocess.Popen:
    code = CHILD_PRELUDE + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )


def _version(n: int, size: int) -> dict:
    return {"v": np.full(size, float(n)), "n": n}


@pytest.mark.parametrize("where", sorted(PAUSE_IN))
def test_a_save_killed_midway_leaves_the_old_file_whole(tmp_path, where):
    path = tmp_path / "ckpt.npz"
    srcgrad.save(path, _version(0, 1000))
    old = path.read_bytes()
    module, _, name = PAUSE_IN[where].rpartition(".")
    body = f"""
    target = {module}
    real = target.{name}
    def paused(*args, **kwargs):
        out = real(*args, **kwargs)
        print("paused", flush=True)
        time.sleep(60)
        return out
    target.{name} = paused
    serialization.save(path, {{"v": np.full(1000, 1.0), "n": 1, "more": np.ones(9)}})
    """
    child = _child(body, path)
    try:
        assert child.stdout.readline().strip() == "paused"
        temporary = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert len(temporary) == 1  # the new version is being written beside the old
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        child.kill()
        child.stdout.close()
    assert path.read_bytes() == old
    loaded = srcgrad.load(path, _version(7, 1000))
    assert _bits(loaded) == _bits(_version(0, 1000))
    srcgrad.save(path, _version(2, 1000))  # the stray temporary file is in nobody's way
    assert srcgrad.load(path, _version(7, 1000))["n"] == 2


def test_killing_a_process_that_saves_in_a_loop_leaves_a_whole_version(tmp_path):
    size = 1 << 20  # 8 MB a version: the kill often lands inside a write
    path = tmp_path / "ckpt.npz"
    srcgrad.save(path, _version(0, size))
    body = f"""
    n = 1
    while True:
        serialization.save(path, {{"v": np.full({size}, float(n)), "n": n}})
        print(n, flush=True)
        n += 1
    """
    rng = np.random.default_rng(0)
    like = _version(0, size)
    for _ in range(2):
        child = _child(body, path)
        try:
            assert child.stdout.readline().strip().isdigit()  # a first save is done
            for _ in range(3):  # a reader beside the writer sees whole versions only
                loaded = srcgrad.load(path, like)
                assert np.array_equal(loaded["v"], np.full(size, float(loaded["n"])))
            time.sleep(float(rng.uniform(0.0, 0.05)))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            child.kill()
            child.stdout.close()
        loaded = srcgrad.load(path, like)
        n = loaded["n"]
        assert n >= 1 and np.array_equal(loaded["v"], np.full(size, float(n)))
