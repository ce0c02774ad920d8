"""Host-side quantization arithmetic, written to match TFLM's Prepare() bit for bit.

Multipliers and shifts are computed here once, at generation time, and emitted as C
constants; the kernels never see a float scale. Each function notes whether TFLM does
the arithmetic in float32 or float64, because that changes the rounding of the result.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def round_away(x: float) -> int:
    """std::round / TfLiteRound: halves go away from zero (Python's round() does not)."""
    return math.floor(x + 0.5) if x >= 0 else math.ceil(x - 0.5)


def f32(x: float) -> float:
    """Round a Python float to float32 and back (a C `float` value)."""
    return float(np.float32(x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier: real ~= m * 2^(shift - 31), m a Q31 value in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def frexp_multiplier(real: float) -> tuple[int, int]:
    """The variant LOGISTIC/TANH use: frexp and round, without the 2^31 correction (a
    rounded-up 2^31 wraps to INT32_MIN there, so it does here)."""
    q, shift = math.frexp(real)
    m = round_away(q * (1 << 31))
    if m >= (1 << 31):
        m -= 1 << 32
    return int(m), int(shift)


def input_radius(int_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """CalculateInputRadius: the largest |input| that does not saturate the fixed point."""
    v = 1.0 * ((1 << int_bits) - 1) * (1 << (total_bits - int_bits)) / (1 << left_shift)
    return math.floor(v)


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """Quantize one real in float32, as kernel_util's Quantize() does for activation bounds."""
    return int(zero_point) + round_away(float(np.float32(value) / np.float32(scale)))


def activation_range(act: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int] | None:
    """CalculateActivationRangeQuantized. None for activations TFLM cannot fuse."""
    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if act == "RELU6":
        return (max(qmin, quantize_value(0.0, scale, zero_point)),
                min(qmax, quantize_value(6.0, scale, zero_point)))
    if act == "RELU_N1_TO_1":
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    return None


def out_size(padding: str, in_size: int, k: int, stride: int, dilation: int = 1) -> int:
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - eff) // stride


def pad_before(stride: int, dilation: int, in_size: int, k: int, out: int) -> int:
    """ComputePaddingWithOffset: the smaller half goes before (top/left)."""
    eff = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2
