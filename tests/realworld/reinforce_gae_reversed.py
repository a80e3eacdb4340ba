"""Actor-critic on a batch of logged episodes: discounted returns and generalised advantage
estimates computed by loops over `reversed(range(...))` that write into `np.zeros_like`
buffers, a running sum rebound each step, a conditional expression for the bootstrap value
past the end of the episode, a softmax policy and a squared-error critic."""

import numpy as np

import srcgrad

GAMMA = 0.95
LAM = 0.9


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def discount_rewards(rewards, gamma):
    discounted = np.zeros_like(rewards)
    running_add = 0.0
    for t in reversed(range(rewards.size)):
        running_add = running_add * gamma + rewards[t]
        discounted[t] = running_add
    return discounted


def gae(rewards, values, gamma, lam):
    advantages = np.zeros(len(rewards))
    last = 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(values) else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        last = delta + gamma * lam * last
        advantages[t] = last
    return advantages


def actor_critic_loss(params, states, actions, rewards):
    W_pi, W_v = params
    probs = softmax(states @ W_pi)
    values = states @ W_v
    returns = discount_rewards(rewards, GAMMA)
    adv = gae(rewards, values, GAMMA, LAM)
    logp = np.log(probs[np.arange(len(actions)), actions])
    policy_loss = -np.mean(logp * adv)
    critic_loss = 0.5 * np.mean((returns - values) ** 2)
    return policy_loss + critic_loss


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = [0.3 * rs.randn(4, 3), 0.3 * rs.randn(4)]
    states = rs.randn(7, 4)
    actions = rs.randint(0, 3, size=7)
    rewards = rs.rand(7)
    return params, states, actions, rewards


if __name__ == "__main__":
    params, states, actions, rewards = make_inputs(0)
    grad_fn = srcgrad.grad(actor_critic_loss)
    for it in range(5):
        g = grad_fn(params, states, actions, rewards)
        params = [p - 0.1 * dp for p, dp in zip(params, g)]
