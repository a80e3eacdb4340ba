"""``step_rows`` (srcgrad/runtime/steps.py): a hoisted loop's per-step values, copied into
one array as they come; ``joined()`` is always the concatenation of what was appended.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.runtime import step_rows, step_sum
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def _values(rng, shapes, dtypes):
    return [rng.normal(size=s).astype(d) for s, d in zip(shapes, dtypes)]


@pytest.mark.parametrize("steps", [None, 1, 3, 40])  # unknown, too few, exact, too many
@pytest.mark.parametrize(
    "shapes, dtypes",
    [
        ([(2, 3)] * 20, [np.float64] * 20),  # grows past the first room
        ([(2, 3), (1, 3), (4, 3)], [np.float32] * 3),  # rows vary
        ([(5,), (2,), (3,)], [np.float64] * 3),  # 1-D
        ([(2, 3), (2, 3), (2, 3)], [np.float32, np.float32, np.float64]),  # dtype
        ([(2, 3), (2, 3), (2, 4)], [np.float64] * 3),  # trailing shape (then raises)
    ],
)
def test_joined_is_the_concatenation(steps, shapes, dtypes):
    rng = np.random.default_rng(0)
    values = _values(rng, shapes, dtypes)
    rows = step_rows(steps)
    for v in values:
        rows.append(v)
    assert len(rows) == len(values) and bool(rows)
    try:
        want = np.concatenate(values)
    except ValueError:
        with pytest.raises(ValueError):
            rows.joined()
        return
    got = rows.joined()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_a_value_written_after_its_append_leaves_the_copy_alone():
    rows = step_rows(2)
    a = np.ones((2, 2))
    rows.append(a)
    a[:] = 5.0
    rows.append(a)
    np.testing.assert_array_equal(rows.joined(), np.r_[np.ones((2, 2)), a])
    assert not step_rows()


def rnn(Wx, Wh, xs):
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h**2)


@pytest.mark.parametrize(
    "batch, kept", [(1, "[]"), (3, "step_sum("), (33, "step_sum(")]
)
def test_one_row_a_step_stays_a_list_and_many_are_summed(batch, kept):
    """Batch 33: each step adds its product at once; 3: the rows are kept."""
    rng = np.random.default_rng(1)
    Wx, Wh = rng.normal(size=(2, 4)) * 0.5, rng.normal(size=(4, 4)) * 0.5
    xs = rng.normal(size=(5, batch, 2))
    df = srcgrad.grad(rnn, wrt=(0, 1))
    df(Wx, Wh, xs)
    bwd = df.source[df.source.index("def bwd_") :]
    assert f"_steps = {kept}" in bwd
    check_grad(rnn, Wx, Wh, xs, wrt=(0, 1))


@pytest.mark.parametrize(
    "rows", [[2, 3, 1], [40, 40], [2, 40, 3, 33]]
)  # few, many, both
@pytest.mark.parametrize("steps", [None, 2])
def test_step_sum_is_the_product_of_the_stacked_steps(rows, steps):
    rng = np.random.default_rng(2)
    a = [rng.normal(size=(r, 4)) for r in rows]
    b = [rng.normal(size=(r, 5)) for r in rows]
    prod, total = step_sum(steps), step_sum(steps)
    for x, y in zip(a, b):
        prod.add(x, y)
        total.add(y)
    assert len(prod) == len(rows)
    np.testing.assert_allclose(
        prod.total(), np.concatenate(a).T @ np.concatenate(b), rtol=1e-12
    )
    np.testing.assert_allclose(total.total(), np.concatenate(b).sum(axis=0), rtol=1e-12)
