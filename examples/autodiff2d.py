"""Minimise the Rosenbrock function with its generated gradient (gradient descent with
momentum), and plot the path on the function's contours.

    python examples/autodiff2d.py [--out runs/autodiff2d.png]

f(x, y) = (1 - x)**2 + 100 (y - x**2)**2 has its minimum f = 0 at (1, 1), at the end
of a long, curved, flat-bottomed valley; started at (-1.5, 2), the iterates fall into
the valley and follow it round to the minimum.  The generated gradient is checked
against the one worked out by hand along the path.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import srcgrad  # noqa: E402


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


@srcgrad.grad(example=lambda: (np.array([-1.5, 2.0]),))
def grad_rosenbrock(p):
    """The gradient (df/dx, df/dy), differentiated from the source."""
    return rosenbrock(p)


def by_hand(p):
    x, y = p
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)])


def descend(p0, lr: float, momentum: float, steps: int) -> np.ndarray:
    """Heavy-ball iterates v <- momentum v - lr grad f(p); p <- p + v; (steps + 1, 2)."""
    p = np.asarray(p0, dtype=np.float64)
    v = np.zeros_like(p)
    path = [p]
    for _ in range(steps):
        v = momentum * v - lr * grad_rosenbrock(p)
        p = p + v
        path.append(p)
    return np.stack(path)


def plot(path: np.ndarray, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import LogNorm

    xs, ys = np.meshgrid(np.linspace(-2.0, 2.0, 300), np.linspace(-1.0, 3.0, 300))
    zs = rosenbrock(np.stack([xs, ys]))
    fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    cs = ax.contourf(
        xs,
        ys,
        zs + 1e-3,
        levels=np.logspace(-3, 3.5, 27),
        norm=LogNorm(),
        cmap="viridis",
    )
    ax.contour(
        xs,
        ys,
        zs + 1e-3,
        levels=np.logspace(-3, 3.5, 14),
        colors="w",
        linewidths=0.4,
        alpha=0.6,
    )
    fig.colorbar(cs, ax=ax, label="f(x, y) (log scale)")
    ax.plot(
        path[:, 0],
        path[:, 1],
        ".-",
        color="tab:red",
        ms=2,
        lw=0.8,
        label=f"{len(path) - 1} steps, momentum",
    )
    ax.plot(*path[0], "s", color="white", mec="k", ms=8, label="start (-1.5, 2)")
    ax.plot(1.0, 1.0, "*", color="gold", mec="k", ms=16, label="minimum (1, 1)")
    ax.plot(
        *path[-1],
        "o",
        color="tab:red",
        mec="k",
        ms=6,
        label=f"end ({path[-1, 0]:.4f}, {path[-1, 1]:.4f})",
    )
    ax.set(xlabel="x", ylabel="y", title="Rosenbrock: gradient descent with momentum")
    ax.legend(loc="lower right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/autodiff2d.png", help="the PNG to write")
    ns = parser.parse_args()
    steps = 3000
    path = descend([-1.5, 2.0], lr=3e-4, momentum=0.95, steps=steps)
    for k in (0, 10, 100, 500, 1000, 2000, steps):
        p = path[k]
        print(
            f"step {k:4d}: (x, y) = ({p[0]:+.5f}, {p[1]:+.5f})  f = {rosenbrock(p):.3e}"
        )
    worst = max(
        np.max(np.abs(grad_rosenbrock(p) - by_hand(p)) / (1.0 + np.abs(by_hand(p))))
        for p in path
    )
    print(f"largest relative difference from the gradient by hand: {worst:.1e}")
    plot(path, Path(ns.out))
    print(f"wrote {ns.out}")


if __name__ == "__main__":
    # run as examples.autodiff2d, so that its gradient is the one committed under
    # generated/examples.autodiff2d/ (a script's own module is __main__)
    from examples.autodiff2d import main as run

    run()
