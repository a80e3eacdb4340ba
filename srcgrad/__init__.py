"""srcgrad: reverse-mode automatic differentiation by source transformation.

``srcgrad.grad(f)`` reads ``f``'s source and emits a readable gradient module under
``generated/``; that file is what runs.
"""

from srcgrad import testing
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

__all__ = [
    "GradFunction",
    "MissingRuleError",
    "NonFiniteError",
    "NonScalarOutputError",
    "SourceNotFoundError",
    "SrcgradError",
    "UnsupportedSyntaxError",
    "WrtError",
    "custom_vjp",
    "grad",
    "stop_gradient",
    "testing",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
