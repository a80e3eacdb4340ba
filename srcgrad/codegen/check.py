"""Stage 2: find every construct srcgrad cannot differentiate.

After this stage: the function uses only the supported language (straight-line statements:
assignments, augmented assignments on names, tuple unpacking, expressions of the supported
kinds, ``print``/``assert``/``raise``, a final ``return``), or a :class:`SrcgradError` lists
*every* finding with its file:line:col and a hint.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen.source import FunctionSource, own_returns
from srcgrad.errors import SrcgradError, UnsupportedSyntaxError

_LATER = "not supported yet"

# node type -> (construct, message, hint)
_UNSUPPORTED: dict[type, tuple[str, str, str]] = {
    cst.Try: ("try", "try statement", "move error handling outside the function"),
    cst.With: (
        "with",
        "with statement",
        "move the context manager outside the function",
    ),
    cst.ClassDef: ("class", "class definition", "define the class at module level"),
    cst.Global: ("global", "global statement", "pass the value in as an argument"),
    cst.Nonlocal: (
        "nonlocal",
        "nonlocal statement",
        "pass the value in as an argument",
    ),
    cst.Del: ("del", "del statement", "drop the del; names are released on return"),
    cst.Import: ("import", "import inside the function", "import at module level"),
    cst.ImportFrom: ("import", "import inside the function", "import at module level"),
    cst.SetComp: ("comprehension", "set comprehension", "use a vectorised expression"),
    cst.Await: (
        "await",
        "await expression",
        "differentiate a plain (non-async) function",
    ),
    cst.NamedExpr: ("walrus", "assignment expression (:=)", "assign on its own line"),
    cst.Match: (
        "match",
        "match statement",
        "use if/elif on constants (strings, shapes), or np.where to select between arrays",
    ),
    cst.Set: ("set", "set display", "use a tuple or list"),
}


def unpacking_allowed(e: cst.Call) -> bool:
    """Whether normalize decides on the ``*`` arguments of ``e`` (this stage reports the
    rest): every ``*`` (``f(y, *args)`` with items known when the code is generated is
    expanded, ``rs.randn(*s)``, ``np.zeros(*s)``, ``x.reshape(*s)`` keep constants as
    written, the rest is refused there); never ``**``."""
    stars = [a.star for a in e.args if a.star]
    return not stars or all(s == "*" for s in stars) or transposing_zip(e)


def transposing_zip(e: cst.Call) -> bool:
    """``zip(*rows)``: the columns of rows whose items are known (normalize decides)."""
    return (
        isinstance(e.func, cst.Name)
        and e.func.value == "zip"
        and len(e.args) == 1
        and e.args[0].star == "*"
    )


class _Checker(cst.CSTVisitor):
    def __init__(self, src: FunctionSource) -> None:
        super().__init__()
        self.src = src
        self.findings: list[SrcgradError] = []
        self.depth = 0  # nested defs entered
        self.reported: set[int] = (
            set()
        )  # ids of nodes already reported (not again as parts)

    def add(self, node: cst.CSTNode, construct: str, message: str, hint: str) -> None:
        file, line, col = self.src.where(node)
        self.findings.append(
            UnsupportedSyntaxError(
                message,
                filename=file,
                lineno=line,
                col=col,
                construct=construct,
                hint=hint,
            )
        )

    def on_visit(self, node: cst.CSTNode) -> bool:
        entry = _UNSUPPORTED.get(type(node))
        if entry is not None:
            self.add(node, *entry)
            return False
        return super().on_visit(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += (
            1  # a nested def: its yields make it a generator, run where called
        )
        return True

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Yield(self, node: cst.Yield) -> bool:
        if self.depth == 0:
            self.add(
                node,
                "yield",
                "yield: the differentiated function is a generator function",
                "differentiate the function that loops over what it yields (a generator "
                "called there runs to its end and gives the list of its items)",
            )
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        for t in node.targets:
            if isinstance(t.target, cst.Attribute) and isinstance(
                t.target.value, cst.Name
            ):
                continue  # `self.running_mean = v`: normalize checks it is a model's buffer
            self._check_target(t.target)
        return True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if node.value is None:
            return False
        self._check_target(node.target)
        return True

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._check_target(node.target)
        return True

    def _check_target(self, t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Name):
            return
        if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name):
            return  # a subscript write: normalize checks what it writes into
        if (
            isinstance(t, cst.Subscript)
            and isinstance(t.value, cst.Subscript)
            and isinstance(t.value.value, cst.Name)
        ):
            return  # `xs[t][i] = v`: a write into an item (normalize checks it)
        if isinstance(t, (cst.Tuple, cst.List)):
            stars = [el for el in t.elements if isinstance(el, cst.StarredElement)]
            for el in t.elements:
                if isinstance(el, cst.StarredElement) and (
                    len(stars) > 1 or not isinstance(el.value, cst.Name)
                ):
                    self.reported.add(id(el))
                    self.add(
                        el,
                        "starred-assign",
                        "starred assignment target",
                        "unpack into named variables, or slice the array",
                    )
                elif not isinstance(el, cst.StarredElement):
                    self._check_target(el.value)
                else:
                    self.reported.add(
                        id(el)
                    )  # `*rest, last = xs`: normalize unpacks it
            return
        self._target_error(t)

    def _target_error(self, t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Subscript) and isinstance(
            t.value, (cst.Attribute, cst.Call)
        ):
            written = cst.Module([]).code_for_node(t.value).strip()
            self.add(
                t,
                "subscript-assign",
                f"in-place write into {written}[...]: srcgrad writes only into arrays bound to "
                "a name",
                "index the array itself, e.g. K[i, j] = v; for a diagonal write "
                "K = K + v * np.eye(len(K))",
            )
        elif isinstance(t, cst.Subscript):
            self.add(
                t,
                "subscript-assign",
                f"in-place write to a subscript ({_LATER})",
                "build the array functionally, e.g. with np.where, np.concatenate or "
                "np.stack",
            )
        elif isinstance(t, cst.Attribute):
            self.add(
                t,
                "attribute-assign",
                "assignment to an attribute",
                "return the new value instead of storing it on an object",
            )
        else:
            self.add(
                t, "assign-target", "unsupported assignment target", "assign to a name"
            )

    def visit_For(self, node: cst.For) -> bool:
        self._starred_targets(node.target)
        return True

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        self._starred_targets(node.target)
        return True

    def _starred_targets(self, target: cst.BaseExpression) -> None:
        """A loop's or comprehension's target with a starred name (``for a, *b in ...``)."""
        for el in m.findall(target, m.StarredElement()):
            if id(el) not in self.reported:
                self.reported.add(id(el))
                self.add(
                    el,
                    "starred",
                    "starred element in a display",
                    "list the elements explicitly, or join arrays with np.concatenate",
                )

    def visit_StarredElement(self, node: cst.StarredElement) -> bool:
        # a display's starred item: normalize keeps it where every item is a constant
        return id(node) not in self.reported

    def visit_Call(self, node: cst.Call) -> bool:
        # `namespace(d_out, *res)` in emitted code: its arguments only pick the array module
        func = node.func
        name = (
            func.value
            if isinstance(func, cst.Name)
            else getattr(getattr(func, "attr", None), "value", "")
        )
        if name.rstrip("_") == "namespace":  # aliased where a user name is namespace
            return False
        if not unpacking_allowed(node):
            for a in node.args:
                if a.star:
                    self.add(
                        a,
                        "star-args",
                        f"{a.star}-unpacking in a call",
                        "pass the arguments explicitly",
                    )
        return True


def check_function(src: FunctionSource, top_level: bool = True) -> list[SrcgradError]:
    """Return every unsupported construct in ``src`` (empty when it is all supported).

    A called (inlined) function may take ``*args``/``**kwargs``; the differentiated one not.
    """
    checker = _Checker(src)
    fdef = src.tree
    params = fdef.params
    if (
        top_level
        and params.star_arg is not None
        and isinstance(params.star_arg, cst.Param)
    ):
        checker.add(
            params.star_arg,
            "*args",
            f"*{params.star_arg.name.value} parameter ({_LATER})",
            "take a tuple or list argument instead",
        )
    if top_level and params.star_kwarg is not None:
        checker.add(
            params.star_kwarg,
            "**kwargs",
            f"**{params.star_kwarg.name.value} parameter",
            "take a dict argument instead",
        )
    if fdef.asynchronous is not None:
        checker.add(
            fdef.name,
            "async",
            f"async def {fdef.name.value}: calling it gives a coroutine, not a value",
            "differentiate a plain def that computes the value (await outside it)",
        )
    body = fdef.body
    stmts = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    for stmt in stmts:
        stmt.visit(checker)
    returns = len(own_returns(fdef))  # a nested def's return is not f's
    for r in own_returns(fdef):
        if cst.ensure_type(r, cst.Return).value is None:
            checker.add(
                r,
                "return",
                "bare return: the function must return a value",
                "return the scalar loss",
            )
    if returns == 0 and not any(f.construct == "yield" for f in checker.findings):
        checker.add(
            fdef.name,
            "no-return",
            f"{fdef.name.value} has no return statement",
            "return the value to differentiate",
        )
    return checker.findings
