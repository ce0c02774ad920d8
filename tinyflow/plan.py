"""Static memory plan: every activation tensor gets an offset in one arena.

Lifetimes are measured in operator steps: a tensor is live from the step that produces it
(step 0 for model inputs) to the last step that reads it (the last step for model outputs).
Tensors whose lifetimes intersect never share bytes. Placement is greedy by size (largest
first, lowest free offset), the strategy TFLM's GreedyMemoryPlanner uses, so our figure is
directly comparable to TFLM's arena head. Reshape-like ops alias their input: same bytes,
no copy, one merged lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinyflow.ir import RESHAPE_LIKE, Model

ALIGN = 16  # TFLM aligns every planned buffer to 16 bytes; SIMD kernels like it too


def _align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass
class Buffer:
    """One placed region: a tensor (or an alias group of tensors) or an op's scratch."""

    tensors: list[int]      # tensor indices sharing these bytes (empty for scratch)
    size: int               # bytes actually used
    first: int              # first live step
    last: int               # last live step (inclusive)
    offset: int = -1
    scratch_for: int | None = None  # operator index, for scratch buffers

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass
class MemoryPlan:
    buffers: list[Buffer]
    arena_size: int
    n_steps: int
    offsets: dict[int, int] = field(default_factory=dict)   # tensor index -> byte offset
    scratch: dict[int, int] = field(default_factory=dict)   # op index -> scratch offset

    def live_at(self, step: int) -> list[Buffer]:
        return [b for b in self.buffers if b.first <= step <= b.last]

    def live_bytes(self, step: int) -> int:
        return sum(b.size for b in self.live_at(step))

    @property
    def peak_step(self) -> int:
        return max(range(self.n_steps), key=self.live_bytes) if self.n_steps else 0

    @property
    def peak_live_bytes(self) -> int:
        return self.live_bytes(self.peak_step) if self.n_steps else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "arena_bytes": self.arena_size,
            "peak_live_bytes": self.peak_live_bytes,
            "peak_step": self.peak_step,
            "buffers": [{"tensors": b.tensors, "scratch_for_op": b.scratch_for,
                         "offset": b.offset, "bytes": b.size, "first_step": b.first,
                         "last_step": b.last} for b in self.buffers],
        }


def lifetimes(model: Model) -> dict[int, tuple[int, int]]:
    """Tensor index -> (first step, last step) for every non-constant tensor in use."""
    n = len(model.operators)
    life: dict[int, list[int]] = {}
    for t in model.inputs:
        life[t] = [0, 0]
    for op in model.operators:
        for t in op.outputs:
            if not model.tensors[t].is_const:
                life.setdefault(t, [op.index, op.index])
                life[t][1] = max(life[t][1], op.index)
        for t in op.inputs:
            if t >= 0 and not model.tensors[t].is_const:
                life.setdefault(t, [op.index, op.index])
                life[t][1] = max(life[t][1], op.index)
    for t in model.outputs:
        life.setdefault(t, [max(n - 1, 0), max(n - 1, 0)])
        life[t][1] = max(n - 1, 0)
    for t, lt in life.items():
        if model.tensors[t].is_variable:  # state persists across invocations
            lt[0], lt[1] = 0, max(n - 1, 0)
    return {t: (a, b) for t, (a, b) in life.items()}


def _alias_groups(model: Model, life: dict[int, tuple[int, int]]) -> list[list[int]]:
    """Union reshape-like outputs with their inputs (same bytes, reinterpreted shape)."""
    parent = {t: t for t in life}

    def find(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for op in model.operators:
        if op.opcode in RESHAPE_LIKE and op.inputs and op.inputs[0] in life:
            src, dst = op.inputs[0], op.outputs[0]
            # A model input must keep its own buffer only if it is also a model output.
            if dst in life and not (dst in model.outputs and src in model.inputs):
                parent[find(dst)] = find(src)
    groups: dict[int, list[int]] = {}
    for t in life:
        groups.setdefault(find(t), []).append(t)
    return [sorted(g) for g in groups.values()]


def plan_memory(model: Model, scratch: dict[int, int] | None = None,
                align: int = ALIGN) -> MemoryPlan:
    """Plan the arena. `scratch` maps operator index -> bytes of scratch that op needs."""
    life = lifetimes(model)
    bufs: list[Buffer] = []
    for g in _alias_groups(model, life):
        bufs.append(Buffer(tensors=g, size=max(model.tensors[t].nbytes for t in g),
                           first=min(life[t][0] for t in g), last=max(life[t][1] for t in g)))
    for op_index, nbytes in (scratch or {}).items():
        if nbytes > 0:
            bufs.append(Buffer([], nbytes, op_index, op_index, scratch_for=op_index))

    placed: list[Buffer] = []
    # Largest first; ties by earlier start so the plan is deterministic.
    for b in sorted(bufs, key=lambda b: (-_align(b.size, align), b.first, b.tensors)):
        conflicts = sorted((p for p in placed if p.overlaps_in_time(b)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + b.size <= p.offset:
                break
            offset = max(offset, _align(p.end, align))
        b.offset = offset
        placed.append(b)

    arena = _align(max((b.end for b in placed), default=0), align)
    plan = MemoryPlan(buffers=sorted(placed, key=lambda b: (b.first, b.offset)),
                      arena_size=arena, n_steps=len(model.operators))
    for b in placed:
        for t in b.tensors:
            plan.offsets[t] = b.offset
        if b.scratch_for is not None:
            plan.scratch[b.scratch_for] = b.offset
    return plan
