"""tf_requant.h's short requantization against gemmlowp's double rounding, in exact integers.

The kernels compute h with one SMMULR of (2 acc) and m, then (h + (h >> 31) + rnd) >> e with
rnd = 2^(e-1) + zp * 2^e. Here both sides are modelled with Python integers, the reference
step by step as TFLM writes it (SaturatingRoundingDoublingHighMul with its nudge and
truncating division, then RoundingDivideByPOT with its mask and threshold), over random and
extreme values inside the bound the code generator proves (codegen fast_requant_ok). The
device tests then check the instruction sequence itself on QEMU.
"""

from __future__ import annotations

import numpy as np

from tinyflow.codegen.ops.conv import fast_requant_ok

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def _wrap(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def reference(acc: int, m: int, shift: int, zp: int) -> int:
    """MultiplyByQuantizedMultiplier (double rounding) + zero point, unclamped."""
    left, right = max(shift, 0), max(-shift, 0)
    a = _wrap(acc * (1 << left))
    if a == m == I32_MIN:
        h = I32_MAX
    else:
        ab = a * m
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        t = ab + nudge
        h = abs(t) >> 31
        h = h if t >= 0 else -h  # C's truncating division by 2^31
    mask = (1 << right) - 1
    rem = h & mask
    threshold = (mask >> 1) + (1 if h < 0 else 0)
    return (h >> right) + (1 if rem > threshold else 0) + zp


def short_form(acc: int, m: int, shift: int, zp: int) -> int:
    e = -shift
    a2 = _wrap(acc << 1)
    h = (a2 * m + (1 << 31)) >> 32  # SMMULR: rounded top word of the 64-bit product
    rnd = _wrap((1 << (e - 1)) + (zp << e))
    s = _wrap(h + (h >> 31))
    s = _wrap(s + rnd)
    return s >> e


def test_short_form_equals_double_rounding():
    rng = np.random.default_rng(0)
    n = 0
    for _ in range(20000):
        m = int(rng.integers(1 << 30, 1 << 31))
        e = int(rng.integers(1, 24))
        zp = int(rng.integers(-128, 128))
        taps = int(rng.choice([1, 9, 64, 1152]))
        bias = int(rng.integers(-(1 << 20), 1 << 20))
        if not fast_requant_ok([(m, -e)], np.array([bias]), taps, zp):
            continue
        bound = abs(bias) + taps * 128 * 128
        for acc in (bias, -bound, bound, int(rng.integers(-bound, bound + 1)), 0, -1, 1):
            assert short_form(acc, m, -e, zp) == reference(acc, m, -e, zp), (acc, m, e, zp)
            n += 1
    assert n > 50000


def test_short_form_at_the_edges():
    """Ties of both roundings, the extreme multipliers and the largest allowed accumulator."""
    n = 0
    for m in (1 << 30, (1 << 30) + 1, 1518500250, (1 << 31) - 1):
        for e in (1, 2, 7, 13, 20):
            for zp in (-128, -1, 0, 127):
                if not fast_requant_ok([(m, -e)], np.array([0]), 4096, zp):
                    continue
                top = 4096 * 128 * 128
                for acc in (*range(-70, 70), top, -top, top - 1, 1 << 20, -(1 << 20) - 1,
                            (1 << (e + 1)) + 1, -(1 << (e + 1)) - 1):
                    assert short_form(acc, m, -e, zp) == reference(acc, m, -e, zp)
                    n += 1
    assert n > 5000


def test_fast_requant_refuses_what_it_cannot_do():
    ok = np.array([100])
    assert fast_requant_ok([(1 << 30, -5)], ok, 9, -128)
    assert not fast_requant_ok([(1 << 30, 0)], ok, 9, -128)      # no right shift
    assert not fast_requant_ok([(1 << 30, 2)], ok, 9, -128)      # a left shift
    assert not fast_requant_ok([(0, 0)], ok, 9, -128)            # multiplier 0
    assert not fast_requant_ok([(1 << 30, -5)], np.array([1 << 30]), 9, 0)  # |acc| >= 2^30
    assert not fast_requant_ok([(1 << 30, -5)], ok, 1 << 16, 0)  # window too large
    assert not fast_requant_ok([(1 << 30, -24)], ok, 9, -128)    # zp * 2^e overflows
    # one bad channel is enough
    assert not fast_requant_ok([(1 << 30, -5), (1 << 30, 1)], np.array([1, 1]), 9, 0)
