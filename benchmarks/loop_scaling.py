"""Run time of a differentiated loop against its trip count (a benchmark, not a test).

``python -m benchmarks.loop_scaling`` times the gradient of ``rnn_200`` (tests/corpus) at 200
and at 1000 steps, with as many input rows as steps and every input differentiated, and prints
the ratio: about 5 for linear time.
"""

from __future__ import annotations

import time

import numpy as np

import srcgrad
from tests.corpus import control
from tests.corpus.control_cases import rnn_200_inputs


def _args(n: int) -> tuple:
    Wx, Wh, b, xs = rnn_200_inputs(np.random.default_rng(200), np.float64, n)
    return Wx, Wh, b, xs, n


def _median(fn, args: tuple, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    df = srcgrad.grad(control.rnn_200, wrt=(0, 1, 2, 3))
    a200, a1000 = _args(200), _args(1000)
    df(*a200)
    df(*a1000)
    t200, t1000 = _median(df, a200, 7), _median(df, a1000, 5)
    print(
        f"200 steps {t200 * 1e3:.1f} ms, 1000 steps {t1000 * 1e3:.1f} ms: "
        f"ratio {t1000 / t200:.1f} (5 for linear time)"
    )


if __name__ == "__main__":
    main()
