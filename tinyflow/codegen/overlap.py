"""Which bytes an op's output may share with its input, given the order our kernels work in.

The planner may place an output *over* an input that dies at this op only when the kernel
never writes a byte it still has to read. Two kinds of allowance follow from the kernels'
write order, and nothing else may overlap:

- **in place** (`Allowance.exact`): element-wise ops, activations, softmax and requantize
  read element i of the input before writing element i of the output and never read it
  again (`tinyflow.codegen.registry.INPLACE_SAFE`), so the output may take *exactly* the
  input's bytes (same offset, same shape).
- **lead** (`Allowance.lead`): the windowed kernels (CONV_2D, DEPTHWISE_CONV_2D,
  AVERAGE/MAX_POOL_2D, int8 and int16 pooling, int8 convolutions) produce output pixels
  in raster order (batch, row, column), every byte of a pixel written after that pixel's
  window has been read, and windows never move backwards in the input. The output may then
  start `lead` bytes (or more) *before* the input and run over it: while a pixel is being
  written, everything still to be read (the windows of this and later pixels) lies beyond
  the bytes written so far.

The contract with the kernels (portable, DSP and Helium alike), which `PIXEL_BLOCK`
encodes: a kernel may work on up to PIXEL_BLOCK consecutive output pixels at once,
reading all their windows before writing any of them and writing their bytes in any
order, but it never writes a pixel before reading the windows of the pixels before it,
and never reads a window again once a later block has been written. Today every kernel
does one pixel at a time (block 1); the margin lets a kernel compute 2 or 4 pixels per
pass (as CMSIS-NN's 1x1 kernels do) without a planner change. A kernel that breaks this
(say, output channels outermost) must say so here: return None for that op.

    a = allowed_overlap(model, op)   # None, or Allowance(exact=..., lead=..., inputs=...)
    lead = output_lead_bytes(model, op)  # the older single-number form, for callers that
    # only need the bytes: None, 0 (exactly the input's bytes) or n > 0

Codegen itself stays driven purely by the plan's offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyflow.codegen.registry import inplace_inputs
from tinyflow.codegen.quantmath import out_size, pad_before
from tinyflow.ir import DTYPE_SIZE, Model, Operator

WINDOWED = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"}
PIXEL_BLOCK = 4  # output pixels a windowed kernel may compute in one pass (see above)


@dataclass(frozen=True)
class Allowance:
    """How `op`'s output may overlap the listed input positions (all the same tensor
    appears only at these positions, or the op allows each of them)."""

    inputs: tuple[int, ...]   # input positions the output may overlap
    exact: bool               # True: only at exactly the input's offset (in place)
    lead: int = 0             # for exact=False: output offset <= input offset - lead


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


def _windowed_lead(model: Model, op: Operator, block: int) -> int | None:
    x, y = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4:
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
    # input still to be read once a block starting at pixel p is under way: windows p..
    needed = np.minimum.accumulate(start[::-1])[::-1] * DTYPE_SIZE[x.dtype]
    # output written by the end of that block: pixels p .. p+block-1 and all before
    done = np.minimum(np.arange(start.size, dtype=np.int64) + block, start.size)
    written = done * oc * DTYPE_SIZE[y.dtype]
    return int(max(0, int((written - needed).max())))


def allowed_overlap(model: Model, op: Operator, block: int = PIXEL_BLOCK) -> Allowance | None:
    """How this op's single output may overlap its activation input, from the kernel's
    write order (module docstring); None when it may not. Whether the input is still
    needed after this op is the planner's question."""
    if len(op.outputs) != 1 or not op.inputs or op.inputs[0] < 0:
        return None
    if model.tensors[op.inputs[0]].is_const:
        return None
    exact = tuple(inplace_inputs(model, op))
    if exact:
        return Allowance(exact, exact=True)
    if op.opcode not in WINDOWED:
        return None
    if any(t == op.inputs[0] for t in op.inputs[1:]):
        return None  # the same tensor read in another role: not covered by the order
    lead = _windowed_lead(model, op, block)
    return None if lead is None else Allowance((0,), exact=False, lead=lead)


def output_lead_bytes(model: Model, op: Operator) -> int | None:
    """Bytes the output must start before input 0 for an overlapping placement to be safe;
    0 for in-place ops (exactly the input's bytes); None when no overlap is allowed."""
    a = allowed_overlap(model, op)
    if a is None or 0 not in a.inputs:
        return None
    return 0 if a.exact else a.lead


def plan_with_overlap(model: Model, align: int = 16):
    """The overlap plan; kept for older callers: `tinyflow.plan.plan_memory` now places
    outputs over dying inputs by default (see docs/memory-plan.md)."""
    from tinyflow.plan import plan_memory

    return plan_memory(model, align=align, overlap=True)
