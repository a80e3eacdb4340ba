"""Meta-learning the step size and the initial weights of a linear regressor by
differentiating through an unrolled Adam loop written inside the loss: the inner
gradient is written by hand, the first and second moments are carried across steps,
the bias corrections use `beta ** t` with the integer step, and the validation loss of
the last weights is what is returned."""

import numpy as np

import srcgrad


def inner_grad(w, X, y, l2):
    resid = X @ w - y
    return X.T @ resid / X.shape[0] + l2 * w


def adam(w, X, y, lr, n_steps, beta1=0.9, beta2=0.999, eps=1e-8, l2=1e-2):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, n_steps + 1):
        g = inner_grad(w, X, y, l2)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def meta_loss(log_lr, w0, data, n_steps=15):
    (X_tr, y_tr), (X_val, y_val) = data
    w = adam(w0, X_tr, y_tr, np.exp(log_lr), n_steps)
    return np.mean((X_val @ w - y_val) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    w_true = rs.randn(4)
    X = rs.randn(30, 4)
    y = X @ w_true + 0.1 * rs.randn(30)
    data = ((X[:20], y[:20]), (X[20:], y[20:]))
    return np.log(0.05), 0.1 * rs.randn(4), data


def main():
    log_lr, w0, data = make_inputs(0)
    for it in range(5):
        loss, (g_lr, g_w0) = srcgrad.value_and_grad(meta_loss, wrt=(0, 1))(log_lr, w0, data)
        log_lr -= 0.1 * g_lr
        w0 = w0 - 0.1 * g_w0
    print(loss, np.exp(log_lr))


if __name__ == "__main__":
    main()
