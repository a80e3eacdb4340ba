"""Differentiate examples/regression.py's mse_tanh, print the emitted gradient module, and
check it against central differences.

    python examples/quickstart.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import srcgrad  # noqa: E402
from examples.regression import mse_tanh  # noqa: E402  (decorated: @srcgrad.grad(wrt=("W", "b")))

rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3))
b = rng.normal(size=3)
x = rng.normal(size=(8, 4))
t = rng.normal(size=(8, 3))

dW, db = mse_tanh(W, b, x, t)
loss = mse_tanh.forward(W, b, x, t)  # the original function

print(mse_tanh.source)
print(f"# emitted file: {mse_tanh.path}")
print(f"# loss = {loss:.6f}; |dW| = {np.linalg.norm(dW):.6f}; |db| = {np.linalg.norm(db):.6f}")
srcgrad.testing.check_grad(mse_tanh.forward, W, b, x, t, wrt=mse_tanh.wrt)
print("# check_grad: the gradient matches central differences")
