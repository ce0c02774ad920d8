/*
 * SOFTMAX int8 -> int8 over the last axis (output scale 1/256, zero point -128), with
 * TFLM's fixed-point exp: differences to the row maximum are scaled by beta * scale
 * into Q5.26, exponentiated, summed in Q12.19 and divided by a fixed-point reciprocal.
 */
#ifndef TF_SOFTMAX_H
#define TF_SOFTMAX_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t rows;             /* product of all but the last dim */
    int32_t depth;            /* size of the last dim */
    int32_t input_mult;       /* beta * input scale * 2^26, as a Q31 multiplier ... */
    int32_t input_left_shift; /* ... and its left shift */
    int32_t diff_min;         /* differences below this contribute exp() == 0 */
} tf_softmax_params_t;

void tf_softmax_s8(const tf_softmax_params_t *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_SOFTMAX_H */
