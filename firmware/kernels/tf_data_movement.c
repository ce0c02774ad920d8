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
