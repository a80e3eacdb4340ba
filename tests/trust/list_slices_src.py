"""Programs for tests/test_list_slices.py: slices of lists built in the function."""

import numpy as np


def _run(W, xs):
    h = np.zeros(W.shape[0])
    outs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        outs.append(h)
    return outs


def reversed_states(W, xs):
    outs = _run(W, xs)
    weights = np.arange(xs.size, dtype=float).reshape(xs.shape)
    return np.sum(np.stack(outs[::-1]) * weights)


def bounded_and_negative_slices(W, xs):
    outs = _run(W, xs)
    middle = np.stack(outs[1:-1])
    every_other = outs[::2]
    return np.sum(middle**2) + sum(np.sum(o * o[0]) for o in every_other)


def slice_then_grow(W, xs):
    outs = _run(W, xs)
    tail = outs[-2:]
    tail.append(W[0])
    return np.sum(np.stack(tail)) + np.sum(outs[0])


def slice_with_run_time_bound(W, xs):
    outs = _run(W, xs)
    start = int(np.argmax(xs[:, 0]))
    return sum(np.sum(np.sin(o)) for o in outs[start:]) + np.sum(outs[-1])


def tuple_and_list_displays(W, xs):
    a = [W[0], W[1] * 2.0, W[2] ** 2]
    b = (xs[0], xs[1] * W[0], xs[2])
    head = b[:2]
    return (
        np.sum(np.stack(a[1:]) * xs[:2])
        + sum(np.sum(v) for v in a[::2])
        + np.sum(head[1] * head[0])
    )


def rebound_to_its_reversal(W, xs):
    outs = _run(W, xs)
    outs = outs[::-1]
    return np.sum(np.stack(outs) * np.arange(xs.size, dtype=float).reshape(xs.shape))


def rebound_to_its_tail(W, xs):
    outs = _run(W, xs)
    outs = outs[1:]
    return sum(np.sum(o**2) for o in outs)


def comprehension_over_itself(W, xs):
    outs = _run(W, xs)
    outs = [o * 2.0 for o in outs]
    return sum(np.sum(o**2) for o in outs)


def display_comprehension_over_itself(W, xs):
    rows = [W[0], W[1], W[2]]
    rows = [r + rows[0] for r in rows]
    return sum(np.sum(o**2) for o in rows)
