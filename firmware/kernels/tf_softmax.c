#include "tf_softmax.h"

#include "tf_fixedpoint.h"

enum { SCALED_DIFF_INT_BITS = 5, ACCUM_INT_BITS = 12 };

static inline int32_t scaled_exp(const tf_softmax_params_t *p, int32_t diff) {
    /* MultiplyByQuantizedMultiplierGreaterThanOne: no rounding right shift */
    const int32_t rescaled =
        tf_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
    return tf_fp_exp_on_negative_values(rescaled, SCALED_DIFF_INT_BITS);
}

void tf_softmax_s8(const tf_softmax_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t r = 0; r < p->rows; r++) {
        const int8_t *x = input + (size_t)r * p->depth;
        int8_t *y = output + (size_t)r * p->depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < p->depth; c++) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < p->depth; c++) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                sum_of_exps += tf_srmpot(scaled_exp(p, diff), -ACCUM_INT_BITS);
            }
        }
        /* 1 / sum as a Q0.31 value times 2^num_bits_over_unit */
        const int headroom_plus_one = tf_clz32((uint32_t)sum_of_exps);
        const int num_bits_over_unit = ACCUM_INT_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = tf_fp_one_over_one_plus_x(shifted_sum_minus_one);
        const int exponent = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; c++) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = scaled_exp(p, diff);
                const int32_t unsat = tf_rdbpot(tf_srdhm(shifted_scale, e), exponent);
                y[c] = tf_sat_s8(unsat - 128);
            } else {
                y[c] = -128;
            }
        }
    }
}
