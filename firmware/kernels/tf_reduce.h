/*
 * MEAN, SUM (and REDUCE_MAX) on int8 or int16 over any set of axes. MEAN/SUM are computed
 * the way TFLM's QuantizedMeanOrSum does:
 * an int32 sum per output, minus zero_point * count, times a multiplier into which
 * the code generator has already folded 1/count. No scratch buffer: each output sums
 * its own window. REDUCE_MAX takes the raw maximum (TFLM requires equal quantization).
 */
#ifndef TF_REDUCE_H
#define TF_REDUCE_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { TF_REDUCE_MEAN_OR_SUM = 0, TF_REDUCE_MAX = 1 };

typedef struct {
    int32_t op;                     /* TF_REDUCE_*; SUM is MEAN without the 1/count fold */
    int32_t dims[TF_KMAX_DIMS];     /* input dims, left-padded with 1 */
    uint8_t reduced[TF_KMAX_DIMS];  /* 1 for each reduced axis */
    int32_t count;                  /* elements summed per output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t mult, shift;            /* input scale / output scale / count */
} tf_mean_params_t;

void tf_mean_s8(const tf_mean_params_t *p, const int8_t *input, int8_t *output);
void tf_mean_s16(const tf_mean_params_t *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_REDUCE_H */
