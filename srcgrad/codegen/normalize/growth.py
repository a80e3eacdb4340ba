"""Lists of tuples built with append in straight-line code: ``layers = []`` then
``layers.append((W, b))`` once per layer (in code without loops, or in loops run once per
item) is a list display whose items are known here, so its tuples keep their gradients: each
such append binds the list's name to the display with one more item.  A list grown inside a
loop that runs as a loop stays a list built with append (its items arrays and numbers).
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m


class Growth:
    """Lists grown in straight-line code (a mixin of :class:`Normalizer`)."""

    def note_new_list(self, emitted: str, items: list[Any]) -> None:
        """``emitted`` was just bound to a new list holding ``items``: its history starts."""
        self.list_history[emitted] = (len(self.loop_ticks), list(items))
        self.list_depth[emitted] = len(self.loops)

    def note_appended(self, lst: str, item: Any) -> None:
        """``item`` was appended to ``lst`` as a list built with append: its items stay known
        while it grows only where it was made (not in a loop that runs as a loop)."""
        known = self.list_history.get(lst)
        if known is None:
            return
        if known[0] != len(self.loop_ticks):
            del self.list_history[lst]
            return
        known[1].append(item)

    def append_as_display(self, lst: str, args: list[cst.Arg]) -> bool:
        """``lst.append(v)`` where ``v`` is a tuple, list or dict and every item of ``lst`` is
        known here (made and grown in straight-line code, by one name): the name is bound to
        the display with ``v`` added, and True is returned; else False (nothing done).
        """
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            return False
        item = args[0].value
        known = isinstance(item, (cst.Tuple, cst.List, cst.Dict)) or (
            isinstance(item, cst.Name)
            and (item.value in self.lit or item.value in self.cont)
        )
        if not known:
            return False  # (a list built with append stays refused as an item)
        if lst in self.list_history:
            depth, items = self.list_history[lst]
        elif lst in self.lit and self.lit[lst][0] == "seq" and lst in self.lit_stmt:
            depth, items = self.display_loops[lst], list(self.lit[lst][1])
        else:
            return False
        user = self.sole_name(lst)
        if depth != len(self.loop_ticks) or user is None:
            return False
        if lst in self.arg_names:
            return False  # a caller's list: refused where it is appended to
        self.bind_atom(user, cst.List([cst.Element(v) for v in [*items, item]]))
        return True

    def names_of(self, cur: str) -> list[str]:
        """The user's names bound to the emitted ``cur``: this function's, then those of
        the callers being inlined."""
        return [u for u, c in self.env.items() if c == cur] + [
            u for frame in self.frames for u, c in frame.env.items() if c == cur
        ]

    def sole_name(self, cur: str) -> str | None:
        """The one name of this function bound to ``cur``, when no other name (here or
        in a caller) is: a change made through it is seen by every name; else None."""
        names = self.names_of(cur)
        if len(names) != 1 or self.env.get(names[0]) != cur:
            return None
        return names[0]

    def item_write(self, target: cst.Subscript, value: cst.BaseExpression) -> None:
        """``xs[t][i] = v``, a write into an array that a tuple, list or dict built here holds
        under a constant key: the array is written (a new version of it, as any array made
        here; other names of the old version go stale) and the display's entry becomes the
        new version.  Anything else written through two subscripts is refused."""
        inner = cst.ensure_type(target.value, cst.Subscript)
        base = cst.ensure_type(inner.value, cst.Name)
        cur = self.env.get(base.value)
        atom: Any = None
        if (
            cur in self.lit
            and len(inner.slice) == 1
            and isinstance(inner.slice[0].slice, cst.Index)
        ):
            key = self.key_of(self.lower(inner.slice[0].slice.value, base.value))
            try:
                atom = self.lit[cur][1][key]
            except (KeyError, IndexError, TypeError):
                atom = None
        if not isinstance(atom, cst.Name) or self.is_container(atom):
            self.fail(
                target,
                f"in-place write into an item of {base.value!r} (srcgrad writes into an "
                "array held by a tuple, list or dict built here, under a constant key)",
                f"bind the item to a name, write into it and store it back: "
                f"item = {base.value}[k]; item[i] = v; {base.value}[k] = item",
                "subscript-assign",
            )
        named = self.names_of(atom.value)
        if named:
            self.fail(
                target,
                f"write into an array that {base.value!r} holds and that is also named "
                f"{named[0]!r} (Python writes into {named[0]!r} too, which the gradient "
                "cannot follow)",
                f"put a copy in ({base.value} = [{named[0]}.copy(), ...]), or write "
                f"into {named[0]} itself",
                "write-alias",
            )
        was_stale = cur in self.stale
        item = self.names.temp(f"{base.value}_item")
        self.env[item] = atom.value  # the very array the display holds
        self.assign(target.with_changes(value=cst.Name(item)), value)
        self.assign(inner, cst.Name(item))
        entries = self.lit[cur][1]
        held = entries.values() if isinstance(entries, dict) else entries
        if not was_stale and not any(
            isinstance(a, cst.Name) and a.value == atom.value for a in held
        ):
            # the display holds the new version now, and no other copy of the old one
            # (other names of the old version stay stale)
            self.stale.discard(cur)

    def starred_unpack(
        self, target: cst.Tuple | cst.List, value: cst.BaseExpression
    ) -> None:
        """``*hidden, last = params`` on a tuple or list whose items are known here (a
        display, or a container argument or part of one): the starred name is bound to a
        list of the middle items, the others to their items.  An array's rows are
        refused (slice it)."""
        atom = self.lower(value, "items")
        items = self._known_items(atom)
        if items is None and self._leading_items_only(target, atom):
            return
        if items is None:
            self.fail(
                target,
                "starred unpacking of a value whose items are known only at run time (an "
                "array's rows, a function's tuple result)",
                "slice it instead: first, rest = x[0], x[1:] (or, when the rest is not "
                "read, name it _ at the end: first, *_ = x)",
                "starred-assign",
            )
        elements = list(target.elements)
        star = next(
            i for i, el in enumerate(elements) if isinstance(el, cst.StarredElement)
        )
        after = len(elements) - star - 1
        if len(items) < star + after:
            self.fail(
                target,
                f"not enough values to unpack (expected at least {star + after}, got "
                f"{len(items)})",
                "match the counts",
                "unpack",
            )
        middle = items[star : len(items) - after]
        parts = items[:star] + [cst.List([cst.Element(v) for v in middle])]
        parts += items[len(items) - after :]
        for el, part in zip(elements, parts):
            self.assign_part(el.value, part)

    def _leading_items_only(
        self, target: cst.Tuple | cst.List, atom: cst.BaseExpression
    ) -> bool:
        """``x, *_ = np.linalg.lstsq(A, b)``: names, then a starred throwaway name
        (``_...``, never read) last: the names are bound to the first items by index,
        which reads a multi-output result and an array's rows alike (too few items raise
        IndexError where Python raises ValueError).  Whether it applied."""
        *head, last = target.elements
        if not (
            isinstance(last, cst.StarredElement)
            and isinstance(last.value, cst.Name)
            and last.value.value.startswith("_")
            and head
            and all(isinstance(el.value, cst.Name) for el in head)
        ):
            return False
        for i, el in enumerate(head):
            name = el.value.value  # type: ignore[union-attr]
            self.lower_subscript_of(atom, cst.Integer(str(i)), name, target=name)
        self.forget(last.value.value)
        self.unbound_rest.add(last.value.value)  # a read of it is refused by name
        return True

    def refuse_unbound_rest(self, e: cst.Name) -> None:
        """A read of the starred throwaway that :meth:`_leading_items_only` left unbound."""
        self.fail(
            e,
            f"{e.value!r}, the starred rest of an unpacking whose items are known only at "
            "run time (srcgrad binds the names before it, not the rest)",
            f"slice it instead: {e.value} = x[k:] (k the number of names before it)",
            "starred-assign",
        )

    def _known_items(self, atom: cst.BaseExpression) -> list[Any] | None:
        """The items of a display or of a container argument (part) ``atom``, as atoms."""
        if isinstance(atom, cst.Name) and atom.value in self.cont:
            if self.cont[atom.value][2][0] not in ("seq", "nt"):
                return None
            return [el.value for el in self.expand_container(atom.value).elements]
        if isinstance(atom, cst.Name) and atom.value not in self.lit:
            return None  # (items read by index through the name: not atoms)
        known = self.sequence_items(atom)
        return None if known is None else known[1]

    def assign_part(self, target: cst.BaseExpression, atom: cst.BaseExpression) -> None:
        """Bind the target ``target`` (a name, or a tuple of names) to ``atom``."""
        if isinstance(target, cst.Name):
            self.bind_atom(target.value, atom)
            return
        tmp = self.names.temp("part")
        self.bind_atom(tmp, atom)
        self.assign(target, cst.Name(tmp))

    def list_as_display(self, user: str, cur: str, loop: cst.CSTNode) -> str:
        """A list built with append whose items are all known here (made and grown in
        straight-line code), that the loop ``loop`` writes items of and grows no more:
        bound to a display of its items, so that the loop carries it item by item.
        Returns what ``user`` is bound to now."""
        calls = m.findall(loop, m.Call(func=m.Attribute(value=m.Name(user))))
        return cur if calls else self.known_list_as_display(user, cur)

    def known_list_as_display(self, user: str, cur: str) -> str:
        """``user``'s list built with append, as a display of its items when they are all
        known here (an item is about to be written); else unchanged."""
        known = self.list_history.get(cur)
        if known is None or known[0] != len(self.loop_ticks) or not known[1]:
            return cur
        if any(self._is_container_atom(v) for v in known[1]):
            return cur
        if self.sole_name(cur) != user:
            return cur  # another name for the same list would not see the writes
        self.bind_atom(user, cst.List([cst.Element(v) for v in known[1]]))
        cur = self.env[user]
        if cur in self.lit_stmt and cur not in self.lit:
            self.constant_display_items(cur)  # (its items are constants)
        return cur

    def constant_display_items(self, cur: str) -> None:
        """The list display of constants ``cur`` (``[np.zeros(3), np.zeros(3)]``) is about to
        have an item written: from here on it is a display known item by item (it was
        taken for one constant value)."""
        st = self.lit_stmt[cur]
        if not isinstance(st.expr, cst.List) or not all(
            isinstance(el, cst.Element) for el in st.expr.elements
        ):
            return
        self.lit[cur] = ("seq", [el.value for el in st.expr.elements])
        self.static.discard(cur)
        self.const.pop(cur, None)
        self.display_depth[cur] = self.display_loops.get(cur, len(self.loops))

    def concatenated_in_place(
        self, target: cst.Name, value: cst.BaseExpression
    ) -> bool:
        """``hs = hs + [h]`` where ``hs`` is a list that grows in place and has no other
        name: the new list is the old one extended (nothing else can see the old one),
        so it grows in place, as ``hs.append(h)`` would (True); else False."""
        if not (
            isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, cst.Add)
            and isinstance(value.left, cst.Name)
            and value.left.value == target.value
            and isinstance(value.right, cst.List)
            and all(isinstance(el, cst.Element) for el in value.right.elements)
        ):
            return False
        cur = self.env.get(target.value)
        if cur is None or not self.grows_in_place(cur):
            return False
        if any(
            isinstance(a.value, cst.Name) and a.value.value == target.value
            for a in m.findall(self.src.tree, m.Assign())
        ):
            return False  # another name is bound to the list somewhere
        if self.sole_name(cur) != target.value:
            return False
        call = cst.Call(
            func=cst.Attribute(cst.Name(target.value), cst.Name("extend")),
            args=[cst.Arg(value.right)],
        )
        self.src.alias(call, value)
        self.lower(call, target.value)
        return True
