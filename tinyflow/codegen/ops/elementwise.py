"""ADD, SUB, MUL, MAXIMUM, MINIMUM, PRELU -> tf_binary_s8/s16 (one broadcasting kernel; the op
picks the arithmetic)."""

from __future__ import annotations

from tinyflow.codegen.emit import LayerCtx, pad_dims, strides_of
from tinyflow.codegen.quantmath import activation_range, quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering

_OPS = {"ADD": 0, "SUB": 1, "MUL": 2, "MAXIMUM": 3, "MINIMUM": 4, "PRELU": 5}


def broadcast_strides(shape: tuple[int, ...], out: list[int]) -> list[int]:
    dims = pad_dims(shape)
    st = strides_of(dims)
    for d in range(6):
        if dims[d] != out[d]:
            if dims[d] != 1:
                raise Unsupported(f"shape {list(shape)} does not broadcast to {out}")
            st[d] = 0
    return st


@lowering("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "PRELU")
def binary(ctx: LayerCtx) -> None:
    a, b, y = ctx.req(0), ctx.req(1), ctx.out()
    wide = y.dtype == "int16"
    ctx.need_dtype(y, "int8", "int16", role="output")
    ctx.need_dtype(a, y.dtype, role="input 1")
    ctx.need_dtype(b, y.dtype, role="input 2")
    s1, z1 = ctx.need_quant(a, "input 1")
    s2, z2 = ctx.need_quant(b, "input 2")
    so, zo = ctx.need_quant(y, "output")
    act = ctx.opts.get("fused_activation_function", "NONE")
    rng = activation_range(act, so, zo, *ctx.int_range(y))
    if ctx.op.opcode in ("MAXIMUM", "MINIMUM", "PRELU"):  # no fused activation in TFLM
        rng = ctx.int_range(y)
    if rng is None:
        raise Unsupported(f"fused activation {act}", hint="use RELU or RELU6")
    out = pad_dims(y.shape)
    fields = {"op": _OPS[ctx.op.opcode], "dims": out,
                  "in1_strides": broadcast_strides(a.shape, out),
                  "in2_strides": broadcast_strides(b.shape, out),
                  "input1_offset": -z1, "input2_offset": -z2, "output_offset": zo}
    if ctx.op.opcode == "PRELU":  # x >= 0: s_x / s_out; x < 0: s_x * s_alpha / s_out
        m1, sh1 = quantize_multiplier(s1 / so)
        m2, sh2 = quantize_multiplier(s1 * s2 / so)
        fields.update(left_shift=0, input1_mult=m1, input1_shift=sh1, input2_mult=0,
                      input2_shift=0, output_mult=m2, output_shift=sh2)
    elif ctx.op.opcode in ("MAXIMUM", "MINIMUM"):
        fields.update(left_shift=0, input1_mult=0, input1_shift=0, input2_mult=0,
                      input2_shift=0, output_mult=0, output_shift=0)
    elif ctx.op.opcode == "MUL":
        m, s = quantize_multiplier(s1 * s2 / so)
        fields.update(left_shift=0, input1_mult=0, input1_shift=0, input2_mult=0,
                      input2_shift=0, output_mult=m, output_shift=s)
    else:
        left_shift = 15 if wide else 20
        twice_max = 2.0 * max(s1, s2)
        m1, sh1 = quantize_multiplier(s1 / twice_max)
        m2, sh2 = quantize_multiplier(s2 / twice_max)
        mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
        fields.update(left_shift=left_shift, input1_mult=m1, input1_shift=sh1,
                      input2_mult=m2, input2_shift=sh2, output_mult=mo, output_shift=sho)
    fields.update(act_min=rng[0], act_max=rng[1])
    ctx.call("tf_binary_s16" if wide else "tf_binary_s8",
             ctx.params("tf_binary_params_t", **fields),
             ctx.ptr(a, const=True), ctx.ptr(b, const=True), ctx.ptr(y))
