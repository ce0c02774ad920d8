/*
 * 1x1 convolution (stride 1, no padding, one group) with Helium: two pixels by four output
 * channels at a time (in_c % 16 == 0; else one pixel). Per 16 input channels, one load of
 * each pixel and one of each of the four filter rows feed eight VMLADAVA (16
 * multiply-accumulates each): 14 instructions for 128 MACs. Four sums become one vector,
 * requantized together with tf_requant.h's short form on four lanes (VQRDMULH is exactly
 * its h), from a per-layer table of multipliers, rounding constants and shifts.
 *
 * Other one-group windows over more than 16 taps (3x3 over 13 channels, 5x5, strided 1x1)
 * are a GEMM too: each output pixel's window gathered once (tf_conv_gather.c), then four
 * channels per pass.
 *
 * Pixels go in raster order, in blocks of at most two, and a block's outputs are written
 * after its inputs were read (never over them: the overlap rule keeps a block's outputs off
 * the inputs of its own and later pixels).
 */
#include "tf_conv_fast.h"

#if TF_CONV_MVE
#include <arm_mve.h>

#include "tf_requant.h"

#define TF_PW_MVE_MAX_OC 256

typedef struct {
    int32_t m[TF_PW_MVE_MAX_OC], rnd[TF_PW_MVE_MAX_OC], neg_e[TF_PW_MVE_MAX_OC];
} pw_mve_rq_t;

static inline void requant4(const pw_mve_rq_t *t, int32_t oc, int32x4_t acc, int32x4_t lo,
                            int32x4_t hi, int8_t *out) {
    vstrbq_s32(out, tf_rq_apply4(acc, t->m + oc, t->rnd + oc, t->neg_e + oc, lo, hi));
}

/* One pixel's K bytes at x against every filter row (K bytes each), four output channels
 * per pass: whole 16-byte blocks, then always one last block of 1 to 16 bytes loaded
 * predicated (no branch), so nothing past x[K - 1] or a row is read. Used where pixels
 * cannot be paired; not inlined, which measured faster on all three benchmark models. */
static __attribute__((noinline)) void pixel_all_oc(const tf_conv_params_t *p,
                                                   const int8_t *x, int32_t K,
                                                   const int8_t *filter, const int32_t *ebias,
                                                   const pw_mve_rq_t *t, int32x4_t lo,
                                                   int32x4_t hi, int8_t *o) {
    const int32_t OC = p->out_c, OC4 = OC & ~3, last = (K - 1) & ~15;
    const mve_pred16_t tail = vctp8q((uint32_t)(K - last));
    const int8x16_t xl = vld1q_z_s8(x + last, tail);
    const int8_t *w0 = filter;
    int32_t oc = 0;
    for (; oc < OC4; oc += 4, w0 += 4 * K) {
        const int8_t *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        int32_t a0 = ebias[oc], a1 = ebias[oc + 1], a2 = ebias[oc + 2], a3 = ebias[oc + 3];
        for (int32_t k = 0; k < last; k += 16) {
            const int8x16_t v = vld1q_s8(x + k);
            a0 = vmladavaq_s8(a0, v, vld1q_s8(w0 + k));
            a1 = vmladavaq_s8(a1, v, vld1q_s8(w1 + k));
            a2 = vmladavaq_s8(a2, v, vld1q_s8(w2 + k));
            a3 = vmladavaq_s8(a3, v, vld1q_s8(w3 + k));
        }
        a0 = vmladavaq_s8(a0, xl, vld1q_z_s8(w0 + last, tail));
        a1 = vmladavaq_s8(a1, xl, vld1q_z_s8(w1 + last, tail));
        a2 = vmladavaq_s8(a2, xl, vld1q_z_s8(w2 + last, tail));
        a3 = vmladavaq_s8(a3, xl, vld1q_z_s8(w3 + last, tail));
        requant4(t, oc, tf_lanes4(a0, a1, a2, a3), lo, hi, o + oc);
    }
    for (; oc < OC; oc++, w0 += K) { /* the last OC % 4 channels */
        int32_t a = ebias[oc];
        for (int32_t k = 0; k < last; k += 16) {
            a = vmladavaq_s8(a, vld1q_s8(x + k), vld1q_s8(w0 + k));
        }
        a = vmladavaq_s8(a, xl, vld1q_z_s8(w0 + last, tail));
        o[oc] = (int8_t)tf_clamp_i32(tf_rq_apply(a, t->m[oc], t->rnd[oc], -t->neg_e[oc]),
                                     p->act_min, p->act_max);
    }
}

/* in_c == 8 (a narrow expansion layer): one 16-byte load holds two channels' filter rows
 * and the pixel is loaded once into both halves, so two VMLADAV predicated on the low and
 * the high eight lanes give two channels' sums. */
static void pw_mve_c8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                      const int32_t *ebias, const pw_mve_rq_t *t, int8_t *output) {
    const int32_t OC = p->out_c, npix = p->batches * p->in_h * p->in_w;
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const mve_pred16_t low8 = 0x00FF, high8 = 0xFF00;
    static const uint8_t dup[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
    const uint8x16_t dup8 = vld1q_u8(dup);
    for (int32_t pix = 0; pix < npix; pix++) {
        const int8_t *xp = input + (size_t)pix * 8;
        /* the pixel's 8 bytes in both halves: one gather load */
        const int8x16_t x = vldrbq_gather_offset_s8(xp, dup8);
        int8_t *o = output + (size_t)pix * OC;
        const int8_t *w = filter;
        for (int32_t oc = 0; oc < OC; oc += 4, w += 32) {
            const int8x16_t w01 = vld1q_s8(w), w23 = vld1q_s8(w + 16);
            const int32_t a0 = vmladavaq_p_s8(ebias[oc], x, w01, low8);
            const int32_t a1 = vmladavaq_p_s8(ebias[oc + 1], x, w01, high8);
            const int32_t a2 = vmladavaq_p_s8(ebias[oc + 2], x, w23, low8);
            const int32_t a3 = vmladavaq_p_s8(ebias[oc + 3], x, w23, high8);
            int32x4_t acc = tf_lanes4(a0, a1, a2, a3);
            requant4(t, oc, acc, lo, hi, o + oc);
        }
    }
}

#define TF_GEMM_MVE_MAX_K 512

/* Any other one-group window (3x3 over 13 channels, 5x5, strided 1x1): each output pixel's
 * window gathered once (tf_conv_gather.c), then four channels per pass of VMLADAVA against
 * the filter rows (pixel_all_oc). */
static __attribute__((noinline)) void gemm_mve(const tf_conv_params_t *p,
                                                const int8_t *input, const int8_t *filter,
                    const int32_t *ebias, const pw_mve_rq_t *t, int8_t *output) {
    const int32_t K = p->k_h * p->k_w * p->in_c, OC = p->out_c;
    const int32_t npix = p->batches * p->out_h * p->out_w;
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    int8_t win[TF_GEMM_MVE_MAX_K + 4] __attribute__((aligned(16)));
    tf_gather_t g;
    tf_gather_init(&g, p, input, K); /* no zero padding: the last vector loads predicated */
    for (int32_t pix = 0; pix < npix; pix++) {
        tf_gather_next(&g, win);
        pixel_all_oc(p, win, K, filter, ebias, t, lo, hi, output + (size_t)pix * OC);
    }
}

/* the entry for windows other than an in-place 1x1 (0: not this kernel's case) */
static __attribute__((noinline)) int gemm_entry(const tf_conv_params_t *p, const int8_t *input,
                                                const int8_t *filter, const int32_t *ebias,
                                                const int32_t *mult, const int8_t *shift,
                                                int8_t *output) {
    const int32_t K = p->k_h * p->k_w * p->in_c;
    /* windows of at most 16 taps are tf_conv_window_mve.c's (one gather load each) */
    if (K <= 16 || K > TF_GEMM_MVE_MAX_K) {
        return 0;
    }
    pw_mve_rq_t t;
    tf_rq_tables(mult, shift, p->out_c, p->output_offset, t.m, t.rnd, t.neg_e);
    gemm_mve(p, input, filter, ebias, &t, output);
    return 1;
}

int tf_conv1x1_s8_mve(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                      const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                      int8_t *output) {
    if (!p->rq_fast || p->filter_in_c != p->in_c || p->out_c > TF_PW_MVE_MAX_OC) {
        return 0;
    }
    if (p->k_h != 1 || p->k_w != 1 || p->stride_h != 1 || p->stride_w != 1 ||
        p->pad_top != 0 || p->pad_left != 0 || p->in_h != p->out_h || p->in_w != p->out_w) {
        return gemm_entry(p, input, filter, ebias, mult, shift, output);
    }
    const int32_t C = p->in_c, OC = p->out_c, OC4 = OC & ~3;
    const int32_t C16 = C & ~15, tail = C - C16;
    const int32_t npix = p->batches * p->in_h * p->in_w;
    pw_mve_rq_t t;
    tf_rq_tables(mult, shift, OC, p->output_offset, t.m, t.rnd, t.neg_e);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    if (C == 8 && (OC & 3) == 0) {
        pw_mve_c8(p, input, filter, ebias, &t, output);
        return 1;
    }
    int32_t pix = 0;
    if (tail == 0) { /* two pixels by four channels: every filter load feeds two VMLADAVA */
        for (; pix + 2 <= npix; pix += 2) {
            const int8_t *xa = input + (size_t)pix * C, *xb = xa + C;
            int8_t *o = output + (size_t)pix * OC;
            const int8_t *w0 = filter;
            int32_t oc = 0;
            for (; oc < OC4; oc += 4, w0 += 4 * C) {
                const int8_t *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
                int32_t a0 = ebias[oc], a1 = ebias[oc + 1], a2 = ebias[oc + 2];
                int32_t a3 = ebias[oc + 3];
                int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
                for (int32_t k = 0; k < C16; k += 16) {
                    const int8x16_t va = vld1q_s8(xa + k), vb = vld1q_s8(xb + k);
                    int8x16_t w = vld1q_s8(w0 + k);
                    a0 = vmladavaq_s8(a0, va, w);
                    b0 = vmladavaq_s8(b0, vb, w);
                    w = vld1q_s8(w1 + k);
                    a1 = vmladavaq_s8(a1, va, w);
                    b1 = vmladavaq_s8(b1, vb, w);
                    w = vld1q_s8(w2 + k);
                    a2 = vmladavaq_s8(a2, va, w);
                    b2 = vmladavaq_s8(b2, vb, w);
                    w = vld1q_s8(w3 + k);
                    a3 = vmladavaq_s8(a3, va, w);
                    b3 = vmladavaq_s8(b3, vb, w);
                }
                int32x4_t acc = tf_lanes4(a0, a1, a2, a3);
                requant4(&t, oc, acc, lo, hi, o + oc);
                acc = tf_lanes4(b0, b1, b2, b3);
                requant4(&t, oc, acc, lo, hi, o + OC + oc);
            }
            for (; oc < OC; oc++, w0 += C) { /* the last OC % 4 channels */
                int32_t a = ebias[oc], b = a;
                for (int32_t k = 0; k < C16; k += 16) {
                    const int8x16_t w = vld1q_s8(w0 + k);
                    a = vmladavaq_s8(a, vld1q_s8(xa + k), w);
                    b = vmladavaq_s8(b, vld1q_s8(xb + k), w);
                }
                o[oc] = (int8_t)tf_clamp_i32(tf_rq_apply(a, t.m[oc], t.rnd[oc], -t.neg_e[oc]),
                                             p->act_min, p->act_max);
                o[OC + oc] = (int8_t)tf_clamp_i32(
                    tf_rq_apply(b, t.m[oc], t.rnd[oc], -t.neg_e[oc]), p->act_min, p->act_max);
            }
        }
    }
    for (; pix < npix; pix++) { /* the odd last pixel, or every pixel when C % 16 != 0 */
        pixel_all_oc(p, input + (size_t)pix * C, C, filter, ebias, &t, lo, hi,
                     output + (size_t)pix * OC);
    }
    return 1;
}
#else
typedef int tf_conv_pw_mve_unused;
#endif
