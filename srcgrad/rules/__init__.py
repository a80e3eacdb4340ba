"""Adjoint rules, one per primitive (DESIGN §6); importing the package registers them all.

Use :func:`adjoint` to register a rule, :func:`nondifferentiable` to declare a function whose
result carries no gradient, and :func:`lookup` to find the rule of a primitive.  One module
per family of primitives (``elementwise``, ``binary``, ``special``, ``reductions``,
``statistics``, ``scans``, ``grids``, ``broadcasting``, ``shape``, ``indexing``, ``containers``,
``products``, ``linalg``, ``fft``, ``scipy_special``, ``scipy_linalg``, ``scipy_spatial``, ``stats``, ``nn_kernels``; ``nondiff`` declares the functions
without a gradient; ``helpers_*`` give the runtime helpers that emitted code calls rules of
their own, for higher orders); the runtime helpers a family's rules call live in the module
of the same name in :mod:`srcgrad.runtime`.  Each rule declares its tangent rule (JVP, for
forward mode) with its adjoint: ``jvp=`` on :func:`adjoint`, or a function written right
after the adjoint and attached with :func:`~srcgrad.rules.registry.jvp_of`
(:mod:`srcgrad.rules.tangents` interprets the declarations).
"""

from srcgrad.rules import (  # noqa: F401  (importing a module registers its rules)
    binary,
    broadcasting,
    containers,
    elementwise,
    fft,
    grids,
    helpers_containers,
    helpers_einsum,
    helpers_fft,
    helpers_grids,
    helpers_gathers,
    helpers_decompositions,
    helpers_linalg,
    helpers_least_squares,
    helpers_lists,
    helpers_misc,
    helpers_multivariate,
    helpers_nn,
    helpers_products,
    helpers_shape,
    helpers_statistics,
    indexing,
    linalg,
    nn_kernels,
    nondiff,
    products,
    reductions,
    registry,
    scans,
    scipy_linalg,
    scipy_spatial,
    scipy_special,
    shape,
    special,
    statistics,
    stats,
)
from srcgrad.rules.registry import adjoint, lookup, nondifferentiable

__all__ = ["adjoint", "lookup", "nondifferentiable", "registry"]
