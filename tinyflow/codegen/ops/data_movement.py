"""RESHAPE-like ops, PAD, CONCATENATION, PACK, SPLIT, SPLIT_V, UNPACK, STRIDED_SLICE, SLICE,
TRANSPOSE.

All become offsets and strides for one strided-copy kernel (plus a fill for PAD), so
their correctness is index arithmetic done here, in Python, once.
"""

from __future__ import annotations

import numpy as np

from tinyflow.codegen.emit import LayerCtx, pad_dims, strides_of
from tinyflow.codegen.quantmath import round_away
from tinyflow.codegen.registry import Unsupported, lowering
from tinyflow.ir import DTYPE_SIZE, Tensor

_MOVABLE = ("int8", "int16", "int32", "uint8", "float32")


def _copy(ctx: LayerCtx, src: Tensor, dst: Tensor, dims: list[int], in_offset: int,
          in_strides: list[int], out_offset: int, out_strides: list[int]) -> None:
    params = ctx.params("tf_copy_params_t", dims=dims, in_offset=in_offset,
                        in_strides=in_strides, out_offset=out_offset, out_strides=out_strides,
                        elem_size=DTYPE_SIZE[src.dtype])
    ctx.call("tf_strided_copy", params, ctx.ptr(src, const=True), ctx.ptr(dst))


def _same_quant(ctx: LayerCtx, a: Tensor, b: Tensor) -> None:
    qa = (None if a.quant is None else (a.quant.scale.tolist(), a.quant.zero_point.tolist()))
    qb = (None if b.quant is None else (b.quant.scale.tolist(), b.quant.zero_point.tolist()))
    if qa != qb:
        raise Unsupported(f"'{a.name}' and '{b.name}' are quantized differently; this op "
                          "moves bytes and cannot rescale")


@lowering("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def reshape(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    if x.nbytes != y.nbytes:
        raise Unsupported(f"reshape from {list(x.shape)} to {list(y.shape)} changes the size")
    if not x.is_const and ctx.gen.offsets.get(x.index) == ctx.gen.offsets.get(y.index):
        ctx.stmt(f"/* {ctx.op.opcode}: same bytes as the input (aliased by the planner) */")
        return
    ctx.call("tf_copy_bytes", ctx.ptr(y), ctx.ptr(x, const=True), str(x.nbytes))


@lowering("PAD", "PADV2")
def pad(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    paddings = ctx.const_values(ctx.req(1), "paddings").reshape(-1, 2).tolist()
    if len(paddings) != len(x.shape):
        raise Unsupported(f"{len(paddings)} padding pairs for rank {len(x.shape)}")
    value = 0
    cv = ctx.inp(2)
    if cv is not None:
        value = int(ctx.const_values(cv, "constant value").reshape(-1)[0])
    elif y.quant is not None:
        value = int(y.quant.zero_point[0])
    if x.quant is not None and y.quant is not None:
        _same_quant(ctx, x, y)
    rank_pad = 6 - len(x.shape)
    out_dims = pad_dims(y.shape)
    out_strides = strides_of(out_dims)
    before = [0] * rank_pad + [int(p[0]) for p in paddings]
    if any(p[0] < 0 or p[1] < 0 for p in paddings):
        raise Unsupported("negative padding")
    ctx.call("tf_fill", ctx.ptr(y), str(y.size), str(DTYPE_SIZE[y.dtype]), str(value))
    in_dims = pad_dims(x.shape)
    out_offset = sum(b * s for b, s in zip(before, out_strides))
    _copy(ctx, x, y, in_dims, 0, strides_of(in_dims), out_offset, out_strides)


@lowering("CONCATENATION")
def concatenation(ctx: LayerCtx) -> None:
    y = ctx.out()
    rank = len(y.shape)
    axis = int(ctx.opts.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if ctx.opts.get("fused_activation_function", "NONE") != "NONE":
        raise Unsupported("a fused activation on CONCATENATION")
    out_dims = pad_dims(y.shape)
    out_strides = strides_of(out_dims)
    ax6 = 6 - rank + axis
    pos = 0
    for i in range(len(ctx.op.inputs)):
        x = ctx.req(i)
        ctx.need_dtype(x, *_MOVABLE, role=f"input {i}")
        if x.quant is not None or y.quant is not None:
            _same_quant(ctx, x, y)
        dims = pad_dims(x.shape)
        _copy(ctx, x, y, dims, 0, strides_of(dims), pos * out_strides[ax6], out_strides)
        pos += dims[ax6]
    if pos != out_dims[ax6]:
        raise Unsupported(f"inputs add up to {pos} along axis {axis}, output has {out_dims[ax6]}")


def _gather(ctx: LayerCtx, x: Tensor, y: Tensor, starts: list[int], steps: list[int],
            counts: list[int]) -> None:
    """Copy the box x[starts + i * steps] (i < counts) into y, contiguous."""
    total = 1
    for c in counts:
        total *= c
    if total != y.size:
        raise Unsupported(f"slice of {counts} elements does not fill output {list(y.shape)}")
    in_dims = pad_dims(x.shape)
    in_st = strides_of(in_dims)
    k = 6 - len(x.shape)
    starts6, steps6, counts6 = [0] * k + starts, [1] * k + steps, [1] * k + counts
    in_offset = sum(s * st for s, st in zip(starts6, in_st))
    _copy(ctx, x, y, counts6, in_offset, [s * st for s, st in zip(steps6, in_st)], 0,
          strides_of(counts6))


@lowering("STRIDED_SLICE")
def strided_slice(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    begin = ctx.const_values(ctx.req(1), "begin").reshape(-1).tolist()
    end = ctx.const_values(ctx.req(2), "end").reshape(-1).tolist()
    strides = ctx.const_values(ctx.req(3), "strides").reshape(-1).tolist()
    o = ctx.opts
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0) or o.get("offset", False):
        raise Unsupported("ellipsis, new-axis and offset masks",
                          hint="index with plain begin:end:step per axis")
    bm, em, sm = int(o.get("begin_mask", 0)), int(o.get("end_mask", 0)), \
        int(o.get("shrink_axis_mask", 0))
    rank = len(x.shape)
    box: list[tuple[int, int, int]] = []  # (start, step, count) per input axis
    for d in range(rank):
        dim = int(x.shape[d])
        if d >= len(begin):
            box.append((0, 1, dim))
            continue
        st = int(strides[d])
        if st == 0:
            raise Unsupported("a zero stride")
        if sm & (1 << d):  # shrink: one index, the axis disappears from the output
            box.append((int(begin[d]) + (dim if begin[d] < 0 else 0), 1, 1))
            continue
        # TFLite's begin/end/mask semantics are Python slicing's, clamping included
        sl = slice(None if bm & (1 << d) else int(begin[d]),
                   None if em & (1 << d) else int(end[d]), st)
        a, b, s = sl.indices(dim)
        box.append((a, s, len(range(a, b, s))))
    _same_quant(ctx, x, y)
    _gather(ctx, x, y, [b[0] for b in box], [b[1] for b in box], [b[2] for b in box])


@lowering("SLICE")
def slice_(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    begin = ctx.const_values(ctx.req(1), "begin").reshape(-1).tolist()
    size = ctx.const_values(ctx.req(2), "size").reshape(-1).tolist()
    counts = [int(x.shape[d]) - int(begin[d]) if int(size[d]) == -1 else int(size[d])
              for d in range(len(x.shape))]
    _same_quant(ctx, x, y)
    _gather(ctx, x, y, [int(b) for b in begin], [1] * len(x.shape), counts)


@lowering("TRANSPOSE")
def transpose(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    perm = [int(p) for p in ctx.const_values(ctx.req(1), "perm").reshape(-1).tolist()]
    rank = len(x.shape)
    if sorted(perm) != list(range(rank)):
        raise Unsupported(f"perm {perm} is not a permutation of {rank} axes")
    _same_quant(ctx, x, y)
    in_st = strides_of([int(d) for d in x.shape])
    k = 6 - rank
    dims = [1] * k + [int(x.shape[p]) for p in perm]
    in_strides = [0] * k + [in_st[p] for p in perm]
    _copy(ctx, x, y, dims, 0, in_strides, 0, strides_of(dims))


def _split_into(ctx: LayerCtx, x: Tensor, axis: int, outputs: list[Tensor],
                sizes: list[int]) -> None:
    """Copy consecutive slices of x along `axis` into each output (same element order)."""
    rank = len(x.shape)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or sum(sizes) != x.shape[axis]:
        raise Unsupported(f"split sizes {sizes} do not add up to axis {axis} of {list(x.shape)}")
    in_dims = pad_dims(x.shape)
    in_st = strides_of(in_dims)
    ax6 = 6 - rank + axis
    pos = 0
    for y, n in zip(outputs, sizes):
        _same_quant(ctx, x, y)
        if y.size != x.size // x.shape[axis] * n:
            raise Unsupported(f"output '{y.name}' {list(y.shape)} does not hold a slice of {n}")
        dims = list(in_dims)
        dims[ax6] = n
        _copy(ctx, x, y, dims, pos * in_st[ax6], in_st, 0, strides_of(dims))
        pos += n


@lowering("SPLIT")
def split(ctx: LayerCtx) -> None:
    axis = int(ctx.const_values(ctx.req(0), "axis").reshape(-1)[0])
    x = ctx.req(1)
    ctx.need_dtype(x, *_MOVABLE, role="input")
    outs = [ctx.out(i) for i in range(len(ctx.op.outputs))]
    rank = len(x.shape)
    n = x.shape[axis + rank if axis < 0 else axis] // len(outs)
    _split_into(ctx, x, axis, outs, [n] * len(outs))


@lowering("SPLIT_V")
def split_v(ctx: LayerCtx) -> None:
    x = ctx.req(0)
    ctx.need_dtype(x, *_MOVABLE, role="input")
    sizes = [int(v) for v in ctx.const_values(ctx.req(1), "size_splits").reshape(-1)]
    axis = int(ctx.const_values(ctx.req(2), "axis").reshape(-1)[0])
    rank = len(x.shape)
    ax = axis + rank if axis < 0 else axis
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[ax] - (sum(sizes) + 1)
    _split_into(ctx, x, axis, [ctx.out(i) for i in range(len(ctx.op.outputs))], sizes)


@lowering("UNPACK")
def unpack(ctx: LayerCtx) -> None:
    x = ctx.req(0)
    ctx.need_dtype(x, *_MOVABLE, role="input")
    outs = [ctx.out(i) for i in range(len(ctx.op.outputs))]
    _split_into(ctx, x, int(ctx.opts.get("axis", 0)), outs, [1] * len(outs))


@lowering("PACK")
def pack(ctx: LayerCtx) -> None:
    y = ctx.out()
    rank = len(y.shape)
    axis = int(ctx.opts.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    out_dims = pad_dims(y.shape)
    out_strides = strides_of(out_dims)
    ax6 = 6 - rank + axis
    for i in range(len(ctx.op.inputs)):
        x = ctx.req(i)
        ctx.need_dtype(x, *_MOVABLE, role=f"input {i}")
        _same_quant(ctx, x, y)
        dims = list(out_dims)
        dims[ax6] = 1
        if x.size != y.size // out_dims[ax6]:
            raise Unsupported(f"input {i} {list(x.shape)} does not fit output {list(y.shape)}")
        _copy(ctx, x, y, dims, 0, strides_of(dims), i * out_strides[ax6], out_strides)


@lowering("TILE")
def tile(ctx: LayerCtx) -> None:
    """One strided copy of the input per replica (Keras 3's UpSampling2D becomes
    RESHAPE + TILE + RESHAPE)."""
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    reps = [int(m) for m in ctx.const_values(ctx.req(1), "multiples").reshape(-1)]
    rank = len(x.shape)
    if len(reps) != rank or any(m < 1 for m in reps):
        raise Unsupported(f"multiples {reps} for rank {rank}")
    if [int(d) * m for d, m in zip(x.shape, reps)] != [int(d) for d in y.shape]:
        raise Unsupported(f"output {list(y.shape)} is not input {list(x.shape)} tiled {reps}")
    n_copies = int(np.prod(reps))
    if n_copies > 256:
        raise Unsupported(f"{n_copies} tiles (more than 256 copies)",
                          hint="tile fewer times, or broadcast in an ADD/MUL instead")
    _same_quant(ctx, x, y)
    in_dims = pad_dims(x.shape)
    out_dims = pad_dims(y.shape)
    out_st = strides_of(out_dims)
    for r in np.ndindex(*reps):
        r6 = [0] * (6 - rank) + list(r)
        offset = sum(ri * d * s for ri, d, s in zip(r6, in_dims, out_st))
        _copy(ctx, x, y, in_dims, 0, strides_of(in_dims), offset, out_st)


def nearest_map(out_size: int, in_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    """GetNearestNeighbor for every output index, in float32 as the reference computes it."""
    f = np.float32
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half_pixel else f(0.0)
    out = []
    for i in range(out_size):
        v = (f(i) + offset) * scale
        j = round_away(float(v)) if align_corners else int(np.floor(v))
        j = min(j, in_size - 1)
        out.append(max(0, j) if half_pixel else j)
    return out


@lowering("RESIZE_NEAREST_NEIGHBOR")
def resize_nearest(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_MOVABLE, role="input")
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[3] != y.shape[3]:
        raise Unsupported("expects 4-D NHWC input and output with the same channels")
    _same_quant(ctx, x, y)
    n, ih, iw, c = x.shape
    _, oh, ow, _ = y.shape
    ac, hp = bool(ctx.opts.get("align_corners")), bool(ctx.opts.get("half_pixel_centers"))
    ym = ctx.array("y_map", nearest_map(oh, ih, ac, hp), comment="source row per output row")
    xm = ctx.array("x_map", nearest_map(ow, iw, ac, hp), comment="source column per output col")
    params = ctx.params("tf_resize_params_t", batches=n, in_h=ih, in_w=iw, depth=c, out_h=oh,
                        out_w=ow, elem_size=DTYPE_SIZE[x.dtype])
    ctx.call("tf_resize_nearest", params, ym, xm, ctx.ptr(x, const=True), ctx.ptr(y))


def _cdiv(a: int, b: int) -> int:
    """C's truncating integer division."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def bilinear_map(out_size: int, in_size: int, align_corners: bool, half_pixel: bool
                 ) -> list[int]:
    """(lower, upper, fraction in 1/1024) per output index, as ResizeBilinearInteger."""
    if align_corners and out_size > 1:
        scale = _cdiv(1024 * (in_size - 1) + (out_size - 1) // 2, out_size - 1)
    else:
        scale = _cdiv(1024 * in_size + out_size // 2, out_size)
    out = []
    for i in range(out_size):
        v = i * scale + _cdiv(scale, 2) - 512 if half_pixel else i * scale
        lo = max(_cdiv(v, 1024), 0)
        hi = min(_cdiv(v + 1023, 1024), in_size - 1)
        out += [lo, hi, v - 1024 * lo]
    return out


@lowering("RESIZE_BILINEAR")
def resize_bilinear(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, "int8", "int16", role="input")
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[3] != y.shape[3]:
        raise Unsupported("expects 4-D NHWC input and output with the same channels")
    _same_quant(ctx, x, y)
    n, ih, iw, c = x.shape
    _, oh, ow, _ = y.shape
    ac, hp = bool(ctx.opts.get("align_corners")), bool(ctx.opts.get("half_pixel_centers"))
    ym = ctx.array("y_map", bilinear_map(oh, ih, ac, hp), comment="y0, y1, fy per output row")
    xm = ctx.array("x_map", bilinear_map(ow, iw, ac, hp), comment="x0, x1, fx per output col")
    params = ctx.params("tf_resize_params_t", batches=n, in_h=ih, in_w=iw, depth=c, out_h=oh,
                        out_w=ow, elem_size=DTYPE_SIZE[x.dtype])
    ctx.call("tf_resize_bilinear", params, ym, xm, ctx.ptr(x, const=True), ctx.ptr(y))
