/*
 * Windows of a one-group convolution gathered in raster order of the output pixels, for the
 * GEMM kernels (tf_conv_pw.c, tf_conv_pw_mve.c): each as contiguous bytes in the filter's
 * tap order (ky, kx, c), the input zero point for taps in the padding (which with the
 * folded bias contributes exactly nothing), zeros up to the padded length.
 */
#include "tf_conv_fast.h"

#if TF_CONV_FAST || TF_CONV_MVE

void tf_gather_init(tf_gather_t *g, const tf_conv_params_t *p, const int8_t *input,
                    int32_t padded) {
    *g = (tf_gather_t){input, p->in_c, p->in_h, p->in_w, p->k_h, p->k_w, p->dil_h, p->dil_w,
                       p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->out_h, p->out_w,
                       p->k_h * p->k_w * p->in_c, padded, -p->input_offset, 0, 0, 0};
}

/* Fields are read into locals: the int8 stores could alias them otherwise. */
void tf_gather_next(tf_gather_t *g, int8_t *win) {
    const int32_t C = g->C, in_h = g->in_h, in_w = g->in_w, k_h = g->k_h, k_w = g->k_w;
    const int32_t dil_h = g->dil_h, dil_w = g->dil_w;
    const int32_t iy0 = g->oy * g->stride_h - g->pad_top;
    const int32_t ix0 = g->ox * g->stride_w - g->pad_left;
    const int8_t zp = (int8_t)g->zp;
    const int8_t *in_b = g->input + (size_t)g->b * in_h * in_w * C;
    const int32_t row = k_w * C, K = g->K, K4 = g->K4;
    if (++g->ox == g->out_w) {
        g->ox = 0;
        if (++g->oy == g->out_h) {
            g->oy = 0;
            g->b++;
        }
    }
    int8_t *w = win;
    if (dil_w == 1 && ix0 >= 0 && ix0 + k_w <= in_w && iy0 >= 0 &&
        iy0 + dil_h * (k_h - 1) < in_h) {
        /* inside: each kernel row is one run of k_w * in_c bytes, copied in words; a last
         * word's 1-3 extra bytes are overwritten by the next row or the zero extension
         * (win has room for the last row's) */
        const uint8_t *x = (const uint8_t *)(in_b + ((size_t)iy0 * in_w + ix0) * C);
        const int32_t words = (row + 3) >> 2;
        const size_t step = (size_t)dil_h * in_w * C;
        for (int32_t ky = 0; ky < k_h; ky++, x += step, w += row) {
            const uint8_t *s = x;
            uint8_t *d = (uint8_t *)w;
            for (int32_t j = words; j > 0; j--, s += 4, d += 4) {
                *(tf_u32_unaligned *)(void *)d = *(const tf_u32_unaligned *)(const void *)s;
            }
        }
    } else {
        for (int32_t ky = 0; ky < k_h; ky++) {
            const int32_t iy = iy0 + dil_h * ky;
            for (int32_t kx = 0; kx < k_w; kx++, w += C) {
                const int32_t ix = ix0 + dil_w * kx;
                const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                const int8_t *x = in_b + ((size_t)iy * in_w + ix) * C;
                for (int32_t c = 0; c < C; c++) {
                    w[c] = inside ? x[c] : zp;
                }
            }
        }
    }
    for (int32_t k = K; k < K4; k++) {
        win[k] = 0;
    }
}
#else
typedef int tf_conv_gather_unused;
#endif
