#include "tf_quantize.h"

/* round half away from zero without pulling in libm */
static inline double round_away(double x) {
    const double t = (double)(int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
    return t;
}

static inline int32_t lo_of(int wide) { return wide ? INT16_MIN : INT8_MIN; }
static inline int32_t hi_of(int wide) { return wide ? INT16_MAX : INT8_MAX; }

void tf_quantize_f32(const tf_quant_params_t *p, const float *input, void *output) {
    const double lo = lo_of(p->out_wide), hi = hi_of(p->out_wide);
    const float scale = (float)p->scale; /* the reference divides in float */
    for (int32_t i = 0; i < p->size; i++) {
        const double q = round_away((double)(input[i] / scale));
        double v = q + (double)p->output_zero_point;
        v = v < lo ? lo : (v > hi ? hi : v);
        tf_store(output, (size_t)i, p->out_wide, (int32_t)v);
    }
}

void tf_requantize(const tf_quant_params_t *p, const void *input, void *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = tf_load(input, (size_t)i, p->in_wide) - p->input_zero_point;
        const int32_t v = tf_mbqm(x, p->mult, p->shift) + p->output_zero_point;
        tf_store(output, (size_t)i, p->out_wide,
                 tf_clamp_i32(v, lo_of(p->out_wide), hi_of(p->out_wide)));
    }
}

void tf_dequantize_f32(const tf_quant_params_t *p, const void *input, float *output) {
    for (int32_t i = 0; i < p->size; i++) {
        const int32_t x = tf_load(input, (size_t)i, p->in_wide) - p->input_zero_point;
        output[i] = (float)(p->scale * (double)x);
    }
}
