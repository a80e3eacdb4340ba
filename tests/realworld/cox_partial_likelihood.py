"""Cox proportional-hazards regression by its partial likelihood (Breslow, no ties):
subjects are sorted by decreasing survival time with `np.argsort(-times)`, the risk set
sums are a running `np.cumsum` of `exp(eta)`, only the rows with an observed event
(a boolean mask) enter the likelihood, and an elastic-net-style smooth penalty is added."""

import numpy as np

import srcgrad


def partial_log_likelihood(beta, X, times, events):
    order = np.argsort(-times)
    eta = X[order] @ beta
    log_risk = np.log(np.cumsum(np.exp(eta)))
    observed = events[order].astype(bool)
    return np.sum(eta[observed] - log_risk[observed])


def penalty(beta, alpha=0.05, l1_ratio=0.3, smooth=1e-3):
    l1 = np.sum(np.sqrt(beta ** 2 + smooth))
    l2 = 0.5 * np.sum(beta ** 2)
    return alpha * (l1_ratio * l1 + (1 - l1_ratio) * l2)


def cox_objective(beta, X, times, events):
    n = X.shape[0]
    return -partial_log_likelihood(beta, X, times, events) / n + penalty(beta)


def concordance(beta, X, times, events):
    risk = X @ beta
    num = den = 0
    for i in range(len(times)):
        if not events[i]:
            continue
        later = times > times[i]
        num += np.sum(risk[i] > risk[later])
        den += np.sum(later)
    return num / max(den, 1)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n, p = 25, 4
    X = rs.randn(n, p)
    true_beta = np.array([0.8, -0.5, 0.0, 0.3])
    times = rs.exponential(np.exp(-X @ true_beta))
    events = (rs.rand(n) < 0.7).astype(int)
    return 0.1 * rs.randn(p), X, times, events


if __name__ == "__main__":
    beta, X, times, events = make_inputs(0)
    for it in range(50):
        beta = beta - 0.5 * srcgrad.grad(cox_objective)(beta, X, times, events)
    print(beta, concordance(beta, X, times, events))
