#include "tf_quantize.h"

/* round half away from zero without pulling in libm */
static inline double round_away(double x) {
    const double t = (double)(int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
    return t;
}

void tf_quantize_f32_s8(const tf_quant_params_t *p, const float *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const double q = round_away((double)input[i] / p->scale);
        double v = q + (double)p->output_zero_point;
        v = v < -128.0 ? -128.0 : (v > 127.0 ? 127.0 : v);
        output[i] = (int8_t)v;
    }
}

void tf_requantize_s8(const tf_quant_params_t *p, const int8_t *input, int8_t *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t v = tf_mbqm((int32_t)input[i] - p->input_zero_point, p->mult, p->shift);
        output[i] = tf_sat_s8(v + p->output_zero_point);
    }
}

void tf_dequantize_s8_f32(const tf_quant_params_t *p, const int8_t *input, float *output) {
    for (int32_t i = 0; i < p->size; i++) {
        output[i] = (float)(p->scale * (double)((int32_t)input[i] - p->input_zero_point));
    }
}
