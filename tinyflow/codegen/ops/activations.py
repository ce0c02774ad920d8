"""LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH -> tf_activations.c."""

from __future__ import annotations

import math

import numpy as np

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.quantmath import (
    f32,
    frexp_multiplier,
    input_radius,
    quantize_multiplier,
    round_away,
)
from tinyflow.codegen.registry import Unsupported, lowering


def _unary(ctx: LayerCtx, wide: bool = False) -> tuple:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(x, "int16" if wide else "int8", role="input")
    ctx.need_dtype(y, x.dtype, role="output")
    return x, y, ctx.need_quant(x, "input"), ctx.need_quant(y, "output")


@lowering("LOGISTIC", "TANH")
def sigmoid_like(ctx: LayerCtx) -> None:
    logistic = ctx.op.opcode == "LOGISTIC"
    if ctx.req(0).dtype == "int16":
        x, y = ctx.req(0), ctx.out()
        ctx.need_dtype(y, "int16", role="output")
        (s_in, z_in), (_, z_out) = ctx.need_quant(x, "input"), ctx.need_quant(y, "output")
        if (z_in, z_out) != (0, 0):
            raise Unsupported("int16 LOGISTIC/TANH with a non-zero zero point")
        m, shift = sigmoid16_params(s_in, tanh=not logistic)
        params = ctx.params("tf_sigmoid16_params_t", size=x.size, input_mult=m,
                            input_left_shift=shift)
        ctx.call("tf_logistic_s16" if logistic else "tf_tanh_s16", params,
                 ctx.ptr(x, const=True), ctx.ptr(y))
        return
    x, y, (s_in, z_in), (_s_out, z_out) = _unary(ctx)
    want_zp = -128 if logistic else 0
    if z_out != want_zp:
        raise Unsupported(f"output zero point {z_out}; TFLM requires {want_zp}")
    m, shift = frexp_multiplier(s_in * (1 << (31 - 4)))
    params = ctx.params("tf_sigmoid_params_t", size=x.size, input_zero_point=z_in,
                        input_range_radius=input_radius(4, shift), input_mult=m,
                        input_left_shift=shift)
    ctx.call("tf_logistic_s8" if logistic else "tf_tanh_s8", params, ctx.ptr(x, const=True),
             ctx.ptr(y))


@lowering("RELU", "RELU_N1_TO_1")
def relu(ctx: LayerCtx) -> None:
    wide = ctx.req(0).dtype == "int16"
    x, y, (s_in, z_in), (s_out, z_out) = _unary(ctx, wide)
    m, s = quantize_multiplier(s_in / s_out)
    lo_real, hi_real = (0.0, math.inf) if ctx.op.opcode == "RELU" else (-1.0, 1.0)
    # CalculateReluOpData: roundf(bound / scale) in float32
    qmin, qmax = ctx.int_range(y)
    lo = max(qmin, z_out + round_away(float(np.float32(lo_real) / np.float32(s_out))))
    hi = qmax if math.isinf(hi_real) else min(
        qmax, z_out + round_away(float(np.float32(hi_real) / np.float32(s_out))))
    params = ctx.params("tf_relu_params_t", size=x.size, input_zero_point=z_in,
                        output_zero_point=z_out, mult=m, shift=s, act_min=lo, act_max=hi)
    ctx.call("tf_relu_s16" if wide else "tf_relu_s8", params, ctx.ptr(x, const=True),
             ctx.ptr(y))


@lowering("RELU6")
def relu6(ctx: LayerCtx) -> None:
    wide = ctx.req(0).dtype == "int16"
    x, y, (s_in, z_in), _ = _unary(ctx, wide)
    # TFLM clamps in the input's quantization and does not rescale.
    qmin, qmax = ctx.int_range(x)
    six = z_in + round_away(float(np.float32(6.0) / np.float32(s_in)))
    params = ctx.params("tf_clamp_params_t", size=x.size, lo=z_in, hi=max(qmin, min(qmax, six)))
    ctx.call("tf_clamp_s16" if wide else "tf_clamp_s8", params, ctx.ptr(x, const=True),
             ctx.ptr(y))


@lowering("LEAKY_RELU")
def leaky_relu(ctx: LayerCtx) -> None:
    x, y, (s_in, z_in), (s_out, z_out) = _unary(ctx)
    alpha = f32(ctx.opts.get("alpha", 0.2))
    # both ratios are computed in float32, then widened
    ma, sa = quantize_multiplier(float(np.float32(s_in) * np.float32(alpha) / np.float32(s_out)))
    mi, si = quantize_multiplier(float(np.float32(s_in) / np.float32(s_out)))
    params = ctx.params("tf_leaky_relu_params_t", size=x.size, input_zero_point=z_in,
                        output_zero_point=z_out, identity_mult=mi, identity_shift=si,
                        alpha_mult=ma, alpha_shift=sa)
    ctx.call("tf_leaky_relu_s8", params, ctx.ptr(x, const=True), ctx.ptr(y))


def _to_int16_multiplier(m32: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if m32 >= (1 << 31) - 1 - (1 << 15):
        return 32767
    return (m32 + (1 << 15)) >> 16


@lowering("HARD_SWISH")
def hard_swish(ctx: LayerCtx) -> None:
    x, y, (s_in, z_in), (s_out, z_out) = _unary(ctx)
    hires = np.float32(1.0 / 128.0) * np.float32(s_in)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    mo, eo = quantize_multiplier(float(np.float32(hires / np.float32(s_out))))
    mr, er = quantize_multiplier(float(np.float32(hires / reluish_scale)))
    if eo > 0:
        raise Unsupported("output scale too small relative to the input scale for HARD_SWISH")
    params = ctx.params("tf_hard_swish_params_t", size=x.size, input_zero_point=z_in,
                        output_zero_point=z_out, reluish_mult=_to_int16_multiplier(mr),
                        output_mult=_to_int16_multiplier(mo), reluish_exponent=er,
                        output_exponent=eo)
    ctx.call("tf_hard_swish_s8", params, ctx.ptr(x, const=True), ctx.ptr(y))


def _checked_log2(x: float) -> tuple[int, bool]:
    """CheckedLog2 in float32: (rounded log2, whether x is a power of two within 1e-3)."""
    v = np.float32(np.log(np.float32(x))) * (np.float32(1.0) / np.float32(np.log(np.float32(2.0))))
    r = round_away(float(v))
    return r, abs(float(v) - r) < 1e-3


def sigmoid16_params(s_in: float, tanh: bool) -> tuple[int, int]:
    """TFLM's int16 LOGISTIC/TANH Prepare: rescale the input to the table's 1/(3*4096)."""
    log2, pot = _checked_log2(s_in)
    shift = (15 - 3) + log2
    pot = pot and (shift in (0, 1) if tanh else shift == 0)
    if pot:
        return 3 << shift, 0  # the kernel's power-of-two case, resolved here
    mult = s_in * 4096.0 * 3.0
    shift = 0
    while mult <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        mult *= 2.0
    return int(mult), shift
