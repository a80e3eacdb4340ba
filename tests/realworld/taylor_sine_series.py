"""sin(x) by its Taylor series, summed until the next term is below a tolerance (a `while`
loop with an early `break` on convergence), then used in a small least-squares fit of the
amplitude and frequency of a sampled sine: the kind of series code numerical-methods
courses write before calling np.sin."""

import numpy as np

import srcgrad


def taylor_sin(x, tol=1e-12, max_terms=30):
    term = x
    total = x
    n = 1
    while n < max_terms:
        term = -term * x * x / ((2 * n) * (2 * n + 1))
        total = total + term
        if np.all(np.abs(term) < tol):
            break
        n += 1
    return total


def wrap(x):
    # bring the argument into [-pi, pi] so the series converges fast
    return x - 2 * np.pi * np.round(x / (2 * np.pi))


def fit_error(theta, t, samples):
    amplitude, frequency = theta[0], theta[1]
    model = amplitude * taylor_sin(wrap(frequency * t))
    return np.sum((model - samples) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    t = np.linspace(0.05, 1.95, 8)
    samples = 1.3 * np.sin(2.1 * t) + 0.01 * rs.randn(8)
    return np.array([1.0, 2.0]) + 0.05 * rs.randn(2), t, samples


if __name__ == "__main__":
    theta, t, samples = make_inputs(0)
    error_grad = srcgrad.grad(fit_error)
    for it in range(100):
        theta = theta - 0.01 * error_grad(theta, t, samples)
    print(theta)
