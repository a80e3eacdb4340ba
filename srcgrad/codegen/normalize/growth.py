"""Lists of tuples built with append in straight-line code: ``layers = []`` then
``layers.append((W, b))`` once per layer (in code without loops, or in loops run once per
item) is a list display whose items are known here, so its tuples keep their gradients: each
such append binds the list's name to the display with one more item.  A list grown inside a
loop that runs as a loop stays a list built with append (its items arrays and numbers).
"""

from __future__ import annotations

from typing import Any

import libcst as cst


class Growth:
    """Lists grown in straight-line code (a mixin of :class:`Normalizer`)."""

    def note_new_list(self, emitted: str, items: list[Any]) -> None:
        """``emitted`` was just bound to a new list holding ``items``: its history starts."""
        self.list_history[emitted] = (len(self.loop_ticks), list(items))

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
        users = [u for u, cur in self.env.items() if cur == lst]
        shared = any(lst in frame.env.values() for frame in self.frames)
        if depth != len(self.loop_ticks) or len(users) != 1 or shared:
            return False
        if lst in self.arg_names:
            return False  # a caller's list: refused where it is appended to
        self.bind_atom(users[0], cst.List([cst.Element(v) for v in [*items, item]]))
        return True
