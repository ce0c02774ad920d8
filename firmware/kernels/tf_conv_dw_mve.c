/*
 * Depthwise convolution (depth multiplier 1, in_c % 4 == 0) with Helium: four channels per
 * vector of int32 lanes, bytes widened by the loads (VLDRB.S32). Every tap of every
 * four-channel group is two loads, a VMUL and a VADD (MVE has no vector-by-vector
 * integer multiply-accumulate); a tap in the padding adds the zero point times the
 * weights (VMLA by a scalar), which with the folded bias is exactly TFLM's
 * "no contribution". The window's tap offsets are resolved once per output pixel. The sums
 * are requantized on four lanes with tf_requant.h's short form (VQRDMULH is its h).
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
    for (int32_t c = 0; c < C; c++) {
        const int32_t e = -(int32_t)shift[c];
        t.m[c] = mult[c];
        t.rnd[c] = tf_rq_rnd(e, p->output_offset);
        t.neg_e[c] = -e;
    }
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const int32_t zp = -p->input_offset;
    int32_t off[TF_DW_MVE_MAX_TAPS];
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++, out += C) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int inside = 1;
                for (int32_t ky = 0, k = 0; ky < p->k_h; ky++) {
                    const int32_t iy = iy0 + p->dil_h * ky;
                    for (int32_t kx = 0; kx < p->k_w; kx++, k++) {
                        const int32_t ix = ix0 + p->dil_w * kx;
                        const int in = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                        off[k] = in ? (iy * p->in_w + ix) * C : -1;
                        inside &= in;
                    }
                }
                for (int32_t c = 0; c < C; c += 4) {
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
                    int32x4_t h = vqrdmulhq_s32(acc, vld1q_s32(t.m + c));
                    h = vaddq_s32(h, vshrq_n_s32(h, 31));
                    h = vshlq_s32(vaddq_s32(h, vld1q_s32(t.rnd + c)), vld1q_s32(t.neg_e + c));
                    vstrbq_s32(out + c, vminq_s32(vmaxq_s32(h, lo), hi));
                }
            }
        }
    }
    return 1;
}
#else
typedef int tf_conv_dw_mve_unused;
#endif
