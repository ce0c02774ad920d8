/*
 * QUANTIZE (float -> int8, int8 -> int8 requantization) and DEQUANTIZE (int8 -> float).
 * These appear at the edges of models converted with float inputs or outputs.
 */
#ifndef TF_QUANTIZE_H
#define TF_QUANTIZE_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t mult, shift;        /* requantize: input scale / output scale */
    double scale;               /* quantize: output scale; dequantize: input scale */
} tf_quant_params_t;

void tf_quantize_f32_s8(const tf_quant_params_t *p, const float *input, int8_t *output);
void tf_requantize_s8(const tf_quant_params_t *p, const int8_t *input, int8_t *output);
void tf_dequantize_s8_f32(const tf_quant_params_t *p, const int8_t *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_QUANTIZE_H */
