/*
 * CONV_2D and DEPTHWISE_CONV_2D, int8 activations, int8 per-channel weights.
 * Layouts are TFLite's: activations NHWC, conv filter [out_c][k_h][k_w][in_c / groups],
 * depthwise filter [1][k_h][k_w][out_c] with out_c = in_c * depth_multiplier.
 *
 * The bias argument is the *effective* bias the code generator precomputes:
 *   bias[oc] + input_offset * (sum of all weights of oc)
 * so the inner loop multiplies raw int8 values; a tap that falls in the padding then
 * subtracts input_offset * its weights again. In int32 (wrapping) arithmetic this is
 * exactly TFLM's sum of (x + input_offset) * w over the in-bounds taps, plus the bias.
 */
#ifndef TF_CONV_H
#define TF_CONV_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;      /* input tensor dims */
    int32_t out_h, out_w, out_c;   /* output tensor dims */
    int32_t k_h, k_w;              /* filter window */
    int32_t filter_in_c;           /* conv: in_c / groups; depthwise: unused */
    int32_t depth_multiplier;      /* depthwise: out_c / in_c; conv: unused */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;          /* dilation factors (1 = dense) */
    int32_t pad_top, pad_left;     /* implicit zero-point padding before row/col 0 */
    int32_t input_offset;          /* minus the input zero point, e.g. 128 */
    int32_t output_offset;         /* the output zero point */
    int32_t act_min, act_max;      /* fused activation clamp in output units */
    int32_t rq_fast;               /* 1: tf_requant.h's short requantization is exact here */
} tf_conv_params_t;

/* ebias: effective bias (see above), one per output channel; mult/shift: one
 * requantization pair per output channel. */
void tf_conv2d_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                  int8_t *output);

void tf_depthwise_conv2d_s8(const tf_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                            const int8_t *shift, int8_t *output);

/* TRANSPOSE_CONV (int8): filter [out_c][k_h][k_w][in_c]; every output pixel gathers the
 * input pixels whose stride-spaced window covers it (no scratch buffer). Uses in_*, out_*,
 * k_*, stride_*, pad_top/pad_left, input/output offsets and act_min/act_max; bias (may be
 * NULL) is the plain int32 bias. */
void tf_transpose_conv_s8(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *mult, const int8_t *shift,
                          int8_t *output);

/* 16x8 variants: int16 activations with zero point 0 (so no offsets and no folding),
 * int64 bias (may be NULL), 64-bit accumulation and TFLM's int64 requantization. */
void tf_conv2d_s16(const tf_conv_params_t *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int8_t *shift,
                   int16_t *output);

void tf_depthwise_conv2d_s16(const tf_conv_params_t *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, const int32_t *mult,
                             const int8_t *shift, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_CONV_H */
