"""Structured SVM for sequence labelling with a margin-rescaled hinge loss: loss-augmented
Viterbi decoding (Hamming cost added to the emission scores), back-pointers from
`np.argmax(..., axis=0)`, the path recovered by walking them backwards, and the score
difference between the predicted and the gold path by integer indexing."""

import numpy as np

import srcgrad


def path_score(emissions, trans, path):
    score = emissions[0, path[0]]
    for t in range(1, len(path)):
        score = score + trans[path[t - 1], path[t]] + emissions[t, path[t]]
    return score


def loss_augmented_viterbi(emissions, trans, gold):
    T, K = emissions.shape
    aug = emissions + 1.0
    aug[np.arange(T), gold] -= 1.0
    delta = aug[0]
    backptr = np.zeros((T, K), dtype=int)
    for t in range(1, T):
        cand = delta[:, None] + trans
        backptr[t] = np.argmax(cand, axis=0)
        delta = cand[backptr[t], np.arange(K)] + aug[t]
    best = [int(np.argmax(delta))]
    for t in range(T - 1, 0, -1):
        best.insert(0, int(backptr[t, best[0]]))
    return best


def hinge(W, trans, X, gold):
    emissions = X @ W
    pred = loss_augmented_viterbi(emissions, trans, gold)
    margin = float(np.sum(np.array(pred) != np.array(gold)))
    return max(0.0, margin + path_score(emissions, trans, pred) - path_score(emissions, trans, gold))


def objective(W, trans, data, C=1.0):
    reg = 0.5 * (np.sum(W ** 2) + np.sum(trans ** 2))
    return reg + C * sum(hinge(W, trans, X, gold) for X, gold in data) / len(data)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    data = [(rs.randn(n, 4), [int(k) for k in rs.randint(0, 3, size=n)]) for n in (5, 4, 6)]
    return 0.5 * rs.randn(4, 3), 0.3 * rs.randn(3, 3), data


if __name__ == "__main__":
    W, trans, data = make_inputs(0)
    for epoch in range(3):
        gW, gT = srcgrad.grad(objective, wrt=(0, 1))(W, trans, data)
        W, trans = W - 0.1 * gW, trans - 0.1 * gT
    print(objective(W, trans, data))
