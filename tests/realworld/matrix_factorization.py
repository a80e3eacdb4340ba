"""Collaborative filtering by matrix factorisation (the Netflix-prize recipe of recommender
tutorials): user and item factor matrices plus user and item biases in a dict, the squared
error summed over the observed (user, item, rating) triples only, and L2 regularisation."""

import numpy as np

import srcgrad


def predict_rating(params, user, item, global_mean):
    return (
        global_mean
        + params["user_bias"][user]
        + params["item_bias"][item]
        + np.dot(params["P"][user], params["Q"][item])
    )


def mf_loss(params, ratings, global_mean, lam=0.05):
    error = 0.0
    for user, item, r in ratings:
        error = error + (r - predict_rating(params, user, item, global_mean)) ** 2
    penalty = lam * (
        np.sum(params["P"] ** 2)
        + np.sum(params["Q"] ** 2)
        + np.sum(params["user_bias"] ** 2)
        + np.sum(params["item_bias"] ** 2)
    )
    return error / len(ratings) + penalty


def make_inputs(seed, n_users=4, n_items=5, k=2):
    rs = np.random.RandomState(seed)
    ratings = []
    for u in range(n_users):
        for i in rs.choice(n_items, size=3, replace=False):
            ratings.append((u, int(i), float(rs.randint(1, 6))))
    global_mean = np.mean([r for _, _, r in ratings])
    params = {
        "P": 0.1 * rs.randn(n_users, k),
        "Q": 0.1 * rs.randn(n_items, k),
        "user_bias": np.zeros(n_users),
        "item_bias": np.zeros(n_items),
    }
    return params, ratings, global_mean


def main():
    params, ratings, global_mean = make_inputs(0)
    step = srcgrad.value_and_grad(mf_loss)
    for epoch in range(50):
        loss, g = step(params, ratings, global_mean)
        params = {k: v - 0.1 * g[k] for k, v in params.items()}
    print("train loss", loss)


if __name__ == "__main__":
    main()
