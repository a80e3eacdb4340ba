"""Minimise a one-dimensional function by gradient descent with its generated
derivative, and plot the path the iterates take on the curve.

    python examples/autodiff1d.py [--out runs/autodiff1d.png]

f(x) = x**4 - 3 x**2 + x has two minima (near x = -1.30 and x = 1.13) and a local
maximum between them (near x = 0.17); started at x = 0, just left of that maximum, the
descent rolls down into the deeper minimum.  The generated derivative is checked
against the one worked out by hand, 4 x**3 - 6 x + 1, along the path.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import srcgrad  # noqa: E402


def f(x):
    return x**4 - 3.0 * x**2 + x


@srcgrad.grad(example=lambda: (0.5,))
def df(x):
    """f'(x), differentiated from f's source."""
    return f(x)


def descend(x0: float, lr: float, steps: int) -> list[float]:
    """The iterates x_{k+1} = x_k - lr * f'(x_k)."""
    path = [float(x0)]
    x = float(x0)
    for _ in range(steps):
        x = float(x - lr * df(x))
        path.append(x)
    return path


def plot(path: list[float], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    xs = np.linspace(-2.0, 2.0, 400)
    p = np.asarray(path)
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    ax.plot(xs, f(xs), color="0.3", label="f(x) = x⁴ − 3x² + x")
    ax.plot(p, f(p), "o-", color="tab:red", ms=4, lw=1, label="gradient descent")
    ax.plot(p[0], f(p[0]), "s", color="tab:blue", ms=8, label=f"start x = {p[0]:g}")
    ax.plot(
        p[-1], f(p[-1]), "*", color="tab:green", ms=14, label=f"end x = {p[-1]:.4f}"
    )
    ax.set(xlabel="x", ylabel="f(x)", title=f"{len(p) - 1} steps of gradient descent")
    ax.legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/autodiff1d.png", help="the PNG to write")
    ns = parser.parse_args()
    path = descend(0.0, lr=0.02, steps=50)
    for k in (0, 1, 2, 5, 10, 20, 30, 50):
        x = path[k]
        print(f"step {k:2d}: x = {x:+.6f}  f(x) = {f(x):+.6f}  f'(x) = {df(x):+.2e}")
    by_hand = max(abs(df(x) - (4 * x**3 - 6 * x + 1)) for x in path)
    print(f"largest difference from 4x^3 - 6x + 1 along the path: {by_hand:.1e}")
    plot(path, Path(ns.out))
    print(f"wrote {ns.out}")


if __name__ == "__main__":
    # run as examples.autodiff1d, so that its gradient is the one committed under
    # generated/examples.autodiff1d/ (a script's own module is __main__)
    from examples.autodiff1d import main as run

    run()
