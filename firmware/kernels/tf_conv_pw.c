/*
 * 1x1 convolution (stride 1, no padding, one group) on cores with the DSP extension:
 * a GEMM of (pixels x in_c) by (in_c x out_c) done as four pixels by one output channel.
 *
 * Four consecutive pixels are widened once into int16 pairs, in the order SXTB16
 * unpacks a filter word (channels 0,2 then 1,3 of every four), interleaved so that two
 * 4-register loads bring all four pixels' four channels. Every output channel then costs,
 * per four input channels, one filter load, two SXTB16, two LDM and eight SMLAD: 13
 * instructions for 16 multiply-accumulates, with the filter read in its stored order
 * (no re-layout, so no extra flash). Requantization is tf_requant.h's short form.
 *
 * All four pixels are read (widened) before any of their outputs is written, and blocks
 * go in raster order: the overlap contract of tinyflow/codegen/overlap.py (PIXEL_BLOCK 4).
 */
#include "tf_conv_fast.h"

#if TF_CONV_FAST
#include <arm_acle.h>

#include "tf_requant.h"

/* The most input channels the widened block holds (4 pixels x 256 x 2 bytes = 2 KiB) and
 * the most output channels whose requantization constants are tabled (3 KiB). */
#define TF_PW_FAST_MAX_C 256
#define TF_PW_FAST_MAX_OC 256

/* per output channel, in the order one LDM fetches them: the effective bias, the
 * multiplier doubled (mod 2^32: SMMLAR(acc, 2m, acc) is floor((acc m + 2^30) / 2^31), see
 * pw_block), tf_requant.h's rounding constant and the right shift */
typedef struct {
    int32_t bias, m2, rnd, e;
} pw_rq_t;

/* Widen pixels a..d (in_c channels each) into xb: per 4 channels, 8 words
 * (pixel a even/odd, b even/odd, c even/odd, d even/odd). */
static void widen4(const int8_t *a, const int8_t *b, const int8_t *c, const int8_t *d,
                   int32_t C, uint32_t *xb) {
    for (int32_t k = 0; k < C; k += 4, xb += 8) {
        const uint32_t va = *(const tf_u32_unaligned *)(const void *)(a + k);
        const uint32_t vb = *(const tf_u32_unaligned *)(const void *)(b + k);
        const uint32_t vc = *(const tf_u32_unaligned *)(const void *)(c + k);
        const uint32_t vd = *(const tf_u32_unaligned *)(const void *)(d + k);
        xb[0] = (uint32_t)__sxtb16(va);
        xb[1] = (uint32_t)tf_sxtb16_ror8(va);
        xb[2] = (uint32_t)__sxtb16(vb);
        xb[3] = (uint32_t)tf_sxtb16_ror8(vb);
        xb[4] = (uint32_t)__sxtb16(vc);
        xb[5] = (uint32_t)tf_sxtb16_ror8(vc);
        xb[6] = (uint32_t)__sxtb16(vd);
        xb[7] = (uint32_t)tf_sxtb16_ror8(vd);
    }
}

/* One pixel: per 4 channels, 2 words (even, odd). */
static void widen1(const int8_t *a, int32_t C, uint32_t *xb) {
    for (int32_t k = 0; k < C; k += 4, xb += 2) {
        const uint32_t va = *(const tf_u32_unaligned *)(const void *)(a + k);
        xb[0] = (uint32_t)__sxtb16(va);
        xb[1] = (uint32_t)tf_sxtb16_ror8(va);
    }
}

/* One step of four pixels: four filter bytes against the next 8 words of xb. */
#define TF_PW_STEP4                              \
    "ldr    %[w], [%[wp]], #4\n\t"               \
    "sxtb16 %[t], %[w]\n\t"                      \
    "sxtb16 %[w], %[w], ror #8\n\t"              \
    "ldmia  %[xp]!, {r8, r9, r10, r11}\n\t"      \
    "smlad  %[a0], r8, %[t], %[a0]\n\t"          \
    "smlad  %[a0], r9, %[w], %[a0]\n\t"          \
    "smlad  %[a1], r10, %[t], %[a1]\n\t"         \
    "smlad  %[a1], r11, %[w], %[a1]\n\t"         \
    "ldmia  %[xp]!, {r8, r9, r10, r11}\n\t"      \
    "smlad  %[a2], r8, %[t], %[a2]\n\t"          \
    "smlad  %[a2], r9, %[w], %[a2]\n\t"          \
    "smlad  %[a3], r10, %[t], %[a3]\n\t"         \
    "smlad  %[a3], r11, %[w], %[a3]\n\t"

#define TF_PW_OPERANDS4                                                              \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [wp] "+r"(wp),      \
        [xp] "+r"(xp), [w] "=&r"(w), [t] "=&r"(t)
#define TF_PW_CLOBBER "r8", "r9", "r10", "r11", "memory"

/* One step of one pixel. */
#define TF_PW_STEP1                              \
    "ldr    %[w], [%[wp]], #4\n\t"               \
    "ldmia  %[xp]!, {r8, r9}\n\t"                \
    "sxtb16 %[t], %[w]\n\t"                      \
    "sxtb16 %[w], %[w], ror #8\n\t"              \
    "smlad  %[a0], r8, %[t], %[a0]\n\t"          \
    "smlad  %[a0], r9, %[w], %[a0]\n\t"

static inline __attribute__((always_inline)) int8_t pw_out(int32_t acc, const pw_rq_t *q,
                                                           int32_t lo, int32_t hi,
                                                           int full_range) {
    const int32_t v = tf_rq_apply(acc, (int32_t)((uint32_t)q->m2 >> 1), q->rnd, q->e);
    return (int8_t)(full_range ? __ssat(v, 8) : tf_clamp_i32(v, lo, hi));
}

/* the last npix % 4 pixels, one at a time */
static void pw_tail(const tf_conv_params_t *p, const int8_t *x, const int8_t *filter,
                    const int32_t *ebias, const pw_rq_t *rq, int8_t *o, int32_t n,
                    uint32_t *xb) {
    const int32_t C = p->in_c, OC = p->out_c;
    const int full_range = p->act_min == -128 && p->act_max == 127;
    for (int32_t j = 0; j < n; j++, x += C) {
        widen1(x, C, xb);
        const int8_t *wp = filter;
        for (int32_t oc = 0; oc < OC; oc++) {
            int32_t a0 = ebias[oc];
            const uint32_t *xp = xb;
            uint32_t w, t;
            for (int32_t k = C >> 2; k > 0; k--) {
                __asm__ volatile(TF_PW_STEP1
                                 : [a0] "+r"(a0), [wp] "+r"(wp), [xp] "+r"(xp), [w] "=&r"(w),
                                   [t] "=&r"(t)
                                 :
                                 : "r8", "r9", "memory");
            }
            *o++ = pw_out(a0, &rq[oc], p->act_min, p->act_max, full_range);
        }
    }
}

/* What pw_block reads, at fixed offsets. */
typedef struct {
    const pw_rq_t *q;     /* 0: this channel's constants */
    const pw_rq_t *q_end; /* 4 */
    int8_t *o;            /* 8: this channel's output byte of the block's first pixel */
    int32_t stride;       /* 12: out_c, the distance to the next pixel's byte */
    const uint32_t *xb;   /* 16: the widened block */
    int32_t quads;        /* 20: in_c / 16 */
    int32_t rest;         /* 24: (in_c / 4) % 4 */
    const int8_t *w;      /* 28: the filter */
} pw_ctx_t;

/* Fixed registers: r0-r3 the four pixels' accumulators, r4 filter word, r5 its odd half,
 * r6 the widened block, r7 the filter, r8-r11 the block's words, lr the step counter. */
#define TF_PW_STEP4R                             \
    "ldr    r4, [r7], #4\n\t"                    \
    "sxtb16 r5, r4\n\t"                          \
    "sxtb16 r4, r4, ror #8\n\t"                  \
    "ldmia  r6!, {r8, r9, r10, r11}\n\t"         \
    "smlad  r0, r8, r5, r0\n\t"                  \
    "smlad  r0, r9, r4, r0\n\t"                  \
    "smlad  r1, r10, r5, r1\n\t"                 \
    "smlad  r1, r11, r4, r1\n\t"                 \
    "ldmia  r6!, {r8, r9, r10, r11}\n\t"         \
    "smlad  r2, r8, r5, r2\n\t"                  \
    "smlad  r2, r9, r4, r2\n\t"                  \
    "smlad  r3, r10, r5, r3\n\t"                 \
    "smlad  r3, r11, r4, r3\n\t"

/* acc -> int8 in r0..r3: h = SMMLAR(acc, 2m, acc) (the top word of acc 2^32 + acc (2m -
 * 2^32) + 2^31 is floor((2 acc m + 2^31) / 2^32), gemmlowp's doubling high multiply for
 * m > 0, for every int32 acc), then tf_requant.h's (h + (h >> 31) + rnd) >> e, saturated. */
#define TF_PW_RQ(r)                              \
    "smmlar " r ", " r ", r8, " r "\n\t"         \
    "add    " r ", " r ", " r ", asr #31\n\t"    \
    "add    " r ", " r ", r9\n\t"                \
    "asr    " r ", " r ", r10\n\t"               \
    "ssat   " r ", #8, " r "\n\t"

/* Every output channel of one block of four pixels, saturating epilogue (the activation
 * clamp is the int8 range). One asm statement so that the per-channel work (bias, loop
 * set-up, requantization, four stores) is a few dozen instructions with no spills. */
static void pw_block(pw_ctx_t *ctx) {
    register pw_ctx_t *c __asm__("r12") = ctx;
    __asm__ volatile(
        "ldr    r7, [r12, #28]\n\t"
        "1:\n\t"
        "ldr    r4, [r12, #0]\n\t"
        "ldr    r0, [r4]\n\t"
        "ldr    r6, [r12, #16]\n\t"
        "mov    r1, r0\n\t"
        "mov    r2, r0\n\t"
        "mov    r3, r0\n\t"
        "ldr    lr, [r12, #24]\n\t"
        "cmp    lr, #0\n\t"
        "beq    3f\n\t"
        "2:\n\t" TF_PW_STEP4R
        "subs   lr, lr, #1\n\t"
        "bne    2b\n\t"
        "3:\n\t"
        "ldr    lr, [r12, #20]\n\t"
        "cmp    lr, #0\n\t"
        "beq    5f\n\t"
        "4:\n\t" TF_PW_STEP4R TF_PW_STEP4R TF_PW_STEP4R TF_PW_STEP4R
        "subs   lr, lr, #1\n\t"
        "bne    4b\n\t"
        "5:\n\t"
        "ldr    r4, [r12, #0]\n\t"
        "ldmia  r4!, {r5, r8, r9, r10}\n\t"
        "str    r4, [r12, #0]\n\t"
        TF_PW_RQ("r0") TF_PW_RQ("r1") TF_PW_RQ("r2") TF_PW_RQ("r3")
        "ldrd   r4, r5, [r12, #8]\n\t"
        "strb   r0, [r4]\n\t"
        "strb   r1, [r4, r5]\n\t"
        "add    r11, r4, r5, lsl #1\n\t"
        "strb   r2, [r11]\n\t"
        "strb   r3, [r11, r5]\n\t"
        "adds   r4, r4, #1\n\t"
        "str    r4, [r12, #8]\n\t"
        "ldrd   r4, r5, [r12, #0]\n\t"
        "cmp    r4, r5\n\t"
        "bne    1b\n\t"
        :
        : "r"(c)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr",
          "cc", "memory");
}

static inline __attribute__((always_inline)) void pw_layer(const tf_conv_params_t *p,
                                                           const int8_t *input,
                                                           const int8_t *filter,
                                                           const int32_t *ebias,
                                                           const pw_rq_t *rq, int8_t *output,
                                                           uint32_t *xb, int full_range) {
    const int32_t C = p->in_c, OC = p->out_c;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t npix = p->batches * p->in_h * p->in_w;
    const int32_t quads = C >> 4, rest = (C >> 2) & 3;
    int32_t pix = 0;
    for (; pix + 4 <= npix; pix += 4) {
        const int8_t *x0 = input + (size_t)pix * C;
        widen4(x0, x0 + C, x0 + 2 * C, x0 + 3 * C, C, xb);
        int8_t *o = output + (size_t)pix * OC;
        if (full_range) {
            pw_ctx_t ctx = {rq, rq + OC, o, OC, xb, quads, rest, filter};
            pw_block(&ctx);
            continue;
        }
        const int8_t *wp = filter;
        const pw_rq_t *q = rq;
        for (int32_t oc = 0; oc < OC; oc++, o++, q++) {
            int32_t a0 = ebias[oc], a1 = a0, a2 = a0, a3 = a0;
            const uint32_t *xp = xb;
            uint32_t w, t;
            for (int32_t k = rest; k > 0; k--) {
                __asm__ volatile(TF_PW_STEP4 : TF_PW_OPERANDS4 : : TF_PW_CLOBBER);
            }
            for (int32_t k = quads; k > 0; k--) {
                __asm__ volatile(TF_PW_STEP4 TF_PW_STEP4 TF_PW_STEP4 TF_PW_STEP4
                                 : TF_PW_OPERANDS4 : : TF_PW_CLOBBER);
            }
            o[0] = pw_out(a0, q, lo, hi, full_range);
            o[OC] = pw_out(a1, q, lo, hi, full_range);
            o[2 * OC] = pw_out(a2, q, lo, hi, full_range);
            o[3 * OC] = pw_out(a3, q, lo, hi, full_range);
        }
    }
    if (pix < npix) {
        pw_tail(p, input + (size_t)pix * C, filter, ebias, rq, output + (size_t)pix * OC,
                npix - pix, xb);
    }
}

int tf_conv1x1_s8_fast(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                       int8_t *output) {
    if (!p->rq_fast || p->k_h != 1 || p->k_w != 1 || p->stride_h != 1 || p->stride_w != 1 ||
        p->pad_top != 0 || p->pad_left != 0 || p->filter_in_c != p->in_c ||
        p->in_h != p->out_h || p->in_w != p->out_w || (p->in_c & 3) != 0 ||
        p->in_c > TF_PW_FAST_MAX_C || p->out_c > TF_PW_FAST_MAX_OC) {
        return 0;
    }
    pw_rq_t rq[TF_PW_FAST_MAX_OC];
    uint32_t xb[2 * TF_PW_FAST_MAX_C];
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        const int32_t e = -(int32_t)shift[oc];
        rq[oc] = (pw_rq_t){ebias[oc], (int32_t)((uint32_t)mult[oc] << 1),
                           tf_rq_rnd(e, p->output_offset), e};
    }
    if (p->act_min == -128 && p->act_max == 127) {
        pw_layer(p, input, filter, ebias, rq, output, xb, 1);
    } else {
        pw_layer(p, input, filter, ebias, rq, output, xb, 0);
    }
    return 1;
}
#else
typedef int tf_conv_pw_unused;
#endif
