"""A softmax-regression MLP written in the allocation-avoiding style of optimised numpy
code: every operation writes through `out=` into a preallocated buffer
(`np.dot(X, W, out=h)`, `np.add(h, b, out=h)`, `np.maximum(h, 0, out=h)`,
`np.exp(z, out=z)`, `np.divide(z, s, out=z)`), with in-place operators on the buffers."""

import numpy as np

import srcgrad


def dense_relu(X, W, b):
    h = np.empty((X.shape[0], W.shape[1]))
    np.dot(X, W, out=h)
    np.add(h, b, out=h)
    np.maximum(h, 0.0, out=h)
    return h


def softmax_inplace(z):
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    s = z.sum(axis=1, keepdims=True)
    np.divide(z, s, out=z)
    return z


def buffered_loss(params, X, y, weight_decay=1e-3):
    W1, b1, W2, b2 = params
    h = dense_relu(X, W1, b1)
    z = np.zeros((X.shape[0], W2.shape[1]))
    np.matmul(h, W2, out=z)
    z += b2
    probs = softmax_inplace(z)
    picked = probs[np.arange(len(y)), y]
    nll = -np.mean(np.log(picked))
    sq = np.empty_like(W1)
    np.multiply(W1, W1, out=sq)
    return nll + weight_decay * (sq.sum() + np.sum(W2 * W2))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = (0.5 * rs.randn(4, 6), 0.1 * rs.randn(6), 0.5 * rs.randn(6, 3), np.zeros(3))
    X = rs.randn(8, 4)
    y = rs.randint(0, 3, size=8)
    return params, X, y


if __name__ == "__main__":
    params, X, y = make_inputs(0)
    grads = srcgrad.grad(buffered_loss)(params, X, y)
