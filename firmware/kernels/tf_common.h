/*
 * Fixed-point primitives shared by every int8 kernel.
 *
 * These reproduce, operation for operation, the integer arithmetic TFLM's reference
 * kernels use (gemmlowp's saturating rounding doubling high multiply, rounding divide
 * by a power of two, the double-rounding MultiplyByQuantizedMultiplier), because
 * bit-exactness with TFLM depends on every rounding step, not just the final value.
 *
 * Assumes two's complement and an arithmetic right shift of negative values, which
 * gcc and clang guarantee on every target we build for.
 */
#ifndef TF_COMMON_H
#define TF_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TF_KMAX_DIMS 6

static inline int32_t tf_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tf_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tf_clamp_i32(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* round((a * b) / 2^31) with ties away from zero, saturating the single overflow
 * case INT32_MIN * INT32_MIN. Division-free so Cortex-M0+ needs no libgcc call. */
static inline int32_t tf_srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t t = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
    /* truncating division by 2^31 == floor shift, plus one for a negative inexact value */
    int32_t q = (int32_t)(t >> 31);
    if (t < 0 && (t & 0x7fffffff) != 0) {
        q += 1;
    }
    return q;
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline int32_t tf_rdbpot(int32_t x, int exponent) {
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift with multiplier a Q31 value in [0.5, 1): the
 * double-rounding form TFLM is built with (TFLITE_SINGLE_ROUNDING unset). */
static inline int32_t tf_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    /* the left shift wraps like the reference's int32 multiply would */
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return tf_rdbpot(tf_srdhm(shifted, multiplier), right);
}

/* tf_srdhm for b >= 0, the case of every requantization multiplier (a Q31 value in
 * [0.5, 1) or 0). Then sign(a*b) = sign(a), and truncating (a*b + nudge) / 2^31 with
 * gemmlowp's nudge (2^30, or 1 - 2^30 for a negative product) equals flooring
 * (a*b + 2^30) / 2^31 in both cases, so one multiply-accumulate and a shift suffice.
 * INT32_MIN * INT32_MIN cannot occur. */
static inline int32_t tf_srdhm_pos(int32_t a, int32_t b) {
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* tf_mbqm for a multiplier >= 0 (every conv, depthwise and fully connected channel). For a
 * right shift e >= 1 both roundings fold into one 64-bit sum: with S = x*m + 2^30 (so
 * tf_srdhm_pos = floor(S / 2^31)), floor((q + 2^(e-1) - [q < 0]) / 2^e) equals
 * floor((S - [S < 0] 2^31 + 2^(30+e)) / 2^(31+e)), whose top word shifted by e - 1 is the
 * result. Equal to tf_mbqm on 2e8 random cases, extremes included. */
static inline int32_t tf_mbqm_pos(int32_t x, int32_t multiplier, int32_t shift) {
    if (shift >= 0) {
        return tf_srdhm_pos((int32_t)((uint32_t)x << shift), multiplier);
    }
    const int e = (int)-shift;
    int64_t s = (int64_t)x * (int64_t)multiplier + ((int64_t)1 << 30);
    s -= (s < 0) ? ((int64_t)1 << 31) : 0;
    if (e == 1) {
        return (int32_t)((s + ((int64_t)1 << 31)) >> 32);
    }
    return ((int32_t)(s >> 32) + ((int32_t)1 << (e - 2))) >> (e - 1);
}

/* Saturating left shift by `exponent` > 0 or rounding right shift by -exponent. */
static inline int32_t tf_srmpot(int32_t x, int exponent) {
    if (exponent > 0) {
        const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return (int32_t)((uint32_t)x << exponent);
    }
    if (exponent < 0) {
        return tf_rdbpot(x, -exponent);
    }
    return x;
}

static inline int tf_clz32(uint32_t x) {
    if (x == 0) {
        return 32;
    }
#if defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* One element of an int8 (wide == 0) or int16 (wide != 0) tensor: the kernels that treat
 * both widths alike take the width as a run-time flag instead of being written twice. */
static inline int32_t tf_load(const void *base, size_t i, int wide) {
    return wide ? (int32_t)((const int16_t *)base)[i] : (int32_t)((const int8_t *)base)[i];
}

static inline void tf_store(void *base, size_t i, int wide, int32_t v) {
    if (wide) {
        ((int16_t *)base)[i] = (int16_t)v;
    } else {
        ((int8_t *)base)[i] = (int8_t)v;
    }
}

/* x * multiplier * 2^shift for a 64-bit accumulator, as TFLM's int64 overload does it:
 * the Q31 multiplier is first rounded to Q15, then one rounding shift. Used by the
 * 16x8 (int16 activation, int64 bias) kernels. */
static inline int32_t tf_mbqm64(int64_t x, int32_t multiplier, int32_t shift) {
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - (int)shift;
    const int64_t r = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(r >> total_shift);
}

/* Saturate to the int8 range and store. */
static inline int8_t tf_sat_s8(int32_t x) { return (int8_t)tf_clamp_i32(x, -128, 127); }

#ifdef __cplusplus
}
#endif

#endif /* TF_COMMON_H */
