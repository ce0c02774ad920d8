"""FULLY_CONNECTED -> tf_fully_connected_s8."""

from __future__ import annotations

import numpy as np

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.ops.conv import effective_bias, per_channel_multipliers
from tinyflow.codegen.quantmath import activation_range, f32, quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering


@lowering("FULLY_CONNECTED")
def fully_connected(ctx: LayerCtx) -> None:
    x, w, b, y = ctx.req(0), ctx.req(1), ctx.inp(2), ctx.out()
    wide = x.dtype == "int16"  # 16x8: int16 activations, int64 bias
    ctx.need_dtype(x, "int8", "int16", role="input")
    ctx.need_dtype(y, x.dtype, role="output")
    ctx.need_dtype(w, "int8", role="weights")
    ctx.need_dtype(b, "int64" if wide else "int32", role="bias")
    if not w.is_const:
        raise Unsupported(f"weights '{w.name}' are not constant (a matmul of two activations)",
                          hint="BATCH_MATMUL is not supported yet")
    if ctx.opts.get("weights_format", "DEFAULT") != "DEFAULT":
        raise Unsupported(f"weights format {ctx.opts.get('weights_format')}")
    if len(w.shape) != 2:
        raise Unsupported(f"weights of shape {list(w.shape)}; expected [units, depth]")
    units, depth = w.shape
    if x.size % depth != 0 or y.size != (x.size // depth) * units:
        raise Unsupported(f"input {list(x.shape)} / output {list(y.shape)} do not match "
                          f"weights {list(w.shape)}")
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    act = ctx.opts.get("fused_activation_function", "NONE")
    rng = activation_range(act, s_out, z_out, *ctx.int_range(y))
    if rng is None:
        raise Unsupported(f"fused activation {act}", hint="use RELU or RELU6")
    if w.quant is not None and not w.quant.per_channel:
        # GetQuantizedConvolutionMultipler: the scale product is taken in float32
        m, s = quantize_multiplier(f32(f32(s_in) * float(w.quant.scale[0])) / s_out)
        mult = ctx.array("mult", [m] * units, comment="Q31 multiplier (per tensor)")
        shift = ctx.array("shift", [s] * units, "int8_t", comment="shift (per tensor)")
        filter_offset = -int(w.quant.zero_point[0])
    else:
        mult, shift, _ = per_channel_multipliers(ctx, units, s_in, s_out)
        filter_offset = 0
    input_offset = -z_in
    if b is not None and not b.is_const:
        raise Unsupported(f"bias '{b.name}' is not constant")
    if wide:
        bias = ctx.ptr(b) if b is not None else "NULL"
    elif filter_offset == 0:  # fold input_offset * sum(w) into the bias (tf_fully_connected.h)
        bias = effective_bias(ctx, b, np.asarray(w.data), (1,), input_offset)
        input_offset = 0
    else:
        bias = ctx.ptr(b) if b is not None else "NULL"
    params = ctx.params("tf_fc_params_t", batches=x.size // depth, depth=depth, units=units,
                        input_offset=input_offset, filter_offset=filter_offset,
                        output_offset=z_out, act_min=rng[0], act_max=rng[1])
    fn = "tf_fully_connected_s16" if wide else "tf_fully_connected_s8"
    ctx.call(fn, params, ctx.ptr(x, const=True), ctx.ptr(w), bias, mult, shift, ctx.ptr(y))


@lowering("BATCH_MATMUL")
def batch_matmul(ctx: LayerCtx) -> None:
    a, b, y = ctx.req(0), ctx.req(1), ctx.out()
    for t, role in ((a, "lhs"), (b, "rhs"), (y, "output")):
        ctx.need_dtype(t, "int8", role=role)
    if min(len(a.shape), len(b.shape)) < 2 or max(len(a.shape), len(b.shape)) > 5:
        raise Unsupported("operands must have rank 2 to 5")
    adj_x, adj_y = bool(ctx.opts.get("adj_x")), bool(ctx.opts.get("adj_y"))
    a_rows, a_depth = (a.shape[-1], a.shape[-2]) if adj_x else (a.shape[-2], a.shape[-1])
    b_depth, b_cols = (b.shape[-1], b.shape[-2]) if adj_y else (b.shape[-2], b.shape[-1])
    if a_depth != b_depth or tuple(y.shape[-2:]) != (a_rows, b_cols):
        raise Unsupported(f"shapes {list(a.shape)} x {list(b.shape)} -> {list(y.shape)} "
                          "do not multiply")
    # the last two dims of each operand as a row-major matrix; (row, k) strides per operand
    a_st = (a.shape[-1], 1) if not adj_x else (1, a.shape[-1])        # (i, k)
    b_st = (b.shape[-1], 1) if not adj_y else (1, b.shape[-1])        # (k, j)
    out_batch = [1] * (3 - (len(y.shape) - 2)) + [int(d) for d in y.shape[:-2]]

    def batch_strides(t) -> list[int]:
        dims = [1] * (3 - (len(t.shape) - 2)) + [int(d) for d in t.shape[:-2]]
        mat = int(t.shape[-1] * t.shape[-2])
        st, acc = [0, 0, 0], mat
        for d in (2, 1, 0):
            st[d] = 0 if dims[d] == 1 and out_batch[d] != 1 else acc
            acc *= dims[d]
        return st

    s_a, z_a = ctx.need_quant(a, "lhs")
    s_b, z_b = ctx.need_quant(b, "rhs")
    s_o, z_o = ctx.need_quant(y, "output")
    m, s = quantize_multiplier(s_a * s_b / s_o)
    params = ctx.params("tf_batch_matmul_params_t", batch_dims=out_batch,
                        lhs_batch_strides=batch_strides(a), rhs_batch_strides=batch_strides(b),
                        rows=a_rows, cols=b_cols, depth=a_depth, lhs_row_stride=a_st[0],
                        lhs_k_stride=a_st[1], rhs_k_stride=b_st[0], rhs_col_stride=b_st[1],
                        lhs_offset=-z_a, rhs_offset=-z_b, output_offset=z_o, mult=m, shift=s)
    ctx.call("tf_batch_matmul_s8", params, ctx.ptr(a, const=True), ctx.ptr(b, const=True),
             ctx.ptr(y))
