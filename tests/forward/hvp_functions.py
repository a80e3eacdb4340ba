"""Functions whose Hessian-vector products tests/test_forward_mode.py checks (srcgrad reads
their source, so they live in a file of their own)."""

import functools

import numpy as np
from scipy.special import expit, logsumexp
from scipy.stats import norm

from srcgrad import nn


def quad_tanh(x, A):
    return 0.5 * x @ (A @ x) + np.sum(np.tanh(x))


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def logistic_loss(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, -y * z)) + 0.01 * np.sum(w * w)


def softmax_xent(W, X, labels):
    logits = X @ W
    logp = logits - logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(logp * labels, axis=1))


def mixture_loglik(mu, X, logw):
    d = X[:, None, :] - mu[None, :, :]
    logp = -0.5 * np.sum(d * d, axis=2) + logw
    return np.sum(logsumexp(logp, axis=1))


def helper(h, W):
    return np.tanh(h @ W)


def with_call(x, W):
    h = helper(x, W)
    return np.sum(helper(h, W.T) ** 2)


def make_closure(c):
    def inner(x):
        return np.sum(np.sin(c * x) * x)

    return inner


closure_fn = make_closure(1.7)


def closure_user(x):
    return closure_fn(x) + np.sum(x**4)


def loop_sum(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x * (i + 1)))
    return s


def loop_rnn(W, xs):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h**2)


def branchy(x):
    if np.sum(x) > 0:
        y = np.exp(x)
    else:
        y = np.cos(x)
    return np.sum(y * x)


def norm_fn(x):
    return np.sqrt(np.sum(x * x) + 1.0)


def prod_fn(x):
    return np.prod(np.cos(x) + 2.0)


def max_fn(x):
    return np.max(x**2) + np.sum(np.maximum(x, 0.1) ** 3)


def div_fn(x, y):
    return np.sum(x / (1.0 + y * y)) + np.sum(x * x * y)


def power_fn(x):
    return np.sum(np.abs(x) ** 2.5)


def reshape_fn(x):
    m = x.reshape(2, -1)
    return np.sum((m.T @ m) ** 2)


def log_det(a):
    return np.linalg.slogdet(a @ a.T + np.eye(a.shape[0]))[1]


def inv_fn(a):
    return np.sum(np.linalg.inv(a @ a.T + 2 * np.eye(a.shape[0])))


def where_fn(x):
    return np.sum(np.where(x > 0, x**3, np.sin(x)))


def mlp(W1, W2, X):
    h = np.tanh(X @ W1)
    return np.mean((h @ W2) ** 2)


def concat_fn(x):
    z = np.concatenate([x, x**2, np.exp(x)])
    return np.sum(np.cumsum(z) ** 2)


def mean_var(x):
    return np.var(x) * np.mean(x**2) + np.std(x)


def loop_append(x):
    outs = []
    for i in range(3):
        outs.append(np.sum(x ** (i + 2)))
    return outs[0] * outs[1] + outs[2]


def nested_def(x):
    def bump(v, k):
        return np.exp(-k * v * v)

    return np.sum(bump(x, 0.5) * x) + np.sum(bump(x[::-1], 2.0))


def lambda_call(x):
    soft = lambda v: np.log1p(np.exp(v))  # noqa: E731
    return np.sum(soft(x) * soft(-2.0 * x))


def _scaled(x, scale):
    return np.sum(np.cosh(scale * x))


scaled_partial = functools.partial(_scaled, scale=0.7)


def partial_user(x):
    return scaled_partial(x) + np.sum(x * x * x) / 3.0


def gaussian_nll(mu, log_sigma, data):
    return -np.sum(norm.logpdf(data, loc=mu, scale=np.exp(log_sigma)))


def logistic_regression(w, X, y):
    p = expit(X @ w)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


class Dense(nn.Module):
    def __init__(self, n_in, n_out, rng, act="tanh"):
        self.W = rng.standard_normal((n_in, n_out)) * 0.5
        self.b = rng.standard_normal(n_out) * 0.1
        self.act = act

    def __call__(self, x):
        h = x @ self.W + self.b
        return np.tanh(h) if self.act == "tanh" else h


class Net(nn.Module):
    def __init__(self, rng):
        self.blocks = [Dense(3, 5, rng), Dense(5, 2, rng, act="none")]

    def __call__(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def model_loss(x, model, y):
    return np.mean((model(x) - y) ** 2)


def layers_loop(x, Ws):
    for W in Ws:
        x = np.tanh(W @ x)
    return np.sum(x * x)
