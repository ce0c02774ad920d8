/*
 * Requantization for the optimized conv kernels: TFLM's double-rounding
 * MultiplyByQuantizedMultiplier, bit for bit, in about ten instructions per output.
 *
 * Valid when the code generator set tf_conv_params_t.rq_fast: every channel has a
 * multiplier m > 0 and shifts right by e >= 1, |acc| < 2^30, and nothing below can overflow
 * for any accumulator the layer can produce (tinyflow/codegen/ops/conv.py proves the
 * bound from the biases and the window size). Then, with h = floor((acc * m + 2^30) / 2^31)
 * (gemmlowp's doubling high multiply for m >= 0, see tf_srdhm_pos), TFLM's rounding
 * divide by 2^e is floor((h + 2^(e-1) - [h < 0]) / 2^e), and adding the output zero point
 * zp first as zp * 2^e changes nothing else. So per channel
 *     rnd = 2^(e-1) + zp * 2^e                                   (tf_rq_rnd)
 * and per output
 *     out = (h + (h >> 31) + rnd) >> e, then the activation clamp.  (tf_rq_apply)
 */
#ifndef TF_REQUANT_H
#define TF_REQUANT_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t tf_rq_rnd(int32_t e, int32_t zp) {
    return (int32_t)(((uint32_t)1 << (e - 1)) + ((uint32_t)zp << e));
}

/* floor((acc * m + 2^30) / 2^31). With the DSP extension that is one SMMULR, the rounded
 * top word of (2 acc) * m: rq_fast also guarantees |acc| < 2^30. */
static inline int32_t tf_rq_h(int32_t acc, int32_t m) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    int32_t h;
    __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"((int32_t)((uint32_t)acc << 1)), "r"(m));
    return h;
#else
    return (int32_t)(((int64_t)acc * (int64_t)m + ((int64_t)1 << 30)) >> 31);
#endif
}

/* requantized, zero point added, not yet clamped */
static inline int32_t tf_rq_apply(int32_t acc, int32_t m, int32_t rnd, int32_t e) {
    const int32_t h = tf_rq_h(acc, m);
    return (h + (h >> 31) + rnd) >> e;
}

/* Per-channel constants as three int32 tables (multiplier, rnd, -e), the form the vector
 * kernels load four lanes at a time. */
static inline void tf_rq_tables(const int32_t *mult, const int8_t *shift, int32_t n, int32_t zp,
                                int32_t *m, int32_t *rnd, int32_t *neg_e) {
    for (int32_t c = 0; c < n; c++) {
        const int32_t e = -(int32_t)shift[c];
        m[c] = mult[c];
        rnd[c] = tf_rq_rnd(e, zp);
        neg_e[c] = -e;
    }
}

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>

/* four scalar sums (VMLADAV results) as one vector, lane 0 first */
static inline int32x4_t tf_lanes4(int32_t a0, int32_t a1, int32_t a2, int32_t a3) {
    int32x4_t v = vdupq_n_s32(a0);
    v = vsetq_lane_s32(a1, v, 1);
    v = vsetq_lane_s32(a2, v, 2);
    return vsetq_lane_s32(a3, v, 3);
}

/* tf_rq_apply on four lanes and the clamp: VQRDMULH is exactly h (no saturation: m > 0),
 * VSHL by -e an arithmetic right shift. */
static inline int32x4_t tf_rq_apply4(int32x4_t acc, const int32_t *m, const int32_t *rnd,
                                     const int32_t *neg_e, int32x4_t lo, int32x4_t hi) {
    int32x4_t h = vqrdmulhq_s32(acc, vld1q_s32(m));
    h = vaddq_s32(h, vshrq_n_s32(h, 31));
    h = vshlq_s32(vaddq_s32(h, vld1q_s32(rnd)), vld1q_s32(neg_e));
    return vminq_s32(vmaxq_s32(h, lo), hi);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* TF_REQUANT_H */
