"""SOFTMAX -> tf_softmax_s8 (int8 in, int8 out with scale 1/256 and zero point -128) or
tf_softmax_s16 (int16, with TFLM's exp and reciprocal tables generated here)."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

import numpy as np

from tinyflow.codegen.emit import LayerCtx, Raw
from tinyflow.codegen.quantmath import f32, input_radius, quantize_multiplier, round_away
from tinyflow.codegen.registry import Unsupported, lowering

SCALED_DIFF_INT_BITS = 5


@lowering("SOFTMAX")
def softmax(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    if x.dtype == "int16":
        softmax16(ctx)
        return
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


def _roundf(x: np.float32) -> np.float32:
    """roundf: half away from zero, computed exactly in double."""
    return np.float32(round_away(float(x)))


def _expf() -> Callable[[np.float32], np.float32]:
    """The C library's expf, so generated tables match the oracle's host build."""
    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    libm.expf.restype = ctypes.c_float
    libm.expf.argtypes = [ctypes.c_float]
    return lambda v: np.float32(libm.expf(float(v)))


def gen_lut16(func: Callable[[np.float32], np.float32], input_min: float, input_max: float,
              output_min: float, output_max: float) -> np.ndarray:
    """TFLM's 513-entry int16 interpolation table, step for step in float32: each entry is
    the sample minus half the midpoint interpolation error."""
    f = np.float32
    steps = 512
    lo, hi = f(input_min), f(input_max)
    step = (hi - lo) / f(steps)
    half = step / f(2)
    inv = f(65536) / (f(output_max) - f(output_min))
    lut = np.zeros(steps + 1, dtype=np.int16)
    for i in range(steps):
        x = lo + f(i) * step
        val, mid, nxt = func(x), func(x + half), func(lo + f(i + 1) * step)
        sample = _roundf(val * inv)
        interp = _roundf((nxt * inv + _roundf(val * inv)) / f(2))
        bias = _roundf((interp - _roundf(mid * inv)) / f(2))
        lut[i] = int(min(max(float(sample - bias), -32768.0), 32767.0))
    lut[steps] = int(min(max(float(_roundf(func(hi) * inv)), -32768.0), 32767.0))
    return lut


def _tables(ctx: LayerCtx) -> tuple[str, str]:
    """The two tables, emitted once per model however many softmax layers use them."""
    gen = ctx.gen
    if "softmax16_exp" not in gen.tensor_arrays_by_key:
        expf = _expf()
        exp_lut = gen_lut16(expf, -10.0, 0.0, -1.0, 1.0)
        recip_lut = gen_lut16(lambda v: np.float32(1.0) / (np.float32(1.0) + v), 0.0, 1.0,
                              -1.0, 1.0)
        a = gen.add_array("softmax16_exp_lut", exp_lut, "int16_t", "exp(x), x in [-10, 0]")
        b = gen.add_array("softmax16_recip_lut", recip_lut, "int16_t", "1/(1+x), x in [0, 1]")
        ctx.const_bytes += a.nbytes + b.nbytes
        gen.tensor_arrays_by_key["softmax16_exp"] = (a.name, b.name)
    return gen.tensor_arrays_by_key["softmax16_exp"]


def softmax16(ctx: LayerCtx) -> None:
    x, y = ctx.req(0), ctx.out()
    ctx.need_dtype(y, "int16", role="output")
    s_in, z_in = ctx.need_quant(x, "input")
    s_out, z_out = ctx.need_quant(y, "output")
    if z_in != 0 or z_out != 0 or abs(s_out - 1.0 / 32768) > 0.001 / 32768:
        raise Unsupported(f"int16 softmax needs zero points 0 and output scale 1/32768 "
                          f"(got scale={s_out}, zero point={z_out})")
    beta = f32(ctx.opts.get("beta", 1.0))
    m, shift = quantize_multiplier(s_in * beta / (10.0 / 65535.0))
    exp_lut, recip_lut = _tables(ctx)
    depth = x.shape[-1] if x.shape else 1
    params = ctx.params("tf_softmax16_params_t", rows=x.size // depth, depth=depth,
                        input_mult=m, input_shift=shift, exp_lut=Raw(exp_lut),
                        one_over_one_plus_x_lut=Raw(recip_lut))
    ctx.call("tf_softmax_s16", params, ctx.ptr(x, const=True), ctx.ptr(y))
