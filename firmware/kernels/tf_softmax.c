#include "tf_softmax.h"

#include "tf_fixedpoint.h"

enum { SCALED_DIFF_INT_BITS = 5, ACCUM_INT_BITS = 12 };

static inline int32_t scaled_exp(const tf_softmax_params_t *p, int32_t diff) {
    /* MultiplyByQuantizedMultiplierGreaterThanOne: no rounding right shift */
    const int32_t rescaled =
        tf_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
    return tf_fp_exp_on_negative_values(rescaled, SCALED_DIFF_INT_BITS);
}

/* A row's inputs differ from its maximum by 0..255, so exp() takes at most 256 values:
 * from this many elements on, tabulating them first is cheaper than two fixed-point exp()
 * per element. A difference below diff_min gets 0, which gives exactly the reference's
 * result for it (no contribution to the sum, output -128). */
#define TF_SOFTMAX_LUT_MIN 512

void tf_softmax_s8(const tf_softmax_params_t *p, const int8_t *input, int8_t *output) {
    int32_t lut[256];
    const int use_lut = p->rows * p->depth >= TF_SOFTMAX_LUT_MIN;
    if (use_lut) {
        for (int32_t d = 0; d < 256; d++) {
            lut[d] = -d >= p->diff_min ? scaled_exp(p, -d) : 0;
        }
    }
    for (int32_t r = 0; r < p->rows; r++) {
        const int8_t *x = input + (size_t)r * p->depth;
        int8_t *y = output + (size_t)r * p->depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < p->depth; c++) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        if (use_lut) {
            for (int32_t c = 0; c < p->depth; c++) {
                sum_of_exps += tf_srmpot(lut[max_in_row - x[c]], -ACCUM_INT_BITS);
            }
        } else {
            for (int32_t c = 0; c < p->depth; c++) {
                const int32_t diff = (int32_t)x[c] - max_in_row;
                if (diff >= p->diff_min) {
                    sum_of_exps += tf_srmpot(scaled_exp(p, diff), -ACCUM_INT_BITS);
                }
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
            int32_t e;
            if (use_lut) {
                e = lut[-diff];
            } else if (diff >= p->diff_min) {
                e = scaled_exp(p, diff);
            } else {
                y[c] = -128;
                continue;
            }
            /* both factors are >= 0: the doubling high multiply needs no sign care */
            const int32_t unsat = tf_rdbpot(tf_srdhm_pos(shifted_scale, e), exponent);
            y[c] = tf_sat_s8(unsat - 128);
        }
    }
}

/* Interpolated lookup in a 513-entry table indexed by the top 9 bits of a signed value. */
static inline int16_t lut16(int16_t value, const int16_t *lut) {
    const uint16_t index = (uint16_t)(256 + (value >> 7));
    const int16_t offset = (int16_t)(value & 0x7f);
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = ((int32_t)slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

void tf_softmax_s16(const tf_softmax16_params_t *p, const int16_t *input, int16_t *output) {
    for (int32_t r = 0; r < p->rows; r++) {
        const int16_t *x = input + (size_t)r * p->depth;
        int16_t *y = output + (size_t)r * p->depth;
        int32_t max_in_row = INT16_MIN;
        for (int32_t c = 0; c < p->depth; c++) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q16.15 */
        for (int32_t c = 0; c < p->depth; c++) {
            /* [-65535, 0] input units are [-10, 0]; recentre to the table's signed range */
            const int32_t scaled =
                tf_mbqm((int32_t)x[c] - max_in_row, p->input_mult, p->input_shift);
            const int16_t e = lut16((int16_t)tf_clamp_i32(scaled + 32767, INT16_MIN, INT16_MAX),
                                    p->exp_lut);
            y[c] = e;
            sum_of_exps += e;
        }
        const int headroom_plus_one = tf_clz32((uint32_t)sum_of_exps);
        const int32_t shifted_sum =
            (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        /* the table holds 1/(1+x): x = sum - 1, recentred from [0, 65535] */
        const int32_t sym = shifted_sum - ((1 << 15) + (1 << 16));
        const int16_t reciprocal =
            lut16((int16_t)tf_clamp_i32(sym, INT16_MIN, INT16_MAX), p->one_over_one_plus_x_lut);
        const int right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; c++) {
            const int32_t v = (int32_t)(((int64_t)y[c] * reciprocal + round) >> right_shift);
            y[c] = (int16_t)tf_clamp_i32(v, 0, 32767);
        }
    }
}
