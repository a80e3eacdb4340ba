"""Recursion at a higher order: the lower order's module in "recompute" mode.

At first order a recursive call is ``r, r_pullback = call_vjp(f, wrt, *args)`` and its
backward ``r_pullback(d_r)``: a pullback is a closure, which srcgrad cannot differentiate.
So when a higher order differentiates such a module (``higher.py``'s ``wrapper_for``), the
lower order is emitted again with ``GradFunction.variant("_recompute")``: the recursive call
is a plain call ``r = f(x=x, n=n - 1)`` and its backward calls a plain function::

    def vjp_f__x(d_out, x, n):
        out, res = fwd_f(x, n)
        return bwd_f(res, d_out)

of ``f``'s own module in the same mode (generic code, wrt the call's varied arguments).
It recomputes the callee's forward, so a recursion of depth ``n`` costs O(n^2) work at a
higher order (first order keeps O(n)).  The module lists those names in its table
``SRCGRAD_RECOMPUTED = {"vjp_f__x": ("f", ("x",))}`` and :func:`install` binds them when
it loads the module (a module's own function, with the same wrt, is bound to itself).

The next order then reads an ordinary recursive function (``vjp_f__x`` calling itself
through ``bwd_f``), differentiates it with ``call_vjp`` at its own first order, and an
order above that emits it in recompute mode again.
"""

from __future__ import annotations

import copy
import hashlib
import linecache
from typing import Any, Callable

from srcgrad import cache

__all__ = ["variant", "install", "vjp_function", "TABLE"]

TABLE = "SRCGRAD_RECOMPUTED"

# (callee code, wrt) -> the GradFunction of its recompute-mode module
_GRADS: dict[tuple[Any, tuple[str, ...]], Any] = {}
# (callee code, wrt) -> (GradFunction, namespace, fwd, bwd, spec) of a module :func:`install`
# binds now
_PENDING: dict[tuple[Any, tuple[str, ...]], tuple[Any, ...]] = {}


def variant(gf: Any, flag: str) -> Any:
    """``gf`` emitted in a mode a higher order differentiates: ``flag`` ``"_lists_only"``,
    its loops' sums over steps in lists (``step_sum`` is an object srcgrad does not
    differentiate); ``"_recompute"``, its recursive calls without ``call_vjp`` (a
    pullback is a closure).  One clone per flag, kept on ``gf``."""
    clone = gf.__dict__.get(flag + "_clone")
    if clone is None:
        clone = copy.copy(gf)
        for k in list(clone.__dict__):
            if k.endswith("_clone") or k == "_srcgrad_wrappers":
                del clone.__dict__[k]
        clone._state, clone._states = None, {}
        setattr(clone, flag, True)
        gf.__dict__[flag + "_clone"] = clone
    return clone


def install(gf: Any, ns: dict[str, Any], fname: str, spec: str) -> None:
    """Bind the names of the loaded module ``ns``'s table (see the module docstring);
    ``gf`` is the GradFunction it belongs to, ``fname`` the name its passes are built
    from, ``spec`` what it is specialised to.  While it binds them, a module it needs
    that needs it back (recursive calls that swap the differentiated arguments) finds
    its passes here."""
    table = dict.get(ns, TABLE)
    if not table:
        return
    fwd, bwd = _find(ns, "fwd_" + fname), _find(ns, "bwd_" + fname)
    own = (gf.forward.__code__, tuple(gf._wrt))
    outer = _PENDING.get(own)
    _PENDING[own] = (gf, ns, fwd, bwd, spec)
    try:
        for name, (expr, wrt) in table.items():
            code = compile(expr, ns["__file__"], "eval")  # the callee, as fwd reads it
            callee = eval(code, ns)  # noqa: S307  (a name the emitted text holds)
            ns[name] = vjp_function(type(gf), callee, tuple(wrt), name)
    finally:
        if outer is None:
            del _PENDING[own]
        else:
            _PENDING[own] = outer


def vjp_function(
    grad_function: Any, fn: Any, wrt: tuple[str, ...], name: str
) -> Callable[..., Any]:
    """``vjp_<fn>__<wrt>``: ``fn``'s cotangents w.r.t. ``wrt`` through its generic
    recompute-mode module (a ``grad_function``, generated or loaded once per process),
    or through the module being bound now (:func:`install`)."""
    key = (fn.__code__, wrt)
    pending = _PENDING.get(key)
    if pending is not None:
        gf, ns, fwd, bwd, spec = pending
    else:
        gf = _GRADS.get(key)
        if gf is None:
            gf = grad_function(fn, wrt if len(wrt) > 1 else wrt[0], kind="vjp")
            gf = _GRADS.setdefault(key, gf.variant("_recompute"))
        st = gf._state if gf._state is not None else gf._prepare(None)
        ns, fwd, bwd, spec = st.ns, st.fwd, st.bwd, st.spec
    own = dict.get(ns, name)
    if own is None or getattr(own, "__name__", None) != name:
        own = ns[name] = _vjp_wrapper(gf, fwd, bwd, name, spec)
    return own


def _vjp_wrapper(
    gf: Any, fwd: Any, bwd: Any, name: str, spec: str
) -> Callable[..., Any]:
    """The plain function ``name(d_out, *params)``: ``bwd(fwd(*params)[1], d_out)``."""
    params, npos = gf._params, gf._npos
    d_out = "d_out"
    while d_out in params or d_out in (fwd.__name__, bwd.__name__, name):
        d_out += "_"
    out, res = (_fresh(n, set(params) | {d_out}) for n in ("out", "res"))
    call = ", ".join(params[:npos] + [f"{p}={p}" for p in params[npos:]])
    wrt = ", ".join(gf._wrt)
    back = f"{bwd.__name__}({res}, {d_out})"
    ret = [f"    return {back}[0]\n"]
    if len(gf._wrt) > 1:  # one flat array (a next order's call_vjp pulls back one)
        xp, d = (_fresh(n, set(params) | {d_out, out, res}) for n in ("xp", "d"))
        flat = ", ".join(f"{xp}.reshape({d}[{k}], (-1,))" for k in range(len(gf._wrt)))
        ret = [
            f"    {d} = {back}\n",
            f"    {xp} = namespace_of({d_out}, *{d})\n",
            f"    return {xp}.concatenate([{flat}])\n",
        ]
    text = "".join(
        [
            "from srcgrad.runtime import namespace as namespace_of\n\n\n",
            f"def {name}({', '.join([d_out] + params)}):\n",
            f'    """{gf.forward.__name__}\'s cotangents w.r.t. ({wrt}) for the output '
            f"cotangent {d_out}\n    (several: flat, one after the other): its forward "
            'recomputed, for a higher order."""\n',
            f"    {out}, {res} = {fwd.__name__}({call})\n",
            *ret,
        ]
    )
    return load_wrapper(gf, text, name, {fwd.__name__: fwd, bwd.__name__: bwd}, spec)


def load_wrapper(
    gf: Any, text: str, name: str, passes: dict[str, Any], spec: str
) -> Callable[..., Any]:
    """Compile ``text`` (defining ``name``, which calls the emitted ``passes`` of
    ``gf``'s module) under a file name of its own, readable by srcgrad as source."""
    fn = gf.forward
    fwd = next(iter(passes.values()))
    lower_file = cache.file_name(fn, gf._wrt, gf._file_mode(), spec or None)
    filename = f"<srcgrad {cache.module_dirname(fn)}/{lower_file}::{name}>"
    ns = cache.UserGlobals(fwd)
    ns["__builtins__"] = __builtins__
    ns["__name__"] = cache.module_dirname(fn)
    ns["__file__"] = filename
    ns["__srcgrad_digest__"] = hashlib.sha256(text.encode()).hexdigest()[:32]
    ns["__srcgrad_text__"] = text
    ns.update(passes)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec", dont_inherit=True), ns)
    wrapper = ns[name]
    qual = getattr(fn, "__qualname__", name).rpartition(".")[0]
    wrapper.__qualname__ = f"{qual}.{name}" if qual else name
    return wrapper


def name_of(callee: str, wrt: Any) -> str:
    """The name of ``callee``'s recomputing gradient w.r.t. ``wrt``."""
    return f"vjp_{callee}__{'_'.join(wrt)}"


def _find(ns: dict[str, Any], name: str) -> Any:
    """An emitted pass by its name (the generator appends ``_`` to a taken one)."""
    while name not in ns and len(name) < 200:
        name += "_"
    return ns[name]


def _fresh(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name
