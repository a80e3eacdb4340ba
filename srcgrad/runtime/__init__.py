"""Everything emitted code imports: the namespace lookup and the array and tree helpers.

Emitted modules do ``from srcgrad.runtime import expand_like, mT, namespace, unbroadcast``;
rule bodies may use any name exported here (DESIGN §3, §6).
"""

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import *
from srcgrad.runtime.arrays import __all__ as _arrays_all
from srcgrad.runtime.more_helpers import *
from srcgrad.runtime.more_helpers import __all__ as _more_all
from srcgrad.runtime.shape_helpers import *
from srcgrad.runtime.shape_helpers import __all__ as _shape_all
from srcgrad.runtime.tree import *
from srcgrad.runtime.tree import __all__ as _tree_all

__all__ = ["namespace", *_arrays_all, *_more_all, *_shape_all, *_tree_all]  # noqa: PLE0604
