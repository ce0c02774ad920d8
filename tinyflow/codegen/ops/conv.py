"""CONV_2D and DEPTHWISE_CONV_2D -> tf_conv2d_s8 / tf_depthwise_conv2d_s8."""

from __future__ import annotations

import numpy as np

from tinyflow.codegen.emit import LayerCtx
from tinyflow.codegen.quantmath import activation_range, out_size, pad_before, quantize_multiplier
from tinyflow.codegen.registry import Unsupported, lowering


def per_channel_multipliers(ctx: LayerCtx, n: int, in_scale: float, out_scale: float,
                            axis_len_ok: bool = True) -> tuple[str, str, list[tuple[int, int]]]:
    """PopulateConvolutionQuantizationParams: in double, scale_in * scale_w[c] / scale_out.
    The two emitted arrays' names, and the (multiplier, shift) pairs themselves."""
    w = ctx.req(1)
    if w.quant is None:
        raise Unsupported(f"filter '{w.name}' has no quantization parameters")
    scales = [float(s) for s in w.quant.scale]
    if len(scales) not in (1, n) or not axis_len_ok:
        raise Unsupported(f"filter '{w.name}' has {len(scales)} scales for {n} channels")
    if any(int(z) != 0 for z in w.quant.zero_point):
        raise Unsupported(f"filter '{w.name}' has a non-zero zero point",
                          hint="int8 weights must be symmetric (the TFLite int8 spec)")
    pairs = [quantize_multiplier(in_scale * scales[c if len(scales) > 1 else 0] / out_scale)
             for c in range(n)]
    mult = ctx.array("mult", [m for m, _ in pairs], comment="per-channel Q31 multipliers")
    shift = ctx.array("shift", [s for _, s in pairs], "int8_t", comment="per-channel shifts")
    return mult, shift, pairs


def fast_requant_ok(mult_shift: list[tuple[int, int]], ebias: np.ndarray, taps: int,
                    zero_point: int) -> bool:
    """Whether tf_requant.h's short form is exact for this layer (rq_fast).

    It needs m > 0 and a right shift e >= 1 on every channel, |acc| < 2^30 (so 2 * acc
    fits the single SMMULR that forms h), and no int32 overflow in
    h + (h >> 31) + 2^(e-1) + zp * 2^e for any accumulator the kernels can form:
    |acc| <= |ebias| + taps * 128 * 128 (raw int8 inputs and weights; padding taps feed
    the zero point, itself an int8), and |h| <= |acc| + 1."""
    limit = (1 << 31) - 1
    for c, (m, shift) in enumerate(mult_shift):
        e = -shift
        if m <= 0 or e < 1:
            return False
        acc = abs(int(ebias[c])) + taps * 128 * 128
        if acc >= (1 << 30) - 1:
            return False
        if acc + 2 + (1 << (e - 1)) + abs(zero_point) * (1 << e) > limit:
            return False
    return True


def effective_bias_values(bias, weights: np.ndarray, sum_axes: tuple[int, ...],
                          input_offset: int) -> np.ndarray:
    wsum = weights.astype(np.int64).sum(axis=sum_axes)
    b = np.zeros_like(wsum) if bias is None else np.asarray(bias.data, dtype=np.int64)
    return ((b + input_offset * wsum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def effective_bias(ctx: LayerCtx, bias, weights: np.ndarray, sum_axes: tuple[int, ...],
                   input_offset: int) -> str:
    """bias + input_offset * sum(weights) per output channel, wrapped to int32.

    The kernels then multiply raw int8 values. Integer addition wraps consistently, so
    the accumulator equals TFLM's (x + offset) * w sum exactly."""
    return emit_effective_bias(ctx, effective_bias_values(bias, weights, sum_axes, input_offset))


def emit_effective_bias(ctx: LayerCtx, eff: np.ndarray) -> str:
    return ctx.array("ebias", eff,
                     comment="effective bias: bias + input_offset * sum(weights)")


def _conv_common(ctx: LayerCtx, depthwise: bool) -> None:
    x, w, b, y = ctx.req(0), ctx.req(1), ctx.inp(2), ctx.out()
    wide = x.dtype == "int16"  # 16x8: int16 activations, int64 bias
    ctx.need_dtype(x, "int8", "int16", role="input")
    ctx.need_dtype(y, x.dtype, role="output")
    ctx.need_dtype(w, "int8", role="filter")
    ctx.need_dtype(b, "int64" if wide else "int32", role="bias")
    if not w.is_const or (b is not None and not b.is_const):
        raise Unsupported(f"filter '{w.name}' or its bias is not constant")
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise Unsupported("expects 4-D input, filter and output (NHWC)")
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = y.shape
    if depthwise:
        _, kh, kw, woc = w.shape
        if woc != oc or oc % ic != 0:
            raise Unsupported(f"depthwise filter {list(w.shape)} does not match input "
                              f"{list(x.shape)} and output {list(y.shape)}")
        filter_in_c = 1
    else:
        woc, kh, kw, filter_in_c = w.shape
        if woc != oc or ic % filter_in_c != 0 or oc % (ic // filter_in_c) != 0:
            raise Unsupported(f"filter {list(w.shape)} does not match input {list(x.shape)}")
    o = ctx.opts
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    padding = o.get("padding", "VALID")
    if padding not in ("SAME", "VALID"):
        raise Unsupported(f"padding {padding}")
    if (out_size(padding, ih, kh, sh, dh), out_size(padding, iw, kw, sw, dw)) != (oh, ow):
        raise Unsupported(f"output {oh}x{ow} does not follow from input {ih}x{iw}, "
                          f"kernel {kh}x{kw}, stride {sh}x{sw}, padding {padding}")
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    act = o.get("fused_activation_function", "NONE")
    rng = activation_range(act, s_out, z_out, *ctx.int_range(y))
    if rng is None:
        raise Unsupported(f"fused activation {act}", hint="use RELU or RELU6")
    if wide and (z_in, z_out) != (0, 0):
        raise Unsupported("int16 activations with a non-zero zero point")
    mult, shift, pairs = per_channel_multipliers(ctx, oc, s_in, s_out)
    sum_axes = (0, 1, 2) if depthwise else (1, 2, 3)
    rq_fast = 0
    if not wide:
        ebias = effective_bias_values(b, np.asarray(w.data), sum_axes, -z_in)
        rq_fast = int(fast_requant_ok(pairs, ebias, kh * kw * filter_in_c, z_out))
    params = ctx.params(
        "tf_conv_params_t", batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc,
        k_h=kh, k_w=kw, filter_in_c=filter_in_c, depth_multiplier=oc // ic if depthwise else 1,
        stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw,
        pad_top=pad_before(sh, dh, ih, kh, oh), pad_left=pad_before(sw, dw, iw, kw, ow),
        input_offset=-z_in, output_offset=z_out, act_min=rng[0], act_max=rng[1],
        rq_fast=rq_fast)
    if wide:
        bias = ctx.ptr(b) if b is not None else "NULL"
    else:
        bias = emit_effective_bias(ctx, ebias)
    fn = ("tf_depthwise_conv2d" if depthwise else "tf_conv2d") + ("_s16" if wide else "_s8")
    if not depthwise and (kh * kw * filter_in_c) % 4:
        # the DSP GEMM (tf_conv_pw.c) reads rows of K taps a word at a time: 3 spare bytes
        # keep the last row's final word inside the array
        data = np.asarray(w.data, dtype=np.int8).reshape(-1)
        filt = ctx.const_tensor(w, np.concatenate([data, np.zeros(3, np.int8)]))
    else:
        filt = ctx.ptr(w)
    ctx.call(fn, params, ctx.ptr(x, const=True), filt, bias, mult, shift, ctx.ptr(y))


@lowering("CONV_2D")
def conv2d(ctx: LayerCtx) -> None:
    _conv_common(ctx, depthwise=False)


@lowering("DEPTHWISE_CONV_2D")
def depthwise_conv2d(ctx: LayerCtx) -> None:
    _conv_common(ctx, depthwise=True)


@lowering("TRANSPOSE_CONV")
def transpose_conv(ctx: LayerCtx) -> None:
    w, x, b, y = ctx.req(1), ctx.req(2), ctx.inp(3), ctx.out()
    ctx.need_dtype(x, "int8", role="input")
    ctx.need_dtype(y, "int8", role="output")
    ctx.need_dtype(w, "int8", role="filter")
    ctx.need_dtype(b, "int32", role="bias")
    if not w.is_const or (b is not None and not b.is_const):
        raise Unsupported(f"filter '{w.name}' or its bias is not constant")
    if ctx.opts.get("fused_activation_function", "NONE") not in ("NONE", None):
        raise Unsupported("a fused activation on TRANSPOSE_CONV")
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = y.shape
    woc, kh, kw, wic = w.shape
    if (woc, wic) != (oc, ic):
        raise Unsupported(f"filter {list(w.shape)} does not match input {list(x.shape)} and "
                          f"output {list(y.shape)}")
    o = ctx.opts
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    padding = o.get("padding", "VALID")
    # TFLM pads as if the output were a conv's input: sizes swap roles
    pt = pad_before(sh, 1, oh, kh, out_size(padding, oh, kh, sh))
    pl = pad_before(sw, 1, ow, kw, out_size(padding, ow, kw, sw))
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    mult, shift, _ = per_channel_multipliers(ctx, oc, s_in, s_out)
    params = ctx.params(
        "tf_conv_params_t", batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc,
        k_h=kh, k_w=kw, filter_in_c=ic, depth_multiplier=1, stride_h=sh, stride_w=sw, dil_h=1,
        dil_w=1, pad_top=pt, pad_left=pl, input_offset=-z_in, output_offset=z_out,
        act_min=-128, act_max=127)
    bias = ctx.ptr(b) if b is not None else "NULL"
    ctx.call("tf_transpose_conv_s8", params, ctx.ptr(x, const=True), ctx.ptr(w), bias, mult,
             shift, ctx.ptr(y))
