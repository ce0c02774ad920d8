/*
 * Element-wise int8 activations: LOGISTIC, TANH (gemmlowp fixed point, as TFLM),
 * RELU / RELU_N1_TO_1 (requantize then clamp), RELU6 (clamp only: TFLM keeps the
 * input quantization), LEAKY_RELU (two requantization pairs) and HARD_SWISH.
 */
#ifndef TF_ACTIVATIONS_H
#define TF_ACTIVATIONS_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;               /* elements */
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zp| at or beyond this saturates */
    int32_t input_mult;         /* input scale * 2^27 as a Q31 multiplier ... */
    int32_t input_left_shift;   /* ... and its shift */
} tf_sigmoid_params_t;

void tf_logistic_s8(const tf_sigmoid_params_t *p, const int8_t *input, int8_t *output);
void tf_tanh_s8(const tf_sigmoid_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t mult, shift;        /* input scale / output scale */
    int32_t act_min, act_max;   /* clamp in output units */
} tf_relu_params_t;

void tf_relu_s8(const tf_relu_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t lo, hi;             /* clamp in input units */
} tf_clamp_params_t;

void tf_clamp_s8(const tf_clamp_params_t *p, const int8_t *input, int8_t *output);
void tf_clamp_s16(const tf_clamp_params_t *p, const int16_t *input, int16_t *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_mult, identity_shift; /* for x >= 0: input scale / output scale */
    int32_t alpha_mult, alpha_shift;       /* for x < 0: alpha * input / output scale */
} tf_leaky_relu_params_t;

void tf_leaky_relu_s8(const tf_leaky_relu_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int16_t reluish_mult;       /* Q15: input * 2^7 -> "3.0 == 32768" scale */
    int16_t output_mult;        /* Q15: input * 2^7 -> output scale */
    int32_t reluish_exponent;
    int32_t output_exponent;    /* <= 0 */
} tf_hard_swish_params_t;

void tf_hard_swish_s8(const tf_hard_swish_params_t *p, const int8_t *input, int8_t *output);

/* int16 LOGISTIC / TANH (zero point 0): the input is rescaled to the table's units
 * (x * input_mult + round) >> input_left_shift, then TFLM's 256-entry sigmoid table is
 * interpolated linearly. Output scale 2^-15. */
typedef struct {
    int32_t size;
    int32_t input_mult;       /* 3 * 2^shift for power-of-two input scales */
    int32_t input_left_shift; /* a right shift, despite TFLM's name for it */
} tf_sigmoid16_params_t;

void tf_logistic_s16(const tf_sigmoid16_params_t *p, const int16_t *input, int16_t *output);
void tf_tanh_s16(const tf_sigmoid16_params_t *p, const int16_t *input, int16_t *output);
void tf_relu_s16(const tf_relu_params_t *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_ACTIVATIONS_H */
