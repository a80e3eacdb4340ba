"""Skip-gram word2vec with negative sampling, as in the CS224N assignment: for a centre word,
the loss of each outside word is -log sigmoid(u_o . v_c) minus the log sigmoid of the
negated scores of K sampled negative words; the window's loss sums over its outside words.
Negative samples are drawn from a unigram table by a RandomState passed in."""

import numpy as np

import srcgrad


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def get_negative_samples(outside_idx, dataset_table, K, rs):
    neg = []
    while len(neg) < K:
        idx = dataset_table[rs.randint(0, len(dataset_table))]
        if idx == outside_idx:
            continue
        neg.append(idx)
    return neg


def neg_sampling_loss(center_vec, outside_idx, outside_vectors, neg_indices):
    true_score = sigmoid(outside_vectors[outside_idx].dot(center_vec))
    loss = -np.log(true_score)
    for k in neg_indices:
        loss = loss - np.log(sigmoid(-outside_vectors[k].dot(center_vec)))
    return loss


def skipgram_window_loss(center_vectors, outside_vectors, center_idx, outside_words, table):
    rs = np.random.RandomState(center_idx)
    center_vec = center_vectors[center_idx]
    total = 0.0
    for o in outside_words:
        negatives = get_negative_samples(o, table, 3, rs)
        total += neg_sampling_loss(center_vec, o, outside_vectors, negatives)
    return total


def make_inputs(seed, vocab=6, dim=4):
    rs = np.random.RandomState(seed)
    center_vectors = 0.5 * rs.randn(vocab, dim)
    outside_vectors = 0.5 * rs.randn(vocab, dim)
    table = [0, 0, 1, 2, 2, 2, 3, 4, 5, 5]
    return center_vectors, outside_vectors, 2, [1, 3, 4], table


if __name__ == "__main__":
    args = make_inputs(0)
    grads = srcgrad.grad(skipgram_window_loss, wrt=(0, 1))(*args)
    print([np.linalg.norm(g) for g in grads])
