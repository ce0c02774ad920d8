/*
 * QUANTIZE (float -> int8/int16, int8/int16 requantization) and DEQUANTIZE (-> float).
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
    int32_t in_wide, out_wide;  /* 1 for int16 data, 0 for int8 */
} tf_quant_params_t;

/* Integer sides are int8 or int16 as in_wide / out_wide say. */
void tf_quantize_f32(const tf_quant_params_t *p, const float *input, void *output);
void tf_requantize(const tf_quant_params_t *p, const void *input, void *output);
void tf_dequantize_f32(const tf_quant_params_t *p, const void *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_QUANTIZE_H */
