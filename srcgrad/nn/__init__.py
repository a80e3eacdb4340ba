"""srcgrad.nn: models as pytrees (:class:`Module`), differentiated by generated code, and a
layer library (PyTorch's names, arguments and layouts) whose backward passes are
generated from plain numpy forward code."""

from srcgrad.nn import functional, init, losses
from srcgrad.nn.containers import Sequential, load_state_dict, state_dict
from srcgrad.nn.conv import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
)
from srcgrad.nn.functional import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from srcgrad.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from srcgrad.nn.layers import Dropout, Embedding, Flatten, Identity, Linear
from srcgrad.nn.module import Module, buffer, field_kinds, static
from srcgrad.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from srcgrad.nn.utils import astype, num_parameters, parameters

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "GroupNorm",
    "Identity",
    "LayerNorm",
    "Linear",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "Sequential",
    "astype",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "buffer",
    "elu",
    "field_kinds",
    "functional",
    "gelu",
    "init",
    "leaky_relu",
    "losses",
    "load_state_dict",
    "log_softmax",
    "num_parameters",
    "parameters",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "state_dict",
    "static",
    "tanh",
]
