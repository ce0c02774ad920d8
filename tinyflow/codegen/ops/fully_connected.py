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
        mult, shift = per_channel_multipliers(ctx, units, s_in, s_out)
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
