"""Programs for tests/test_trust_super_calls.py (srcgrad reads their source)."""

import numpy as np


class Layer:
    def __call__(self, x):
        return self.forward(x)

    def scale(self, x):
        return 2.0 * x


class Square(Layer):
    def forward(self, x):
        return x**2

    def __call__(self, x):
        return super().__call__(x) + 1.0

    def scale(self, x):
        return super().scale(x) + x


class SquareByName(Square):
    def __call__(self, x):
        return Layer.__call__(self, x) + 1.0

    def scale(self, x):
        return Layer.scale(self, x) + x


SQ, SQ_BY_NAME = Square(), SquareByName()


def through_super_call(x):
    return np.sum(SQ(x))


def through_super_method(x):
    return np.sum(SQ.scale(x) ** 2)


def by_name_call(x):
    return np.sum(SQ_BY_NAME(x) * x)


def by_name_method(x):
    return np.sum(SQ_BY_NAME.scale(x) ** 2)
