"""A cotangent gathered from several subscripts of one value (srcgrad/codegen/scatters.py
and runtime ``scatter_pieces``): the chain of scatters becomes one call, which joins the
pieces when they tile an axis; the gradients stay right everywhere."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.codegen import TILED_MARK
from srcgrad.runtime import index, scatter_pieces, scatter_to
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def gates(W, x):
    """Three gates read as slices of one product, the last one first (as a GRU)."""
    n = W.shape[1] // 3
    g = x @ W
    r = np.tanh(g[:, :n])
    z = np.sin(g[:, n : 2 * n])
    c = np.cos(g[:, 2 * n :]) * r
    return np.sum(c * z)


def overlapping(W, x):
    """Slices that overlap and leave a gap, and a row read: nothing tiles."""
    g = x @ W
    a = np.tanh(g[:, 1:4])
    b = np.sin(g[:, 2:5])
    return np.sum(a * a) + np.sum(b) + np.sum(g[0] ** 3)


def rebound(W, x):
    """A name rebound between two slice reads of ``g`` (each value keeps its own name)."""
    g = x @ W
    a = np.tanh(g[:, :2])
    a = a * g[:, 2:]
    return np.sum(a**2)


def gru_loop(W, U, xs):
    n = U.shape[0]
    h = np.zeros((xs.shape[1], n))
    for t in range(xs.shape[0]):
        gi = xs[t] @ W
        gh = h @ U
        r = 1.0 / (1.0 + np.exp(-(gi[:, :n] + gh[:, :n])))
        z = 1.0 / (1.0 + np.exp(-(gi[:, n : 2 * n] + gh[:, n : 2 * n])))
        c = np.tanh(gi[:, 2 * n :] + r * gh[:, 2 * n :])
        h = (1.0 - z) * c + z * h
    return np.sum(h**2)


def _bwd(fn, *args, generic=False):
    """The backward pass emitted for ``args``; ``generic``: the code not specialised to
    them, which keeps the joins (specialised, srcgrad/codegen/tiles.py writes the pieces
    of a tiling join into their slices where the facts prove it)."""
    df = srcgrad.grad(fn)._generic() if generic else srcgrad.grad(fn)
    df(*args)
    src = df.source
    return src[src.index("def bwd_") : src.index("def grad_")]


def test_slices_of_one_value_get_one_scatter_call():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(4, 6)), rng.normal(size=(3, 4))
    bwd = _bwd(gates, W, x, generic=True)
    assert bwd.count("scatter_pieces(") == 1
    assert "scatter_to(" not in bwd
    specialised = _bwd(gates, W, x)
    assert "scatter_pieces(" not in specialised and TILED_MARK in specialised
    check_grad(gates, W, x)


def test_overlapping_pieces_and_a_row_are_added_up():
    rng = np.random.default_rng(1)
    W, x = rng.normal(size=(4, 6)), rng.normal(size=(3, 4))
    assert "scatter_pieces(" in _bwd(overlapping, W, x)
    check_grad(overlapping, W, x)


def test_a_rebound_name_between_the_reads_keeps_its_gradient():
    rng = np.random.default_rng(2)
    W, x = rng.normal(size=(4, 4)), rng.normal(size=(3, 4))
    check_grad(rebound, W, x)


def test_a_gru_step_in_a_loop_joins_its_gate_cotangents():
    rng = np.random.default_rng(3)
    n, d = 3, 2
    W, U = rng.normal(size=(d, 3 * n)) * 0.5, rng.normal(size=(n, 3 * n)) * 0.5
    xs = rng.normal(size=(5, 2, d))
    bwd = _bwd(gru_loop, W, U, xs, generic=True)
    loop = bwd[bwd.index("for t in reversed") :]
    assert loop.count("scatter_pieces(") == 2 and "scatter_to(" not in loop
    loop = _bwd(gru_loop, W, U, xs)
    assert loop.count(TILED_MARK) == 2 and "scatter_pieces(" not in loop
    check_grad(gru_loop, W, U, xs, wrt=(0, 1))


@pytest.mark.parametrize(
    "keys",
    [
        [index[:, 4:], index[:, 2:4], index[:, :2]],  # tiles: joined
        [index[:, 3:], index[:, 1:5]],  # overlap
        [index[1:], index[:1]],  # tiles the first axis
        [index[:, ::2], index[:, 1::2]],  # steps
        [index[:, -2:], index[:, :-2]],  # negative bounds
        [np.array([0, 0, 2]), index[:2]],  # advanced: repeats add up
        [index[2], index[:, 1]],  # integers
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_pieces_is_the_sum_of_the_scatters(keys, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 6)).astype(dtype)
    pieces = [rng.normal(size=x[k].shape).astype(np.float64) for k in keys]
    want = scatter_to(pieces[0], x, keys[0])
    for g, k in zip(pieces[1:], keys[1:]):
        want = want + scatter_to(g, x, k)
    got = scatter_pieces(pieces, x, keys)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    same = [g.astype(dtype) for g in pieces]  # the joined path, where the keys tile
    np.testing.assert_array_equal(
        scatter_pieces(same, x, keys),
        sum(scatter_to(g, x, k) for g, k in zip(same, keys)),
    )


def _merged(lines: str) -> list[str]:
    """The statements of one backward block after the pass."""
    import libcst as cst

    from srcgrad.codegen.ir import Backward, Block, Names
    from srcgrad.codegen.scatters import merge_scatters

    stmts = [cst.parse_statement(ln).body[0] for ln in lines.strip().splitlines()]
    block = Block(None, "", stmts)
    bwd = Backward([block], [], {}, "d_out", "xp", {"scatter_to"}, {})
    merge_scatters(bwd, Names(set()))
    return [cst.Module([]).code_for_node(st) for st in block.stmts]


def test_the_chain_moves_to_its_last_statement():
    assert _merged("""
d = scatter_to(a, g, index[:, :2])
e = a * 2
d = d + scatter_to(e, g, index[:, 2:])
""") == ["e = a * 2", "d = scatter_pieces([a, e], g, [index[:, :2], index[:, 2:]])"]


@pytest.mark.parametrize(
    "between",
    [
        "a = a * 2",  # rebinds a piece the first scatter reads
        "k = k + 1",  # rebinds a name its key reads
        "g = g * 2",  # rebinds the base
        "e = d * 2",  # reads the accumulator
    ],
)
def test_a_statement_in_between_that_would_see_the_move_keeps_the_chain(between):
    text = f"""
d = scatter_to(a, g, index[:, :k])
{between}
d = d + scatter_to(b, g, index[:, k:])
"""
    assert _merged(text) == [ln for ln in text.strip().splitlines()]


def test_a_scatter_into_another_base_ends_no_chain_of_its_own():
    text = """
d = scatter_to(a, g, index[:, :2])
d = d + scatter_to(b, h, index[:, 2:])
"""
    assert _merged(text) == text.strip().splitlines()
