"""Activation layers (ReLU, GELU, ...) for :class:`srcgrad.nn.Sequential`: each calls its
:mod:`srcgrad.nn.functional` form with the settings it holds."""

from __future__ import annotations

from srcgrad.nn import functional as F
from srcgrad.nn.module import Module

__all__ = [
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Softmax",
    "LogSoftmax",
]


class ReLU(Module):
    """max(x, 0)."""

    def __call__(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = float(negative_slope)

    def __call__(self, x):
        return F.leaky_relu(x, self.negative_slope)


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def __call__(self, x):
        return F.elu(x, self.alpha)


class GELU(Module):
    """x * Phi(x), exactly or (``approximate="tanh"``) through tanh."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}"
            )
        self.approximate = approximate

    def __call__(self, x):
        return F.gelu(x, self.approximate)


class SiLU(Module):
    """x * sigmoid(x)."""

    def __call__(self, x):
        return F.silu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def __call__(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def __call__(self, x):
        return F.tanh(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta (linear above ``threshold``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta = float(beta)
        self.threshold = float(threshold)

    def __call__(self, x):
        return F.softplus(x, self.beta, self.threshold)


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = int(dim)

    def __call__(self, x):
        return F.softmax(x, self.dim)


class LogSoftmax(Module):
    """Log-softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = int(dim)

    def __call__(self, x):
        return F.log_softmax(x, self.dim)
