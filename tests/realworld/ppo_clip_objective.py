"""The clipped surrogate objective of PPO for a discrete-action policy: a softmax policy
network, log-probabilities of the taken actions by fancy indexing, the probability ratio
against the old policy, np.clip / np.minimum, a value-function loss and an entropy bonus."""

import numpy as np

import srcgrad

CLIP_EPS = 0.2
VF_COEF = 0.5
ENT_COEF = 0.01


def policy_and_value(theta, obs):
    hidden = np.tanh(obs @ theta["W1"] + theta["b1"])
    logits = hidden @ theta["Wpi"]
    value = (hidden @ theta["Wv"]).ravel()
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return log_probs, value


def ppo_loss(theta, obs, actions, old_log_probs, advantages, returns):
    log_probs, value = policy_and_value(theta, obs)
    idx = np.arange(len(actions))
    new_lp = log_probs[idx, actions]
    ratio = np.exp(new_lp - old_log_probs)
    adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    surr1 = ratio * adv
    surr2 = np.clip(ratio, 1.0 - CLIP_EPS, 1.0 + CLIP_EPS) * adv
    policy_loss = -np.minimum(surr1, surr2).mean()
    value_loss = ((value - returns) ** 2).mean()
    entropy = -(np.exp(log_probs) * log_probs).sum(axis=-1).mean()
    return policy_loss + VF_COEF * value_loss - ENT_COEF * entropy


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    theta = {
        "W1": 0.5 * rs.randn(4, 8),
        "b1": np.zeros(8),
        "Wpi": 0.5 * rs.randn(8, 3),
        "Wv": 0.5 * rs.randn(8, 1),
    }
    obs = rs.randn(6, 4)
    actions = rs.randint(0, 3, size=6)
    old = np.log(np.full(6, 1.0 / 3.0)) + 0.3 * rs.randn(6)
    return theta, obs, actions, old, rs.randn(6), rs.randn(6)


if __name__ == "__main__":
    theta, *batch = make_inputs(0)
    grad_fn = srcgrad.grad(ppo_loss)
    for epoch in range(4):
        g = grad_fn(theta, *batch)
        theta = {k: theta[k] - 0.05 * g[k] for k in theta}
