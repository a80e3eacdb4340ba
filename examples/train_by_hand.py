"""A training loop written by hand: a Module, an optimizer from srcgrad.optim and a
DataLoader from srcgrad.data, on a synthetic data set (three interleaved spirals in the
plane), with no zoo and no trainer.

    python examples/train_by_hand.py [--epochs 30] [--out runs/train_by_hand.png]

Every epoch prints the mean training loss and the test accuracy; the end plots the
class the network gives each point of the plane, with the test points on top.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import srcgrad  # noqa: E402
from srcgrad import data, nn, optim  # noqa: E402

CLASSES = 3


def spirals(n: int, rng: np.random.Generator) -> data.ArrayDataset:
    """``n`` points per class on three noisy spiral arms: x (3n, 2), labels (3n,)."""
    r = np.tile(np.linspace(0.05, 1.0, n), CLASSES)
    labels = np.repeat(np.arange(CLASSES), n)
    theta = labels * (2.0 * np.pi / CLASSES) + 4.0 * r + rng.normal(0.0, 0.2, r.size)
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return data.ArrayDataset(x.astype(np.float32), labels)


class Net(nn.Module):
    """2-64-64-3 with tanh between the layers."""

    def __init__(self, hidden: int = 64, *, rng=None) -> None:
        self.fc1 = nn.Linear(2, hidden, rng=rng, dtype=np.float32)
        self.fc2 = nn.Linear(hidden, hidden, rng=rng, dtype=np.float32)
        self.fc3 = nn.Linear(hidden, CLASSES, rng=rng, dtype=np.float32)

    def __call__(self, x):
        return self.fc3(np.tanh(self.fc2(np.tanh(self.fc1(x)))))


def example():
    """A small batch like those the loop feeds ``loss`` (``srcgrad gen`` uses it)."""
    rng = np.random.default_rng(0)
    x, labels = spirals(4, rng).arrays
    return Net(rng=rng), x, labels


@srcgrad.value_and_grad(example=example)
def loss(model, x, labels):
    """Mean softmax cross-entropy of the logits."""
    logits = model(x)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.take_along_axis(logp, labels[:, None], axis=1))


def accuracy(model, ds: data.ArrayDataset) -> float:
    x, labels = ds.arrays
    return float(np.mean(model(x).argmax(axis=1) == labels))


def plot(model, test: data.ArrayDataset, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    grid = np.linspace(-1.2, 1.2, 300, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    pred = model(np.stack([gx.ravel(), gy.ravel()], axis=1)).argmax(axis=1)
    x, labels = test.arrays
    fig, ax = plt.subplots(figsize=(6, 6), constrained_layout=True)
    ax.contourf(gx, gy, pred.reshape(gx.shape), levels=[-0.5, 0.5, 1.5, 2.5],
                colors=["#fbb4ae", "#b3cde3", "#ccebc5"])
    for c, colour in enumerate(["tab:red", "tab:blue", "tab:green"]):
        keep = labels == c
        ax.scatter(x[keep, 0], x[keep, 1], s=8, color=colour, label=f"class {c}")
    ax.set(title=f"test accuracy {accuracy(model, test):.1%}", xlabel="x1", ylabel="x2")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/train_by_hand.png", help="the PNG")
    ns = parser.parse_args()
    rng = np.random.default_rng(0)
    train, test = spirals(500, rng), spirals(200, rng)
    model = Net(rng=rng)
    opt = optim.adam(learning_rate=1e-2)
    state = opt.init(model)
    loader = data.DataLoader(train, batch_size=64, shuffle=True, rng=rng)
    print(f"before training: test accuracy {accuracy(model, test):.1%}")
    for epoch in range(1, ns.epochs + 1):
        total = 0.0
        for x, labels in loader:
            value, grads = loss(model, x, labels)
            updates, state = opt.update(grads, state, model)
            model = optim.apply_updates(model, updates)
            total += float(value) * len(labels)
        if epoch in (1, 2, 5) or epoch % 5 == 0:
            print(
                f"epoch {epoch:2d}: train loss {total / len(train):.4f}, "
                f"test accuracy {accuracy(model, test):.1%}"
            )
    plot(model, test, Path(ns.out))
    print(f"wrote {ns.out}")


if __name__ == "__main__":
    # run as examples.train_by_hand, so that its gradient is the one committed under
    # generated/examples.train_by_hand/ (a script's own module is __main__)
    from examples.train_by_hand import main as run

    run()
