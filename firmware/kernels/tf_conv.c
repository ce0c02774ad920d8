#include "tf_conv.h"

void tf_conv2d_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, const int32_t *mult, const int32_t *shift,
                  int8_t *output) {
    const int32_t groups = p->in_c / p->filter_in_c;
    const int32_t out_per_group = p->out_c / groups;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < p->out_c; oc++) {
                    const int32_t ic0 = (oc / out_per_group) * p->filter_in_c;
                    const int8_t *f_oc = filter + (size_t)oc * p->k_h * p->k_w * p->filter_in_c;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h) {
                            continue; /* padding contributes (zp + offset) * w = 0 */
                        }
                        for (int32_t kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            const int8_t *px = in_b + ((size_t)iy * p->in_w + ix) * p->in_c + ic0;
                            const int8_t *w = f_oc + ((size_t)ky * p->k_w + kx) * p->filter_in_c;
                            for (int32_t ic = 0; ic < p->filter_in_c; ic++) {
                                acc += ((int32_t)px[ic] + p->input_offset) * (int32_t)w[ic];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = tf_mbqm(acc, mult[oc], shift[oc]) + p->output_offset;
                    acc = tf_clamp_i32(acc, p->act_min, p->act_max);
                    output[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                        (int8_t)acc;
                }
            }
        }
    }
}

void tf_depthwise_conv2d_s8(const tf_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, const int32_t *mult,
                            const int32_t *shift, int8_t *output) {
    const int32_t dm = p->depth_multiplier;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t ic = 0; ic < p->in_c; ic++) {
                    for (int32_t m = 0; m < dm; m++) {
                        const int32_t oc = ic * dm + m;
                        int32_t acc = 0;
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
                                const int32_t x = in_b[((size_t)iy * p->in_w + ix) * p->in_c + ic];
                                const int32_t w = filter[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                                acc += (x + p->input_offset) * w;
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        acc = tf_mbqm(acc, mult[oc], shift[oc]) + p->output_offset;
                        acc = tf_clamp_i32(acc, p->act_min, p->act_max);
                        output[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            (int8_t)acc;
                    }
                }
            }
        }
    }
}
