"""Idioms that recur across published code: masks with -inf, structural zeros in log space,
scatter updates, early stopping, recursion over a parse tree, flatten/unflatten of parameters,
inline lists handed to reductions, clipping of probabilities, robust losses."""

import numpy as np


def masked_attention(Wq, Wk, x):
    """Causal attention with the mask written as -inf, the way most code writes it."""
    q, k = x @ Wq, x @ Wk
    scores = q @ k.T / np.sqrt(x.shape[1])
    T = x.shape[0]
    scores = np.where(np.tril(np.ones((T, T))) > 0, scores, -np.inf)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.sum((weights @ x) ** 2)


def left_to_right_hmm(emit_means, log_A, obs):
    """An HMM whose transition matrix has structural zeros (log_A holds -inf)."""
    log_emit = -0.5 * (obs[:, None] - emit_means[None, :]) ** 2
    log_alpha = np.concatenate([[0.0], np.full(emit_means.shape[0] - 1, -np.inf)]) + log_emit[0]
    for t in range(1, obs.shape[0]):
        m = log_alpha[:, None] + log_A
        top = np.max(m, axis=0)
        log_alpha = top + np.log(np.sum(np.exp(m - top), axis=0)) + log_emit[t]
    top = np.max(log_alpha)
    return top + np.log(np.sum(np.exp(log_alpha - top)))


def embedding_bag(E, W, token_ids, offsets, y):
    """Sum of token embeddings per document, accumulated by scatter-add into a buffer."""
    n_docs = offsets.shape[0]
    pooled = np.zeros((n_docs, E.shape[1]))
    for d in range(n_docs):
        start = offsets[d]
        end = offsets[d + 1] if d + 1 < n_docs else token_ids.shape[0]
        for t in range(start, end):
            pooled[d] += E[token_ids[t]]
    return np.sum(np.logaddexp(0, -y * (pooled @ W)))


def gradient_descent_unrolled(w0, X, y, lr=0.1, max_steps=20, tol=1e-3):
    """Inner least-squares solver unrolled with early stopping; differentiate w.r.t. the start."""
    w = w0
    for step in range(max_steps):
        grad = X.T @ (X @ w - y) / X.shape[0]
        if np.sqrt(np.sum(grad**2)) < tol:
            break
        w = w - lr * grad
    return np.sum(w**2)


def tree_encode(tree, W, emb):
    """A recursive network over a binary parse tree given as nested tuples of word ids."""
    if isinstance(tree, int):
        return emb[tree]
    left, right = tree
    children = np.concatenate([tree_encode(left, W, emb), tree_encode(right, W, emb)])
    return np.tanh(W @ children)


def tree_rnn_loss(W, emb, tree, target):
    return np.sum((tree_encode(tree, W, emb) - target) ** 2)


def flatten_params(params):
    return np.concatenate([np.ravel(W) for W, b in params] + [b for W, b in params])


def unflatten_params(flat, shapes):
    params = []
    offset = 0
    for m, n in shapes:
        params.append(flat[offset : offset + m * n].reshape(m, n))
        offset += m * n
    biases = []
    for m, n in shapes:
        biases.append(flat[offset : offset + n])
        offset += n
    return params, biases


def flat_vector_objective(flat, shapes, x, y):
    """Optimisers want one vector: the net unpacks it into weight and bias lists."""
    Ws, bs = unflatten_params(flat, shapes)
    h = x
    for i in range(len(Ws)):
        h = np.tanh(h @ Ws[i] + bs[i])
    return np.sum((h - y) ** 2)


def multi_task_loss(W, X, y1, y2):
    """Two task losses combined by np.mean over an inline list."""
    pred = X @ W
    l1 = np.mean((pred[:, 0] - y1) ** 2)
    l2 = np.mean(np.abs(pred[:, 1] - y2))
    return np.mean([l1, l2])


def column_penalty(W, X, y1, y2):
    """A penalty summed by np.sum over a list comprehension."""
    fit = np.mean((X @ W[:, 0] - y1) ** 2)
    return fit + 0.01 * np.sum([np.sum(W[:, j] ** 2) for j in range(W.shape[1])])


def clipped_cross_entropy(w, X, t):
    """Binary cross-entropy with probabilities clipped away from 0 and 1."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def trimmed_loss(w, X, y, keep=6):
    """Least trimmed squares: the smallest residuals after a sort."""
    r = (X @ w - y) ** 2
    return np.sum(np.sort(r)[:keep])


def column_updates(W, x):
    """Features written column by column into a preallocated matrix, then normalised."""
    n, d = x.shape[0], W.shape[1]
    feats = np.empty((n, d))
    for j in range(d):
        feats[:, j] = np.cos(x @ W[:, j])
    feats /= np.linalg.norm(feats, axis=0, keepdims=True)
    return np.sum(feats[:, :-1] * feats[:, 1:])


def growing_trajectory(k, y0, steps=5, dt=0.2):
    """A trajectory grown by np.concatenate inside the loop."""
    traj = y0[None, :]
    y = y0
    for _ in range(steps):
        y = y + dt * np.array([y[1], -k * y[0]])
        traj = np.concatenate([traj, y[None, :]], axis=0)
    return np.sum(traj[:, 0] ** 2)


def gaussian_conditioning(log_ls, X, y, x_star):
    """Posterior mean at test points with an explicit inverse and a trace term."""
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=2)
    K = np.exp(-0.5 * sq / np.exp(2 * log_ls)) + 0.1 * np.eye(X.shape[0])
    Ks = np.exp(
        -0.5 * np.sum((x_star[:, None, :] - X[None, :, :]) ** 2, axis=2) / np.exp(2 * log_ls)
    )
    K_inv = np.linalg.inv(K)
    mean = Ks @ K_inv @ y
    return np.sum(mean**2) + np.trace(K_inv)


def mlp_enumerate(params, x, y):
    """Layers visited with enumerate and unpacked in the loop target."""
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return np.mean((h - y) ** 2)


def gp_flat_jitter(params, X, y):
    """Noise added to the diagonal through ``K.flat``, as many GP codes do."""
    log_amp, log_ls, log_noise = params[0], params[1], params[2]
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=2)
    K = np.exp(2 * log_amp - 0.5 * sq / np.exp(2 * log_ls))
    n = X.shape[0]
    K.flat[:: n + 1] += np.exp(2 * log_noise)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * (y @ np.linalg.solve(K, y) + logdet)


def vandermonde_by_columns(coeffs, x, y):
    """A design matrix allocated (degree, n) and filled through its transpose view."""
    A = np.zeros((coeffs.shape[0], x.shape[0]))
    rows = A.T
    for i in range(x.shape[0]):
        rows[i] = x[i] ** np.arange(coeffs.shape[0]) * coeffs
    return np.sum((np.sum(A, axis=0) - y) ** 2)


def svm_hinge_item(w, X, y, C=1.0):
    """Soft-margin SVM objective; the hinge term read out as a Python float with .item()."""
    margins = 1 - y * (X @ w)
    hinge = np.maximum(0, margins).mean().item()
    return 0.5 * np.dot(w, w) + C * hinge


def rnn_states_concat(W, U, xs):
    """Hidden states kept by list concatenation, seeded with the zero state."""
    hs = [np.zeros(W.shape[0])]
    for x in xs:
        hs = hs + [np.tanh(W @ hs[-1] + U @ x)]
    return np.sum(np.stack(hs[1:]) ** 2)


def unrolled_sgd(params, x, y, lr=0.1, steps=2):
    """A few hand-written SGD steps on a (W, b) tuple, then the loss: the tuple is rebound."""
    for step in range(steps):
        W, b = params
        err = x @ W + b - y
        params = (W - lr * x.T @ err / x.shape[0], b - lr * err.mean(axis=0))
    W, b = params
    return np.mean((x @ W + b - y) ** 2)


def lstm_state_tuple(Wx, Wh, state, xs):
    """An LSTM whose (h, c) state tuple comes in as an argument and is rebound every step."""
    for x in xs:
        h, c = state
        z = x @ Wx + h @ Wh
        i, f, o, g = np.split(z, 4, axis=-1)
        c = c / (1 + np.exp(-f)) + np.tanh(g) / (1 + np.exp(-i))
        h = np.tanh(c) / (1 + np.exp(-o))
        state = (h, c)
    h, c = state
    return np.sum(h**2) + np.sum(c)
