/*
 * Convolutions with one group on cores with the DSP extension, as a GEMM of
 * (output pixels x window) by (window x out_c), four pixels by one output channel at a time.
 *
 * A 1x1 stride-1 convolution over in_c % 4 == 0 channels reads its pixels in place; any
 * other window (3x3 over many channels, a 1x1 over 13) is first gathered per output pixel
 * into a contiguous int8 window (padding taps take the input zero point, which with the
 * folded bias contributes exactly nothing), zero-extended to a multiple of four.
 * Four pixels' windows are then widened once into int16 pairs, in the order SXTB16 unpacks
 * a filter word (taps 0,2 then 1,3 of every four), interleaved so that two 4-register
 * loads bring all four pixels' four taps. Every output channel costs, per four taps, one
 * filter load, two SXTB16, two LDM and eight SMLAD: 13 instructions for 16
 * multiply-accumulates, with the filter read in its stored order (no re-layout, no extra
 * flash). A window of K taps with K % 4 != 0 reads up to 3 filter bytes past each row;
 * they meet the zero extension, and the code generator pads such filters by 3 bytes.
 * Requantization is tf_requant.h's short form.
 *
 * All four pixels' windows are read before any of their outputs is written, and blocks go
 * in raster order: the overlap contract of tinyflow/codegen/overlap.py (PIXEL_BLOCK 4).
 */
#include "tf_conv_fast.h"

#if TF_CONV_FAST
#include <arm_acle.h>

#include "tf_requant.h"

/* The longest window the widened block holds (4 pixels x 256 x 2 bytes = 2 KiB, plus 1 KiB
 * of gathered windows) and the most output channels whose constants are tabled (4 KiB). */
#define TF_PW_FAST_MAX_C 256
#define TF_PW_FAST_MAX_OC 256

/* per output channel, in the order one LDM fetches them: the effective bias, the
 * multiplier doubled (mod 2^32: SMMLAR(acc, 2m, acc) is floor((acc m + 2^30) / 2^31), see
 * pw_block), tf_requant.h's rounding constant and the right shift */
typedef struct {
    int32_t bias, m2, rnd, e;
} pw_rq_t;

/* Widen pixels a..d (in_c channels each) into xb: per 4 channels, 8 words
 * (pixel a even/odd, b even/odd, c even/odd, d even/odd): 14 instructions per step. */
static void widen4(const int8_t *a, const int8_t *b, const int8_t *c, const int8_t *d,
                   int32_t C, uint32_t *xb) {
    for (int32_t k = C >> 2; k > 0; k--) {
        __asm__ volatile("ldr    r4, [%[a]], #4\n\t"
                         "sxtb16 r5, r4, ror #8\n\t"
                         "sxtb16 r4, r4\n\t"
                         "ldr    r6, [%[b]], #4\n\t"
                         "sxtb16 r7, r6, ror #8\n\t"
                         "sxtb16 r6, r6\n\t"
                         "stmia  %[xb]!, {r4, r5, r6, r7}\n\t"
                         "ldr    r4, [%[c]], #4\n\t"
                         "sxtb16 r5, r4, ror #8\n\t"
                         "sxtb16 r4, r4\n\t"
                         "ldr    r6, [%[d]], #4\n\t"
                         "sxtb16 r7, r6, ror #8\n\t"
                         "sxtb16 r6, r6\n\t"
                         "stmia  %[xb]!, {r4, r5, r6, r7}\n\t"
                         : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [xb] "+r"(xb)
                         :
                         : "r4", "r5", "r6", "r7", "memory");
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

/* one pixel's window, K4 taps widened into xb; every output channel */
static void pw_one(const tf_conv_params_t *p, const int8_t *x, const int8_t *filter,
                   const pw_rq_t *rq, int8_t *o, int32_t K, int32_t K4, uint32_t *xb) {
    const int full_range = p->act_min == -128 && p->act_max == 127;
    widen1(x, K4, xb);
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        int32_t a0 = rq[oc].bias;
        const int8_t *wp = filter + (size_t)oc * K;
        const uint32_t *xp = xb;
        uint32_t w, t;
        for (int32_t k = K4 >> 2; k > 0; k--) {
            __asm__ volatile(TF_PW_STEP1
                             : [a0] "+r"(a0), [wp] "+r"(wp), [xp] "+r"(xp), [w] "=&r"(w),
                               [t] "=&r"(t)
                             :
                             : "r8", "r9", "memory");
        }
        *o++ = pw_out(a0, &rq[oc], p->act_min, p->act_max, full_range);
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
    int32_t wadj;         /* 32: K4 - K, the filter bytes read past each row */
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
#define TF_PW_BLOCK(name, adjust)                                                               \
static void name(pw_ctx_t *ctx) {                                                               \
    register pw_ctx_t *c __asm__("r12") = ctx;                                                  \
    __asm__ volatile(                                                                           \
        "ldr    r7, [r12, #28]\n\t"                                                             \
        "1:\n\t"                                                                                \
        "ldr    r4, [r12, #0]\n\t"                                                              \
        "ldr    r0, [r4]\n\t"                                                                   \
        "ldr    r6, [r12, #16]\n\t"                                                             \
        "mov    r1, r0\n\t"                                                                     \
        "mov    r2, r0\n\t"                                                                     \
        "mov    r3, r0\n\t"                                                                     \
        "ldr    lr, [r12, #24]\n\t"                                                             \
        "cmp    lr, #0\n\t"                                                                     \
        "beq    3f\n\t"                                                                         \
        "2:\n\t" TF_PW_STEP4R                                                                   \
        "subs   lr, lr, #1\n\t"                                                                 \
        "bne    2b\n\t"                                                                         \
        "3:\n\t"                                                                                \
        "ldr    lr, [r12, #20]\n\t"                                                             \
        "cmp    lr, #0\n\t"                                                                     \
        "beq    5f\n\t"                                                                         \
        "4:\n\t" TF_PW_STEP4R TF_PW_STEP4R TF_PW_STEP4R TF_PW_STEP4R                            \
        "subs   lr, lr, #1\n\t"                                                                 \
        "bne    4b\n\t"                                                                         \
        "5:\n\t"                                                                                \
        "ldr    r4, [r12, #0]\n\t"                                                              \
        "ldmia  r4!, {r5, r8, r9, r10}\n\t"                                                     \
        "str    r4, [r12, #0]\n\t"                                                              \
        TF_PW_RQ("r0") TF_PW_RQ("r1") TF_PW_RQ("r2") TF_PW_RQ("r3")                             \
        "ldrd   r4, r5, [r12, #8]\n\t"                                                          \
        "strb   r0, [r4]\n\t"                                                                   \
        "strb   r1, [r4, r5]\n\t"                                                               \
        "add    r11, r4, r5, lsl #1\n\t"                                                        \
        "strb   r2, [r11]\n\t"                                                                  \
        "strb   r3, [r11, r5]\n\t"                                                              \
        "adds   r4, r4, #1\n\t"                                                                 \
        "str    r4, [r12, #8]\n\t"                                                              \
        adjust                                                                                  \
        "ldrd   r4, r5, [r12, #0]\n\t"                                                          \
        "cmp    r4, r5\n\t"                                                                     \
        "bne    1b\n\t"                                                                         \
        :                                                                                       \
        : "r"(c)                                                                                \
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr",       \
          "cc", "memory");                                                                      \
}

/* K % 4 == 0: the filter rows follow each other; otherwise step back over the 1-3 bytes
 * each row's last word read from the next one */
TF_PW_BLOCK(pw_block, "")
TF_PW_BLOCK(pw_block_adj, "ldr r5, [r12, #32]\n\tsubs r7, r7, r5\n\t")

static void pw_layer(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                     const pw_rq_t *rq, int8_t *output, int in_place, uint32_t *xb,
                     int8_t *win) {
    const int32_t OC = p->out_c;
    const int32_t K = p->k_h * p->k_w * p->in_c, K4 = (K + 3) & ~3;
    const int32_t npix = p->batches * p->out_h * p->out_w;
    const int full_range = p->act_min == -128 && p->act_max == 127;
    const int32_t lo = p->act_min, hi = p->act_max;
    tf_gather_t g;
    tf_gather_init(&g, p, input, K4);
    int32_t pix = 0;
    for (; pix + 4 <= npix; pix += 4) {
        const int8_t *x[4];
        for (int32_t j = 0; j < 4; j++) {
            if (in_place) {
                x[j] = input + (size_t)(pix + j) * K;
            } else {
                tf_gather_next(&g, win + j * K4);
                x[j] = win + j * K4;
            }
        }
        widen4(x[0], x[1], x[2], x[3], K4, xb);
        int8_t *o = output + (size_t)pix * OC;
        if (full_range) {
            pw_ctx_t ctx = {rq, rq + OC, o, OC, xb, K4 >> 4, (K4 >> 2) & 3, filter, K4 - K};
            if (K4 == K) {
                pw_block(&ctx);
            } else {
                pw_block_adj(&ctx);
            }
            continue;
        }
        for (int32_t oc = 0; oc < OC; oc++, o++) {
            const pw_rq_t *q = &rq[oc];
            int32_t a0 = q->bias, a1 = a0, a2 = a0, a3 = a0;
            const int8_t *wp = filter + (size_t)oc * K;
            const uint32_t *xp = xb;
            uint32_t w, t;
            for (int32_t k = K4 >> 2; k > 0; k--) {
                __asm__ volatile(TF_PW_STEP4 : TF_PW_OPERANDS4 : : TF_PW_CLOBBER);
            }
            o[0] = pw_out(a0, q, lo, hi, 0);
            o[OC] = pw_out(a1, q, lo, hi, 0);
            o[2 * OC] = pw_out(a2, q, lo, hi, 0);
            o[3 * OC] = pw_out(a3, q, lo, hi, 0);
        }
    }
    for (; pix < npix; pix++) { /* the last npix % 4 pixels, one at a time */
        const int8_t *x = input + (size_t)pix * K;
        if (!in_place) {
            tf_gather_next(&g, win);
            x = win;
        }
        pw_one(p, x, filter, rq, output + (size_t)pix * OC, K, K4, xb);
    }
}

int tf_conv1x1_s8_fast(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                       int8_t *output) {
    const int32_t K = p->k_h * p->k_w * p->in_c;
    if (!p->rq_fast || p->filter_in_c != p->in_c || K > TF_PW_FAST_MAX_C ||
        p->out_c > TF_PW_FAST_MAX_OC) {
        return 0;
    }
    const int in_place = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 &&
                         p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
                         p->in_h == p->out_h && p->in_w == p->out_w && (K & 3) == 0;
    /* a window over few channels (a stem over 1 or 3) is tf_conv_window.c's case */
    if (!in_place && p->in_c < 8) {
        return 0;
    }
    pw_rq_t rq[TF_PW_FAST_MAX_OC];
    uint32_t xb[2 * TF_PW_FAST_MAX_C];
    int8_t win[4 * TF_PW_FAST_MAX_C + 4] __attribute__((aligned(4)));
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        const int32_t e = -(int32_t)shift[oc];
        rq[oc] = (pw_rq_t){ebias[oc], (int32_t)((uint32_t)mult[oc] << 1),
                           tf_rq_rnd(e, p->output_offset), e};
    }
    pw_layer(p, input, filter, rq, output, in_place, xb, win);
    return 1;
}
#else
typedef int tf_conv_pw_unused;
#endif
