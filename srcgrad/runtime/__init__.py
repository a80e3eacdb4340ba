"""Everything emitted code imports: the namespace lookup and the helpers of every rule family.

Emitted modules do ``from srcgrad.runtime import expand_like, mT, namespace, unbroadcast``;
rule bodies may use any name exported here (DESIGN §3, §6).  Each module holds the helpers of
one family, named like the rule module it serves (``runtime/linalg.py`` for
``rules/linalg.py``); ``arrays`` holds what several families share.
"""

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import *
from srcgrad.runtime.arrays import __all__ as _arrays_all
from srcgrad.runtime.broadcasting import *
from srcgrad.runtime.broadcasting import __all__ as _broadcasting_all
from srcgrad.runtime.elementwise import *
from srcgrad.runtime.elementwise import __all__ as _elementwise_all
from srcgrad.runtime.binary import *
from srcgrad.runtime.binary import __all__ as _binary_all
from srcgrad.runtime.special import *
from srcgrad.runtime.special import __all__ as _special_all
from srcgrad.runtime.reductions import *
from srcgrad.runtime.reductions import __all__ as _reductions_all
from srcgrad.runtime.statistics import *
from srcgrad.runtime.statistics import __all__ as _statistics_all
from srcgrad.runtime.scans import *
from srcgrad.runtime.scans import __all__ as _scans_all
from srcgrad.runtime.grids import *
from srcgrad.runtime.grids import __all__ as _grids_all
from srcgrad.runtime.shape import *
from srcgrad.runtime.shape import __all__ as _shape_all
from srcgrad.runtime.indexing import *
from srcgrad.runtime.indexing import __all__ as _indexing_all
from srcgrad.runtime.products import *
from srcgrad.runtime.products import __all__ as _products_all
from srcgrad.runtime.linalg import *
from srcgrad.runtime.linalg import __all__ as _linalg_all
from srcgrad.runtime.fft import *
from srcgrad.runtime.fft import __all__ as _fft_all
from srcgrad.runtime.scipy_special import *
from srcgrad.runtime.scipy_special import __all__ as _scipy_special_all
from srcgrad.runtime.scipy_linalg import *
from srcgrad.runtime.scipy_linalg import __all__ as _scipy_linalg_all
from srcgrad.runtime.scipy_spatial import *
from srcgrad.runtime.scipy_spatial import __all__ as _scipy_spatial_all
from srcgrad.runtime.stats import *
from srcgrad.runtime.stats import __all__ as _stats_all
from srcgrad.runtime.containers import *
from srcgrad.runtime.containers import __all__ as _containers_all
from srcgrad.runtime.calls import *
from srcgrad.runtime.steps import *
from srcgrad.runtime.steps import __all__ as _steps_all
from srcgrad.runtime.calls import __all__ as _calls_all
from srcgrad.runtime.guards import *
from srcgrad.runtime.nn_kernels import *
from srcgrad.runtime.nn_kernels import __all__ as _nn_kernels_all
from srcgrad.runtime.guards import __all__ as _guards_all
from srcgrad.runtime.helpers_lists import *
from srcgrad.runtime.helpers_lists import __all__ as _helpers_lists_all
from srcgrad.runtime.helpers_gathers import *
from srcgrad.runtime.helpers_gathers import __all__ as _helpers_gathers_all
from srcgrad.runtime.helpers_einsum import *
from srcgrad.runtime.helpers_einsum import __all__ as _helpers_einsum_all

__all__ = [  # noqa: PLE0604
    "namespace",
    *_arrays_all,
    *_broadcasting_all,
    *_elementwise_all,
    *_binary_all,
    *_special_all,
    *_reductions_all,
    *_statistics_all,
    *_scans_all,
    *_grids_all,
    *_shape_all,
    *_indexing_all,
    *_products_all,
    *_linalg_all,
    *_fft_all,
    *_scipy_special_all,
    *_scipy_linalg_all,
    *_scipy_spatial_all,
    *_stats_all,
    *_containers_all,
    *_calls_all,
    *_steps_all,
    *_guards_all,
    *_nn_kernels_all,
    *_helpers_lists_all,
    *_helpers_gathers_all,
    *_helpers_einsum_all,
]
