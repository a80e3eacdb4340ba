"""RankNet / LambdaRank-style pairwise ranking on query groups, written with boolean and
integer mask arithmetic: pair masks `(rel[:, None] > rel[None, :])` multiplied into float
arrays, `same_query & better`, `~np.eye(n, dtype=bool)`, `mask.sum()` as a count,
`(s > 0) * s` ReLU, `np.sum(pred == y)` style integer counts turned into weights, and
`mask.astype(int)` gains."""

import numpy as np

import srcgrad


def score(params, X):
    h = X @ params["W"] + params["b"]
    h = (h > 0) * h
    return h @ params["v"]


def pair_weights(rel, qid):
    n = rel.shape[0]
    better = rel[:, None] > rel[None, :]
    same_query = qid[:, None] == qid[None, :]
    pairs = better & same_query & ~np.eye(n, dtype=bool)
    gain = (2 ** rel.astype(int) - 1)[:, None] - (2 ** rel.astype(int) - 1)[None, :]
    return pairs, np.abs(gain) * pairs


def ranknet_loss(params, X, rel, qid):
    s = score(params, X)
    pairs, weights = pair_weights(rel, qid)
    diff = s[:, None] - s[None, :]
    pair_loss = np.logaddexp(0.0, -diff) * weights
    n_pairs = pairs.sum()
    top = (s == s.max()).astype(float)
    hits = np.sum((rel > 1) * top)
    listwise = -np.sum(pairs * diff) / max(n_pairs, 1)
    return pair_loss.sum() / n_pairs + 0.1 * listwise + 0.0 * hits


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n = 9
    X = rs.randn(n, 4)
    params = {"W": 0.5 * rs.randn(4, 6), "b": 0.1 * rs.randn(6), "v": rs.randn(6)}
    rel = rs.randint(0, 3, size=n).astype(float)
    qid = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2])
    return params, X, rel, qid


if __name__ == "__main__":
    params, X, rel, qid = make_inputs(0)
    grads = srcgrad.grad(ranknet_loss)(params, X, rel, qid)
