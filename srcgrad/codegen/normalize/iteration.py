"""What a ``for`` loop iterates over: constant items and container arguments (unrolled),
displays bound before the loop, ``range``/``enumerate``/``zip``/rows of an array (the
header, index and names bound from it).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad import cache, tree
from srcgrad.codegen import ir
from srcgrad.codegen.check import transposing_zip
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _MISSING
from srcgrad.codegen.normalize.syntax import _range_len


class Iteration:
    """What a for loop iterates over (a mixin of :class:`Normalizer`)."""

    def builtin_call(self, e: cst.BaseExpression, names: tuple[str, ...]) -> str | None:
        """Which of the builtins ``names`` ``e`` calls (``zip(xs, ys)``: ``"zip"``),
        when the function has not bound that name itself; else None."""
        if (
            isinstance(e, cst.Call)
            and isinstance(e.func, cst.Name)
            and e.func.value in names
            and e.func.value not in self.env
        ):
            return e.func.value
        return None

    def static_values(self, it: cst.BaseExpression) -> list[Any] | None:
        """The items of a loop's iterable when they are known constants (a tuple of names,
        the keys of a dict built here, ``enumerate``/``zip`` of such): such loops are
        unrolled."""
        fname = self.builtin_call(it, ("enumerate", "zip"))
        if fname is not None and any(a.star for a in it.args):  # type: ignore[attr-defined]
            return None  # zip(*rows): bound to its columns before the loop
        if fname is not None:
            args = it.args  # type: ignore[attr-defined]
            parts = [self.static_values(a.value) for a in args]
            if any(p is None for p in parts) or not parts:
                return None
            if fname == "enumerate":
                return list(enumerate(parts[0])) if len(parts) == 1 else None
            return list(zip(*parts))
        if isinstance(it, cst.Name) and it.value in self.env:
            cur = self.env[it.value]
            if cur in self.lit and self.lit[cur][0] == "dict":
                return list(
                    self.lit[cur][1]
                )  # a dict built here: its keys are constants
            v = self.const.get(cur, _MISSING)
        else:
            v = self.constant_value(it)
        if isinstance(v, tuple) and len(v) <= 64:
            return list(v)
        return None

    def free_constant_sequence(self, it: cst.BaseExpression) -> list[Any] | None:
        """The items of a free name (a global, or a closure variable of the function
        read) bound to a short list or tuple of constants (``shapes``, layer names): the
        loop runs once per item, and the cache keys the code by that value, checked at
        every call (a changed list makes new code).  None for anything else."""
        if (
            not isinstance(it, cst.Name)
            or it.value in self.env
            or it.value in self.local_funcs
            or it.value in self.galias
        ):
            return None
        found, value = self.resolver.lookup(it.value)
        if not found or not cache.is_constant_sequence(value):
            return None
        self.note_ref(it, it, [it.value], value)
        return list(value)

    def unrolled(
        self,
        target: cst.BaseExpression,
        values: list[Any],
        body: list[cst.BaseStatement],
    ) -> bool:
        """Run the body once per constant item (a loop over a constant tuple)."""
        for v in values:
            self.assign(target, self.literal(v))
            if not self.block(body):
                return False
        return True

    def container_values(
        self, it: cst.BaseExpression
    ) -> list[cst.BaseExpression] | None:
        """The items of a loop over a list/tuple argument (or enumerate/zip of them), as
        expressions: their number is known from the argument, so such loops unroll."""

        direct = self._container_items(it)
        if direct is not None:
            return direct
        fname = self.builtin_call(it, ("enumerate", "zip"))
        args = it.args if fname is not None else ()  # type: ignore[attr-defined]
        if any(a.star for a in args):
            return None
        if fname is not None and all(a.keyword is None for a in args):
            seqs = [self._container_items(a.value) for a in args]
            if fname == "zip" and any(q is not None for q in seqs):
                n = min(len(q) for q in seqs if q is not None)
                seqs = [
                    _zipped_sequence(self, a.value, n) if q is None else q
                    for a, q in zip(args, seqs)
                ]
            if any(q is None for q in seqs) or not seqs:
                return None
            if fname == "enumerate":
                if len(seqs) != 1:
                    return None
                return [
                    cst.Tuple([cst.Element(cst.Integer(str(k))), cst.Element(v)])
                    for k, v in enumerate(seqs[0])  # type: ignore[arg-type]
                ]
            return [cst.Tuple([cst.Element(v) for v in row]) for row in zip(*seqs)]  # type: ignore[misc]
        return None

    def _container_items(
        self, e: cst.BaseExpression
    ) -> list[cst.BaseExpression] | None:
        """The items of a list/tuple argument, of a display of containers built here, of a
        constant slice of either, or of ``reversed`` of one, as expressions; None for
        anything else."""
        part = self._argument_part(e)
        if part is not None:
            return _items_of(e, part)
        view = self._dict_view(e)
        if view is not None:
            return view
        if (
            isinstance(e, cst.Name)
            and e.value in self.env
            and self.env[e.value] in self.lit
        ):
            # a tuple/list display built here whose items are containers (the layers of
            # `params[:-1]`, say): one copy of the body per item
            kind, entries = self.lit[self.env[e.value]]
            if kind == "seq" and any(self.is_container(a) for a in entries):
                # read through a name of the display's own (its items are emitted atoms;
                # the user's names in them may be rebound by the body)
                alias = self.names.temp(f"{e.value}_items")
                self.env[alias] = self.env[e.value]
                return [
                    cst.Subscript(
                        value=cst.Name(alias),
                        slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
                    )
                    for k in range(len(entries))
                ]
        if (
            isinstance(e, cst.Subscript)
            and len(e.slice) == 1
            and isinstance(e.slice[0].slice, cst.Slice)
        ):
            whole = self._container_items(e.value)
            sl = e.slice[0].slice
            bounds = [
                None if b is None else self.folded(b)
                for b in (sl.lower, sl.upper, sl.step)
            ]
            if whole is None or any(
                b is _MISSING or isinstance(b, str) for b in bounds
            ):
                return None
            if bounds[2] == 0:
                self.fail(e, "a slice with step 0", "use a nonzero step", "slice")
            return whole[slice(*bounds)]
        if (
            self.builtin_call(e, ("reversed",))
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            whole = self._container_items(e.args[0].value)
            return None if whole is None else whole[::-1]
        if (
            self.builtin_call(e, ("sorted",))
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            return self.sorted_keys(e.args[0].value)
        return None

    def _argument_part(self, e: cst.BaseExpression) -> Any:
        """The skeleton of the part of a container argument that ``e`` names: the argument
        itself, a name bound to a part of it, or a subscript of either by keys known here
        (``params["hidden"]``, ``layers[0]``); None for anything else or a leaf."""
        if isinstance(e, cst.Name):
            cur = self.env.get(e.value)
            return self.cont[cur][2] if cur in self.cont else None
        if isinstance(
            e, cst.Attribute
        ):  # a field of a model or NamedTuple: self.blocks
            whole = self._argument_part(e.value)
            if whole is None or whole[0] == "seq" or not isinstance(whole[1], dict):
                return None
            return whole[1].get(e.attr.value)
        if not isinstance(e, cst.Subscript) or len(e.slice) != 1:
            return None
        sl = e.slice[0].slice
        whole = self._argument_part(e.value)
        if whole is None or not isinstance(sl, cst.Index):
            return None
        key = self.folded(sl.value)
        if key is _MISSING:
            return None
        return tree.skeleton_child(whole, tree.canonical_key(whole, key), None)

    def _dict_view(self, e: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The items of ``d.items()``, ``d.keys()`` or ``d.values()`` of a dict that is (a
        part of) a container argument, as expressions: keys as constants, values as reads
        by constant keys."""
        if not (
            isinstance(e, cst.Call)
            and not e.args
            and isinstance(e.func, cst.Attribute)
            and e.func.attr.value in ("items", "keys", "values")
        ):
            return None
        skel = self._argument_part(e.func.value)
        if skel is None or not isinstance(skel[1], dict) or skel[0] == "nt":
            keys = self._display_keys(e.func.value)
            if keys is None:
                return None
        else:
            keys = list(skel[1])
        method = e.func.attr.value
        out: list[cst.BaseExpression] = []
        for key in keys:
            const = cst.parse_expression(repr(key))
            read = cst.Subscript(
                value=e.func.value, slice=[cst.SubscriptElement(cst.Index(const))]
            )
            if method == "items":
                out.append(cst.Tuple([cst.Element(const), cst.Element(read)]))
            else:
                out.append(const if method == "keys" else read)
        return out

    def _display_keys(self, e: cst.BaseExpression) -> list[Any] | None:
        """The keys, in order, of the dict display built here that the name ``e`` holds
        (its entries are read by those constant keys); None for anything else."""
        if not isinstance(e, cst.Name) or e.value not in self.env:
            return None
        cur = self.env[e.value]
        if (
            cur not in self.lit
            or self.lit[cur][0] != "dict"
            or e.value in self.poisoned
        ):
            return None
        return list(self.lit[cur][1])

    def _bind_iterated_displays(self, node: cst.For) -> cst.For:
        """``for v in [a, b]`` (also inside enumerate/zip/reversed) runs as
        ``items = [a, b]; for v in items``: the display is evaluated once, before the loop,
        as Python does, and the loop is one over a list built here."""

        def bind(e: cst.BaseExpression) -> cst.BaseExpression:
            if self._user_call(e) or (isinstance(e, cst.Call) and transposing_zip(e)):
                # `for W, b in unpack(w)`: what the call returns, then a loop over it
                tmp = self.names.temp("items")
                self.assign(cst.Name(tmp), e)
                return self.src.alias(cst.Name(tmp), e)  # type: ignore[return-value]
            if not isinstance(e, (cst.List, cst.Tuple)) or not e.elements:
                return e
            if any(isinstance(el, cst.StarredElement) for el in e.elements):
                return e
            if self.constant_value(e) is not _MISSING:
                return e  # a tuple of constants: unrolled as it is
            tmp = self.names.temp("items")
            self.assign(cst.Name(tmp), e)
            return self.src.alias(cst.Name(tmp), e)  # type: ignore[return-value]

        it = node.iter
        new_it: cst.BaseExpression = bind(it)
        if new_it is it and self.builtin_call(it, ("enumerate", "zip", "reversed")):
            args = [
                a.with_changes(value=bind(a.value)) if a.keyword is None else a
                for a in it.args
            ]
            if any(a is not b for a, b in zip(args, it.args)):
                new_it = it.with_changes(args=args)
                self.src.alias(new_it, it)
        if new_it is it:
            return node
        out = node.with_changes(iter=new_it)
        self.src.alias(out, node)
        return out

    def _user_call(self, e: cst.BaseExpression) -> bool:
        """Whether ``e`` calls a function of the user's (a nested def, or a plain Python
        function outside numpy and srcgrad), which may return a list of tuples."""
        if not isinstance(e, cst.Call) or not isinstance(e.func, cst.Name):
            return False
        name = e.func.value
        if name in self.local_funcs:
            return True
        if name in self.env:
            return False
        found, obj = self.resolver.lookup(name)
        module = getattr(obj, "__module__", None) or ""
        return (
            found
            and type(obj).__name__ == "function"
            and not module.split(".")[0] in ("numpy", "scipy", "srcgrad", "builtins")
        )

    def iterable(self, seq: cst.BaseExpression) -> cst.BaseExpression:
        """A list/tuple argument iterated over becomes a list whose items carry gradients."""
        if isinstance(seq, cst.Name) and seq.value in self.cont:
            param, path, skel = self.cont[seq.value]
            if skel[0] not in ("seq", "nt") or any(
                c is not None for c in tree.skeleton_children(skel)
            ):
                self.fail(
                    seq,
                    "iterating a nested container argument",
                    "index it with constants",
                    "iterate",
                )
            name = self.names.temp(f"{seq.value}_items")
            expr = cst.Call(func=cst.Name("list"), args=[cst.Arg(seq)])
            self.locals.add(name)
            self.stmts.append(
                Stmt(
                    ir.LISTFROM,
                    [name],
                    expr,
                    self.origin,
                    operands=[param],
                    label="items",
                    read=(param, path),
                    bound={"n": len(tree.skeleton_children(skel))},
                )
            )
            self.dyn.add(name)
            return cst.Name(name)
        if isinstance(seq, cst.Name) and seq.value in self.lit:
            kind, items = self.lit[seq.value]
            if kind == "seq" and any(self._is_container_atom(item) for item in items):
                self.fail(
                    seq,
                    "a loop over a list or tuple of tuples built in the function (the parts "
                    "would carry no gradient)",
                    "keep one list per part and loop over them together: "
                    "for a, b in zip(As, Bs), with As = [...] and Bs = [...]",
                    "list-of-containers",
                )
            if kind == "seq":
                name = self.names.temp(f"{seq.value}_items")
                self.bind_atom(name, cst.List([]))
                name = self.env[name]
                for item in items:
                    if self.is_container(item):
                        self.fail(
                            seq,
                            "a loop with break, return or else over a tuple/list whose items "
                            "are tuples, lists or dicts",
                            "loop without break/return/else (such a loop runs once per item), "
                            "or read the items with constant indices",
                            "iterate",
                        )
                    self.append_item(seq, name, item)
                return cst.Name(name)
        return seq

    def range_len(self, seqs: list[cst.BaseExpression]) -> cst.BaseExpression:
        """``range(len(seq))``; the length of a list that grows is taken now, once."""
        fixed = []
        for sq in seqs:
            if isinstance(sq, cst.Name) and sq.value in self.dyn:
                n = self.names.temp(f"{sq.value}_len")
                self.stmts.append(
                    Stmt(
                        ir.NONDIFF,
                        [n],
                        cst.parse_expression(f"len({sq.value})"),
                        self.origin,
                    )
                )
                self.locals.add(n)
                fixed.append(cst.Name(n))
            else:
                fixed.append(None)
        header = _range_len(seqs)
        if all(f is None for f in fixed):
            return header
        lens = [
            (
                cst.Module([]).code_for_node(f)
                if f is not None
                else f"len({cst.Module([]).code_for_node(sq)})"
            )
            for f, sq in zip(fixed, seqs)
        ]
        inner = lens[0] if len(lens) == 1 else f"min({', '.join(lens)})"
        return cst.parse_expression(f"range({inner})")

    def iteration_plan(
        self, node: cst.For
    ) -> tuple[str, cst.BaseExpression, list[tuple[str, Any]], bool]:
        """How to run ``for target in iter``: the header target and iterable, the names the
        body binds from an index (rows of arrays), and whether ``reversed(range(...))`` can
        replay it backwards."""
        it = node.iter
        target = node.target
        call = it if isinstance(it, cst.Call) else None
        fname = self.builtin_call(it, ("range", "enumerate", "zip", "reversed"))
        if fname == "range":
            args = [self.lower_arg(a, "n") for a in call.args]  # type: ignore[union-attr]
            tnames = self._loop_target_names(target)
            if len(tnames) != 1:
                self.fail(
                    target, "unpacking a range", "use one loop variable", "for-target"
                )
            return tnames[0], call.with_changes(args=args), [], True  # type: ignore[union-attr]
        if fname == "enumerate" and _enumerated_zip(self, call, target):
            # `for i, (a, b) in enumerate(zip(xs, ys))`: the zip's index is `i`
            first, inner = (el.value for el in target.elements)  # type: ignore[attr-defined]
            zcall = call.args[0].value  # type: ignore[union-attr]
            return self._zip_plan(zcall, inner, self._loop_target_names(first)[0])
        if fname == "enumerate":
            target, inner = _nested_item(self, target)
            tnames = self._loop_target_names(target)
            if len(tnames) != 2:
                self.fail(
                    target,
                    "enumerate(...) needs `i, x` as its target",
                    "write `for i, x in enumerate(xs)`",
                    "for-target",
                )
            seq = self.iterable(self.lower(_enumerated(self, call), tnames[1]))
            start = list(call.args[1:])  # type: ignore[union-attr]
            if self.is_static(seq) and all(self.is_static(a.value) for a in start):
                # `for k, c in enumerate(COEFS)` over constants: each pair unpacked
                pair = self.names.temp("pair")
                unpack = [(n, None) for n in tnames] + [("", ("unpack", target))]
                args = [cst.Arg(seq), *start]
                return pair, call.with_changes(args=args), unpack + inner, False  # type: ignore[union-attr]
            if start:
                self.fail(
                    call.args[1],  # type: ignore[union-attr]
                    "enumerate(..., start) over arrays or lists",
                    "write `for i, x in enumerate(xs)` and use `i + start` in the body",
                    "for-target",
                )
            header = self.range_len([seq])
            return tnames[0], header, [(tnames[1], (seq,)), *inner], True
        if fname == "zip":
            return self._zip_plan(call, target)  # type: ignore[arg-type]
        if fname == "reversed":
            plan = self.reversed_plan(call, target)  # type: ignore[arg-type]
            if plan is not None:
                return plan
        # a plain sequence: rows of an array (or a constant sequence)
        seq = self.iterable(self.lower(it, "seq"))
        tnames = self._loop_target_names(target)
        if self.is_static(seq):
            if len(tnames) != 1:
                # `for m, n in shapes` over constants: each item unpacked as Python does
                item = self.names.temp("item")
                unpack = [(n, None) for n in tnames] + [("", ("unpack", target))]
                return item, seq, unpack, False
            return tnames[0], seq, [], False
        prelude: list[tuple[str, Any]] = []
        if len(tnames) != 1:
            # `for W, b in layers`: each item, then its names unpacked from it
            item = self.names.temp("item")
            prelude = [(n, None) for n in tnames] + [("", ("unpack", target, item))]
            tnames = [item]
        index = self.names.temp(f"{tnames[0]}_index")
        return index, self.range_len([seq]), [(tnames[0], (seq,)), *prelude], True

    def _loop_target_names(self, t: cst.BaseExpression) -> list[str]:
        """The names a loop target binds: one name, or a flat tuple/list of names."""
        if isinstance(t, cst.Name):
            return [t.value]
        if isinstance(t, (cst.Tuple, cst.List)):
            return self.element_names(
                t, "nested loop target", "unpack inside the body", "for-target"
            )
        self.fail(t, "unsupported loop target", "use a name", "for-target")
        raise AssertionError

    def _zip_plan(
        self, call: cst.Call, target: cst.BaseExpression, index: str | None = None
    ) -> tuple[str, cst.BaseExpression, list[tuple[str, Any]], bool]:
        """The plan of ``for a, b in zip(xs, ys)``: an index over the common length (a
        fresh one, or ``index``: enumerate's name), each name bound to its sequence's
        row."""
        tnames = self._loop_target_names(target)
        seqs = [
            self.iterable(self.lower(a.value, n)) for a, n in zip(call.args, tnames)
        ]
        if len(seqs) != len(tnames):
            self.fail(
                target,
                "zip(...) target count",
                "one name per sequence",
                "for-target",
            )
        index = index if index is not None else self.names.temp("i")
        prelude = []
        lens = []
        for n, sq in zip(tnames, seqs):
            prelude.append((n, (sq,)))
            lens.append(sq)
        return index, self.range_len(lens), prelude, True


def _zipped_sequence(
    norm: Any, e: cst.BaseExpression, n: int
) -> list[cst.BaseExpression] | None:
    """The items of a sequence zipped with a container argument (of ``n`` items): a
    sequence of constants (its items, as literals; the cache keys the code by it), or a
    global list or tuple of at least ``n`` other objects (``zip(self.layers, params)``:
    its first ``n`` items, read by index when the code runs); None for anything else.
    """
    values = norm.static_values(e)
    if values is None:
        values = norm.free_constant_sequence(e)
    if values is not None:
        return [norm.literal(v) for v in values]
    chain = norm._global_chain(e)
    if chain is None or not isinstance(chain[1], (list, tuple)) or len(chain[1]) < n:
        return None
    return [
        cst.Subscript(
            value=e, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))]
        )
        for k in range(n)
    ]


def _items_of(e: cst.BaseExpression, skel: Any) -> list[cst.BaseExpression] | None:
    """What a loop over the container argument part ``e`` (of skeleton ``skel``) visits, as
    expressions: the items of a list, tuple or NamedTuple, the keys of a dict."""
    if skel[0] in ("seq", "nt"):
        keys: list[Any] = list(range(len(tree.skeleton_children(skel))))
    elif isinstance(skel[1], dict) and len(skel) == 3:  # (a model is not iterated)
        return [cst.parse_expression(repr(k)) for k in skel[1]]
    else:
        return None
    return [
        cst.Subscript(
            value=e, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))]
        )
        for k in keys
    ]


def _enumerated(norm: Any, call: Any) -> cst.BaseExpression:
    """What ``enumerate(e)`` visits: ``reversed(seq)`` (``enumerate(reversed(layers))``) as
    ``seq[::-1]``, whose items are the same in the same order (a list's, a tuple's, an
    array's rows); ``e`` itself for anything else (``reversed(range(n))`` stays a range, a
    dict's keys are no slice)."""
    e = call.args[0].value
    if norm.builtin_call(e, ("reversed",)) is None:
        return e
    args = e.args  # type: ignore[attr-defined]
    if len(args) != 1 or args[0].star or args[0].keyword is not None:
        return e
    inner = args[0].value
    if not isinstance(inner, cst.Name) or inner.value not in norm.env:
        return e  # a range, a comprehension, a call: as before
    cur = norm.env[inner.value]
    part = norm._argument_part(inner)
    if (
        norm.lit.get(cur, ("",))[0] == "dict"
        or part is not None
        and isinstance(part[1], dict)
    ):
        return e  # reversed(d) visits a dict's keys: not a slice
    minus_one = cst.UnaryOperation(cst.Minus(), cst.Integer("1"))
    whole = cst.Slice(lower=None, upper=None, step=minus_one)
    return cst.Subscript(value=args[0].value, slice=[cst.SubscriptElement(whole)])


def _enumerated_zip(norm: Any, call: cst.Call, target: cst.BaseExpression) -> bool:
    """Whether the loop is ``for i, (a, b) in enumerate(zip(xs, ys))``."""
    return (
        isinstance(target, (cst.Tuple, cst.List))
        and len(target.elements) == 2
        and isinstance(target.elements[0].value, cst.Name)
        and isinstance(target.elements[1].value, (cst.Tuple, cst.List))
        and len(call.args) == 1
        and call.args[0].keyword is None
        and norm.builtin_call(call.args[0].value, ("zip",)) is not None
        and not any(a.star or a.keyword for a in call.args[0].value.args)  # type: ignore[attr-defined]
    )


def _nested_item(
    norm: Any, target: cst.BaseExpression
) -> tuple[cst.BaseExpression, list[tuple[str, Any]]]:
    """``i, (a, b)`` (an enumerate target whose item is unpacked): the target ``i,
    item`` and the prelude entries that unpack ``item`` into ``a, b``; else the target
    as it is and no entries."""
    if not (
        isinstance(target, (cst.Tuple, cst.List))
        and len(target.elements) == 2
        and isinstance(target.elements[1].value, (cst.Tuple, cst.List))
    ):
        return target, []
    inner = target.elements[1].value
    names = norm.element_names(
        inner, "nested loop target", "unpack inside the body", "for-target"
    )
    item = norm.names.temp("item")
    outer = target.with_changes(
        elements=[target.elements[0], cst.Element(cst.Name(item))]
    )
    return outer, [(n, None) for n in names] + [("", ("unpack", inner, item))]
