"""Forward mode and the derivatives built on it: :func:`jvp`, :func:`jacobian`,
:func:`hessian` and :func:`hvp`.

``jvp`` emits a readable forward-mode module (``jvp_<f>``, tangents ``t_<name>``, cached
under ``generated/`` as ``<f>__wrt-<names>__fwd.py``) from the same front end as the reverse
modules.  ``hvp`` is forward over reverse: the forward mode of the emitted gradient module
(plain numpy source), so it never builds the Hessian.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path
from typing import Any, Callable

import numpy as np

from srcgrad import api, cache, linetable, recompute, tree
from srcgrad.errors import InternalError, SrcgradError, WrtError
from srcgrad.finite_differences import _wrt_positions
from srcgrad.rules.tangents import install_jvp

_RULES = Path(__file__).resolve().parent / "rules"


@functools.lru_cache(maxsize=1)
def _tangent_rules_digest() -> str:
    """What the emitted forward modules depend on besides the generator and the adjoint
    rules (whose declarations, ``jvp=`` included, key them already): the modules that
    interpret the JVP declarations, the runtime helpers' JVPs, and the source of every JVP
    written out next to its adjoint; read once per process.
    """
    from srcgrad.rules.registry import all_rules

    h = hashlib.sha256()
    for name in ("tangents.py", "tangent_helpers.py", "tangent_calls.py"):
        h.update((_RULES / name).read_bytes())
    for rule in all_rules():
        if callable(rule.jvp):
            h.update(f"{rule.name}\0{cache.code_digest(rule.jvp.__code__)}".encode())
    return h.hexdigest()[:16]


class JvpFunction(api.GradFunction):
    """The result of :func:`jvp`: ``f_jvp(*args, v) -> (value, tangent)``; ``.source`` and
    ``.path`` show the emitted forward-mode module."""

    _mode = "fwd"

    def __init__(
        self, fn: Callable[..., Any], wrt: int | str | tuple[int | str, ...] = 0
    ) -> None:
        super().__init__(fn, wrt, kind="jvp")

    def _generate(
        self,
        source: str,
        parts: dict[str, Any],
        containers: dict[str, Any],
        arg_specs: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> str:
        from srcgrad.codegen.forward import generate_forward

        src, em = generate_forward(self.forward, self._wrt, containers)
        refs = [cache.Ref.parse(c) for c in em.calls]
        objs = cache.resolve_refs(self.forward, refs, args)  # type: ignore[arg-type]
        parts = {**parts, "tangent_rules": _tangent_rules_digest()}
        key = cache.compute_key(source, parts, em.rules, refs, objs)  # type: ignore[arg-type]
        if key is None:
            raise InternalError(
                f"srcgrad cannot key the forward mode of {self.forward.__qualname__}"
            )
        head = cache.header(
            src.filename,
            src.first_line,
            self.forward.__qualname__,
            key,
            em.rules,
            cache.body_digest(em.body),
            em.calls,
        )
        return head + em.body

    def _key_parts(self, args: Any, key: Any) -> Any:
        spec, parts, containers, arg_specs = super()._key_parts(args, key)
        parts["tangent_rules"] = _tangent_rules_digest()
        return spec, parts, containers, arg_specs

    def _loaded(
        self,
        text: str,
        path: Path | None,
        filename: str,
        gen: int,
        spec: str,
        args: dict[str, Any] | None = None,
    ) -> Any:
        fn = self.forward
        parsed = cache.parse_header(text)
        refs = tuple(parsed[4]) if parsed is not None else ()
        objs = cache.resolve_refs(fn, refs, args)
        if objs is None:
            raise InternalError(
                f"srcgrad cannot find the callees of {fn.__qualname__} again"
            )
        codes = cache.callee_codes(objs)
        objs = cache.without_values(objs)
        ns = cache.load_module(text, filename, fn, objs)
        jvp_fn = api._find(ns, "jvp_", api._emitted_name(fn))
        return api._Loaded(
            fn.__code__,
            refs,
            objs,
            codes,
            gen,
            spec,
            jvp_fn,
            jvp_fn,
            text,
            path if path is not None else Path(filename),
            filename,
            linetable.decode(ns.get(linetable.NAME)),
            ns,
            any(r.owner == 0 and r.path[0] in self._params for r in refs),
        )

    def emitted(self, kind: str = "jvp") -> Callable[..., Any]:
        """The emitted ``jvp_<f>`` itself."""
        return api._find(self._current().ns, "jvp_", api._emitted_name(self.forward))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError("jvp: pass the arguments, then the tangent v")
        *primals, v = args
        bound, st = self._run_forward(tuple(primals), kwargs)  # type: ignore[misc]
        tangents = (v,) if self._single else tuple(v)
        if len(tangents) != len(self._wrt):
            raise WrtError(
                f"jvp w.r.t. {tuple(self._wrt)} takes one tangent per parameter, "
                f"got {len(tangents)}"
            )
        dots = [_tangent_like(t, bound[p]) for t, p in zip(tangents, self._wrt_pos)]
        try:
            return st.fwd(*bound, *dots)
        except SrcgradError:
            raise
        except Exception as exc:
            api._annotate(exc, st)
            raise


def _tangent_like(t: Any, x: Any) -> Any:
    """The tangent ``t`` of the argument ``x``, checked and as an array of x's shape."""
    if isinstance(x, (dict, list, tuple)) or not isinstance(
        x, (np.ndarray, np.generic, float, int)
    ):
        return t  # a container or a model: a tangent of the same structure
    t = np.asarray(t)
    if t.shape != np.shape(x):
        raise WrtError(
            f"a tangent of shape {t.shape} for an argument of shape {np.shape(x)}",
            hint="pass v with the shape of the argument it moves",
        )
    if t.dtype.kind not in "fc":
        t = t.astype(np.float64)
    return t if np.ndim(x) else t[()]


def jvp(
    fn: Callable[..., Any] | None = None, wrt: int | str | tuple[int | str, ...] = 0
) -> Any:
    """Forward mode: ``value, tangent = srcgrad.jvp(f, wrt)(*args, v)``; for a tuple ``wrt``,
    ``v`` is a tuple of tangents in the same order."""
    if fn is None:
        return lambda f: JvpFunction(f, wrt)
    return JvpFunction(fn, wrt)


class HvpFunction:
    """The result of :func:`hvp`: ``f_hvp(*args, v) -> H v``, forward mode over the emitted
    gradient module (the Hessian is never built)."""

    def __init__(
        self, fn: Callable[..., Any], wrt: int | str | tuple[int | str, ...] = 0
    ) -> None:
        self.forward = fn
        self._grad = api.GradFunction(fn, wrt, kind="grad")
        # the generic gradient: specialised code writes in place (out=), which forward mode
        # does not read
        self._grad._generic_only = True
        self._jvps: dict[int, tuple[Callable[..., Any], JvpFunction]] = {}
        self._stacks: dict[int, tuple[Any, ...]] = {}
        self._layouts: dict[str, list[Any]] = {}  # container parameter -> leaf paths

    @property
    def wrt(self) -> tuple[str, ...]:
        return self._grad.wrt

    def gradient_jvp(self, *args: Any) -> JvpFunction:
        """The forward mode of the gradient specialised on ``args`` (``.source`` shows it)."""
        bound, st = self._run(tuple(args), {})
        return self._jvp_of(st)

    def _run(self, primals: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound, st = self._grad._run_forward(primals, kwargs)  # type: ignore[misc]
        if "call_vjp(" in st.text:  # a pullback is a closure: the module again with its
            self._grad = self._grad.variant("_recompute")  # recursive calls recomputing
            bound, st = self._grad._run_forward(primals, kwargs)  # type: ignore[misc]
        return bound, st

    def _jvp_of(self, st: Any) -> JvpFunction:
        grad_fn = api._find(st.ns, "grad_", api._emitted_name(self.forward))
        readable = self._stacks.get(id(grad_fn))
        if readable is None or readable[0] is not grad_fn:
            readable = self._stacks[id(grad_fn)] = (
                grad_fn,
                *_without_stacks(st, grad_fn),
            )
        grad_fn, self._layouts = readable[1], readable[2]
        hit = self._jvps.get(id(grad_fn))
        if hit is not None and hit[0] is grad_fn:
            return hit[1]
        gradient = _gradient_function(grad_fn, self._grad, st)
        wrt = self._grad._wrt
        jf = JvpFunction(gradient, wrt[0] if self._grad._single else tuple(wrt))
        self._jvps[id(grad_fn)] = (grad_fn, jf)
        return jf

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError("hvp: pass the arguments, then the vector v")
        *primals, v = args
        bound, st = self._run(tuple(primals), kwargs)
        jf = self._jvp_of(st)
        _, tangent = jf(*bound, v)
        if self._grad._single and not self._layouts:
            return tangent
        out, start = [], 0
        for p, name in zip(self._grad._wrt_pos, self._grad._wrt):
            # the concatenated tangent, split per argument (a container's rebuilt)
            n, part = self._split(bound[p], self._layouts.get(name), tangent, start)
            out.append(part)
            start += n
        return out[0] if self._grad._single else tuple(out)

    @staticmethod
    def _split(arg: Any, paths: Any, flat: Any, start: int) -> tuple[int, Any]:
        from srcgrad import tree
        from srcgrad.runtime import tree_cotangent

        if paths is None:
            n = int(np.size(arg))
            part = flat[start : start + n].reshape(np.shape(arg))
            return n, part if np.ndim(arg) else float(part)
        parts, k = [], start
        for path in paths:
            shape = np.shape(tree.get(arg, path))
            size = int(np.prod(shape))
            parts.append(flat[k : k + size].reshape(shape))
            k += size
        return k - start, tree_cotangent(arg, tuple(paths), parts)


def _without_stacks(st: Any, grad_fn: Any) -> Any:
    """The emitted ``grad_<f>`` itself, or where its loops push per-step values on stacks,
    the same module with them as per-field lists (:mod:`srcgrad.codegen.forward.stacks`),
    which forward mode reads."""
    from srcgrad.codegen.forward.stacks import rewrite

    got = rewrite(st.text)
    if got is None:
        return grad_fn, {}
    text, layouts = got
    word = "".join(c if c.isalnum() else "_" for c in Path(st.filename).stem)
    ns = cache.load_module(text, f"<srcgrad lists {word}>", grad_fn, st.callees)
    ns.update(  # the emitted module's own names, as its functions read them
        {k: v for k, v in dict.items(st.ns) if k not in ns and not k.startswith("__")}
    )
    ns["_flat"] = np
    return ns[grad_fn.__name__], dict(layouts)


def _gradient_function(grad_fn: Any, gf: api.GradFunction, st: Any) -> Any:
    """``gradient_<f>(*params)``: the emitted ``grad_<f>``'s gradient, as a function whose
    source srcgrad reads (an emitted text of its own, like the gradient module)."""
    params = ", ".join(gf._params)
    call = f"{grad_fn.__name__}({params})[1]"
    if gf._single:
        value = f"{call}[0]"
    else:  # one array: forward mode differentiates one output (split again by hvp)
        value = "np.concatenate([np.ravel(g) for g in grads])"
    own = recompute.name_of(api._emitted_name(gf.forward), gf._wrt)
    if own in (dict.get(st.ns, recompute.TABLE) or ()):
        # its backward calls its own recomputing gradient (srcgrad/recompute.py): so does
        # this, or forward mode would meet the recursion in bwd (residuals: a container)
        call = f"{own}(np.ones_like({st.fwd.__name__}({params})[0]), {params})"
        value = call if gf._single else "grads"
    name = f"gradient_{api._emitted_name(gf.forward).lstrip('_')}"
    text = (
        f"def {name}({params}):\n"
        f'    """The gradient of {gf.forward.__qualname__} w.r.t. '
        f'({", ".join(gf._wrt)}): what srcgrad.hvp runs forward mode over."""\n'
        + ("" if gf._single else f"    grads = {call}\n")
        + f"    return {value}\n"
    )
    word = "".join(c if c.isalnum() else "_" for c in Path(st.filename).stem)
    filename = f"<srcgrad hvp {word}>"
    ns = cache.load_module(text, filename, grad_fn)
    ns[grad_fn.__name__] = grad_fn
    ns["np"] = np
    if own in text:
        ns[own], ns[st.fwd.__name__] = st.ns[own], st.fwd
    return ns[name]


def hvp(
    fn: Callable[..., Any] | None = None, wrt: int | str | tuple[int | str, ...] = 0
) -> Any:
    """Hessian-vector product: ``srcgrad.hvp(f, wrt)(*args, v)`` is ``H v`` (a tuple per
    ``wrt`` entry for a tuple ``wrt``, ``v`` a tuple of the same layout), by forward mode over
    the emitted gradient: it costs about two gradients and never builds ``H``."""
    if fn is None:
        return lambda f: HvpFunction(f, wrt)
    return HvpFunction(fn, wrt)


def _basis(x: Any) -> Any:
    """The unit tangents of ``x``, each shaped like it."""
    x = np.asarray(x)
    n = x.size
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        yield e.reshape(x.shape)


def _arg_positions(fn: Any, items: tuple[Any, ...], n_args: int) -> list[int]:
    """The argument positions of ``wrt`` entries (names read from the function that is
    differentiated: the plain one under a gradient of a gradient)."""
    base = fn
    while not inspect.isfunction(base) and hasattr(base, "forward"):
        base = base.forward
    return _wrt_positions(base, items, n_args)


def jacobian(
    fn: Callable[..., Any],
    wrt: int | str | tuple[int | str, ...] = 0,
    mode: str = "rev",
) -> Callable[..., Any]:
    """``srcgrad.jacobian(f, wrt, mode)(*args)``: the Jacobian of ``f``'s (array) result,
    shaped ``out.shape + x.shape`` (a tuple per ``wrt`` entry for a tuple ``wrt``).

    ``mode="rev"`` pulls back one unit cotangent per output element (emitted reverse
    mode, ``srcgrad.vjp``); ``mode="fwd"`` pushes one unit tangent per input element
    (emitted forward mode, :func:`jvp`): choose the one with fewer elements to sweep.
    ``fn`` may be a gradient (``srcgrad.jacobian(srcgrad.grad(f))`` is ``f``'s Hessian);
    a gradient's Jacobian is always pulled back (reverse over reverse).
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian mode {mode!r}: 'rev' or 'fwd'")
    single = not isinstance(wrt, (tuple, list))
    items = (wrt,) if single else tuple(wrt)

    def rev(*args: Any) -> Any:
        vjp_fn = api.vjp(fn, wrt=items)
        out, pullback = vjp_fn(*args)
        out = np.asarray(out)
        rows = [pullback(e) for e in _basis(out)]
        where = _arg_positions(fn, items, len(args))
        blocks = tuple(
            np.stack([np.asarray(r[k]) for r in rows]).reshape(
                out.shape + np.shape(args[p])
            )
            for k, p in enumerate(where)
        )
        return blocks[0] if single else blocks

    def fwd(*args: Any) -> Any:
        jf = JvpFunction(fn, wrt=items)
        where = jf._wrt_pos
        zeros = [np.zeros(np.shape(args[p])) for p in where]
        blocks = []
        out_shape: tuple[int, ...] = ()
        for k, p in enumerate(where):
            cols = []
            for e in _basis(args[p]):
                v = list(zeros)
                v[k] = e
                out, t = jf(*args, tuple(v))
                out_shape = np.shape(out)
                cols.append(np.asarray(t))
            stacked = np.stack(cols, axis=-1) if cols else np.zeros(out_shape + (0,))
            blocks.append(stacked.reshape(out_shape + np.shape(args[p])))
        return blocks[0] if single else tuple(blocks)

    # forward mode reads a plain function's source; a gradient's own Jacobian (a Hessian)
    # is pulled back through the gradient's emitted module instead: the same values
    return rev if mode == "rev" or not inspect.isfunction(fn) else fwd


def hessian(
    fn: Callable[..., Any], wrt: int | str | tuple[int | str, ...] = 0
) -> Callable[..., Any]:
    """``srcgrad.hessian(f, wrt)(*args)``: the Hessian of the scalar ``f``, shaped
    ``x.shape + x.shape``; for a tuple ``wrt``, a tuple of rows of blocks
    ``H[a][b]`` shaped ``x_a.shape + x_b.shape``.  For a container argument (a dict of
    parameters), ``H[k1][k2]`` is shaped ``x[k1].shape + x[k2].shape``: the container's
    structure holding, at each leaf, the structure again.  One :func:`hvp` per input
    element (forward over reverse)."""
    single = not isinstance(wrt, (tuple, list))
    items = (wrt,) if single else tuple(wrt)
    h = HvpFunction(fn, wrt=items)

    def run(*args: Any) -> Any:
        where = h._grad._wrt_pos
        flat = [tree.flatten(args[p]) for p in where]  # an array is its own one leaf
        zeros = [
            tree.unflatten(td, [np.zeros(np.shape(x)) for x in xs]) for xs, td in flat
        ]
        cols: dict[tuple[int, int], list[Any]] = {}  # (input, leaf) -> H v per basis v
        for b, (xs, td) in enumerate(flat):
            for j, x in enumerate(xs):
                for e in _basis(x):
                    kids = [np.zeros(np.shape(y)) for y in xs]
                    kids[j] = e
                    v = list(zeros)
                    v[b] = tree.unflatten(td, kids)
                    hv = h(*args, tuple(v))
                    cols.setdefault((b, j), []).append([tree.leaves(t) for t in hv])

        def block(a: int, i: int, b: int, j: int) -> Any:
            rows, col = flat[a][0][i], flat[b][0][j]
            return np.stack(
                [np.asarray(c[a][i]) for c in cols.get((b, j), [])]
                or [np.zeros(np.shape(rows))],
                axis=-1,
            ).reshape(np.shape(rows) + np.shape(col))

        # H[a][b]: the structure of input a, each leaf holding the structure of input b
        blocks = tuple(
            tuple(
                tree.unflatten(
                    flat[a][1],
                    [
                        tree.unflatten(
                            flat[b][1],
                            [block(a, i, b, j) for j in range(len(flat[b][0]))],
                        )
                        for i in range(len(flat[a][0]))
                    ],
                )
                for b in range(len(where))
            )
            for a in range(len(where))
        )
        return blocks[0][0] if single else blocks

    return run


install_jvp(jvp)  # recursive calls in emitted forward modules make their JVPs with it
