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

* ``np.histogram_bin_edges``: its edges move with the data's minimum and maximum.

``np.arange`` is declared for its ``stop`` (the values are whole steps from 0, piecewise
constant in ``stop``); a call whose ``start`` or ``step`` carries a gradient is refused, as is
``np.fft.fftfreq`` / ``rfftfreq`` with a spacing ``d`` that carries one.  ``np.linspace``,
``np.logspace`` and ``np.geomspace`` have rules (``scans.py``): their ``start`` and ``stop`` are
differentiable.

The piecewise-constant float functions (``floor``, ``ceil``, ``round``/``around``, ``rint``,
``trunc``, ``fix``, ``sign``, ``spacing``, ``math.floor`` ...) have derivative 0 wherever it
exists (everywhere but on a set of measure zero); ``tests/rules/test_rule_facts.py`` checks
every entry: an integer or boolean output, or a float output that does not move under a
small perturbation of a generic input.

The runtime helpers that emitted code calls and whose results carry no gradient (the
namespace lookup, a group size, zeros, the tie shares of ``maximum``, an array's shape
and dtype) are declared here too, so that an emitted gradient can be differentiated again.
"""

import numpy as np

from srcgrad.backend import namespace
from srcgrad.rules.registry import nondifferentiable
from srcgrad.runtime import (
    hsplit_axis,
    inverse_permutation,
    running_extreme_index,
    is_float_leaf,
    nan_count,
    normalize_axes,
    extremum_share,
    reduction_size,
    shape_dtype,
    step_zeros,
    zeros_cotangent,
)


def _arange_start_or_step(pos: list[bool], kw: dict[str, bool]) -> str | None:
    """``np.arange(stop)`` is piecewise constant in ``stop``; ``start`` and ``step`` move
    every value."""
    if len(pos) >= 2 and any(pos):
        return "start" if pos[0] else ("stop" if pos[1] else "step")
    for name in ("start", "step"):
        if kw.get(name):
            return name
    if pos and pos[0] and "stop" in kw:  # arange(start, stop=...)
        return "start"
    return None


def _fftfreq_spacing(pos: list[bool], kw: dict[str, bool]) -> str | None:
    """``fftfreq(n, d)`` is ``k / (n * d)``: it moves with the spacing ``d``."""
    if (len(pos) >= 2 and pos[1]) or kw.get("d"):
        return "d"
    return None


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
    methods=("argmax", "argmin", "argsort", "nonzero"),
)

# rounding and sign: piecewise constant
nondifferentiable(
    np.floor,
    np.ceil,
    np.round,
    np.around,
    np.rint,
    np.trunc,
    np.fix,
    np.sign,
    methods=("round",),
)

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
    methods=("any", "all"),
)

# constructors that read shapes and dtypes only
nondifferentiable(
    np.zeros,
    np.ones,
    np.empty,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.eye,
    np.identity,
    np.tri,
)

nondifferentiable(np.arange, unless=_arange_start_or_step)

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
    methods=("argpartition",),
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
nondifferentiable(np.fft.fftfreq, np.fft.rfftfreq, unless=_fftfreq_spacing)
nondifferentiable(np.linalg.matrix_rank)

# runtime helpers that emitted code calls (higher-order derivatives), each with why
nondifferentiable(namespace, reason="returns the array module, not a value")
nondifferentiable(reduction_size, reason="an element count (an integer)")
nondifferentiable(zeros_cotangent, reason="zeros whatever its argument's values")
nondifferentiable(step_zeros, reason="zeros whatever its argument's values")
nondifferentiable(
    extremum_share,
    reason="1/count on the elements equal to the extremum: piecewise constant",
)
nondifferentiable(shape_dtype, reason="the shape and dtype of an array, not its values")
nondifferentiable(nan_count, reason="a count of non-NaN elements: piecewise constant")
nondifferentiable(
    normalize_axes, inverse_permutation, hsplit_axis, reason="axis numbers (integers)"
)
nondifferentiable(is_float_leaf, reason="a bool on the argument's type")
nondifferentiable(
    running_extreme_index,
    reason="the positions a running maximum or minimum took its values from (integers)",
)
