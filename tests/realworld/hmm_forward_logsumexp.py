"""Maximum-likelihood fitting of a discrete hidden Markov model: the forward algorithm in log
space, one log-alpha vector per time step, scipy.special.logsumexp over the previous states,
and the initial, transition and emission probabilities parameterised by unconstrained logits
normalised row by row with a log-softmax helper."""

import numpy as np
from scipy.special import logsumexp

import srcgrad


def log_normalize(logits, axis=-1):
    return logits - logsumexp(logits, axis=axis, keepdims=True)


def unpack(params):
    log_pi = log_normalize(params["pi"])
    log_A = log_normalize(params["A"], axis=1)
    log_B = log_normalize(params["B"], axis=1)
    return log_pi, log_A, log_B


def hmm_log_likelihood(params, observations):
    log_pi, log_A, log_B = unpack(params)
    log_alpha = log_pi + log_B[:, observations[0]]
    for t in range(1, len(observations)):
        # alpha_t(j) = sum_i alpha_{t-1}(i) A(i, j), times the emission of o_t in state j
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0)
        log_alpha = log_alpha + log_B[:, observations[t]]
    return logsumexp(log_alpha)


def neg_log_likelihood(params, sequences):
    return -sum(hmm_log_likelihood(params, seq) for seq in sequences) / len(sequences)


def make_inputs(seed, n_states=3, n_symbols=4):
    rs = np.random.RandomState(seed)
    params = {
        "pi": rs.randn(n_states),
        "A": rs.randn(n_states, n_states),
        "B": rs.randn(n_states, n_symbols),
    }
    sequences = [rs.randint(0, n_symbols, size=length) for length in (6, 4, 7)]
    return params, sequences


if __name__ == "__main__":
    params, sequences = make_inputs(0)
    nll_and_grad = srcgrad.value_and_grad(neg_log_likelihood)
    for step in range(40):
        nll, g = nll_and_grad(params, sequences)
        params = {k: v - 0.5 * g[k] for k, v in params.items()}
    print("nll", nll)
