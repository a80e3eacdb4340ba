"""Long-only portfolio weights by softmax of scores, trained on historical returns with
an objective that trades the annualised Sharpe ratio against the maximum drawdown:
wealth by `np.cumprod(1 + r)`, the running peak by `np.maximum.accumulate`, the worst
drawdown by `np.max`, and a turnover penalty from `np.diff` of rolling weights."""

import numpy as np

import srcgrad

PERIODS_PER_YEAR = 252


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def sharpe(returns, risk_free=0.0):
    excess = returns - risk_free / PERIODS_PER_YEAR
    return np.sqrt(PERIODS_PER_YEAR) * np.mean(excess) / np.std(excess, ddof=1)


def max_drawdown(returns):
    wealth = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(wealth)
    return np.max((peak - wealth) / peak)


def objective(scores, tilt, asset_returns, features, dd_weight=2.0, tc=1e-3):
    T = asset_returns.shape[0]
    base = softmax(scores)
    port = np.empty(T)
    weights = []
    for t in range(T):
        w = softmax(scores + tilt * features[t])
        weights.append(w)
        port[t] = w @ asset_returns[t]
    turnover = np.sum(np.abs(np.diff(np.array(weights), axis=0)) ** 2)
    drift = np.sum((np.mean(weights, axis=0) - base) ** 2)
    return -sharpe(port) + dd_weight * max_drawdown(port) + tc * turnover + drift


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    T, n = 40, 4
    asset_returns = 0.0005 + 0.01 * rs.randn(T, n)
    features = rs.randn(T, n)
    return 0.1 * rs.randn(n), 0.2, asset_returns, features


if __name__ == "__main__":
    scores, tilt, R, F = make_inputs(0)
    g_scores, g_tilt = srcgrad.grad(objective, wrt=(0, 1))(scores, tilt, R, F)
    print(g_scores, g_tilt)
