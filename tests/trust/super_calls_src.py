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


class A:
    def g(self, x):
        return np.sin(x)


class B(A):
    def g(self, x):
        return 2.0 * super().g(x)


class C(A):
    def g(self, x):
        return x + super().g(x)


class D(B, C):
    def g(self, x):
        return super().g(x) ** 2


DIAMOND = D()


def diamond(x):
    return np.sum(DIAMOND.g(x))  # D.g -> B.g -> C.g (D's MRO) -> A.g


def _local_classes():
    class Base:
        def h(self, x):
            return x * 3.0

    class Child(Base):
        def h(self, x):
            return super().h(x) + x

    return Child()


LOCAL = _local_classes()


def local_classes(x):
    return np.sum(LOCAL.h(x) ** 2)
