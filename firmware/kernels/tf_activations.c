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

void tf_clamp_s16(const tf_clamp_params_t *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        output[i] = (int16_t)tf_clamp_i32(input[i], p->lo, p->hi);
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

/* ---- int16 (16x8) variants ------------------------------------------------------------ */

/* sigmoid(i / 24) for i = 0..255 in unsigned Q0.16 (saturated at 65535). These values are
 * TFLM's table, entry for entry: the int16 LOGISTIC and TANH results depend on each one,
 * and they are not plain roundings of sigmoid, so they cannot be recomputed here. */
static const uint16_t sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535};

static inline int32_t scale_s16_input(const tf_sigmoid16_params_t *p, int16_t x) {
    const int32_t round = p->input_left_shift > 0 ? (1 << (p->input_left_shift - 1)) : 0;
    return ((int32_t)x * p->input_mult + round) >> p->input_left_shift;
}

void tf_logistic_s16(const tf_sigmoid16_params_t *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = scale_s16_input(p, input[i]);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t hi = ax >> 9; /* table step: 2^9 input units */
        uint32_t r;
        if (hi >= 255) {
            r = (uint32_t)0x7FFF << 10;
        } else {
            const uint32_t a = sigmoid_q16[hi], b = sigmoid_q16[hi + 1];
            r = (a << 9) + (ax & 0x1ff) * (b - a); /* linear interpolation */
        }
        r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1; /* 1 - s(-x) for x < 0 */
        output[i] = (int16_t)(r >> 10);
    }
}

void tf_tanh_s16(const tf_sigmoid16_params_t *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = scale_s16_input(p, input[i]);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t hi = ax >> 8; /* tanh(x) = 2 sigmoid(2x) - 1: half the step */
        int32_t r;
        if (hi >= 255) {
            r = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t a = sigmoid_q16[hi], b = sigmoid_q16[hi + 1];
            r = (int32_t)((a << 8) + (ax & 0xff) * (b - a));
        }
        r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
}

void tf_relu_s16(const tf_relu_params_t *p, const int16_t *input, int16_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t v = p->output_zero_point +
                          tf_mbqm((int32_t)input[i] - p->input_zero_point, p->mult, p->shift);
        output[i] = (int16_t)tf_clamp_i32(v, p->act_min, p->act_max);
    }
}
