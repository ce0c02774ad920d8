/*
 * FULLY_CONNECTED: out[b][o] = requant(sum_i (in[b][i] + input_offset) * (w[o][i] + filter_offset)
 *                                      + bias[o]).
 * Weights are [units][depth]; per-tensor quantization passes the same pair in every slot.
 * With int8 (symmetric) weights the code generator folds input_offset * sum(w[o]) into
 * the bias and passes input_offset = 0, so the inner loop is a plain int8 dot product.
 */
#ifndef TF_FULLY_CONNECTED_H
#define TF_FULLY_CONNECTED_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;        /* rows of the input: its element count / depth */
    int32_t depth;          /* accumulation depth (last filter dim) */
    int32_t units;          /* output features */
    int32_t input_offset;   /* minus the input zero point (0 when folded into the bias) */
    int32_t filter_offset;  /* minus the filter zero point (0 for int8 weights) */
    int32_t output_offset;  /* the output zero point */
    int32_t act_min, act_max;
} tf_fc_params_t;

/* bias may be NULL; mult/shift hold one pair per unit. */
void tf_fully_connected_s8(const tf_fc_params_t *p, const int8_t *input, const int8_t *weights,
                           const int32_t *bias, const int32_t *mult, const int8_t *shift,
                           int8_t *output);

/* BATCH_MATMUL (int8): out[b][i][j] = requant(sum_k (lhs[b][i][k] + lhs_offset) *
 * (rhs[b][k][j] + rhs_offset)). Element addresses come from strides, so transposed
 * operands (adj_x / adj_y) and broadcast batch dimensions (stride 0) need no copies. */
typedef struct {
    int32_t batch_dims[3];                 /* output batch dims, left-padded with 1 */
    int32_t lhs_batch_strides[3];          /* element strides, 0 where broadcast */
    int32_t rhs_batch_strides[3];
    int32_t rows, cols, depth;             /* output rows/cols, accumulation depth */
    int32_t lhs_row_stride, lhs_k_stride;  /* lhs[i][k] = lhs + i * row + k * k_stride */
    int32_t rhs_k_stride, rhs_col_stride;  /* rhs[k][j] = rhs + k * k_stride + j * col */
    int32_t lhs_offset, rhs_offset;        /* minus the zero points */
    int32_t output_offset;
    int32_t mult, shift;                   /* lhs scale * rhs scale / output scale */
} tf_batch_matmul_params_t;

void tf_batch_matmul_s8(const tf_batch_matmul_params_t *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output);

/* 16x8: int16 input/output, int8 weights, int64 bias (may be NULL), 64-bit accumulation. */
void tf_fully_connected_s16(const tf_fc_params_t *p, const int16_t *input,
                            const int8_t *weights, const int64_t *bias, const int32_t *mult,
                            const int8_t *shift, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TF_FULLY_CONNECTED_H */
