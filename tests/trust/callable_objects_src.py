"""Instances of user classes that define __call__, called in differentiated code."""

import numpy as np


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x, power=2):
        return self.k * x**power


class Cell:
    def __init__(self, n):
        self.n = n

    def __call__(self, w, x, h):
        return np.tanh(w * x + 0.5 * h)


class Net:
    def __init__(self):
        self.cell = Cell(3)
        self.out = Scale(0.7)

    def __call__(self, w, xs):
        h = np.zeros(self.cell.n)
        for x in xs:
            h = self.cell(w, x, h)
        return self.out(h, power=3)

    def loss(self, w, xs):
        return np.sum(self(w, xs) ** 2)


SQUARE = Scale(1.5)
NET = Net()
HALF, DOUBLE = Scale(0.5), Scale(2.0)


def f1(w, x):  # a module-level instance
    return np.sum(SQUARE(w * x))


def f2(w, x):  # a keyword argument and the default
    return np.sum(SQUARE(w, power=3) + SQUARE(x * w))


def f3(w, x):  # an attribute of an instance called in a loop, self(...) in a method
    return NET.loss(w, [x, 2 * x, x - w])


def f4(w, x):  # called through the instance itself
    return np.sum(NET(w, [x, x * x]))


def f5(w, x):  # two instances of one class: each with its own state
    return np.sum(HALF(w * x) + DOUBLE(w))
