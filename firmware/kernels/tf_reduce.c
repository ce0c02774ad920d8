#include "tf_reduce.h"

static void mean(const tf_mean_params_t *p, const void *input, void *output, int wide) {
    int32_t strides[TF_KMAX_DIMS];
    int32_t s = 1;
    for (int d = TF_KMAX_DIMS - 1; d >= 0; d--) {
        strides[d] = s;
        s *= p->dims[d];
    }
    /* Outer odometer over kept axes, inner odometer over reduced axes. */
    int32_t outer[TF_KMAX_DIMS] = {0};
    size_t out_i = 0;
    for (;;) {
        size_t base = 0;
        for (int d = 0; d < TF_KMAX_DIMS; d++) {
            base += (size_t)outer[d] * (size_t)strides[d];
        }
        int32_t inner[TF_KMAX_DIMS] = {0};
        int32_t sum = 0;
        int32_t max = wide ? INT16_MIN : INT8_MIN;
        for (;;) {
            size_t off = base;
            for (int d = 0; d < TF_KMAX_DIMS; d++) {
                off += (size_t)inner[d] * (size_t)strides[d];
            }
            const int32_t v = tf_load(input, off, wide);
            sum += v;
            max = v > max ? v : max;
            int d = TF_KMAX_DIMS - 1;
            for (; d >= 0; d--) {
                if (!p->reduced[d]) {
                    continue;
                }
                if (++inner[d] < p->dims[d]) {
                    break;
                }
                inner[d] = 0;
            }
            if (d < 0) {
                break;
            }
        }
        if (p->op == TF_REDUCE_MAX) {
            tf_store(output, out_i++, wide, max);
        } else {
            const int32_t centered =
                (int32_t)((int64_t)sum - (int64_t)p->input_zero_point * p->count);
            const int32_t lo = wide ? INT16_MIN : INT8_MIN, hi = wide ? INT16_MAX : INT8_MAX;
            const int32_t v = tf_mbqm(centered, p->mult, p->shift) + p->output_zero_point;
            tf_store(output, out_i++, wide, tf_clamp_i32(v, lo, hi));
        }
        int d = TF_KMAX_DIMS - 1;
        for (; d >= 0; d--) {
            if (p->reduced[d]) {
                continue;
            }
            if (++outer[d] < p->dims[d]) {
                break;
            }
            outer[d] = 0;
        }
        if (d < 0) {
            break;
        }
    }
}

void tf_mean_s8(const tf_mean_params_t *p, const int8_t *input, int8_t *output) {
    mean(p, input, output, 0);
}

void tf_mean_s16(const tf_mean_params_t *p, const int16_t *input, int16_t *output) {
    mean(p, input, output, 1);
}
