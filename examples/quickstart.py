"""Differentiate examples/regression.py's mse_tanh, print the emitted gradient module, and
check it against central differences.

    python examples/quickstart.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import srcgrad  # noqa: E402
from regression import mse_tanh  # noqa: E402

rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3))
b = rng.normal(size=3)
x = rng.normal(size=(8, 4))
t = rng.normal(size=(8, 3))

df = srcgrad.value_and_grad(mse_tanh, wrt=("W", "b"))
loss, (dW, db) = df(W, b, x, t)

print(df.source)
print(f"# emitted file: {df.path}")
print(f"# loss = {loss:.6f}; |dW| = {np.linalg.norm(dW):.6f}; |db| = {np.linalg.norm(db):.6f}")
srcgrad.testing.check_grad(mse_tanh, W, b, x, t, wrt=("W", "b"))
print("# check_grad: the gradient matches central differences")
