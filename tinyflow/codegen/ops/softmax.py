"""SOFTMAX -> tf_softmax_s8 (int8 in, int8 out with scale 1/256 and zero point -128)."""

from __future__ import annotations

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.quantmath import f32, input_radius, quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering

SCALED_DIFF_INT_BITS = 5


@lowering("SOFTMAX")
def softmax(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    if x.dtype == "int16":
        raise Unsupported("int16 SOFTMAX (TFLM's exp/reciprocal lookup tables) is not "
                          "implemented yet", hint="quantize the model in plain int8 mode")
    ctx.need_dtype(x, "int8", role="input")
    ctx.need_dtype(y, "int8", role="output")
    s_in, _ = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    if z_out != -128 or s_out != 1.0 / 256:
        raise Unsupported(f"output quantization scale={s_out} zero_point={z_out}; TFLM requires "
                          "1/256 and -128")
    beta = f32(ctx.opts.get("beta", 1.0))
    real = min(beta * s_in * (1 << (31 - SCALED_DIFF_INT_BITS)), (1 << 31) - 1.0)
    m, shift = quantize_multiplier(real)
    if shift < 0:
        raise Unsupported(f"input scale {s_in} too small for the fixed-point softmax")
    diff_min = -input_radius(SCALED_DIFF_INT_BITS, shift)
    depth = x.shape[-1] if x.shape else 1
    params = ctx.params("tf_softmax_params_t", rows=x.size // depth, depth=depth, input_mult=m,
                        input_left_shift=shift, diff_min=diff_min)
    ctx.call("tf_softmax_s8", params, ctx.ptr(x, const=True), ctx.ptr(y))
