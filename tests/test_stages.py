"""Per-stage tests of the code generator (DESIGN §10.3): each stage of ``pipeline.generate`` run
on its own, on small functions, with facts asserted about what it returns."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import numpy as np
import pytest

import srcgrad
from srcgrad import cache
from srcgrad.codegen import ir, pipeline
from srcgrad.codegen.activity import ZeroGradientWarning, analyse
from srcgrad.codegen.check import check_function
from srcgrad.codegen.emit import emit
from srcgrad.codegen.hoist import hoist
from srcgrad.codegen.normalize import normalize
from srcgrad.codegen.optimize import drop_default_arguments, optimize
from srcgrad.codegen.residuals import Push, StackInit, plan_residuals
from srcgrad.codegen.reverse import reverse
from srcgrad.codegen.segment import segment
from srcgrad.codegen.source import read_function
from srcgrad.codegen.specialise import specialise
from srcgrad.codegen.specialise_forward import specialise_forward
from tests.engine import golden_src
from tests.test_golden import CASES

GOLDEN = Path(__file__).parent / "golden"


# -- the functions the stages run on ------------------------------------------------------------


def rebinds(x, w, c):
    y = x * w
    y = np.tanh(y)
    b = np.cos(c)
    unused = np.exp(x)  # noqa: F841  (varied, never reaches the output)
    return np.sum(y * b)


def broadcast_mul(x, w):
    return np.sum(np.tanh(x * w))


def reduction(x):
    s = np.sum(np.tanh(x))
    return s * s


def rnn(h, W, xs):
    for x in xs:
        h = np.tanh(h @ W + x)
    return np.sum(h)


def branch(x, k):
    if k > 0:
        y = np.sin(x)
    else:
        y = np.cos(x)
    return np.sum(y)


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def bwd_text(bwd: ir.Backward) -> list[str]:
    return [code(st) for b in ir.all_blocks(bwd.blocks) for st in b.stmts]


def front(fn, wrt):
    """source, check and normalize, as the pipeline runs them."""
    src = read_function(fn)
    assert check_function(src) == []
    return normalize(src, wrt, {}, False)


def through_reverse(fn, wrt):
    fwd = segment(front(fn, wrt))
    act = analyse(fwd)
    return fwd, act, reverse(fwd, act)


F64 = (np.dtype("float64"), (False, False))  # a float64 matrix, no length-1 axis


# -- check and normalize ----------------------------------------------------------------------


def test_check_collects_every_unsupported_construct():
    def two_problems(x):
        try:
            y = x
        except ValueError:
            y = x
        yield y

    findings = check_function(read_function(two_problems))
    assert len(findings) == 2
    assert [e.lineno for e in findings] == sorted(e.lineno for e in findings)


def test_normalize_yields_ssa_with_one_primitive_per_statement():
    norm = front(rebinds, ["x", "w"])
    assert all(
        isinstance(it, ir.Stmt) for it in norm.stmts
    )  # straight-line: no nesting
    targets = [t for st in norm.stmts for t in st.targets]
    assert len(targets) == len(set(targets)), "a name is bound twice"
    assert not set(targets) & set(norm.params)
    # the user's `y`, bound twice, became two names that both map back to `y`
    ys = [t for t in targets if norm.names.user_name(t) == "y"]
    assert len(ys) == 2
    # `np.sum(y * b)` became two statements, the product under an ANF temporary
    assert [st.label for st in norm.stmts] == [
        "multiply",
        "tanh",
        "cos",
        "exp",
        "multiply",
        "sum",
    ]
    assert all(st.kind == ir.PRIM and st.rule is not None for st in norm.stmts)
    assert (
        isinstance(norm.out, cst.Name) and norm.out.value == norm.stmts[-1].targets[0]
    )


# -- segment ------------------------------------------------------------------------------------


def test_segment_groups_runs_and_leaves_its_input_alone():
    norm = front(rnn, ["h", "W"])
    before = list(norm.stmts)
    fwd = segment(norm)
    assert norm.stmts == before and not any(
        isinstance(it, ir.Segment) for it in norm.stmts
    )
    assert isinstance(fwd.stmts[-1], ir.Segment) and fwd.stmts[-1].stmts == []
    loop = next(it for it in fwd.stmts if isinstance(it, ir.LoopNode))
    orig = next(it for it in norm.stmts if isinstance(it, ir.LoopNode))
    assert loop is not orig and not any(isinstance(it, ir.Segment) for it in orig.body)
    head, *middle, tail = loop.body
    assert head.head and head.stmts == [] and not tail.head and tail.stmts == []
    segs = [it for it in middle if isinstance(it, ir.Segment)]
    assert [st.label for seg in segs for st in seg.stmts] == [
        "getitem",
        "matmul",
        "add",
        "tanh",
    ]
    assert all(isinstance(it, (ir.Segment, ir.Phi)) for it in middle)
    # every statement of the input is in exactly one segment
    assert sum(1 for _ in ir.walk_stmts(fwd.stmts)) == sum(
        1 for _ in ir.walk_stmts(norm.stmts)
    )


# -- activity -----------------------------------------------------------------------------------


def test_activity_marks_what_depends_on_wrt_and_reaches_the_output():
    fwd = segment(front(rebinds, ["x", "w"]))
    act = analyse(fwd)
    by_user = {
        fwd.names.user_name(t) or t: t
        for st in ir.walk_stmts(fwd.stmts)
        for t in st.targets
    }
    unused, b = by_user["unused"], by_user["b"]
    assert (
        unused in act.varied and unused not in act.useful and unused not in act.active
    )
    assert b in act.useful and b not in act.varied and b not in act.active
    assert "c" not in act.active and {"x", "w"} <= act.active
    assert fwd.out.value in act.active
    assert act.active == act.varied & act.useful


def test_activity_reaches_through_a_loop_back_edge():
    fwd = segment(front(rnn, ["W"]))
    act = analyse(fwd)
    loop = next(it for it in fwd.stmts if isinstance(it, ir.LoopNode))
    (carried,) = loop.carried
    entry = next(
        it for it in fwd.stmts if isinstance(it, ir.Phi) and it.target == carried.name
    )
    # the value entering the loop is the parameter h, which does not depend on W: the carried
    # name is varied only because the body's result flows back into it
    assert code(entry.source) == "h" and "h" not in act.varied
    assert carried.name in act.active
    body = [st for st in ir.walk_stmts(loop.body) if isinstance(st, ir.Stmt)]
    assert [st.label for st in body if st.targets[0] not in act.active] == ["getitem"]
    assert "xs" not in act.active


# -- reverse ------------------------------------------------------------------------------------


def test_reverse_builds_one_adjoint_block_per_active_statement_in_reverse_order():
    fwd, act, bwd = through_reverse(rebinds, ["x", "w"])
    stmts = list(ir.walk_stmts(fwd.stmts))
    active = [st for st in stmts if any(t in act.active for t in st.targets)]
    blocks = ir.all_blocks(bwd.blocks)
    assert [b.label for b in blocks] == [st.label for st in reversed(active)]
    assert [b.origin for b in blocks] == [st.origin for st in reversed(active)]
    assert set(bwd.adjoints) == set(act.active)  # only active names get adjoints
    assert [code(g) for g in bwd.grads] == [bwd.adjoints["x"], bwd.adjoints["w"]]
    assert not any("+=" in text for text in bwd_text(bwd))


def ignores(x, z):
    return np.sum(x)


def test_reverse_gives_an_unreached_parameter_a_zero_cotangent():
    with pytest.warns(ZeroGradientWarning, match="'z'"):
        _, act, bwd = through_reverse(ignores, ["x", "z"])
    assert "z" not in act.active
    assert [code(g) for g in bwd.grads] == ["d_x", "zeros_cotangent(z)"]
    assert "zeros_cotangent" in bwd.helpers and "z" not in bwd.adjoints


def test_reverse_nests_the_backward_like_the_forward():
    _, _, bwd = through_reverse(branch, ["x"])
    bif = next(it for it in bwd.blocks if isinstance(it, ir.BIf))
    assert [b.label for b in ir.all_blocks(bif.body)] == ["join", "sin"]
    assert [b.label for b in ir.all_blocks(bif.orelse)] == ["join", "cos"]
    assert code(bif.node.test) == "k > 0"


# -- optimize -----------------------------------------------------------------------------------


def test_drop_default_arguments_removes_only_defaults():
    fwd, _, bwd = through_reverse(rebinds, ["x", "w"])
    assert any("keepdims=False" in t for t in bwd_text(bwd))
    out = drop_default_arguments(fwd.names, bwd)
    assert out is bwd
    texts = bwd_text(out)
    assert not any("keepdims=False" in t or "axis=None" in t for t in texts)
    assert any(t.startswith("d_out1 = expand_like(d_out, _out1)") for t in texts)


def test_optimize_removes_a_dead_adjoint_and_keeps_the_live_ones():
    fwd, _, bwd = through_reverse(rebinds, ["x", "w"])
    bwd = drop_default_arguments(fwd.names, bwd)
    block = ir.all_blocks(bwd.blocks)[-1]
    dead = cst.parse_statement("d_dead = d_x * 2").body[0]
    block.stmts.append(dead)
    live = bwd_text(bwd)[:-1]
    out = optimize(bwd)
    texts = bwd_text(out)
    assert "d_dead = d_x * 2" not in texts
    assert texts == live  # nothing else was dead here
    for g in out.grads:  # what bwd returns is still assigned
        assert any(t.startswith(f"{code(g)} = ") for t in texts)


def test_optimize_propagates_a_join_copy():
    fwd, _, bwd = through_reverse(rnn, ["h", "W"])
    assert "d_h_2 = d_h_1" in bwd_text(bwd)
    out = optimize(drop_default_arguments(fwd.names, bwd))
    texts = bwd_text(out)
    assert "d_h_2 = d_h_1" not in texts
    assert any("d_h_1 *" in t for t in texts)  # the tanh rule reads the source instead


# -- specialise ---------------------------------------------------------------------------------


def test_specialise_drops_an_unbroadcast_the_facts_prove_needless():
    fwd, _, bwd = through_reverse(broadcast_mul, ["x", "w"])
    bwd = drop_default_arguments(fwd.names, bwd)
    assert sum("unbroadcast" in t for t in bwd_text(bwd)) == 2
    generic = specialise(fwd, bwd, None)
    assert generic.facts is None and generic.note == ""
    assert sum("unbroadcast" in t for t in bwd_text(generic.backward)) == 2
    spec = specialise(fwd, bwd, {"x": F64, "w": F64})
    assert spec.note == "x: float64[*, *], w: float64[*, *]"
    assert not any("unbroadcast" in t for t in bwd_text(spec.backward))
    assert spec.facts.env["x"].dtype == np.dtype("float64")


def test_specialise_forward_rewrites_only_with_facts():
    def run(arg_specs):
        fwd, _, bwd = through_reverse(reduction, ["x"])
        bwd = drop_default_arguments(fwd.names, bwd)
        spec = specialise(fwd, bwd, arg_specs)
        bwd = optimize(spec.backward)
        out = specialise_forward(fwd, spec.facts, bwd)
        return [code(st.expr) for st in ir.walk_stmts(out.stmts)]

    assert "xp.sum(_s1)" in run(None)
    rewritten = run({"x": (np.dtype("float64"), (False,))})
    assert "_s1.sum()" in rewritten and "xp.sum(_s1)" not in rewritten


# -- residuals ----------------------------------------------------------------------------------


def _planned(fn, wrt):
    fwd, act, bwd = through_reverse(fn, wrt)
    bwd = optimize(drop_default_arguments(fwd.names, bwd))
    return fwd, act, bwd, plan_residuals(fwd, bwd)


def test_residuals_keep_exactly_what_the_backward_reads():
    fwd, _, bwd, plan = _planned(rebinds, ["x", "w"])
    reads = ir.backward_reads(bwd)
    assert plan.residuals == [n for n in ir.ordered_defs(fwd) if n in reads]
    assert set(plan.residuals) <= ir.forward_names(fwd)
    unused = next(
        t for st in ir.walk_stmts(fwd.stmts) for t in st.targets if t == "unused"
    )
    assert unused not in plan.residuals and fwd.out.value not in plan.residuals
    assert plan.recomputed == [] and plan.prebind == [] and plan.pops == {}
    assert plan.bwd_uses_xp == (bwd.xp in reads)


def test_residuals_push_in_the_loop_what_its_backward_pops():
    fwd, _, bwd, plan = _planned(rnn, ["h", "W"])
    assert not any(
        isinstance(it, (Push, StackInit)) for it in fwd.stmts
    )  # input untouched
    init = [it for it in plan.forward if isinstance(it, StackInit)]
    loop = next(it for it in plan.forward if isinstance(it, ir.LoopNode))
    assert len(init) == 1 and init[0].stack == loop.stack
    pushes = [it for it in loop.body if isinstance(it, Push)]
    assert pushes and all(p.stack == loop.stack for p in pushes)
    assert all(p in plan.pops.values() for p in pushes)  # each push is popped back
    pushed = {n for p in pushes for n in p.names}
    body_defs = {t for st in ir.walk_stmts(loop.body) for t in ir.bound_names(st)}
    assert pushed and pushed <= body_defs  # only what an iteration rebinds is pushed
    # values bound only inside the loop are pushed per iteration, never kept once
    assert (pushed - {c.name for c in loop.carried}).isdisjoint(plan.residuals)
    assert loop.stack in plan.residuals and "W" in plan.residuals


# -- emit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mse_tanh", "rnn_loop", "piecewise", "mlp_dict"])
def test_stages_by_hand_render_the_committed_golden(name, tmp_path, monkeypatch):
    """The stages run one by one on what the API passes to the pipeline give the golden text."""
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    fn, wrt, make = CASES[name]
    seen = []
    real = pipeline.generate

    def record(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "generate", record)
    srcgrad.grad(fn, wrt=wrt)(*make())
    (fn_, wrt_, containers, has_aux, arg_specs), _ = seen[0]
    assert fn_ is getattr(golden_src, name)

    src = read_function(fn_)
    assert check_function(src) == []
    fwd = segment(normalize(src, wrt_, containers, has_aux))
    act = analyse(fwd)
    bwd = drop_default_arguments(fwd.names, reverse(fwd, act))
    spec = specialise(fwd, bwd, arg_specs)
    bwd = optimize(spec.backward)
    fwd = specialise_forward(fwd, spec.facts, bwd)
    plan = plan_residuals(fwd, bwd)
    bwd = hoist(bwd, fwd.names, spec.facts.env, plan, inference=spec.facts)
    em = emit(fwd, bwd, act, plan, note=spec.note, has_aux=has_aux)

    golden = (GOLDEN / f"{name}.py").read_text()
    assert em.body == golden.split("\n", cache.HEADER_LINES)[cache.HEADER_LINES]
    rules_line = golden.splitlines()[3]
    assert rules_line.startswith("# rules: " + ", ".join(em.rules))
