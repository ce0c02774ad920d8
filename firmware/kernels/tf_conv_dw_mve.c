/*
 * Depthwise convolution (depth multiplier 1, in_c % 4 == 0) with Helium.
 *
 * Eight channels per step as int16 lanes: per tap one widening load each of input and
 * filter (VLDRB.S16), VMULLB/VMULLT give the even and the odd channels' products as int32,
 * and two adds accumulate them. The sums come out in the order 0,2,4,6 | 1,3,5,7, so the
 * per-channel constants and biases are laid out in that order once per call and the
 * results go back with two scatter stores. A last group of four channels uses int32
 * lanes (VLDRB.S32, VMUL, VADD). A tap in the padding reads the input zero point, which
 * with the folded bias is exactly TFLM's "no contribution". Requantization is
 * tf_requant.h's short form on four lanes (VQRDMULH is its h). Inside the input, a
 * pixel's tap offsets are the layer's, moved to it.
 *
 * Pixels go in raster order and each pixel's outputs are written after its window was read.
 */
#include "tf_conv_fast.h"

#if TF_CONV_MVE
#include <arm_mve.h>

#include "tf_requant.h"

#define TF_DW_MVE_MAX_C 256
#define TF_DW_MVE_MAX_TAPS 25

typedef struct {
    int32_t m[TF_DW_MVE_MAX_C], rnd[TF_DW_MVE_MAX_C], neg_e[TF_DW_MVE_MAX_C];
    /* the same (and the bias) per eight channels in the order VMULLB/VMULLT leave them:
     * channels 0, 2, 4, 6, then 1, 3, 5, 7 */
    int32_t pm[TF_DW_MVE_MAX_C], prnd[TF_DW_MVE_MAX_C], pneg_e[TF_DW_MVE_MAX_C];
    int32_t pbias[TF_DW_MVE_MAX_C];
} dw_mve_rq_t;



int tf_depthwise_s8_mve(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                        const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                        int8_t *output) {
    const int32_t C = p->in_c, taps = p->k_h * p->k_w;
    if (!p->rq_fast || p->depth_multiplier != 1 || (C & 3) != 0 || C > TF_DW_MVE_MAX_C ||
        taps > TF_DW_MVE_MAX_TAPS) {
        return 0;
    }
    dw_mve_rq_t t;
    tf_rq_tables(mult, shift, C, p->output_offset, t.m, t.rnd, t.neg_e);
    const int32_t C8 = C & ~7;
    for (int32_t c = 0; c < C8; c++) {
        const int32_t g = c & ~7, j = c & 7;
        const int32_t src = g + (j < 4 ? 2 * j : 2 * (j - 4) + 1);
        t.pm[c] = t.m[src];
        t.prnd[c] = t.rnd[src];
        t.pneg_e[c] = t.neg_e[src];
        t.pbias[c] = ebias[src];
    }
    static const uint32_t even[4] = {0, 2, 4, 6};
    const uint32x4_t voff = vld1q_u32(even);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const int32_t zp = -p->input_offset;
    const int16x8_t zp16 = vdupq_n_s16((int16_t)zp);
    int32_t off[TF_DW_MVE_MAX_TAPS], rel[TF_DW_MVE_MAX_TAPS];
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    for (int32_t ky = 0, k = 0; ky < p->k_h; ky++) {
        for (int32_t kx = 0; kx < p->k_w; kx++, k++) {
            rel[k] = (ky * p->dil_h * p->in_w + kx * p->dil_w) * C;
        }
    }
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++, out += C) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int inside = iy0 >= 0 && iy0 + span_h < p->in_h && ix0 >= 0 &&
                                   ix0 + span_w < p->in_w;
                if (inside) { /* the window's offsets are the layer's, moved to this pixel */
                    const int32_t base = (iy0 * p->in_w + ix0) * C;
                    for (int32_t k = 0; k < taps; k++) {
                        off[k] = base + rel[k];
                    }
                }
                for (int32_t ky = 0, k = 0; !inside && ky < p->k_h; ky++) {
                    const int32_t iy = iy0 + p->dil_h * ky;
                    for (int32_t kx = 0; kx < p->k_w; kx++, k++) {
                        const int32_t ix = ix0 + p->dil_w * kx;
                        const int in = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                        off[k] = in ? (iy * p->in_w + ix) * C : -1;
                    }
                }
                int32_t c0 = 0;
                { /* eight channels per step as int16 lanes: VMULLB + VMULLT */
                    for (; c0 < C8; c0 += 8) {
                        int32x4_t ae = vld1q_s32(t.pbias + c0), ao = vld1q_s32(t.pbias + c0 + 4);
                        const int8_t *w = filter + c0;
                        const int8_t *x = in_b + c0;
                        if (inside) {
                            for (int32_t k = 0; k < taps; k++, w += C) {
                                const int16x8_t wv = vldrbq_s16(w);
                                const int16x8_t xv = vldrbq_s16(x + off[k]);
                                ae = vaddq_s32(ae, vmullbq_int_s16(xv, wv));
                                ao = vaddq_s32(ao, vmulltq_int_s16(xv, wv));
                            }
                        } else { /* a tap in the padding reads the zero point */
                            for (int32_t k = 0; k < taps; k++, w += C) {
                                const int16x8_t wv = vldrbq_s16(w);
                                const int16x8_t xv = off[k] < 0 ? zp16 : vldrbq_s16(x + off[k]);
                                ae = vaddq_s32(ae, vmullbq_int_s16(xv, wv));
                                ao = vaddq_s32(ao, vmulltq_int_s16(xv, wv));
                            }
                        }
                        vstrbq_scatter_offset_s32(
                            out + c0, voff,
                            tf_rq_apply4(ae, t.pm + c0, t.prnd + c0, t.pneg_e + c0, lo, hi));
                        vstrbq_scatter_offset_s32(out + c0 + 1, voff,
                                                  tf_rq_apply4(ao, t.pm + c0 + 4, t.prnd + c0 + 4,
                                                               t.pneg_e + c0 + 4, lo, hi));
                    }
                }
                for (int32_t c = c0; c < C; c += 4) {
                    int32x4_t acc = vld1q_s32(ebias + c);
                    const int8_t *w = filter + c;
                    const int8_t *x = in_b + c;
                    if (inside) {
                        for (int32_t k = 0; k < taps; k++, w += C) {
                            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x + off[k]),
                                                           vldrbq_s32(w)));
                        }
                    } else {
                        for (int32_t k = 0; k < taps; k++, w += C) {
                            const int32x4_t wv = vldrbq_s32(w);
                            acc = off[k] < 0 ? vmlaq_n_s32(acc, wv, zp)
                                             : vaddq_s32(acc, vmulq_s32(vldrbq_s32(x + off[k]),
                                                                        wv));
                        }
                    }
                    vstrbq_s32(out + c, tf_rq_apply4(acc, t.m + c, t.rnd + c, t.neg_e + c, lo, hi));
                }
            }
        }
    }
    return 1;
}
#else
typedef int tf_conv_dw_mve_unused;
#endif
