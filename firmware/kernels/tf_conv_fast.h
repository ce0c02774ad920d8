/*
 * Specialised int8 convolution kernels for cores with the DSP extension and no Helium
 * (Cortex-M4, M7, M33; an M55 built with -DTF_NO_MVE). tf_conv2d_s8 and
 * tf_depthwise_conv2d_s8 offer every layer to these first; each returns 1 when it
 * computed the layer and 0 when the shape or quantization is not its case, and then the
 * general kernels in tf_conv.c run. Same arguments and results as tf_conv2d_s8, to the bit.
 */
#ifndef TF_CONV_FAST_H
#define TF_CONV_FAST_H

#include "tf_conv.h"
#include "tf_dot.h"

/* Their inline assembly names most registers, so they need the frame pointer free: an
 * -O0 build (which keeps r7 as one) uses the general kernels. */
#if TF_DOT_USE_DSP && !TF_DOT_USE_MVE && defined(__OPTIMIZE__)
#define TF_CONV_FAST 1
#else
#define TF_CONV_FAST 0
#endif

/* Helium (Cortex-M55): its own specialised kernels, offered first the same way */
#if TF_DOT_USE_MVE
#define TF_CONV_MVE 1
#else
#define TF_CONV_MVE 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if TF_CONV_FAST || TF_CONV_MVE
/* Gathering windows for the GEMM kernels (tf_conv_gather.c): the layer's geometry and the
 * next output pixel. The windows are `padded` bytes long (>= K, zero-extended) and the
 * last row's word copy may write up to 3 bytes past K: give the buffer that much room. */
typedef struct {
    const int8_t *input;
    int32_t C, in_h, in_w, k_h, k_w, dil_h, dil_w, stride_h, stride_w, pad_top, pad_left;
    int32_t out_h, out_w, K, K4, zp;
    int32_t b, oy, ox; /* the next output pixel */
} tf_gather_t;

void tf_gather_init(tf_gather_t *g, const tf_conv_params_t *p, const int8_t *input,
                    int32_t padded);
/* the next output pixel's window into win, then step to the pixel after it */
void tf_gather_next(tf_gather_t *g, int8_t *win);
#endif

#if TF_CONV_MVE
/* 1x1, stride 1, one group (tf_conv_pw_mve.c) */
int tf_conv1x1_s8_mve(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                      const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                      int8_t *output);
/* windows of at most 16 taps, like a 3x3 stem over one channel (tf_conv_window_mve.c) */
int tf_conv_window_s8_mve(const tf_conv_params_t *p, const int8_t *input,
                          const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                          const int8_t *shift, int8_t *output);
/* depthwise, depth multiplier 1, in_c % 4 == 0 (tf_conv_dw_mve.c) */
int tf_depthwise_s8_mve(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                        const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                        int8_t *output);
#endif

#if TF_CONV_FAST
/* 1x1, stride 1, one group (tf_conv_pw.c) */
int tf_conv1x1_s8_fast(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                       int8_t *output);
/* small windows over few input channels, like a 3x3 stride-2 stem (tf_conv_window.c) */
int tf_conv_window_s8_fast(const tf_conv_params_t *p, const int8_t *input,
                           const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                           const int8_t *shift, int8_t *output);
/* depthwise, depth multiplier 1 (tf_conv_dw.c) */
int tf_depthwise_s8_fast(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
                         const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                         int8_t *output);
#endif

#ifdef __cplusplus
}
#endif

#endif /* TF_CONV_FAST_H */
