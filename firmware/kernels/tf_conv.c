#include "tf_conv.h"

#include "tf_dot.h"

#define dot_s8 tf_dot_s8

static inline int32_t sum_s8(const int8_t *a, int32_t n) {
    int32_t s = 0;
    for (int32_t i = 0; i < n; i++) {
        s += a[i];
    }
    return s;
}

static inline int8_t requant(const tf_conv_params_t *p, int32_t acc, int32_t mult, int32_t shift) {
    acc = tf_mbqm(acc, mult, shift) + p->output_offset;
    return (int8_t)tf_clamp_i32(acc, p->act_min, p->act_max);
}

void tf_conv2d_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                  int8_t *output) {
    const int32_t fic = p->filter_in_c;
    const int32_t groups = p->in_c / fic;
    const int32_t out_per_group = p->out_c / groups;
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
                for (int32_t oc = 0; oc < p->out_c; oc++) {
                    const int32_t ic0 = (oc / out_per_group) * fic;
                    const int8_t *f_oc = filter + (size_t)oc * p->k_h * row_len;
                    int32_t acc = ebias[oc];
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        const int8_t *w_row = f_oc + (size_t)ky * row_len;
                        if (inside && row_contiguous) {
                            acc += dot_s8(in_b + ((size_t)iy * p->in_w + ix0) * p->in_c,
                                          w_row, row_len);
                            continue;
                        }
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            const int8_t *w = w_row + (size_t)kx * fic;
                            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                acc -= p->input_offset * sum_s8(w, fic); /* padding tap */
                            } else {
                                acc += dot_s8(in_b + ((size_t)iy * p->in_w + ix) * p->in_c + ic0,
                                              w, fic);
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

void tf_depthwise_conv2d_s8(const tf_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                            const int8_t *shift, int8_t *output) {
    const int32_t dm = p->depth_multiplier;
    if (dm == 1) {
        depthwise_dm1(p, input, filter, ebias, mult, shift, output);
        return;
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
                                const int32_t w = filter[((size_t)ky * p->k_w + kx) * p->out_c + oc];
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
