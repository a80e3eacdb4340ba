"""Stage 4: turn the function body into the normal form (:mod:`srcgrad.codegen.ir`).

After this stage the body is a flat list of ``Stmt``: each applies one primitive to atoms
(names, or constant expressions such as ``x.shape[0]`` and literals), operators and methods
are bound to the rules they stand for, every reassigned name has a fresh SSA version
(``h``, ``h_1``, ...), ``np`` is spelled ``xp``, and the output is an atom.  Constant
sub-expressions (shapes, literals, config values) stay inline and are never split.
"""

from srcgrad.codegen.normalize.normalizer import Normalizer, normalize

__all__ = ["Normalizer", "normalize"]
