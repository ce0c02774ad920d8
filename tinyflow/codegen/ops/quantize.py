"""QUANTIZE (float -> int8/int16, integer requantization) and DEQUANTIZE (-> float)."""

from __future__ import annotations

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.quantmath import quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering

_INT = ("int8", "int16")


@lowering("QUANTIZE")
def quantize(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(y, *_INT, role="output")
    s_out, z_out = ctx.need_quant(y, "output")
    out_wide = int(y.dtype == "int16")
    if x.dtype == "float32":
        params = ctx.params("tf_quant_params_t", size=x.size, input_zero_point=0,
                            output_zero_point=z_out, mult=0, shift=0, scale=s_out, in_wide=0,
                            out_wide=out_wide)
        ctx.call("tf_quantize_f32", params, ctx.ptr(x, const=True), ctx.ptr(y))
        return
    if x.dtype not in _INT:
        raise Unsupported(f"QUANTIZE from {x.dtype}", hint="only float32, int8 or int16 inputs")
    s_in, z_in = ctx.need_quant(x, "input")
    m, s = quantize_multiplier(s_in / s_out)
    params = ctx.params("tf_quant_params_t", size=x.size, input_zero_point=z_in,
                        output_zero_point=z_out, mult=m, shift=s, scale=0.0,
                        in_wide=int(x.dtype == "int16"), out_wide=out_wide)
    ctx.call("tf_requantize", params, ctx.ptr(x, const=True), ctx.ptr(y))


@lowering("DEQUANTIZE")
def dequantize(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, *_INT, role="input")
    ctx.need_dtype(y, "float32", role="output")
    s_in, z_in = ctx.need_quant(x, "input")
    params = ctx.params("tf_quant_params_t", size=x.size, input_zero_point=z_in,
                        output_zero_point=0, mult=0, shift=0, scale=s_in,
                        in_wide=int(x.dtype == "int16"), out_wide=0)
    ctx.call("tf_dequantize_f32", params, ctx.ptr(x, const=True), ctx.ptr(y))
