"""Functions whose result carries no gradient (DESIGN §6): declared, no rule needed.

A function belongs here only if its derivative is zero with respect to every argument wherever
it exists: integer or boolean results (``argmax``, comparisons, ``isnan``), piecewise-constant
functions (``floor``, ``sign``), and constructors that read only shapes and dtypes
(``zeros_like``).  Anything whose float result moves with a float argument must get a rule
instead, or stay undeclared so that srcgrad reports a missing rule rather than a wrong zero.
For that reason these are deliberately *not* declared here:

* ``np.full`` / ``np.full_like``: the fill value is differentiable (rules in elementwise.py);
* ``np.float32`` / ``np.float64``: precision casts (rules in elementwise.py);
* ``np.unique``: its values are elements of the input;
* ``np.bincount``: linear in its ``weights``.

``np.arange`` is declared: its values do move with float ``start`` / ``step`` arguments,
but those are almost always constants.  ``np.linspace``, ``np.logspace`` and ``np.geomspace``
have rules (``scans.py``): their ``start`` and ``stop`` are differentiable.
"""

import numpy as np

from srcgrad.rules.registry import nondifferentiable

# indices, sorting and searching
nondifferentiable(
    np.argmax,
    np.argmin,
    np.argsort,
    np.argwhere,
    np.nonzero,
    np.flatnonzero,
    np.searchsorted,
    np.digitize,
    np.count_nonzero,
)

# rounding and sign: piecewise constant
nondifferentiable(np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix, np.sign)

# predicates and comparisons
nondifferentiable(
    np.isfinite,
    np.isnan,
    np.isinf,
    np.isposinf,
    np.isneginf,
    np.signbit,
    np.equal,
    np.not_equal,
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.logical_and,
    np.logical_or,
    np.logical_not,
    np.logical_xor,
    np.any,
    np.all,
    np.isclose,
    np.allclose,
    np.array_equal,
    np.array_equiv,
)

# constructors that read shapes and dtypes only
nondifferentiable(
    np.zeros,
    np.ones,
    np.empty,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.arange,
    np.eye,
    np.identity,
    np.tri,
)

# shape and dtype queries
nondifferentiable(np.shape, np.ndim, np.size, np.result_type)

# integer and boolean dtype constructors (np.float32 / np.float64 have rules)
nondifferentiable(
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
)

# more indices, sorting and searching
nondifferentiable(
    np.argpartition,
    np.lexsort,
    np.isin,
    np.unravel_index,
    np.ravel_multi_index,
    np.indices,
    np.diag_indices,
    np.diag_indices_from,
    np.tril_indices,
    np.tril_indices_from,
    np.triu_indices,
    np.triu_indices_from,
    np.mask_indices,
    np.histogram_bin_edges,
)

# integer and bitwise functions
nondifferentiable(
    np.bitwise_and,
    np.bitwise_or,
    np.bitwise_xor,
    np.invert,  # np.bitwise_not is the same ufunc
    np.left_shift,
    np.right_shift,
    np.gcd,
    np.lcm,
    np.packbits,
    np.unpackbits,
    np.spacing,  # piecewise constant
)
if hasattr(np, "bitwise_count"):  # numpy >= 2.0
    nondifferentiable(np.bitwise_count)

# more predicates and type queries
nondifferentiable(
    np.isreal,
    np.iscomplex,
    np.isrealobj,
    np.iscomplexobj,
    np.isscalar,
    np.isnat,
    np.iterable,
    np.isfortran,
    np.may_share_memory,
    np.shares_memory,
    np.can_cast,
    np.promote_types,
    np.min_scalar_type,
    np.issubdtype,
    np.broadcast_shapes,
)

# frequency grids and ranks
nondifferentiable(np.fft.fftfreq, np.fft.rfftfreq, np.linalg.matrix_rank)
