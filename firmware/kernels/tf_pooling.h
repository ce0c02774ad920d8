/*
 * AVERAGE_POOL_2D and MAX_POOL_2D on int8 or int16 NHWC. Input and output share quantization
 * (TFLite requires it), so no requantization: only the fused-activation clamp.
 * Windows are clipped at the border; the average divides by the clipped count.
 */
#ifndef TF_POOLING_H
#define TF_POOLING_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w;            /* window */
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} tf_pool_params_t;

void tf_avg_pool_s8(const tf_pool_params_t *p, const int8_t *input, int8_t *output);
void tf_max_pool_s8(const tf_pool_params_t *p, const int8_t *input, int8_t *output);
void tf_avg_pool_s16(const tf_pool_params_t *p, const int16_t *input, int16_t *output);
void tf_max_pool_s16(const tf_pool_params_t *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_POOLING_H */
