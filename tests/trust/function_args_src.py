"""Functions passed by name to helpers, as arguments and as parameter defaults (act=np.tanh)."""

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def layer(x, w, act=np.tanh):
    return act(x * w)


def net(x, w, act):
    for _ in range(2):
        x = act(x * w)
    return x


def deep(x, w, act):
    return net(x, w, act) + layer(x, w, act)


def f1(w, x):
    return np.sum(layer(x, w))


def f2(w, x):
    return np.sum(net(x, w, np.tanh))


def f3(w, x):
    return np.sum(net(x, w, relu))


def f4(w, x):
    return np.sum(deep(x, w, np.sin))


def f5(w, x):
    return np.sum(layer(x, w, act=np.exp))
