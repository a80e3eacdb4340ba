"""The two-layer fully connected net of the CS231n assignment: input - affine - ReLU -
affine - softmax, parameters in a dict W1, b1, W2, b2, labels as integer classes, L2
regularisation on the weights.  The loss is written the way the assignment's skeleton asks:
scores shifted by their row maximum, correct-class log probabilities picked by fancy
indexing."""

import numpy as np

import srcgrad


def init_toy_model(input_size, hidden_size, num_classes, std=1e-1, seed=0):
    rs = np.random.RandomState(seed)
    params = {}
    params["W1"] = std * rs.randn(input_size, hidden_size)
    params["b1"] = np.zeros(hidden_size)
    params["W2"] = std * rs.randn(hidden_size, num_classes)
    params["b2"] = np.zeros(num_classes)
    return params


def softmax_loss(params, X, y, reg=0.05):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    # forward pass
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2

    # softmax with the max subtracted for numerical stability
    scores = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    correct_logprobs = -np.log(probs[np.arange(N), y])
    data_loss = np.sum(correct_logprobs) / N
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = init_toy_model(4, 10, 3, seed=seed)
    params["b1"] = 0.1 * rs.randn(10)  # away from the ReLU kinks for the difference check
    X = 10 * rs.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return params, X, y


def main():
    params, X, y = make_inputs(0)
    loss_and_grad = srcgrad.value_and_grad(softmax_loss)
    for it in range(20):
        loss, grads = loss_and_grad(params, X, y)
        for name in params:
            params[name] -= 1e-1 * grads[name]
    print("final training loss", loss)


if __name__ == "__main__":
    main()
