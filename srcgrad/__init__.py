"""srcgrad: reverse-mode automatic differentiation by source transformation.

``srcgrad.grad(f)`` reads ``f``'s source and emits a readable gradient module under
``generated/``; that file is what runs.
"""

import importlib
from typing import Any

from srcgrad.api import GradFunction, grad, stop_gradient, value_and_grad, vjp
from srcgrad.custom import custom_vjp
from srcgrad.errors import (
    MissingRuleError,
    NonFiniteError,
    NonScalarOutputError,
    SourceNotFoundError,
    SrcgradError,
    UnsupportedSyntaxError,
    WrtError,
)
from srcgrad.higher import elementwise_grad
from srcgrad.serialization import CheckpointError, load, save
from srcgrad.forward import hessian, hvp, jacobian, jvp  # forward mode

__all__ = [
    "CheckpointError",
    "GradFunction",
    "MissingRuleError",
    "NonFiniteError",
    "NonScalarOutputError",
    "SourceNotFoundError",
    "SrcgradError",
    "UnsupportedSyntaxError",
    "WrtError",
    "custom_vjp",
    "elementwise_grad",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "load",
    "save",
    "stop_gradient",
    "testing",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # srcgrad.testing sits on top of the public API (check_grad checks srcgrad.grad, looked up
    # when it is called), so it imports this package; the package loads it on first use.
    if name == "testing":
        return importlib.import_module("srcgrad.testing")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
