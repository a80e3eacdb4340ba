"""The W5 step built from srcgrad.nn layers (benchmarks/gru_layer.py), at hidden size 8:
its gradient agrees with the hand-written GRU's and its steps run and lower the loss.
Nothing here times anything."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import gru_layer
from benchmarks.train_models import WORKLOADS


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def test_the_layer_step_agrees_with_the_hand_written_gru() -> None:
    rng = np.random.default_rng(0)
    hid = 8
    shapes = {
        "W_ih": (3 * hid, 28),
        "W_hh": (3 * hid, hid),
        "b_ih": (3 * hid,),
        "b_hh": (3 * hid,),
        "W": (hid, 10),
        "b": (10,),
    }
    params = {
        k: (0.3 * rng.standard_normal(s)).astype(np.float32) for k, s in shapes.items()
    }
    batch = WORKLOADS["W5"].batch(np.random.default_rng(1), 4)
    hand, ours, mismatch = gru_layer.build(params, batch)
    assert mismatch == ""
    first = [hand.call(), ours.call()]
    for _ in range(3):
        last = [hand.call(), ours.call()]
    np.testing.assert_allclose(first[1], first[0], rtol=1e-4)
    np.testing.assert_allclose(last[1], last[0], rtol=1e-3)
    assert last[1] < first[1]
