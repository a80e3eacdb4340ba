"""srcgrad.nn: models as pytrees (:class:`Module`), differentiated by generated code."""

from srcgrad.nn.module import Module, buffer, field_kinds, static

__all__ = ["Module", "buffer", "field_kinds", "static"]
