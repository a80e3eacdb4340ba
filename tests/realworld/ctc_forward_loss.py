"""Connectionist temporal classification loss of a tiny recurrent acoustic model: the
label sequence is extended with blanks, the forward variables live in a table
`np.full((T, S), -np.inf)` filled cell by cell with `np.logaddexp`, the skip transition
is allowed only between different non-blank labels, and the loss reads the last two
cells of the final row."""

import numpy as np

import srcgrad

BLANK = 0


def log_softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def extend_with_blanks(labels):
    ext = [BLANK]
    for l in labels:
        ext += [l, BLANK]
    return ext


def ctc_neg_log_likelihood(logp, labels):
    T = logp.shape[0]
    ext = extend_with_blanks(labels)
    S = len(ext)
    alpha = np.full((T, S), -np.inf)
    alpha[0, 0] = logp[0, ext[0]]
    alpha[0, 1] = logp[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            a = alpha[t - 1, s]
            if s > 0:
                a = np.logaddexp(a, alpha[t - 1, s - 1])
            if s > 1 and ext[s] != BLANK and ext[s] != ext[s - 2]:
                a = np.logaddexp(a, alpha[t - 1, s - 2])
            alpha[t, s] = a + logp[t, ext[s]]
    return -np.logaddexp(alpha[T - 1, S - 1], alpha[T - 1, S - 2])


def model_loss(W_in, W_rec, W_out, frames, labels):
    h = np.zeros(W_rec.shape[0])
    outputs = []
    for x in frames:
        h = np.tanh(W_in @ x + W_rec @ h)
        outputs.append(W_out @ h)
    return ctc_neg_log_likelihood(log_softmax(np.stack(outputs)), labels)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    F, H, V, T = 3, 5, 4, 7
    return (0.5 * rs.randn(H, F), 0.3 * rs.randn(H, H), 0.5 * rs.randn(V, H),
            rs.randn(T, F), [1, 3, 3, 2])


if __name__ == "__main__":
    W_in, W_rec, W_out, frames, labels = make_inputs(0)
    grads = srcgrad.grad(model_loss, wrt=(0, 1, 2))(W_in, W_rec, W_out, frames, labels)
    print([g.shape for g in grads])
