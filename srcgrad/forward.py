"""Forward mode and the derivatives built on it: :func:`jvp`, :func:`jacobian`,
:func:`hessian` and :func:`hvp`.

``jvp`` emits a readable forward-mode module (``jvp_<f>``, tangents ``t_<name>``, cached
under ``generated/`` as ``<f>__wrt-<names>__fwd.py``) from the same front end as the reverse
modules.  ``hvp`` is forward over reverse: the forward mode of the emitted gradient module
(plain numpy source), so it never builds the Hessian.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from srcgrad import api, cache, linetable
from srcgrad.errors import InternalError, SrcgradError, WrtError

_RULES = Path(__file__).resolve().parent / "rules"


def _tangent_rules_digest() -> str:
    """What the emitted forward modules depend on besides the generator and the adjoint
    rules: the JVP tables (the rules' and the runtime helpers')."""
    h = hashlib.sha256()
    for name in ("tangents.py", "tangent_helpers.py"):
        h.update((_RULES / name).read_bytes())
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
    if isinstance(x, (dict, list, tuple)):
        return t
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
