/*
 * SOFTMAX over the last axis: int8 -> int8 (output scale 1/256, zero point -128), with
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

/* int16 -> int16 (zero points 0, output scale 2^-15), TFLM's table method: exp() of the
 * scaled difference to the row maximum and 1/(1+x) of the normalised sum are read from
 * two 513-entry tables with linear interpolation. The exp values are staged in the
 * output row, so the output must not overlap the input. */
typedef struct {
    int32_t rows, depth;
    int32_t input_mult, input_shift;   /* input scale * beta / (10 / 65535) */
    const int16_t *exp_lut;            /* exp(x) for x in [-10, 0] */
    const int16_t *one_over_one_plus_x_lut; /* 1 / (1 + x) for x in [0, 1] */
} tf_softmax16_params_t;

void tf_softmax_s16(const tf_softmax16_params_t *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_SOFTMAX_H */
