"""srcgrad.nn: models as pytrees (:class:`Module`), differentiated by generated code."""

from srcgrad.nn.module import Module, buffer, field_kinds, static
from srcgrad.nn.utils import astype, num_parameters, parameters

__all__ = [
    "Module",
    "astype",
    "buffer",
    "field_kinds",
    "num_parameters",
    "parameters",
    "static",
]
