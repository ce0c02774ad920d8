/*
 * Small windows (k_h * k_w * in_c <= 16 taps, like a 3x3 stem over one channel) with
 * Helium: each output pixel's whole window is one gather load (VLDRB with a vector of byte
 * offsets), taps in the padding are replaced by the input zero point with one VPSEL (which
 * with the folded bias contributes exactly nothing), and every output channel is one
 * VMLADAV against its filter row, laid out once per call as 16 bytes with zeros past the
 * window. Four channels' sums are requantized together (tf_requant.h's short form).
 *
 * Pixels go in raster order; each pixel's outputs are written after its window was read.
 */
#include "tf_conv_fast.h"

#if TF_CONV_MVE
#include <arm_mve.h>

#include "tf_requant.h"

#define TF_WIN_MVE_MAX_OC 64

int tf_conv_window_s8_mve(const tf_conv_params_t *p, const int8_t *input,
                          const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                          const int8_t *shift, int8_t *output) {
    const int32_t C = p->in_c, kh = p->k_h, kw = p->k_w, K = kh * kw * C, OC = p->out_c;
    const int32_t row = p->in_w * C;
    /* byte offsets of the taps from the window's corner must fit the gather's u8 */
    const int32_t span = (kh - 1) * p->dil_h * row + ((kw - 1) * p->dil_w + 1) * C - 1;
    if (!p->rq_fast || p->filter_in_c != C || K > 16 || K < 2 || span > 255 ||
        OC > TF_WIN_MVE_MAX_OC) {
        return 0;
    }
    uint8_t offs[16] = {0};
    int8_t w16[TF_WIN_MVE_MAX_OC][16] __attribute__((aligned(16)));
    int32_t m[TF_WIN_MVE_MAX_OC], rnd[TF_WIN_MVE_MAX_OC], neg_e[TF_WIN_MVE_MAX_OC];
    for (int32_t ky = 0, k = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) {
            for (int32_t c = 0; c < C; c++, k++) {
                offs[k] = (uint8_t)(ky * p->dil_h * row + kx * p->dil_w * C + c);
            }
        }
    }
    for (int32_t oc = 0; oc < OC; oc++) {
        for (int32_t k = 0; k < 16; k++) {
            w16[oc][k] = k < K ? filter[(size_t)oc * K + k] : 0;
        }
    }
    tf_rq_tables(mult, shift, OC, p->output_offset, m, rnd, neg_e);
    const uint8x16_t voffs = vld1q_u8(offs);
    const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const mve_pred16_t window = (mve_pred16_t)((1u << K) - 1u);
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            /* which kernel rows fall inside the input, as tap bits */
            uint32_t rows = 0;
            for (int32_t ky = 0; ky < kh; ky++) {
                const int32_t iy = iy0 + ky * p->dil_h;
                if (iy >= 0 && iy < p->in_h) {
                    rows |= ((1u << (kw * C)) - 1u) << (ky * kw * C);
                }
            }
            for (int32_t ox = 0; ox < p->out_w; ox++, out += OC) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                uint32_t valid = rows;
                if (ix0 < 0 || ix0 + (kw - 1) * p->dil_w >= p->in_w) {
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        if (ix < 0 || ix >= p->in_w) {
                            for (int32_t ky = 0; ky < kh; ky++) {
                                valid &= ~(((1u << C) - 1u) << ((ky * kw + kx) * C));
                            }
                        }
                    }
                }
                /* lanes outside the input are not loaded; they take the zero point */
                const int8_t *corner = in_b + (ptrdiff_t)iy0 * row + (ptrdiff_t)ix0 * C;
                const mve_pred16_t in = (mve_pred16_t)valid & window;
                const int8x16_t x = vpselq_s8(vldrbq_gather_offset_z_s8(corner, voffs, in), zp,
                                              in);
                int32_t oc = 0;
                for (; oc + 4 <= OC; oc += 4) {
                    const int32x4_t acc =
                        tf_lanes4(vmladavaq_s8(ebias[oc], x, vld1q_s8(w16[oc])),
                                  vmladavaq_s8(ebias[oc + 1], x, vld1q_s8(w16[oc + 1])),
                                  vmladavaq_s8(ebias[oc + 2], x, vld1q_s8(w16[oc + 2])),
                                  vmladavaq_s8(ebias[oc + 3], x, vld1q_s8(w16[oc + 3])));
                    vstrbq_s32(out + oc, tf_rq_apply4(acc, m + oc, rnd + oc, neg_e + oc, lo, hi));
                }
                for (; oc < OC; oc++) { /* the last OC % 4 channels */
                    const int32_t a = vmladavaq_s8(ebias[oc], x, vld1q_s8(w16[oc]));
                    out[oc] = (int8_t)tf_clamp_i32(tf_rq_apply(a, m[oc], rnd[oc], -neg_e[oc]),
                                                   p->act_min, p->act_max);
                }
            }
        }
    }
    return 1;
}
#else
typedef int tf_conv_window_mve_unused;
#endif
