"""Static memory plan: every activation tensor gets an offset in one arena.

Lifetimes are measured in operator steps: a tensor is live from the step that produces it
(step 0 for model inputs) to the last step that reads it (the last step for model outputs).
Reshape-like ops alias their input: same bytes, no copy, one merged lifetime.

Tensors whose lifetimes intersect never share bytes, with one exception (overlap=True, the
default): an op's output may overlap an input that dies at that op, exactly as far as the
kernel's write order allows (`tinyflow.codegen.overlap.allowed_overlap`): in place for
element-wise ops, or starting `lead` bytes before the input for conv, depthwise and
pooling. Placement is greedy, lowest free offset; the order matters, so several orders
are tried (largest first, as TFLM's GreedyMemoryPlanner does, by birth, and seeded
perturbations) and the smallest arena wins. With overlap=False the plan is exactly the
largest-first one, directly comparable to TFLM's arena head. docs/memory-plan.md has the
argument for why each overlap is safe.
"""

from __future__ import annotations

import random
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


@dataclass(frozen=True)
class Overlap:
    """An output placed over bytes of an input that dies at the same op."""

    op: int          # operator index
    src: int         # the input tensor (its buffer's first tensor)
    dst: int         # the output tensor
    exact: bool      # in place: the same offset
    lead: int        # otherwise: the output starts at least this many bytes before src
    bytes: int       # bytes the two share


@dataclass
class MemoryPlan:
    buffers: list[Buffer]
    arena_size: int
    n_steps: int
    offsets: dict[int, int] = field(default_factory=dict)   # tensor index -> byte offset
    scratch: dict[int, int] = field(default_factory=dict)   # op index -> scratch offset
    overlaps: list[Overlap] = field(default_factory=list)  # the allowed overlaps used
    arena_without_overlap: int | None = None  # the plain plan's arena, for reports

    def live_at(self, step: int) -> list[Buffer]:
        return [b for b in self.buffers if b.first <= step <= b.last]

    def live_bytes(self, step: int) -> int:
        """Bytes of the buffers live at `step`; with overlaps the arena may be smaller."""
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
            "arena_bytes_without_overlap": self.arena_without_overlap,
            "peak_live_bytes": self.peak_live_bytes,
            "peak_step": self.peak_step,
            "overlaps": [vars(o) for o in self.overlaps],
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


@dataclass(frozen=True)
class _Rule:
    """Buffer `dst` may overlap buffer `src` (which dies at `op`) in this way."""

    op: int
    exact: bool
    lead: int


Rules = dict[tuple[int, int], _Rule]   # (src buffer, dst buffer) -> rule


def _overlap_rules(model: Model, bufs: list[Buffer], align: int) -> Rules:
    """(src buffer, dst buffer) -> how dst may overlap src; every pair justified by the
    kernel's write order through allowed_overlap, and only where src is dead after the op."""
    from tinyflow.codegen.overlap import allowed_overlap

    group = {t: i for i, b in enumerate(bufs) for t in b.tensors}
    # bytes that must survive the op that last reads them: model outputs, and state
    pinned = set(model.outputs) | {t.index for t in model.tensors if t.is_variable}
    rules: Rules = {}
    for op in model.operators:
        a = allowed_overlap(model, op)
        if a is None or op.outputs[0] not in group:
            continue
        dst = group[op.outputs[0]]
        if bufs[dst].first != op.index:
            continue
        for pos in a.inputs:
            x = op.inputs[pos]
            src = group.get(x)
            if src is None or src == dst or bufs[src].last != op.index:
                continue  # read again later
            if any(t in pinned for t in bufs[src].tensors):
                continue
            if any(t == x and p not in a.inputs for p, t in enumerate(op.inputs)):
                continue  # the op also reads x in a role the allowance does not cover
            if a.exact and bufs[src].size != bufs[dst].size:
                continue
            rules[(src, dst)] = _Rule(op.index, a.exact, _align(a.lead, align))
    return rules


def _place(bufs: list[Buffer], order: list[int], rules: Rules, align: int,
           nbrs: list[list[int]]) -> int:
    """Place bufs in `order`, each at the lowest offset its time-overlapping neighbours
    allow; returns the arena size. `nbrs[i]` lists the buffers live at a step with
    buffer i. A neighbour forbids an open interval of offsets, with a hole at its own
    offset for an in-place pair."""
    placed: set[int] = set()
    for i in order:
        b = bufs[i]
        bans: list[tuple[int, int, int | None]] = []
        for j in nbrs[i]:
            if j not in placed:
                continue
            p = bufs[j]
            lo, hi, hole = p.offset - b.size, p.end, None
            r = rules.get((j, i))   # b is the output written over p
            if r is not None:
                if r.exact:
                    hole = p.offset
                else:
                    lo = p.offset - min(r.lead, b.size)
            r = rules.get((i, j))   # b is the input p is written over
            if r is not None:
                if r.exact:
                    hole = p.offset
                else:
                    hi = min(p.offset + r.lead, p.end)
            bans.append((lo, hi, hole))
        cands = {0} | {_align(hi, align) for _, hi, _ in bans}
        cands |= {h for _, _, h in bans if h is not None}
        b.offset = next(c for c in sorted(cands)
                        if all(c == h or not lo < c < hi for lo, hi, h in bans))
        placed.add(i)
    return _align(max((b.end for b in bufs), default=0), align)


def _orders(bufs: list[Buffer], align: int, tries: int) -> list[list[int]]:
    """Placement orders to try: TFLM's largest first, then by birth, by size x lifetime,
    and seeded random perturbations of largest first."""
    idx = list(range(len(bufs)))

    def size(i: int) -> int:
        return _align(bufs[i].size, align)

    orders = [sorted(idx, key=lambda i: (-size(i), bufs[i].first, bufs[i].tensors)),
              sorted(idx, key=lambda i: (bufs[i].first, -size(i), bufs[i].tensors)),
              sorted(idx, key=lambda i: (-size(i), -bufs[i].first, bufs[i].tensors)),
              sorted(idx, key=lambda i: (-size(i) * (bufs[i].last - bufs[i].first + 1),
                                         bufs[i].first, bufs[i].tensors))]
    rng = random.Random(0)
    for k in range(tries):
        # from mild to strong: a small buffer sometimes has to go before a big one (a
        # stride-2 output below the big input it shrinks)
        spread = 1.0 + 7.0 * k / max(tries - 1, 1)
        noise = {i: rng.uniform(1.0 / spread, spread) for i in idx}
        orders.append(sorted(idx, key=lambda i: (-size(i) * noise[i], i)))
    return orders


def _climb(bufs: list[Buffer], order: list[int], rules: Rules, align: int,
           nbrs: list[list[int]], passes: int = 3) -> tuple[list[int], int]:
    """Improve `order` by moving one buffer at a time earlier (to the front, or just
    before a buffer it shares time with) while that shrinks the arena: placing a small
    output first can let the big input it came from sit just above it, which no
    size-based order does."""
    best, arena = order, _place(bufs, order, rules, align, nbrs)
    for _ in range(passes):
        improved = False
        for i in list(best):
            pos = best.index(i)
            targets = {0} | {best.index(j) for j in best[:pos]
                             if bufs[j].overlaps_in_time(bufs[i])}
            for t in sorted(targets):
                cand = best[:t] + [i] + [j for j in best[t:] if j != i]
                size = _place(bufs, cand, rules, align, nbrs)
                if size < arena:
                    best, arena, improved = cand, size, True
                    break
        if not improved:
            break
    return best, arena


def _search(bufs: list[Buffer], orders: list[list[int]], rules: Rules, align: int,
            nbrs: list[list[int]], starts: int = 6) -> tuple[list[int], int]:
    """Hill-climb from the deterministic orders and the best few random ones; the
    smallest arena wins (the first found on ties, so plans are reproducible)."""
    fixed, rand = orders[:4], orders[4:]
    rand = sorted(rand, key=lambda o: _place(bufs, o, rules, align, nbrs))[:max(starts - 4, 0)]
    best, arena = orders[0], _place(bufs, orders[0], rules, align, nbrs)
    for order in fixed + rand:
        found, size = _climb(bufs, order, rules, align, nbrs)
        if size < arena:
            best, arena = found, size
    return best, arena


def plan_memory(model: Model, scratch: dict[int, int] | None = None,
                align: int = ALIGN, overlap: bool = True, tries: int = 8) -> MemoryPlan:
    """Plan the arena. `scratch` maps operator index -> bytes of scratch that op needs.

    overlap=True lets outputs overlap dying inputs as the kernels allow and tries
    `tries` extra placement orders; overlap=False gives the plain largest-first plan.
    Both record the plain plan's arena in `arena_without_overlap`."""
    life = lifetimes(model)
    bufs: list[Buffer] = []
    for g in _alias_groups(model, life):
        bufs.append(Buffer(tensors=g, size=max(model.tensors[t].nbytes for t in g),
                           first=min(life[t][0] for t in g), last=max(life[t][1] for t in g)))
    for op_index, nbytes in (scratch or {}).items():
        if nbytes > 0:
            bufs.append(Buffer([], nbytes, op_index, op_index, scratch_for=op_index))

    orders = _orders(bufs, align, tries if overlap else 0)
    nbrs = [[j for j, q in enumerate(bufs) if j != i and b.overlaps_in_time(q)]
            for i, b in enumerate(bufs)]
    plain = _place(bufs, orders[0], {}, align, nbrs)
    best, arena, rules = orders[0], plain, {}
    if overlap:
        allowed = _overlap_rules(model, bufs, align)
        if allowed:
            found, size = _search(bufs, orders, allowed, align, nbrs)
            if size < arena:
                best, arena, rules = found, size, allowed
    _place(bufs, best, rules, align, nbrs)

    plan = MemoryPlan(buffers=sorted(bufs, key=lambda b: (b.first, b.offset)),
                      arena_size=arena, n_steps=len(model.operators),
                      arena_without_overlap=plain)
    for b in bufs:
        for t in b.tensors:
            plan.offsets[t] = b.offset
        if b.scratch_for is not None:
            plan.scratch[b.scratch_for] = b.offset
    for (s, d), r in sorted(rules.items(), key=lambda kv: kv[1].op):
        shared = min(bufs[s].end, bufs[d].end) - max(bufs[s].offset, bufs[d].offset)
        if shared > 0:
            op = model.operators[r.op]
            plan.overlaps.append(Overlap(r.op, next(t for t in bufs[s].tensors
                                                    if t in op.inputs),
                                         op.outputs[0], r.exact, r.lead, shared))
    return plan
