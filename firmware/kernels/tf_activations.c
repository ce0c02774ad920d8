#include "tf_activations.h"

#include "tf_fixedpoint.h"

enum { SIGMOID_INPUT_INT_BITS = 4 };

void tf_logistic_s8(const tf_sigmoid_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = -128;
        } else if (x >= p->input_range_radius) {
            output[i] = 127;
        } else {
            const int32_t q4 = tf_mbqm(x, p->input_mult, p->input_left_shift);
            const int32_t q0 = tf_fp_logistic(q4, SIGMOID_INPUT_INT_BITS);
            output[i] = tf_sat_s8(tf_rdbpot(q0, 23) - 128); /* to 1/256 steps, zp -128 */
        }
    }
}

void tf_tanh_s8(const tf_sigmoid_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = -128;
        } else if (x >= p->input_range_radius) {
            output[i] = 127;
        } else {
            const int32_t q4 = tf_mbqm(x, p->input_mult, p->input_left_shift);
            const int32_t q0 = tf_fp_tanh(q4, SIGMOID_INPUT_INT_BITS);
            output[i] = tf_sat_s8(tf_rdbpot(q0, 24)); /* to 1/128 steps, zp 0 */
        }
    }
}

void tf_relu_s8(const tf_relu_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t v = p->output_zero_point +
                          tf_mbqm((int32_t)input[i] - p->input_zero_point, p->mult, p->shift);
        output[i] = (int8_t)tf_clamp_i32(v, p->act_min, p->act_max);
    }
}

void tf_clamp_s8(const tf_clamp_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        output[i] = (int8_t)tf_clamp_i32(input[i], p->lo, p->hi);
    }
}

void tf_leaky_relu_s8(const tf_leaky_relu_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        const int32_t y = x >= 0 ? tf_mbqm(x, p->identity_mult, p->identity_shift)
                                 : tf_mbqm(x, p->alpha_mult, p->alpha_shift);
        output[i] = tf_sat_s8(y + p->output_zero_point);
    }
}

/* 16-bit gemmlowp helpers used only by HARD_SWISH. */
static inline int16_t srdhm16(int16_t a, int16_t b) {
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* Like srdhm16 but truncating toward zero (the reference's SaturatingDoublingHighMul). */
static inline int16_t sdhm16(int16_t a, int16_t b) {
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static inline int16_t rdbpot16(int16_t x, int exponent) {
    const int16_t mask = (int16_t)((1 << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

static inline int16_t sat_lshift16(int16_t x, int amount) {
    const int32_t r = (int32_t)x * (1 << amount);
    return (int16_t)tf_clamp_i32(r, INT16_MIN, INT16_MAX);
}

void tf_hard_swish_s8(const tf_hard_swish_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int16_t x = (int16_t)(input[i] - p->input_zero_point);
        const int16_t x_hires = (int16_t)(x * (1 << 7));
        const int16_t x_preshift_out = srdhm16(x_hires, p->output_mult);
        int16_t reluish = x_hires;
        if (p->reluish_exponent > 0) {
            reluish = sat_lshift16(reluish, (int)p->reluish_exponent - 1);
        }
        reluish = srdhm16(reluish, p->reluish_mult);
        if (p->reluish_exponent > 0) {
            reluish = sat_lshift16(reluish, 1);
        }
        if (p->reluish_exponent < 0) {
            reluish = rdbpot16(reluish, (int)-p->reluish_exponent);
        }
        reluish = (int16_t)((reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
        const int16_t pre = sdhm16(reluish, x_preshift_out);
        int32_t y = rdbpot16(pre, (int)-p->output_exponent);
        y += p->output_zero_point;
        output[i] = tf_sat_s8(y);
    }
}
