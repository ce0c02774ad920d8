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
            acc = tf_mbqm_pos(acc, mult[o], shift[o]) + p->output_offset;
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

void tf_batch_matmul_s8(const tf_batch_matmul_params_t *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output) {
    int8_t *out = output;
    for (int32_t b0 = 0; b0 < p->batch_dims[0]; b0++) {
        for (int32_t b1 = 0; b1 < p->batch_dims[1]; b1++) {
            for (int32_t b2 = 0; b2 < p->batch_dims[2]; b2++) {
                const int8_t *l = lhs + (ptrdiff_t)b0 * p->lhs_batch_strides[0] +
                                  (ptrdiff_t)b1 * p->lhs_batch_strides[1] +
                                  (ptrdiff_t)b2 * p->lhs_batch_strides[2];
                const int8_t *r = rhs + (ptrdiff_t)b0 * p->rhs_batch_strides[0] +
                                  (ptrdiff_t)b1 * p->rhs_batch_strides[1] +
                                  (ptrdiff_t)b2 * p->rhs_batch_strides[2];
                for (int32_t i = 0; i < p->rows; i++) {
                    for (int32_t j = 0; j < p->cols; j++) {
                        int32_t acc = 0;
                        for (int32_t k = 0; k < p->depth; k++) {
                            const int32_t a = l[(ptrdiff_t)i * p->lhs_row_stride +
                                                (ptrdiff_t)k * p->lhs_k_stride];
                            const int32_t c = r[(ptrdiff_t)k * p->rhs_k_stride +
                                                (ptrdiff_t)j * p->rhs_col_stride];
                            acc += (a + p->lhs_offset) * (c + p->rhs_offset);
                        }
                        *out++ = tf_sat_s8(tf_mbqm(acc, p->mult, p->shift) + p->output_offset);
                    }
                }
            }
        }
    }
}
