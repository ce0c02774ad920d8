"""MEAN, SUM, REDUCE_MAX -> tf_mean_s8/s16 (MEAN: 1/count folded into the multiplier as
TFLM does at run time; SUM: the same without the fold; MAX: raw maximum)."""

from __future__ import annotations

from tinyflow.codegen.emit import LayerCtx, pad_dims
from tinyflow.codegen.quantmath import quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering


def fold_count(mult: int, shift: int, count: int) -> tuple[int, int]:
    """QuantizedMeanOrSum's rescale: multiply by 2^k / count, keeping 31 bits."""
    k = count.bit_length() - 1        # 63 - clz64(count)
    k = min(k, 32, 31 + shift)
    return int((mult << k) // count), shift - k


@lowering("MEAN", "SUM", "REDUCE_MAX")
def mean(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, "int8", "int16", role="input")
    ctx.need_dtype(y, x.dtype, role="output")
    axes = ctx.const_values(ctx.req(1), "axis").reshape(-1).tolist()
    rank = len(x.shape)
    resolved = sorted({a + rank if a < 0 else a for a in axes})
    if any(a < 0 or a >= rank for a in resolved):
        raise Unsupported(f"axis {axes} out of range for rank {rank}")
    dims = pad_dims(x.shape)
    reduced = [0] * 6
    for a in resolved:
        reduced[6 - rank + a] = 1
    count = 1
    for a in resolved:
        count *= int(x.shape[a])
    if count == 0:
        raise Unsupported("reduces over an empty axis")
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    op = 0
    if ctx.op.opcode == "REDUCE_MAX":
        if (s_in, z_in) != (s_out, z_out):
            raise Unsupported("REDUCE_MAX with different input and output quantization")
        op, m, s = 1, 0, 0
    else:
        m, s = quantize_multiplier(s_in / s_out)
        if ctx.op.opcode == "MEAN":
            m, s = fold_count(m, s, count)
    params = ctx.params("tf_mean_params_t", op=op, dims=dims, reduced=reduced, count=count,
                        input_zero_point=z_in, output_zero_point=z_out, mult=m, shift=s)
    fn = "tf_mean_s16" if x.dtype == "int16" else "tf_mean_s8"
    ctx.call(fn, params, ctx.ptr(x, const=True), ctx.ptr(y))
