#include "tf_conv.h"

#include "tf_conv_fast.h"
#include "tf_dot.h"

static inline int32_t sum_s8(const int8_t *a, int32_t n) {
    int32_t s = 0;
    for (int32_t i = 0; i < n; i++) {
        s += a[i];
    }
    return s;
}

static inline int8_t requant(const tf_conv_params_t *p, int32_t acc, int32_t mult, int32_t shift) {
    acc = tf_mbqm_pos(acc, mult, shift) + p->output_offset; /* multipliers are >= 0 */
    return (int8_t)tf_clamp_i32(acc, p->act_min, p->act_max);
}

#if TF_DOT_USE_MVE
/* requant() on four lanes: VQRDMULH is exactly floor((a*b + 2^30) / 2^31), which is
 * tf_srdhm_pos (no saturation: the multiplier is >= 0); VRSHL by -e rounds ties up, so
 * negative values first drop by one when e > 0, which makes the ties go away from zero
 * like tf_rdbpot. Stores the four int8 results. */
static inline void requant4_mve(const tf_conv_params_t *p, int32x4_t acc, const int32_t *mult,
                                const int8_t *shift, int8_t *out) {
    const int32x4_t sh = vldrbq_s32(shift);
    const int32x4_t right = vminq_s32(sh, vdupq_n_s32(0)); /* -e, as VRSHL wants it */
    int32x4_t x = vshlq_s32(acc, vmaxq_s32(sh, vdupq_n_s32(0)));
    x = vqrdmulhq_s32(x, vld1q_s32(mult));
    x = vaddq_s32(x, vandq_s32(vshrq_n_s32(x, 31), vshrq_n_s32(right, 31)));
    x = vaddq_s32(vrshlq_s32(x, right), vdupq_n_s32(p->output_offset));
    x = vminq_s32(vmaxq_s32(x, vdupq_n_s32(p->act_min)), vdupq_n_s32(p->act_max));
    vstrbq_s32(out, x);
}
#endif

#if TF_DOT_USE_DSP
/* The most input channels the pointwise kernel widens into its stack buffer (2 KiB). */
#define TF_PW_MAX_C 512

/* 1x1 convolution, stride 1, no padding, one group, in_c a multiple of 4: a GEMM of
 * (pixels x in_c) by (in_c x out_c). Two pixels are widened once to int16 pairs in the
 * order SXTB16 produces from a filter word (bytes 0,2 then 1,3), interleaved so one
 * 4-word load brings both pixels' four channels; then every pair of output channels
 * costs per four input channels two filter loads, four SXTB16 and eight SMLAD
 * (Helium: 16 channels, two pixels and two output channels per four VMLADAVA).
 * Both pixels are fully read before either is written, so the raster-order write
 * contract of overlap.py holds. */
static void conv1x1_dsp(const tf_conv_params_t *pp, const int8_t *input, const int8_t *filter,
                        const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                        int8_t *output) {
    const tf_conv_params_t P = *pp, *p = &P; /* a local copy: int8 stores cannot alias it */
    const int32_t C = p->in_c, OC = p->out_c;
    const int32_t npix = p->batches * p->in_h * p->in_w;
#if TF_DOT_USE_MVE
    int8_t xb[2 * TF_PW_MAX_C];
#else
    uint32_t xb[TF_PW_MAX_C]; /* per 4 channels: pixel a even/odd, pixel b even/odd */
#endif
    for (int32_t pix = 0; pix < npix; pix += 2) {
        const int two = pix + 1 < npix;
        const int8_t *xa = input + (size_t)pix * C;
        const int8_t *xbp = two ? xa + C : xa;
#if TF_DOT_USE_MVE
        for (int32_t k = 0; k < C; k += 16) {
            const mve_pred16_t m = vctp8q((uint32_t)(C - k));
            vst1q_p_s8(xb + k, vld1q_z_s8(xa + k, m), m);
            vst1q_p_s8(xb + TF_PW_MAX_C + k, vld1q_z_s8(xbp + k, m), m);
        }
#else
        for (int32_t k = 0; k < C; k += 4) {
            const uint32_t wa = *(const tf_u32_unaligned *)(const void *)(xa + k);
            const uint32_t wb = *(const tf_u32_unaligned *)(const void *)(xbp + k);
            xb[k] = (uint32_t)__sxtb16(wa);
            xb[k + 1] = (uint32_t)tf_sxtb16_ror8(wa);
            xb[k + 2] = (uint32_t)__sxtb16(wb);
            xb[k + 3] = (uint32_t)tf_sxtb16_ror8(wb);
        }
#endif
        int8_t *oa = output + (size_t)pix * OC;
        int8_t *ob = oa + OC;
        int32_t oc = 0;
#if TF_DOT_USE_MVE
        /* four output channels at a time, so requantization runs on four lanes too */
        for (; oc + 4 <= OC; oc += 4) {
            const int8_t *w0 = filter + (size_t)oc * C;
            int32_t a0 = ebias[oc], a1 = ebias[oc + 1], a2 = ebias[oc + 2], a3 = ebias[oc + 3];
            int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
            for (int32_t k = 0; k < C; k += 16) {
                const mve_pred16_t m = vctp8q((uint32_t)(C - k));
                const int8x16_t va = vld1q_z_s8(xb + k, m);
                const int8x16_t vb = vld1q_z_s8(xb + TF_PW_MAX_C + k, m);
                const int8x16_t v0 = vld1q_z_s8(w0 + k, m), v1 = vld1q_z_s8(w0 + C + k, m);
                a0 = vmladavaq_p_s8(a0, va, v0, m);
                b0 = vmladavaq_p_s8(b0, vb, v0, m);
                a1 = vmladavaq_p_s8(a1, va, v1, m);
                b1 = vmladavaq_p_s8(b1, vb, v1, m);
                const int8x16_t v2 = vld1q_z_s8(w0 + 2 * C + k, m);
                const int8x16_t v3 = vld1q_z_s8(w0 + 3 * C + k, m);
                a2 = vmladavaq_p_s8(a2, va, v2, m);
                b2 = vmladavaq_p_s8(b2, vb, v2, m);
                a3 = vmladavaq_p_s8(a3, va, v3, m);
                b3 = vmladavaq_p_s8(b3, vb, v3, m);
            }
            const int32_t av[4] = {a0, a1, a2, a3}, bv[4] = {b0, b1, b2, b3};
            requant4_mve(p, vld1q_s32(av), mult + oc, shift + oc, oa + oc);
            if (two) {
                requant4_mve(p, vld1q_s32(bv), mult + oc, shift + oc, ob + oc);
            }
        }
#endif
        for (; oc + 2 <= OC; oc += 2) {
            const int8_t *w0 = filter + (size_t)oc * C;
            const int8_t *w1 = w0 + C;
            int32_t a0 = ebias[oc], a1 = ebias[oc + 1], b0 = a0, b1 = a1;
#if TF_DOT_USE_MVE
            for (int32_t k = 0; k < C; k += 16) {
                const mve_pred16_t m = vctp8q((uint32_t)(C - k));
                const int8x16_t va = vld1q_z_s8(xb + k, m);
                const int8x16_t vb = vld1q_z_s8(xb + TF_PW_MAX_C + k, m);
                const int8x16_t v0 = vld1q_z_s8(w0 + k, m), v1 = vld1q_z_s8(w1 + k, m);
                a0 = vmladavaq_p_s8(a0, va, v0, m);
                a1 = vmladavaq_p_s8(a1, va, v1, m);
                b0 = vmladavaq_p_s8(b0, vb, v0, m);
                b1 = vmladavaq_p_s8(b1, vb, v1, m);
            }
#else
            const uint32_t *x = xb;
            for (int32_t k = 0; k < C; k += 4, x += 4) {
                const uint32_t v0 = *(const tf_u32_unaligned *)(const void *)(w0 + k);
                const uint32_t v1 = *(const tf_u32_unaligned *)(const void *)(w1 + k);
                const int32_t e0 = __sxtb16(v0), o0 = tf_sxtb16_ror8(v0);
                a0 = __smlad((int32_t)x[0], e0, a0);
                a0 = __smlad((int32_t)x[1], o0, a0);
                b0 = __smlad((int32_t)x[2], e0, b0);
                b0 = __smlad((int32_t)x[3], o0, b0);
                const int32_t e1 = __sxtb16(v1), o1 = tf_sxtb16_ror8(v1);
                a1 = __smlad((int32_t)x[0], e1, a1);
                a1 = __smlad((int32_t)x[1], o1, a1);
                b1 = __smlad((int32_t)x[2], e1, b1);
                b1 = __smlad((int32_t)x[3], o1, b1);
            }
#endif
            oa[oc] = requant(p, a0, mult[oc], shift[oc]);
            oa[oc + 1] = requant(p, a1, mult[oc + 1], shift[oc + 1]);
            if (two) {
                ob[oc] = requant(p, b0, mult[oc], shift[oc]);
                ob[oc + 1] = requant(p, b1, mult[oc + 1], shift[oc + 1]);
            }
        }
        for (; oc < OC; oc++) {
            int32_t a0 = ebias[oc], b0 = a0;
            const int8_t *w0 = filter + (size_t)oc * C;
            for (int32_t k = 0; k < C; k++) {
                a0 += (int32_t)xa[k] * w0[k];
                b0 += (int32_t)xbp[k] * w0[k];
            }
            oa[oc] = requant(p, a0, mult[oc], shift[oc]);
            if (two) {
                ob[oc] = requant(p, b0, mult[oc], shift[oc]);
            }
        }
    }
}

/* The most taps (k_h * k_w * in_c) the small-window kernel gathers (1.5 KiB of stack). */
#define TF_SW_MAX_K 512

/* Convolutions with a small window, like a 3x3 stem over one input channel: each output
 * pixel's window is gathered once into int16 pairs (padding taps get the input zero
 * point, which with the folded bias contributes exactly nothing), ordered as SXTB16 unpacks
 * a filter word; every output channel then costs one filter load, two SXTB16 and two
 * SMLAD per four taps. */
static void conv_small_window_dsp(const tf_conv_params_t *pp, const int8_t *input,
                                  const int8_t *filter, const int32_t *ebias,
                                  const int32_t *mult, const int8_t *shift, int8_t *output) {
    const tf_conv_params_t P = *pp, *p = &P; /* a local copy: int8 stores cannot alias it */
    const int32_t C = p->in_c;
    const int32_t K = p->k_h * p->k_w * C;
    const int32_t K4 = K & ~3;
    const int8_t pad = (int8_t)(-p->input_offset);
    const int32_t row = p->k_w * C, span_h = (p->k_h - 1) * p->dil_h;
    int8_t win[TF_SW_MAX_K];
    uint32_t xw[TF_SW_MAX_K / 2];
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *wp = win;
                if (p->dil_w == 1 && iy0 >= 0 && ix0 >= 0 && iy0 + span_h < p->in_h &&
                    ix0 + p->k_w <= p->in_w) { /* inside: k_h runs of k_w * C bytes */
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        const int8_t *x = in_b + ((size_t)iy * p->in_w + ix0) * C;
                        int32_t j = 0;
                        for (; j + 4 <= row; j += 4) {
                            *(tf_u32_unaligned *)(void *)(wp + j) =
                                *(const tf_u32_unaligned *)(const void *)(x + j);
                        }
                        for (; j < row; j++) {
                            wp[j] = x[j];
                        }
                        wp += row;
                    }
                } else {
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                for (int32_t c = 0; c < C; c++) {
                                    *wp++ = pad;
                                }
                                continue;
                            }
                            const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * C;
                            for (int32_t c = 0; c < C; c++) {
                                *wp++ = x[c];
                            }
                        }
                    }
                }
#if TF_DOT_USE_MVE
                { /* the window as vectors of 16: one VMLADAV per channel and vector */
                    const int8_t *w = filter;
                    int32_t oc = 0;
                    for (; oc + 4 <= p->out_c; oc += 4, w += 4 * K) {
                        int32_t a0 = ebias[oc], a1 = ebias[oc + 1], a2 = ebias[oc + 2],
                                a3 = ebias[oc + 3];
                        for (int32_t k = 0; k < K; k += 16) {
                            const mve_pred16_t m = vctp8q((uint32_t)(K - k));
                            const int8x16_t vw = vld1q_z_s8(win + k, m);
                            a0 = vmladavaq_p_s8(a0, vw, vld1q_z_s8(w + k, m), m);
                            a1 = vmladavaq_p_s8(a1, vw, vld1q_z_s8(w + K + k, m), m);
                            a2 = vmladavaq_p_s8(a2, vw, vld1q_z_s8(w + 2 * K + k, m), m);
                            a3 = vmladavaq_p_s8(a3, vw, vld1q_z_s8(w + 3 * K + k, m), m);
                        }
                        const int32_t a[4] = {a0, a1, a2, a3};
                        requant4_mve(p, vld1q_s32(a), mult + oc, shift + oc, out + oc);
                    }
                    for (; oc < p->out_c; oc++, w += K) {
                        out[oc] = requant(p, ebias[oc] + tf_dot_s8(win, w, K), mult[oc],
                                          shift[oc]);
                    }
                    out += p->out_c;
                    continue;
                }
#endif
                for (int32_t k = 0; k < K4; k += 4) {
                    xw[k / 2] = (uint16_t)win[k] | ((uint32_t)(uint16_t)win[k + 2] << 16);
                    xw[k / 2 + 1] = (uint16_t)win[k + 1] | ((uint32_t)(uint16_t)win[k + 3] << 16);
                }
                const int8_t *w = filter;
                int32_t oc = 0;
                for (; oc + 2 <= p->out_c; oc += 2, w += 2 * K) { /* two channels share x */
                    int32_t a0 = ebias[oc], a1 = ebias[oc + 1];
                    const int8_t *w1 = w + K;
                    int32_t k = 0;
                    for (; k < K4; k += 4) {
                        const uint32_t v0 = *(const tf_u32_unaligned *)(const void *)(w + k);
                        const uint32_t v1 = *(const tf_u32_unaligned *)(const void *)(w1 + k);
                        const int32_t xe = (int32_t)xw[k / 2], xo = (int32_t)xw[k / 2 + 1];
                        a0 = __smlad(xe, __sxtb16(v0), a0);
                        a0 = __smlad(xo, tf_sxtb16_ror8(v0), a0);
                        a1 = __smlad(xe, __sxtb16(v1), a1);
                        a1 = __smlad(xo, tf_sxtb16_ror8(v1), a1);
                    }
                    for (; k < K; k++) {
                        a0 += (int32_t)win[k] * w[k];
                        a1 += (int32_t)win[k] * w1[k];
                    }
                    *out++ = requant(p, a0, mult[oc], shift[oc]);
                    *out++ = requant(p, a1, mult[oc + 1], shift[oc + 1]);
                }
                for (; oc < p->out_c; oc++, w += K) {
                    int32_t acc = ebias[oc];
                    int32_t k = 0;
                    for (; k < K4; k += 4) {
                        const uint32_t v = *(const tf_u32_unaligned *)(const void *)(w + k);
                        acc = __smlad((int32_t)xw[k / 2], __sxtb16(v), acc);
                        acc = __smlad((int32_t)xw[k / 2 + 1], tf_sxtb16_ror8(v), acc);
                    }
                    for (; k < K; k++) {
                        acc += (int32_t)win[k] * w[k];
                    }
                    *out++ = requant(p, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}
#endif /* TF_DOT_USE_DSP */

void tf_conv2d_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                  int8_t *output) {
    const int32_t fic = p->filter_in_c;
    const int32_t groups = p->in_c / fic;
    const int32_t out_per_group = p->out_c / groups;
#if TF_CONV_MVE
    if (tf_conv1x1_s8_mve(p, input, filter, ebias, mult, shift, output) ||
        tf_conv_window_s8_mve(p, input, filter, ebias, mult, shift, output)) {
        return;
    }
#endif
#if TF_CONV_FAST
    if (tf_conv1x1_s8_fast(p, input, filter, ebias, mult, shift, output) ||
        tf_conv_window_s8_fast(p, input, filter, ebias, mult, shift, output)) {
        return;
    }
#endif
#if TF_DOT_USE_DSP
    if (groups == 1 && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
        p->pad_top == 0 && p->pad_left == 0 && p->in_h == p->out_h && p->in_w == p->out_w &&
        fic % 4 == 0 && fic <= TF_PW_MAX_C) {
        conv1x1_dsp(p, input, filter, ebias, mult, shift, output);
        return;
    }
    if (groups == 1 && p->k_h * p->k_w * fic <= TF_SW_MAX_K && p->k_h * p->k_w > 1) {
        conv_small_window_dsp(p, input, filter, ebias, mult, shift, output);
        return;
    }
#endif
    const int32_t span_h = (p->k_h - 1) * p->dil_h;
    const int32_t span_w = (p->k_w - 1) * p->dil_w;
    /* with one group and dense columns, a kernel row is one contiguous run in memory */
    const int row_contiguous = groups == 1 && p->dil_w == 1;
    const int32_t row_len = p->k_w * fic;
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int inside_y = iy0 >= 0 && iy0 + span_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int inside = inside_y && ix0 >= 0 && ix0 + span_w < p->in_w;
                if (inside && row_contiguous) {
                    /* the common case: whole window in the input, each kernel row one run;
                     * two output channels per pass share the input loads */
                    const int8_t *x0 = in_b + ((size_t)iy0 * p->in_w + ix0) * p->in_c;
                    const size_t x_row = (size_t)p->dil_h * p->in_w * p->in_c;
                    const size_t f_oc = (size_t)p->k_h * row_len;
                    int32_t oc = 0;
                    for (; oc + 2 <= p->out_c; oc += 2) {
                        int32_t a = ebias[oc], b2 = ebias[oc + 1];
                        const int8_t *w0 = filter + (size_t)oc * f_oc;
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            tf_dot2_s8(x0 + ky * x_row, w0 + (size_t)ky * row_len,
                                       w0 + f_oc + (size_t)ky * row_len, row_len, &a, &b2);
                        }
                        *out++ = requant(p, a, mult[oc], shift[oc]);
                        *out++ = requant(p, b2, mult[oc + 1], shift[oc + 1]);
                    }
                    for (; oc < p->out_c; oc++) {
                        int32_t a = ebias[oc];
                        const int8_t *w0 = filter + (size_t)oc * f_oc;
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            a += tf_dot_s8(x0 + ky * x_row, w0 + (size_t)ky * row_len, row_len);
                        }
                        *out++ = requant(p, a, mult[oc], shift[oc]);
                    }
                    continue;
                }
                for (int32_t oc = 0; oc < p->out_c; oc++) {
                    const int32_t ic0 = (oc / out_per_group) * fic;
                    const int8_t *f_oc = filter + (size_t)oc * p->k_h * row_len;
                    int32_t acc = ebias[oc];
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        const int8_t *w_row = f_oc + (size_t)ky * row_len;
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            const int8_t *w = w_row + (size_t)kx * fic;
                            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                acc -= p->input_offset * sum_s8(w, fic); /* padding tap */
                            } else {
                                const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c;
                                acc += tf_dot_s8(x + ic0, w, fic);
                            }
                        }
                    }
                    *out++ = requant(p, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}

#define TF_DW_CHUNK 32

#if !TF_DOT_USE_DSP

/* depth_multiplier == 1: accumulate a run of channels at once, so every load is
 * contiguous in both the input and the filter */
static void depthwise_dm1(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                          int8_t *output) {
    const int32_t C = p->in_c;
    int32_t acc[TF_DW_CHUNK];
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * C;
                for (int32_t c0 = 0; c0 < C; c0 += TF_DW_CHUNK) {
                    const int32_t n = tf_min_i32(TF_DW_CHUNK, C - c0);
                    for (int32_t c = 0; c < n; c++) {
                        acc[c] = ebias[c0 + c];
                    }
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            const int8_t *w = filter + ((size_t)ky * p->k_w + kx) * C + c0;
                            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                for (int32_t c = 0; c < n; c++) {
                                    acc[c] -= p->input_offset * (int32_t)w[c];
                                }
                            } else {
                                const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * C + c0;
                                for (int32_t c = 0; c < n; c++) {
                                    acc[c] += (int32_t)x[c] * (int32_t)w[c];
                                }
                            }
                        }
                    }
                    for (int32_t c = 0; c < n; c++) {
                        out[c0 + c] = requant(p, acc[c], mult[c0 + c], shift[c0 + c]);
                    }
                }
            }
        }
    }
}

#endif /* !TF_DOT_USE_DSP */

#if TF_DOT_USE_DSP
#define TF_DW_MAX_TAPS 64

/* The channels [0, C & ~3) of one output pixel whose window lies inside the input; returns
 * how many it did. Inlined with a constant tap count, the tap loop unrolls. */
static inline __attribute__((always_inline)) int32_t
dw_inside(const tf_conv_params_t *p, const int8_t *in_b, const int32_t *tap_off, int32_t taps,
          const int8_t *filter, const int32_t *ebias, const int32_t *mult, const int8_t *shift,
          int8_t *out, int32_t C) {
    const int32_t C4 = C & ~3;
    int32_t c = 0;
#if !TF_DOT_USE_MVE
    if (taps == 9 && p->k_w == 3 && p->dil_w == 1) {
        /* 3x3: three row pointers and constant column steps instead of an offset table */
        const int32_t row = tap_off[3] - tap_off[0], C2 = 2 * C;
        for (; c < C4; c += 4) {
            int32_t a0 = ebias[c], a1 = ebias[c + 1], a2 = ebias[c + 2], a3 = ebias[c + 3];
            const int8_t *x = in_b + tap_off[0] + c;
            const int8_t *w = filter + c;
#define TF_DW_TAP(xp)                                                                     \
    do {                                                                                  \
        const uint32_t xx = *(const tf_u32_unaligned *)(const void *)(xp);                \
        const uint32_t ww = *(const tf_u32_unaligned *)(const void *)w;                   \
        const int32_t xe = __sxtb16(xx), xo = tf_sxtb16_ror8(xx);                         \
        const int32_t we = __sxtb16(ww), wo = tf_sxtb16_ror8(ww);                         \
        a0 = __smlabb(xe, we, a0);                                                        \
        a2 = __smlatt(xe, we, a2);                                                        \
        a1 = __smlabb(xo, wo, a1);                                                        \
        a3 = __smlatt(xo, wo, a3);                                                        \
        w += C;                                                                           \
    } while (0)
            for (int32_t ky = 0; ky < 3; ky++, x += row) {
                TF_DW_TAP(x);
                TF_DW_TAP(x + C);
                TF_DW_TAP(x + C2);
            }
#undef TF_DW_TAP
            out[c] = requant(p, a0, mult[c], shift[c]);
            out[c + 1] = requant(p, a1, mult[c + 1], shift[c + 1]);
            out[c + 2] = requant(p, a2, mult[c + 2], shift[c + 2]);
            out[c + 3] = requant(p, a3, mult[c + 3], shift[c + 3]);
        }
        return c;
    }
#endif
#if TF_DOT_USE_MVE
    for (; c < C4; c += 4) {
        int32x4_t acc = vld1q_s32(ebias + c);
        const int8_t *x = in_b + c;
        const int8_t *w = filter + c;
        for (int32_t t = 0; t < taps; t++, w += C) {
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x + tap_off[t]), vldrbq_s32(w)));
        }
        requant4_mve(p, acc, mult + c, shift + c, out + c);
    }
#else
    for (; c < C4; c += 4) {
        int32_t a0 = ebias[c], a1 = ebias[c + 1], a2 = ebias[c + 2], a3 = ebias[c + 3];
        const int8_t *x = in_b + c;
        const int8_t *w = filter + c;
        for (int32_t t = 0; t < taps; t++, w += C) {
            const uint32_t ww = *(const tf_u32_unaligned *)(const void *)w;
            const uint32_t xx = *(const tf_u32_unaligned *)(const void *)(x + tap_off[t]);
            const int32_t xe = __sxtb16(xx), xo = tf_sxtb16_ror8(xx);
            const int32_t we = __sxtb16(ww), wo = tf_sxtb16_ror8(ww);
            a0 = __smlabb(xe, we, a0);
            a2 = __smlatt(xe, we, a2);
            a1 = __smlabb(xo, wo, a1);
            a3 = __smlatt(xo, wo, a3);
        }
        out[c] = requant(p, a0, mult[c], shift[c]);
        out[c + 1] = requant(p, a1, mult[c + 1], shift[c + 1]);
        out[c + 2] = requant(p, a2, mult[c + 2], shift[c + 2]);
        out[c + 3] = requant(p, a3, mult[c + 3], shift[c + 3]);
    }
#endif
    return c;
}

/* depth_multiplier == 1 on cores with the DSP extension: the window's input offsets are
 * resolved once per output pixel (-1 marks a padding tap), then four channels at a time
 * are accumulated in registers with one word load each for input and filter and
 * SXTB16 + SMLABB/SMLATT. */
static void depthwise_dm1_dsp(const tf_conv_params_t *pp, const int8_t *input,
                              const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                              const int8_t *shift, int8_t *output) {
    const tf_conv_params_t P = *pp, *p = &P; /* a local copy: int8 stores cannot alias it */
    const int32_t C = p->in_c;
    const int32_t C4 = C & ~3;
    const int32_t taps = p->k_h * p->k_w;
    int32_t tap_off[TF_DW_MAX_TAPS];
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * C;
                int all_inside = 1;
                for (int32_t ky = 0, t = 0; ky < p->k_h; ky++) {
                    const int32_t iy = iy0 + p->dil_h * ky;
                    for (int32_t kx = 0; kx < p->k_w; kx++, t++) {
                        const int32_t ix = ix0 + p->dil_w * kx;
                        const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                        tap_off[t] = inside ? (iy * p->in_w + ix) * C : -1;
                        all_inside &= inside;
                    }
                }
                int32_t c = 0;
                if (all_inside) { /* no padding tap: the common case, 3x3 unrolled */
                    c = taps == 9 ? dw_inside(p, in_b, tap_off, 9, filter, ebias, mult, shift,
                                              out, C)
                                  : dw_inside(p, in_b, tap_off, taps, filter, ebias, mult,
                                              shift, out, C);
                }
#if TF_DOT_USE_MVE
                for (; c < C4; c += 4) { /* four int32 lanes, widening byte loads */
                    int32x4_t acc = vld1q_s32(ebias + c);
                    const int8_t *w = filter + c;
                    for (int32_t t = 0; t < taps; t++, w += C) {
                        const int32x4_t wv = vldrbq_s32(w);
                        if (tap_off[t] < 0) {
                            acc = vsubq_s32(acc, vmulq_n_s32(wv, p->input_offset));
                        } else {
                            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(in_b + tap_off[t] + c), wv));
                        }
                    }
                    requant4_mve(p, acc, mult + c, shift + c, out + c);
                }
#endif
                for (; c < C4; c += 4) {
                    int32_t a0 = ebias[c], a1 = ebias[c + 1], a2 = ebias[c + 2], a3 = ebias[c + 3];
                    const int8_t *w = filter + c;
                    for (int32_t t = 0; t < taps; t++, w += C) {
                        const uint32_t ww = *(const tf_u32_unaligned *)(const void *)w;
                        if (tap_off[t] < 0) { /* padding tap: undo the folded offset */
                            a0 -= p->input_offset * w[0];
                            a1 -= p->input_offset * w[1];
                            a2 -= p->input_offset * w[2];
                            a3 -= p->input_offset * w[3];
                            continue;
                        }
                        const uint32_t xx =
                            *(const tf_u32_unaligned *)(const void *)(in_b + tap_off[t] + c);
                        const int32_t xe = __sxtb16(xx), xo = tf_sxtb16_ror8(xx);
                        const int32_t we = __sxtb16(ww), wo = tf_sxtb16_ror8(ww);
                        a0 = __smlabb(xe, we, a0); /* byte 0 */
                        a2 = __smlatt(xe, we, a2); /* byte 2 */
                        a1 = __smlabb(xo, wo, a1); /* byte 1 */
                        a3 = __smlatt(xo, wo, a3); /* byte 3 */
                    }
                    out[c] = requant(p, a0, mult[c], shift[c]);
                    out[c + 1] = requant(p, a1, mult[c + 1], shift[c + 1]);
                    out[c + 2] = requant(p, a2, mult[c + 2], shift[c + 2]);
                    out[c + 3] = requant(p, a3, mult[c + 3], shift[c + 3]);
                }
                for (; c < C; c++) {
                    int32_t acc = ebias[c];
                    for (int32_t t = 0; t < taps; t++) {
                        const int32_t w = filter[(size_t)t * C + c];
                        acc += tap_off[t] < 0 ? -p->input_offset * w : in_b[tap_off[t] + c] * w;
                    }
                    out[c] = requant(p, acc, mult[c], shift[c]);
                }
            }
        }
    }
}
#endif

void tf_depthwise_conv2d_s8(const tf_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                            const int8_t *shift, int8_t *output) {
    const int32_t dm = p->depth_multiplier;
#if TF_CONV_MVE
    if (tf_depthwise_s8_mve(p, input, filter, ebias, mult, shift, output)) {
        return;
    }
#endif
#if TF_CONV_FAST
    if (tf_depthwise_s8_fast(p, input, filter, ebias, mult, shift, output)) {
        return;
    }
#endif
    if (dm == 1) {
#if TF_DOT_USE_DSP
        if (p->k_h * p->k_w <= TF_DW_MAX_TAPS) {
            depthwise_dm1_dsp(p, input, filter, ebias, mult, shift, output);
            return;
        }
#else
        depthwise_dm1(p, input, filter, ebias, mult, shift, output);
        return;
#endif
    }
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t ic = 0; ic < p->in_c; ic++) {
                    for (int32_t m = 0; m < dm; m++) {
                        const int32_t oc = ic * dm + m;
                        int32_t acc = ebias[oc];
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            for (int32_t kx = 0; kx < p->k_w; kx++) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                const int32_t w =
                                    filter[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                    acc -= p->input_offset * w;
                                } else {
                                    acc += in_b[((size_t)iy * p->in_w + ix) * p->in_c + ic] * w;
                                }
                            }
                        }
                        output[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            requant(p, acc, mult[oc], shift[oc]);
                    }
                }
            }
        }
    }
}

/* ---- 16x8: int16 activations (zero point 0), int8 weights, int64 bias ------------------ */

void tf_conv2d_s16(const tf_conv_params_t *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int8_t *shift,
                   int16_t *output) {
    const int32_t fic = p->filter_in_c;
    const int32_t groups = p->in_c / fic;
    const int32_t out_per_group = p->out_c / groups;
    int16_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int16_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < p->out_c; oc++) {
                    const int32_t ic0 = (oc / out_per_group) * fic;
                    const int8_t *f_oc = filter + (size_t)oc * p->k_h * p->k_w * fic;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h) {
                            continue; /* zero point 0: padding adds nothing */
                        }
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            const int16_t *x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c + ic0;
                            const int8_t *w = f_oc + ((size_t)ky * p->k_w + kx) * fic;
                            int32_t s = 0; /* 127 * 32768 * fic fits for fic < 512 */
                            for (int32_t ic = 0; ic < fic; ic++) {
                                s += (int32_t)x[ic] * (int32_t)w[ic];
                            }
                            acc += s;
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    const int32_t v = tf_mbqm64(acc, mult[oc], shift[oc]) + p->output_offset;
                    *out++ = (int16_t)tf_clamp_i32(v, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tf_depthwise_conv2d_s16(const tf_conv_params_t *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, const int32_t *mult,
                             const int8_t *shift, int16_t *output) {
    const int32_t dm = p->depth_multiplier;
    for (int32_t b = 0; b < p->batches; b++) {
        const int16_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t ic = 0; ic < p->in_c; ic++) {
                    for (int32_t m = 0; m < dm; m++) {
                        const int32_t oc = ic * dm + m;
                        int64_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < p->k_w; kx++) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                if (ix < 0 || ix >= p->in_w) {
                                    continue;
                                }
                                acc += (int32_t)in_b[((size_t)iy * p->in_w + ix) * p->in_c + ic] *
                                       (int32_t)filter[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        const int32_t v = tf_mbqm64(acc, mult[oc], shift[oc]) + p->output_offset;
                        output[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            (int16_t)tf_clamp_i32(v, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

void tf_transpose_conv_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *mult, const int8_t *shift,
                          int8_t *output) {
    const int32_t ic_n = p->in_c;
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * ic_n;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                for (int32_t oc = 0; oc < p->out_c; oc++) {
                    int32_t acc = 0;
                    /* input row iy reaches output row oy through filter row oy + pad - iy * s */
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t ty = oy + p->pad_top - ky;
                        if (ty < 0 || ty % p->stride_h != 0 || ty / p->stride_h >= p->in_h) {
                            continue;
                        }
                        const int32_t iy = ty / p->stride_h;
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t tx = ox + p->pad_left - kx;
                            if (tx < 0 || tx % p->stride_w != 0 || tx / p->stride_w >= p->in_w) {
                                continue;
                            }
                            const int32_t ix = tx / p->stride_w;
                            const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * ic_n;
                            const int8_t *w =
                                filter + (((size_t)oc * p->k_h + ky) * p->k_w + kx) * ic_n;
                            for (int32_t ic = 0; ic < ic_n; ic++) {
                                acc += ((int32_t)x[ic] + p->input_offset) * (int32_t)w[ic];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    *out++ = requant(p, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}
