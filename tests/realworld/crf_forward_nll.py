"""Linear-chain CRF tagger: emission scores from a linear layer, a transition matrix with
start and end scores, the log partition by the forward algorithm with a hand-written
logsumexp, the gold path score by integer indexing, and a Viterbi decoder (argmax and
back-pointers) that is used only for the accuracy the script prints."""

import numpy as np

import srcgrad


def logsumexp(x, axis=0):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def log_partition(emissions, trans, start, end):
    alpha = start + emissions[0]
    for t in range(1, emissions.shape[0]):
        alpha = logsumexp(alpha[:, None] + trans, axis=0) + emissions[t]
    return logsumexp(alpha + end)


def gold_score(emissions, tags, trans, start, end):
    T = len(tags)
    score = start[tags[0]] + end[tags[-1]]
    score += np.sum(emissions[np.arange(T), tags])
    score += sum(trans[tags[t - 1], tags[t]] for t in range(1, T))
    return score


def viterbi(emissions, trans, start, end):
    delta, back = start + emissions[0], []
    for t in range(1, emissions.shape[0]):
        scores = delta[:, None] + trans
        back.append(np.argmax(scores, axis=0))
        delta = np.max(scores, axis=0) + emissions[t]
    path = [int(np.argmax(delta + end))]
    for bp in reversed(back):
        path.append(int(bp[path[-1]]))
    return path[::-1]


def crf_nll(W, trans, start, end, sentences):
    total = 0.0
    for X, tags in sentences:
        em = X @ W
        total += log_partition(em, trans, start, end) - gold_score(em, tags, trans, start, end)
    return total / len(sentences)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    sents = [(rs.randn(n, 4), rs.randint(0, 3, size=n)) for n in (5, 3, 6)]
    return 0.3 * rs.randn(4, 3), 0.2 * rs.randn(3, 3), rs.randn(3) * 0.1, rs.randn(3) * 0.1, sents


if __name__ == "__main__":
    W, trans, start, end, sents = make_inputs(0)
    grads = srcgrad.grad(crf_nll, wrt=(0, 1, 2, 3))(W, trans, start, end, sents)
    pred = viterbi(sents[0][0] @ W, trans, start, end)
    print(grads[0], np.mean(np.array(pred) == sents[0][1]))
