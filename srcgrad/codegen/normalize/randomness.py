"""Random draws: a sampler of the user's own generator (``rng.normal(size=n)``,
``rs.randn(*shape)``, ``np.random.rand(n)``) is called once, in the forward pass, on the
object the plain call would use, and its result is a constant of the gradient (the noise
the forward run drew); so is a generator made in the function
(``np.random.default_rng(seed)``).  No argument may depend on a differentiated value: such
a sample has no gradient srcgrad could give.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.resolve import is_numpy_module

# what to write instead of a draw from (or a shuffle of) a value that carries a gradient
_DRAW_HINTS = {
    "permutation": "permute indices instead: x[rng.permutation(len(x))]",
    "shuffle": "shuffle indices instead: x = x[rng.permutation(len(x))]",
    "choice": "choose indices instead: x[rng.choice(len(x), size=k)]",
}
_NOISE_HINT = (
    "draw noise that does not depend on the inputs and transform it, e.g. "
    "mu + sigma * rng.standard_normal(mu.shape) instead of rng.normal(mu, sigma)"
)


# the methods of numpy's generators (none is an array method's name)
SAMPLER_METHODS = frozenset(
    n
    for t in (np.random.Generator, np.random.RandomState)
    for n in dir(t)
    if not n.startswith("_")
) - frozenset(dir(np.ndarray))


def draw_refusal(method: str, argument: str) -> tuple[str, str]:
    """The message and hint for the draw ``.method()`` whose ``argument`` depends on a
    differentiated input."""
    return (
        f"random draw .{method}() with {argument} that depends on a differentiated input "
        "(the sample would depend on it)",
        _DRAW_HINTS.get(method, _NOISE_HINT),
    )


def is_generator(obj: Any) -> bool:
    """A random generator object: its methods are draws (non-differentiable, stateful)."""
    return isinstance(obj, (np.random.Generator, np.random.RandomState))


def makes_generator(obj: Any) -> bool:
    """A maker of generators or of their seeds (``np.random.default_rng``,
    ``np.random.RandomState``, ``np.random.PCG64``, ``np.random.SeedSequence``): what it
    makes carries no gradient, as a draw does not."""
    makers = (
        np.random.Generator,
        np.random.RandomState,
        np.random.BitGenerator,
        np.random.SeedSequence,
    )
    return obj is np.random.default_rng or (
        isinstance(obj, type) and issubclass(obj, makers)
    )


class Randomness:
    """Random draws (a mixin of :class:`Normalizer`)."""

    def numpy_random_callee(self, func: cst.BaseExpression) -> cst.BaseExpression:
        """How emitted code spells the callee ``func`` of a call: a name chain through
        ``numpy.random`` (``np.random.normal``, ``npr.randn``, ``np.random.default_rng``)
        through ``numpy.random`` itself, so that it draws from numpy's global generator as
        the plain call does, never from the array namespace's ``random`` (another library's
        generator, or none); any other chain as :meth:`_xp_chain` spells it (the user's own
        generator object is read as the function reads it)."""
        parts = self.resolver.dotted(self._unalias(func))
        if parts is None:
            return self._xp_chain(func)
        root: Any = (
            np if parts[0] in self.np_alias else self.resolver.lookup(parts[0])[1]
        )
        if not is_numpy_module(root):
            return self._xp_chain(func)
        dotted = [*root.__name__.split("."), *parts[1:]]
        if dotted[:2] != ["numpy", "random"] or len(dotted) < 3:
            return self._xp_chain(func)
        alias = self.module_imports.get("numpy.random")
        if alias is None:
            alias = self.names.generated("npr")
            while alias in self.locals:  # pragma: no cover - a local named like it
                alias = self.names.fresh(alias + "_")
            self.module_imports["numpy.random"] = alias
            self.free_bare.add(alias)
        node: cst.BaseExpression = cst.Name(alias)
        for p in dotted[2:]:
            node = cst.Attribute(value=node, attr=cst.Name(p))
        return node

    def random_draw(
        self, node: cst.Call, args: list[cst.Arg], target: str | None, hint: str
    ) -> cst.BaseExpression:
        """A method of a random generator object (``rng.normal(size=n)``): a draw, made once
        in the forward pass on the user's own object and kept as a constant.  Its arguments
        must not depend on a differentiated input (the sample would depend on them): the
        arguments that are not constants are kept in the statement's ``bound`` for
        :func:`srcgrad.codegen.activity.analyse` to check."""
        # arguments that are no constants (an int argument, an array not differentiated)
        # are kept: activity analysis refuses the draw if one depends on a differentiated
        # input; the draw itself is a constant, whatever its arguments
        where = {
            (a.keyword.value if a.keyword is not None else f"argument {i + 1}"): a.value
            for i, a in enumerate(args)
            if not self.is_static(a.value)
        }
        name = self.emit(
            ir.STATIC, target, hint, node, label="random draw", bound=where
        )
        return cst.Name(name)

    def refuse_unseen_generator(self, e: cst.Call, method: str) -> None:
        """``cfg["rng"].normal(...)``: a generator's method on a value srcgrad does not know
        to be one (an entry of a container argument)."""
        self.fail(
            e,
            f"random draw .{method}() of a generator read from a container (srcgrad sees "
            "a generator only as an argument of its own or a global)",
            "pass the generator as an argument of its own (def f(x, cfg, rng): ... "
            "rng.normal(...)), or read it from a module-level global",
            "random",
        )
