"""Linear regression with an L2 penalty trained by minibatch SGD, written the way ML-from-
scratch repositories do it: weights and bias kept apart, the batch size read from len(y),
minibatch indices drawn with a Generator passed into the loss."""

import numpy as np

import srcgrad


def predict(w, b, X):
    return X @ w + b


def ridge_loss(w, b, X, y, rng, batch_size=4, l2=0.1):
    n_samples = len(y)
    idx = rng.choice(n_samples, size=batch_size, replace=False)
    X_batch, y_batch = X[idx], y[idx]
    residual = predict(w, b, X_batch) - y_batch
    mse = np.sum(residual**2) / (2 * X_batch.shape[0])
    return mse + 0.5 * l2 * np.dot(w, w)


def make_inputs(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(10, 3))
    true_w = np.array([1.5, -2.0, 0.5])
    y = X @ true_w + 0.3 + 0.1 * rng.normal(size=10)
    w = rng.normal(size=3)
    return w, 0.0, X, y, np.random.default_rng(seed + 1)


if __name__ == "__main__":
    w, b, X, y, rng = make_inputs(0)
    grad_fn = srcgrad.grad(ridge_loss, wrt=(0, 1))
    for epoch in range(100):
        dw, db = grad_fn(w, b, X, y, rng)
        w, b = w - 0.1 * dw, b - 0.1 * db
    print(w, b)
