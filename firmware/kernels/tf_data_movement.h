/*
 * Data movement shared by RESHAPE (when not aliased), PAD, CONCATENATION, STRIDED_SLICE,
 * SLICE and TRANSPOSE: one strided copy over up to 6 dimensions plus a fill. The code
 * generator turns each op into offsets and strides, so this file has no per-op logic.
 * Element size is a parameter, so it serves int8, int16 and int32 tensors alike.
 */
#ifndef TF_DATA_MOVEMENT_H
#define TF_DATA_MOVEMENT_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t dims[TF_KMAX_DIMS];        /* extent of the copied box, left-padded with 1 */
    int32_t in_offset;                 /* first element read */
    int32_t in_strides[TF_KMAX_DIMS];  /* element strides into the source (may be < 0) */
    int32_t out_offset;                /* first element written */
    int32_t out_strides[TF_KMAX_DIMS]; /* element strides into the destination */
    int32_t elem_size;                 /* bytes per element */
} tf_copy_params_t;

void tf_strided_copy(const tf_copy_params_t *p, const void *input, void *output);

/* `count` elements of `elem_size` bytes each set to the bytes of `value`. */
void tf_fill(void *output, int32_t count, int32_t elem_size, int32_t value);

/* RESIZE_NEAREST_NEIGHBOR: output pixel (y, x) copies input pixel (y_map[y], x_map[x]);
 * the maps are computed at generation time with TFLM's float rounding. */
typedef struct {
    int32_t batches, in_h, in_w, depth, out_h, out_w;
    int32_t elem_size;  /* bytes per element */
} tf_resize_params_t;

void tf_resize_nearest(const tf_resize_params_t *p, const int32_t *y_map, const int32_t *x_map,
                       const void *input, void *output);

/* RESIZE_BILINEAR on int8/int16 (elem_size 1 or 2), TFLM's integer method: for output
 * row y the rows y0[y], y1[y] with weight fy[y] / 1024 for y1 (possibly outside [0, 1024]
 * with half-pixel centres, exactly as the reference), likewise for columns. */
void tf_resize_bilinear(const tf_resize_params_t *p, const int32_t *y_map, const int32_t *x_map,
                        const void *input, void *output);

/* A plain copy that tolerates overlap (a reshape whose planner gave it other bytes). */
void tf_copy_bytes(void *output, const void *input, int32_t nbytes);

#ifdef __cplusplus
}
#endif

#endif /* TF_DATA_MOVEMENT_H */
