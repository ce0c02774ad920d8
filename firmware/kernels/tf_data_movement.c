#include "tf_data_movement.h"

#include <string.h>

void tf_strided_copy(const tf_copy_params_t *p, const void *input, void *output) {
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    const size_t es = (size_t)p->elem_size;
    int32_t idx[TF_KMAX_DIMS] = {0};
    for (int d = 0; d < TF_KMAX_DIMS; d++) {
        if (p->dims[d] <= 0) {
            return;
        }
    }
    /* innermost run is contiguous on both sides: copy it in one go */
    const int last = TF_KMAX_DIMS - 1;
    const int contiguous = p->in_strides[last] == 1 && p->out_strides[last] == 1;
    for (;;) {
        ptrdiff_t io = p->in_offset, oo = p->out_offset;
        for (int d = 0; d < last; d++) {
            io += (ptrdiff_t)idx[d] * p->in_strides[d];
            oo += (ptrdiff_t)idx[d] * p->out_strides[d];
        }
        if (contiguous) {
            memmove(dst + (size_t)oo * es, src + (size_t)io * es, (size_t)p->dims[last] * es);
        } else {
            /* element by element; elements are naturally aligned in the arena and in
             * flash, and typed copies avoid a memcpy call each (-ffreestanding) */
            const ptrdiff_t is = p->in_strides[last], os = p->out_strides[last];
            for (int32_t i = 0; i < p->dims[last]; i++) {
                const size_t s_i = (size_t)(io + (ptrdiff_t)i * is);
                const size_t d_i = (size_t)(oo + (ptrdiff_t)i * os);
                if (es == 1) {
                    dst[d_i] = src[s_i];
                } else if (es == 2) {
                    ((uint16_t *)(void *)dst)[d_i] = ((const uint16_t *)(const void *)src)[s_i];
                } else if (es == 4) {
                    ((uint32_t *)(void *)dst)[d_i] = ((const uint32_t *)(const void *)src)[s_i];
                } else {
                    memcpy(dst + d_i * es, src + s_i * es, es);
                }
            }
        }
        int d = last - 1;
        for (; d >= 0; d--) {
            if (++idx[d] < p->dims[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

void tf_fill(void *output, int32_t count, int32_t elem_size, int32_t value) {
    uint8_t *dst = (uint8_t *)output;
    if (elem_size == 1) {
        memset(dst, (int)(uint8_t)value, (size_t)count);
        return;
    }
    for (int32_t i = 0; i < count; i++) {
        memcpy(dst + (size_t)i * (size_t)elem_size, &value, (size_t)elem_size); /* little-endian */
    }
}

void tf_copy_bytes(void *output, const void *input, int32_t nbytes) {
    memmove(output, input, (size_t)nbytes);
}

void tf_resize_nearest(const tf_resize_params_t *p, const int32_t *y_map, const int32_t *x_map,
                       const void *input, void *output) {
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    const size_t pixel = (size_t)p->depth * (size_t)p->elem_size;
    for (int32_t b = 0; b < p->batches; b++) {
        const uint8_t *in_b = src + (size_t)b * p->in_h * p->in_w * pixel;
        for (int32_t y = 0; y < p->out_h; y++) {
            const uint8_t *row = in_b + (size_t)y_map[y] * p->in_w * pixel;
            for (int32_t x = 0; x < p->out_w; x++) {
                const uint8_t *px = row + (size_t)x_map[x] * pixel;
                for (size_t i = 0; i < pixel; i++) {
                    dst[i] = px[i];
                }
                dst += pixel;
            }
        }
    }
}

/* y_map holds three int32 per output row: y0, y1, fy (and x_map per column: x0, x1, fx) */
void tf_resize_bilinear(const tf_resize_params_t *p, const int32_t *y_map, const int32_t *x_map,
                        const void *input, void *output) {
    const int wide = p->elem_size == 2;
    const size_t C = (size_t)p->depth;
    size_t o = 0;
    for (int32_t b = 0; b < p->batches; b++) {
        const size_t base = (size_t)b * p->in_h * p->in_w * C;
        for (int32_t y = 0; y < p->out_h; y++) {
            const int32_t y0 = y_map[3 * y], y1 = y_map[3 * y + 1], fy = y_map[3 * y + 2];
            for (int32_t x = 0; x < p->out_w; x++) {
                const int32_t x0 = x_map[3 * x], x1 = x_map[3 * x + 1], fx = x_map[3 * x + 2];
                const size_t r0 = base + (size_t)y0 * p->in_w * C;
                const size_t r1 = base + (size_t)y1 * p->in_w * C;
                for (size_t c = 0; c < C; c++) {
                    const int64_t ll = (int64_t)tf_load(input, r0 + (size_t)x0 * C + c, wide) *
                                       (1024 - fy) * (1024 - fx);
                    const int64_t lu = (int64_t)tf_load(input, r1 + (size_t)x0 * C + c, wide) *
                                       fy * (1024 - fx);
                    const int64_t rl = (int64_t)tf_load(input, r0 + (size_t)x1 * C + c, wide) *
                                       (1024 - fy) * fx;
                    const int64_t ru = (int64_t)tf_load(input, r1 + (size_t)x1 * C + c, wide) *
                                       fy * fx;
                    const int64_t sum = ll + lu + rl + ru;
                    const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
                    tf_store(output, o++, wide, (int32_t)((sum + round) / (1 << 20)));
                }
            }
        }
    }
}
