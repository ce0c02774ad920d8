"""How far an op's output may overlap its input, given the order our kernels work in.

The memory planner can place an output *over* its input when the kernel never writes a
byte it still has to read. For the windowed kernels (conv, depthwise, pooling) that hold
when the output starts some bytes before the input: each output pixel is written after
its window is read, pixels go in raster order, and windows move forward. This module
computes the smallest such lead for one operator from its shapes, so the planner can
ask instead of re-deriving kernel internals:

    lead = output_lead_bytes(model, op)
    # None: no overlap allowed; 0: the output may take exactly the input's bytes;
    # n > 0: the output may start n bytes before the input (and overlap the rest)

Codegen itself stays driven purely by the plan's offsets.
"""

from __future__ import annotations

import numpy as np

from tinyflow.codegen.registry import inplace_inputs
from tinyflow.codegen.quantmath import out_size, pad_before
from tinyflow.ir import DTYPE_SIZE, Model, Operator

WINDOWED = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"}


def _window(op: Operator, model: Model) -> tuple[int, int, int, int, int, int, int, int]:
    """(k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left)."""
    x = model.tensors[op.inputs[0]]
    y = model.tensors[op.outputs[0]]
    o = op.options
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = model.tensors[op.inputs[1]].shape
        kh, kw = (w[1], w[2])
        dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    else:
        kh, kw = int(o["filter_height"]), int(o["filter_width"])
        dh = dw = 1
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    _, ih, iw, _ = x.shape
    _, oh, ow, _ = y.shape
    return (kh, kw, sh, sw, dh, dw, pad_before(sh, dh, ih, kh, oh), pad_before(sw, dw, iw, kw, ow))


def output_lead_bytes(model: Model, op: Operator) -> int | None:
    """Bytes the output must start before input 0 for an overlapping placement to be safe
    (see the module docstring); None when this op's kernel allows no overlap."""
    if not op.outputs or not op.inputs or op.inputs[0] < 0:
        return None
    x, y = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
    if x.is_const:
        return None
    if 0 in inplace_inputs(model, op):
        return 0
    if op.opcode not in WINDOWED or len(x.shape) != 4 or len(y.shape) != 4:
        return None
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D") and x.dtype != "int8":
        return None  # the 16x8 kernels were not audited for overlap
    n, ih, iw, c = x.shape
    _, oh, ow, oc = y.shape
    kh, kw, sh, sw, dh, dw, pt, pl = _window(op, model)
    padding = op.options.get("padding", "VALID")
    if (out_size(padding, ih, kh, sh, dh), out_size(padding, iw, kw, sw, dw)) != (oh, ow):
        return None
    # first input element each output pixel's window touches, in raster order
    iy = np.maximum(np.arange(oh) * sh - pt, 0)
    ix = np.maximum(np.arange(ow) * sw - pl, 0)
    start = ((np.arange(n)[:, None, None] * ih + iy[None, :, None]) * iw + ix[None, None, :]) * c
    start = start.reshape(-1).astype(np.int64)
    # still needed while pixel p is written: every window from p on
    needed = np.minimum.accumulate(start[::-1])[::-1] * DTYPE_SIZE[x.dtype]
    written = (np.arange(1, start.size + 1, dtype=np.int64) * oc) * DTYPE_SIZE[y.dtype]
    return int(max(0, int((written - needed).max())))


def plan_with_overlap(model: Model, align: int = 16):
    """A prototype planner that uses the leads above, for the planner's in-place issue to
    adopt or replace (tinyflow.plan.plan_memory stays the default).

    Op by op, each output goes `lead` bytes before its input when that input dies at this
    op and nothing else live is in the way, and otherwise at the lowest free offset; a
    tensor's bytes are freed after its last use. Sequential first-fit can lose to the
    greedy size-ordered planner on other models, so the smaller of the two plans is
    returned."""
    from tinyflow.ir import RESHAPE_LIKE
    from tinyflow.plan import Buffer, MemoryPlan, lifetimes, plan_memory

    def up(n: int) -> int:
        return (n + align - 1) // align * align

    life = lifetimes(model)
    alias: dict[int, int] = {}  # reshape output -> the tensor whose bytes it shares
    for op in model.operators:
        if op.opcode in RESHAPE_LIKE and op.inputs and op.inputs[0] in life:
            x, y = op.inputs[0], op.outputs[0]
            if y in life and not (y in model.outputs and x in model.inputs):
                alias[y] = alias.get(x, x)
    last = {t: b for t, (_, b) in life.items()}
    for y, x in alias.items():  # an aliased buffer lives as long as any of its names
        last[x] = max(last[x], last[y])
    live: dict[int, tuple[int, int]] = {}  # owner tensor -> (offset, size)
    offsets: dict[int, int] = {}
    top = 0

    def fits(off: int, size: int, ignore: set[int]) -> bool:
        return off >= 0 and all(off + size <= o or o + n <= off
                                for t, (o, n) in live.items() if t not in ignore)

    def first_fit(size: int) -> int:
        off = 0
        for o, n in sorted(live.values()):
            if off + size <= o:
                break
            off = max(off, up(o + n))
        return off

    def place(t: int, off: int) -> None:
        nonlocal top
        live[t] = (off, model.tensors[t].nbytes)
        offsets[t] = off
        top = max(top, off + model.tensors[t].nbytes)

    for t in model.inputs:
        if t in life and t not in offsets:
            place(t, first_fit(model.tensors[t].nbytes))
    for op in model.operators:
        for y in op.outputs:
            if y not in life or y in offsets:
                continue
            if y in alias:
                offsets[y] = offsets[alias[y]]
                continue
            size = model.tensors[y].nbytes
            x = op.inputs[0] if op.inputs else -1
            lead = output_lead_bytes(model, op) if x in live else None
            if (lead is not None and last[x] == op.index and x not in model.outputs
                    and fits(offsets[x] - up(lead), size, {x})):
                place(y, offsets[x] - up(lead))
            else:
                place(y, first_fit(size))
        for t in [t for t in live if last[t] <= op.index and t not in model.outputs]:
            del live[t]
    greedy = plan_memory(model, align=align)
    arena = up(top)
    if arena >= greedy.arena_size:
        return greedy
    bufs = [Buffer([t], model.tensors[t].nbytes, *life[t], offset=offsets[t]) for t in offsets]
    plan = MemoryPlan(buffers=bufs, arena_size=arena, n_steps=len(model.operators))
    plan.offsets.update(offsets)
    return plan
