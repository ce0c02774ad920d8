"""The memory plan: never below the live tensors, never two live tensors in the same bytes."""

import random

import numpy as np
import pytest

from tinyflow.ir import Model, Operator, Tensor, load_model
from tinyflow.plan import lifetimes, plan_memory


def allowed_pairs(model: Model) -> dict[tuple[int, int], tuple[int, bool, int]]:
    """(input tensor, output tensor) -> (op, exact, lead) for every overlap the kernels'
    write order allows, restated from allowed_overlap without the planner's code."""
    from tinyflow.codegen.overlap import allowed_overlap

    out = {}
    for op in model.operators:
        a = allowed_overlap(model, op)
        if a is not None:
            for pos in a.inputs:
                out[(op.inputs[pos], op.outputs[0])] = (op.index, a.exact, a.lead)
    return out


def assert_plan_sound(model: Model, plan) -> None:
    """Every tensor placed inside the arena; two tensors live at the same step share bytes
    only if they are reshape aliases or an op's dying input and its output placed as that
    op's kernel allows (in place at the same offset, or the output `lead` bytes before)."""
    life = lifetimes(model)
    pairs = allowed_pairs(model)
    pinned = set(model.outputs) | {t.index for t in model.tensors if t.is_variable}
    last_use = {t: b for t, (_, b) in life.items()}
    for t in life:
        assert t in plan.offsets, f"tensor {t} not placed"
        assert 0 <= plan.offsets[t] and plan.offsets[t] + model.tensors[t].nbytes <= plan.arena_size
    for step in range(len(model.operators)):
        live = [t for t, (a, b) in life.items() if a <= step <= b]
        for i, ta in enumerate(live):
            a0, a1 = plan.offsets[ta], plan.offsets[ta] + model.tensors[ta].nbytes
            for tb in live[i + 1:]:
                b0, b1 = plan.offsets[tb], plan.offsets[tb] + model.tensors[tb].nbytes
                if a1 <= b0 or b1 <= a0 or (a0 == b0 and aliased(model, ta, tb)):
                    continue
                assert _overlap_ok(model, plan, pairs, pinned, last_use, ta, tb, step) or \
                    _overlap_ok(model, plan, pairs, pinned, last_use, tb, ta, step), \
                    f"step {step}: tensors {ta} and {tb} overlap"
        # the arena holds the union of the live bytes
        union, end = 0, -1
        for lo, hi in sorted((plan.offsets[t], plan.offsets[t] + model.tensors[t].nbytes)
                             for t in live):
            union += max(0, hi - max(lo, end))
            end = max(end, hi)
        assert plan.arena_size >= union


def _overlap_ok(model, plan, pairs, pinned, last_use, src, dst, step) -> bool:
    rule = pairs.get((src, dst))
    if rule is None:
        return False
    op, exact, lead = rule
    # the input dies at this op (through every alias), is no model output, is not state
    group = [t for t in last_use if t in alias_group(model, src)]
    if op != step or max(last_use[t] for t in group) != op or set(group) & pinned:
        return False
    if exact:
        return plan.offsets[dst] == plan.offsets[src]
    return plan.offsets[dst] <= plan.offsets[src] - lead


def alias_group(model: Model, t: int) -> set[int]:
    """t and every tensor linked to it by reshape-like ops."""
    group, grew = {t}, True
    while grew:
        grew = False
        for op in model.operators:
            if op.opcode in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
                link = {op.inputs[0], op.outputs[0]}
                if link & group and not link <= group:
                    group |= link
                    grew = True
    return group


def aliased(model: Model, a: int, b: int) -> bool:
    """True when a and b are linked by reshape-like ops (legitimately the same bytes)."""
    for op in model.operators:
        if op.opcode in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
            if {op.inputs[0], op.outputs[0]} & {a, b}:
                return True
    return False


def test_plan_of_real_models(small_cnn_model, big_model):
    for _, path in (small_cnn_model, big_model):
        m = load_model(path)
        for overlap in (True, False):
            p = plan_memory(m, overlap=overlap)
            assert_plan_sound(m, p)
            assert p.arena_size % 16 == 0
            assert p.arena_without_overlap >= p.arena_size
            if not overlap:
                assert p.arena_size >= p.peak_live_bytes > 0 and not p.overlaps


def test_big_model_peak_is_the_two_big_tensors(big_model):
    m = load_model(big_model[1])
    p = plan_memory(m, overlap=False)
    # conv1 output (160*160*32) and conv2 output (160*160*16) are live together at step 1
    assert p.peak_live_bytes == 160 * 160 * 32 + 160 * 160 * 16
    assert p.arena_size == p.peak_live_bytes
    # with overlap the conv2 output may run over the conv1 output it consumes
    q = plan_memory(m)
    assert q.arena_without_overlap == p.arena_size
    assert q.arena_size < p.arena_size and q.overlaps


def _random_model(rng: random.Random) -> Model:
    """A random DAG of element-wise/binary ops over int8 tensors of random sizes."""
    tensors = [Tensor(0, "in", (1, rng.randint(1, 300)), "int8")]
    ops: list[Operator] = []
    produced = [0]
    for k in range(rng.randint(1, 25)):
        n_in = rng.choice([1, 1, 2])
        ins = [rng.choice(produced[-6:]) for _ in range(n_in)]
        kind = rng.choice(["RELU", "ADD", "RESHAPE", "CONV_2D"])
        if kind == "ADD" and n_in == 1:
            kind = "RELU"
        t = Tensor(len(tensors), f"t{len(tensors)}",
                   tensors[ins[0]].shape if kind == "RESHAPE" else (1, rng.randint(1, 300)), "int8")
        tensors.append(t)
        ops.append(Operator(k, kind, ins[:2] if kind == "ADD" else ins[:1], [t.index]))
        produced.append(t.index)
    outs = [produced[-1]] + ([rng.choice(produced[1:])] if rng.random() < 0.3 else [])
    return Model("rand", tensors, ops, [0], sorted(set(outs)), "0", 0)


@pytest.mark.parametrize("seed", range(200))
def test_plan_of_random_graphs(seed):
    rng = random.Random(seed)
    m = _random_model(rng)
    scratch = {op.index: rng.randint(0, 64) for op in m.operators if rng.random() < 0.3}
    p = plan_memory(m, scratch=scratch)
    assert_plan_sound(m, p)
    # scratch never overlaps what is live during its op
    for op_index, off in p.scratch.items():
        size = scratch[op_index]
        for t, (a, b) in lifetimes(m).items():
            if a <= op_index <= b:
                t0, t1 = p.offsets[t], p.offsets[t] + m.tensors[t].nbytes
                assert off + size <= t0 or t1 <= off
    # the plan is no worse than placing every buffer one after another
    assert p.arena_size <= sum(-(-b.size // 16) * 16 for b in p.buffers)


def test_lifetimes_cover_inputs_and_outputs():
    t = [Tensor(i, f"t{i}", (1, 4), "int8") for i in range(4)]
    ops = [Operator(0, "RELU", [0], [1]), Operator(1, "RELU", [1], [2]),
           Operator(2, "ADD", [2, 2], [3])]
    m = Model("m", t, ops, [0], [1, 3], "0", 0)
    life = lifetimes(m)
    assert life[0] == (0, 0)
    assert life[1] == (0, 2)  # a model output lives to the end
    assert life[3] == (2, 2)
    assert np.isfinite(plan_memory(m).arena_size)
