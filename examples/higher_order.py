"""Higher-order gradients: srcgrad differentiates its own emitted gradients, to any order.

``srcgrad.grad(srcgrad.grad(f))`` differentiates the emitted module of ``srcgrad.grad(f)``;
each order is a module of its own under ``generated/examples.higher_order/``
(``grad_tanh__wrt-x__*.py`` is the second order of ``tanh``), whose ``# file:line``
comments point into the order below.

    srcgrad gen examples/higher_order.py
"""

import numpy as np

import srcgrad
from srcgrad import nn, tree


def scalar_example():
    """The argument the committed modules are specialised on: a Python float."""
    return (0.3,)


def tanh(x):
    return np.tanh(x)


d_tanh = srcgrad.grad(tanh, example=scalar_example)
d2_tanh = srcgrad.grad(d_tanh)  # the second derivative: -2 tanh(x) (1 - tanh(x)^2)
d3_tanh = srcgrad.grad(d2_tanh)


class MLP(nn.Module):
    """A 2-layer perceptron: 3 inputs, 8 tanh units, 1 output."""

    def __init__(self, rng):
        self.fc1 = nn.Linear(3, 8, rng=rng)
        self.fc2 = nn.Linear(8, 1, rng=rng)

    def __call__(self, x):
        return self.fc2(np.tanh(self.fc1(x)))


def mlp_example():
    """A float64 model, a batch of 16 inputs and targets."""
    rng = np.random.default_rng(0)
    model = tree.map(lambda w: w.astype(np.float64), MLP(rng))
    return model, rng.normal(size=(16, 3)), rng.normal(size=(16, 1))


def mlp_loss(model, x, y):
    """Mean squared error with a small penalty on the predictions."""
    pred = model(x)
    err = pred - y
    return np.mean(err * err) + 0.01 * np.mean(pred * pred)


# the gradient of the loss with respect to the inputs, and the gradient of its sum with
# respect to the model: a second derivative (double backpropagation, as input-gradient
# penalties use it)
d_mlp_loss_dx = srcgrad.grad(mlp_loss, wrt="x", example=mlp_example)
d2_mlp_loss = srcgrad.elementwise_grad(d_mlp_loss_dx, wrt="model")


if __name__ == "__main__":
    x = 0.3
    t = np.tanh(x)
    print("tanh'' at 0.3:", d2_tanh(x), "closed form:", -2 * t * (1 - t * t))
    print("tanh''' at 0.3:", d3_tanh(x), "closed form:", (1 - t * t) * (6 * t * t - 2))
    print(d2_tanh.source)
