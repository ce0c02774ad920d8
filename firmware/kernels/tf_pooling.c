#include "tf_pooling.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(TF_PORTABLE_ONLY)
#include <arm_acle.h>
#define TF_POOL_DSP 1
typedef uint32_t __attribute__((aligned(1), may_alias)) tf_pool_u32;
#else
#define TF_POOL_DSP 0
#endif

static void pool(const tf_pool_params_t *p, const void *input, void *output, int is_max,
                 int wide) {
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t fy0 = tf_max_i32(0, -y0);
            const int32_t fy1 = tf_min_i32(p->k_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t fx0 = tf_max_i32(0, -x0);
                const int32_t fx1 = tf_min_i32(p->k_w, p->in_w - x0);
                for (int32_t c = 0; c < p->channels; c++) {
                    int32_t acc = is_max ? (wide ? -32768 : -128) : 0;
                    int32_t count = 0;
                    for (int32_t fy = fy0; fy < fy1; fy++) {
                        for (int32_t fx = fx0; fx < fx1; fx++) {
                            const int32_t v = tf_load(
                                input, (((size_t)b * p->in_h + y0 + fy) * p->in_w + x0 + fx) *
                                           p->channels + c, wide);
                            if (is_max) {
                                acc = v > acc ? v : acc;
                            } else {
                                acc += v;
                            }
                            count++;
                        }
                    }
                    if (!is_max) {
                        if (count == 0) {
                            acc = 0; /* cannot happen with valid padding */
                        } else {
                            /* divide rounding half away from zero, as the reference does */
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        }
                    }
                    acc = tf_clamp_i32(acc, p->act_min, p->act_max);
                    const size_t o = (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->channels;
                    tf_store(output, o + c, wide, acc);
                }
            }
        }
    }
}

void tf_avg_pool_s8(const tf_pool_params_t *p, const int8_t *input, int8_t *output) {
    pool(p, input, output, 0, 0);
}

/* int8 MAX_POOL_2D with the channels innermost: per output pixel a running maximum over
 * the window's in-bounds taps, four channels per word with SSUB8 + SEL on DSP cores (the
 * GE flags pick the larger byte of each lane), a byte loop elsewhere. */
void tf_max_pool_s8(const tf_pool_params_t *p, const int8_t *input, int8_t *output) {
    const int32_t C = p->channels, lo = p->act_min, hi = p->act_max;
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t fy0 = tf_max_i32(0, -y0), fy1 = tf_min_i32(p->k_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ox++, out += C) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t fx0 = tf_max_i32(0, -x0), fx1 = tf_min_i32(p->k_w, p->in_w - x0);
                int32_t c = 0;
#if TF_POOL_DSP
                for (; c + 4 <= C; c += 4) {
                    uint32_t m = 0x80808080u; /* -128 in every lane */
                    for (int32_t fy = fy0; fy < fy1; fy++) {
                        const int8_t *x = in_b + ((size_t)(y0 + fy) * p->in_w + x0) * C + c;
                        for (int32_t fx = fx0; fx < fx1; fx++) {
                            const uint32_t v =
                                *(const tf_pool_u32 *)(const void *)(x + (size_t)fx * C);
                            (void)__ssub8((int8x4_t)v, (int8x4_t)m);
                            m = (uint32_t)__sel((uint8x4_t)v, (uint8x4_t)m);
                        }
                    }
                    for (int32_t j = 0; j < 4; j++) {
                        out[c + j] = (int8_t)tf_clamp_i32((int8_t)(m >> (8 * j)), lo, hi);
                    }
                }
#endif
                for (; c < C; c++) {
                    int32_t m = -128;
                    for (int32_t fy = fy0; fy < fy1; fy++) {
                        const int8_t *x = in_b + ((size_t)(y0 + fy) * p->in_w + x0) * C + c;
                        for (int32_t fx = fx0; fx < fx1; fx++) {
                            m = x[(size_t)fx * C] > m ? x[(size_t)fx * C] : m;
                        }
                    }
                    out[c] = (int8_t)tf_clamp_i32(m, lo, hi);
                }
            }
        }
    }
}

void tf_avg_pool_s16(const tf_pool_params_t *p, const int16_t *input, int16_t *output) {
    pool(p, input, output, 0, 1);
}

void tf_max_pool_s16(const tf_pool_params_t *p, const int16_t *input, int16_t *output) {
    pool(p, input, output, 1, 1);
}
