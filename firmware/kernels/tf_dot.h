/*
 * int8 dot product, the inner loop of CONV_2D and FULLY_CONNECTED.
 *
 * With Helium (Cortex-M55 with MVE: __ARM_FEATURE_MVE) sixteen products per step with
 * VMLADAVA; with the DSP extension (Cortex-M4, M7, M33) four with SXTB16 + SMLAD;
 * elsewhere (and on the host) a plain loop the compiler may vectorize. All add the same
 * int32 products with wrapping arithmetic, so the result is identical to the bit; build
 * with -DTF_PORTABLE_ONLY to force the plain loop for comparisons (-DTF_NO_MVE: the DSP
 * loops on a Helium core).
 */
#ifndef TF_DOT_H
#define TF_DOT_H

#include "tf_common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(TF_PORTABLE_ONLY) && \
    !defined(TF_NO_MVE)
#include <arm_mve.h>
#define TF_DOT_USE_MVE 1
#else
#define TF_DOT_USE_MVE 0
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(TF_PORTABLE_ONLY)
#include <arm_acle.h>
#define TF_DOT_USE_DSP 1
#else
#define TF_DOT_USE_DSP 0
#endif

#if TF_DOT_USE_DSP
/* An unaligned 32-bit load. Firmware builds use -ffreestanding, where memcpy would be a
 * real call, so say it with a type: these cores do unaligned LDR in hardware. */
typedef uint32_t __attribute__((aligned(1), may_alias)) tf_u32_unaligned;

/* bytes 1 and 3 sign-extended: SXTB16 has a rotate field, which GCC does not fold a
 * separate ROR into, so say it directly (one instruction instead of two). */
static inline int32_t tf_sxtb16_ror8(uint32_t x) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#endif

static inline int32_t tf_dot_s8(const int8_t *a, const int8_t *b, int32_t n) {
    int32_t s = 0;
    int32_t i = 0;
#if TF_DOT_USE_MVE
    for (; i < n; i += 16) { /* tail-predicated: the last step loads only what is left */
        const mve_pred16_t m = vctp8q((uint32_t)(n - i));
        s = vmladavaq_p_s8(s, vld1q_z_s8(a + i, m), vld1q_z_s8(b + i, m), m);
    }
    return s;
#elif TF_DOT_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t wa = *(const tf_u32_unaligned *)(const void *)(a + i);
        const uint32_t wb = *(const tf_u32_unaligned *)(const void *)(b + i);
        s = __smlad(__sxtb16(wa), __sxtb16(wb), s);                     /* bytes 0 and 2 */
        s = __smlad(tf_sxtb16_ror8(wa), tf_sxtb16_ror8(wb), s); /* bytes 1 and 3 */
    }
#endif
    for (; i < n; i++) {
        s += (int32_t)a[i] * (int32_t)b[i];
    }
    return s;
}

/* Two dot products sharing one vector x (two output channels of the same pixel): the
 * input is loaded and unpacked once for both. */
static inline void tf_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                              int32_t *s0, int32_t *s1) {
    int32_t a = *s0, b = *s1;
    int32_t i = 0;
#if TF_DOT_USE_MVE
    for (; i < n; i += 16) {
        const mve_pred16_t m = vctp8q((uint32_t)(n - i));
        const int8x16_t vx = vld1q_z_s8(x + i, m);
        a = vmladavaq_p_s8(a, vx, vld1q_z_s8(w0 + i, m), m);
        b = vmladavaq_p_s8(b, vx, vld1q_z_s8(w1 + i, m), m);
    }
#elif TF_DOT_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xx = *(const tf_u32_unaligned *)(const void *)(x + i);
        const uint32_t v0 = *(const tf_u32_unaligned *)(const void *)(w0 + i);
        const uint32_t v1 = *(const tf_u32_unaligned *)(const void *)(w1 + i);
        const int32_t xe = __sxtb16(xx), xo = tf_sxtb16_ror8(xx);
        a = __smlad(xe, __sxtb16(v0), a);
        a = __smlad(xo, tf_sxtb16_ror8(v0), a);
        b = __smlad(xe, __sxtb16(v1), b);
        b = __smlad(xo, tf_sxtb16_ror8(v1), b);
    }
#endif
    for (; i < n; i++) {
        a += (int32_t)x[i] * (int32_t)w0[i];
        b += (int32_t)x[i] * (int32_t)w1[i];
    }
    *s0 = a;
    *s1 = b;
}

#endif /* TF_DOT_H */
