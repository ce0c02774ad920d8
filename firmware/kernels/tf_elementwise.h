/*
 * ADD, SUB, MUL, MAXIMUM, MINIMUM and PRELU on int8 or int16 with NumPy-style broadcasting up
 * to 6 dimensions.
 *
 * ADD/SUB follow TFLM's rescaling: both inputs are shifted left by `left_shift` (20 for
 * int8, 15 for int16), scaled to the common scale 2 * max(s1, s2), combined, then scaled
 * to the output.
 * MUL multiplies the offset inputs and requantizes once.
 */
#ifndef TF_ELEMENTWISE_H
#define TF_ELEMENTWISE_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MAXIMUM/MINIMUM compare raw values and do not rescale, as TFLM's kernels do. */
enum {
    TF_BINARY_ADD = 0,
    TF_BINARY_SUB = 1,
    TF_BINARY_MUL = 2,
    TF_BINARY_MAX = 3,
    TF_BINARY_MIN = 4,
    TF_BINARY_PRELU = 5 /* input 2 is alpha: x >= 0 ? x * m1 : x * alpha * m2 */
};

typedef struct {
    int32_t op;                          /* TF_BINARY_* */
    int32_t dims[TF_KMAX_DIMS];          /* output dims, left-padded with 1 */
    int32_t in1_strides[TF_KMAX_DIMS];   /* element strides of input 1, 0 where broadcast */
    int32_t in2_strides[TF_KMAX_DIMS];
    int32_t input1_offset, input2_offset; /* minus the input zero points */
    int32_t output_offset;               /* the output zero point */
    int32_t left_shift;                  /* ADD/SUB headroom shift (20 for int8) */
    int32_t input1_mult, input1_shift;   /* ADD/SUB: input -> common scale; PRELU: x >= 0 */
    int32_t input2_mult, input2_shift;
    int32_t output_mult, output_shift;   /* common (or product) scale -> output; PRELU: x < 0 */
    int32_t act_min, act_max;
} tf_binary_params_t;

void tf_binary_s8(const tf_binary_params_t *p, const int8_t *in1, const int8_t *in2,
                  int8_t *output);
void tf_binary_s16(const tf_binary_params_t *p, const int16_t *in1, const int16_t *in2,
                   int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_ELEMENTWISE_H */
