"""The log likelihood of a local-level-plus-trend state space model by the Kalman filter,
for maximum likelihood estimation of the noise variances: predict and update in a loop over
the time steps, Gaussian log density of each innovation, parameters log-variances."""

import numpy as np

import srcgrad

F = np.array([[1.0, 1.0], [0.0, 1.0]])
H = np.array([[1.0, 0.0]])


def kalman_predict(x, P, Q):
    x = F @ x
    P = F @ P @ F.T + Q
    return x, P


def kalman_update(x, P, z, R):
    y = z - H @ x
    S = H @ P @ H.T + R
    K = P @ H.T @ np.linalg.inv(S)
    x = x + K @ y
    P = (np.eye(len(x)) - K @ H) @ P
    loglik = -0.5 * (np.log(2 * np.pi * S[0, 0]) + y[0] ** 2 / S[0, 0])
    return x, P, loglik


def neg_log_likelihood(log_vars, observations):
    q_level, q_trend, r = np.exp(log_vars)
    Q = np.diag(np.array([q_level, q_trend]))
    R = np.array([[r]])
    x = np.zeros(2)
    P = 10.0 * np.eye(2)
    total = 0.0
    for t in range(observations.shape[0]):
        x, P = kalman_predict(x, P, Q)
        x, P, ll = kalman_update(x, P, observations[t], R)
        total = total + ll
    return -total


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    trend = np.cumsum(0.1 + 0.05 * rs.randn(10))
    observations = (trend + 0.3 * rs.randn(10)).reshape(-1, 1)
    return np.log(np.array([0.1, 0.01, 0.2])), observations


def main():
    log_vars, observations = make_inputs(0)
    value_and_grad = srcgrad.value_and_grad(neg_log_likelihood)
    for _ in range(25):
        nll, g = value_and_grad(log_vars, observations)
        log_vars = log_vars - 0.05 * g
    print(nll, np.exp(log_vars))


if __name__ == "__main__":
    main()
