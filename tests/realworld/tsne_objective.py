"""The t-SNE objective: KL(P || Q) between fixed input affinities P and Student-t affinities
Q of a low-dimensional embedding, with the diagonal of Q zeroed by np.fill_diagonal and
the squared distances expanded as |a|^2 - 2 a.b + |b|^2."""

import numpy as np

import srcgrad


def student_t_affinities(Y):
    sum_Y = np.sum(np.square(Y), 1)
    num = -2.0 * np.dot(Y, Y.T)
    num = 1.0 / (1.0 + np.add(np.add(num, sum_Y).T, sum_Y))
    np.fill_diagonal(num, 0.0)
    Q = num / np.sum(num)
    return np.maximum(Q, 1e-12)


def tsne_kl(Y, P):
    Q = student_t_affinities(Y)
    return np.sum(P * np.log(P / Q))


def input_affinities(X, perplexity_beta=1.0):
    d = np.sum((X[:, None] - X[None]) ** 2, axis=-1)
    P = np.exp(-d * perplexity_beta)
    np.fill_diagonal(P, 0.0)
    P = P / P.sum(axis=1, keepdims=True)
    P = (P + P.T) / (2 * P.shape[0])
    return np.maximum(P, 1e-12)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    X = rs.randn(7, 5)
    return 1e-1 * rs.randn(7, 2), input_affinities(X)


if __name__ == "__main__":
    Y, P = make_inputs(0)
    grad = srcgrad.grad(tsne_kl)
    for it in range(50):
        Y -= 10.0 * grad(Y, P)
    print(tsne_kl(Y, P))
