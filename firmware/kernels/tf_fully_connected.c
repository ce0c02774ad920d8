#include "tf_fully_connected.h"

#include "tf_dot.h"

void tf_fully_connected_s8(const tf_fc_params_t *p, const int8_t *input, const int8_t *weights,
                           const int32_t *bias, const int32_t *mult, const int8_t *shift,
                           int8_t *output) {
    const int folded = p->input_offset == 0 && p->filter_offset == 0;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * p->depth;
        for (int32_t o = 0; o < p->units; o++) {
            const int8_t *w = weights + (size_t)o * p->depth;
            int32_t acc = 0;
            if (folded) {
                acc = tf_dot_s8(x, w, p->depth);
            } else {
                for (int32_t i = 0; i < p->depth; i++) {
                    acc += ((int32_t)x[i] + p->input_offset) * ((int32_t)w[i] + p->filter_offset);
                }
            }
            if (bias) {
                acc += bias[o];
            }
            acc = tf_mbqm(acc, mult[o], shift[o]) + p->output_offset;
            output[(size_t)b * p->units + o] = (int8_t)tf_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}

void tf_fully_connected_s16(const tf_fc_params_t *p, const int16_t *input,
                            const int8_t *weights, const int64_t *bias, const int32_t *mult,
                            const int8_t *shift, int16_t *output) {
    for (int32_t b = 0; b < p->batches; b++) {
        const int16_t *x = input + (size_t)b * p->depth;
        for (int32_t o = 0; o < p->units; o++) {
            const int8_t *w = weights + (size_t)o * p->depth;
            int64_t acc = 0;
            for (int32_t i = 0; i < p->depth; i++) {
                acc += ((int32_t)x[i] + p->input_offset) * ((int32_t)w[i] + p->filter_offset);
            }
            if (bias) {
                acc += bias[o];
            }
            const int32_t v = tf_mbqm64(acc, mult[o], shift[o]) + p->output_offset;
            output[(size_t)b * p->units + o] = (int16_t)tf_clamp_i32(v, p->act_min, p->act_max);
        }
    }
}
