"""Print the backward pass srcgrad emits for a small model: ``print(df.source)``.

    python examples/show_source.py

The model is two Linear layers with a tanh between them, its loss the mean squared
error; the printed module is what runs when the gradient is taken (committed under
generated/examples.show_source/), with each statement's origin in a comment.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import srcgrad  # noqa: E402
from srcgrad import nn  # noqa: E402


class TwoLayer(nn.Module):
    """3-4-1 with tanh."""

    def __init__(self, *, rng=None) -> None:
        self.hidden = nn.Linear(3, 4, rng=rng, dtype=np.float64)
        self.out = nn.Linear(4, 1, rng=rng, dtype=np.float64)

    def __call__(self, x):
        return self.out(np.tanh(self.hidden(x)))


def example():
    rng = np.random.default_rng(0)
    return TwoLayer(rng=rng), rng.normal(size=(5, 3)), rng.normal(size=(5, 1))


@srcgrad.grad(example=example)
def df(model, x, y):
    """The gradient of the mean squared error with respect to the model."""
    err = model(x) - y
    return np.mean(err * err)


def main() -> None:
    model, x, y = example()
    grads = df(model, x, y)
    print(df.source)
    print(f"# emitted file: {df.path}")
    print(f"# d loss / d hidden.weight:\n{grads.hidden.weight}")
    srcgrad.testing.check_grad(df.forward, model, x, y, wrt=0)
    print("# check_grad: the gradient matches central differences")


if __name__ == "__main__":
    # run as examples.show_source, so that its gradient is the one committed under
    # generated/examples.show_source/ (a script's own module is __main__)
    from examples.show_source import main as run

    run()
