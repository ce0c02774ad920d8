/*
 * A stand-in for generated model code, for the MLPerf host tests: input int8 (1,4,4,2),
 * output int8 (1,2) with scale 1/256 and zero point -128, like a two-class softmax.
 * out[1] = clamp(sum(input) / 8, -128, 127), out[0] = -1 - out[1]; tests compute the same.
 * Every invoke also clobbers the input, as a real arena may, so the harness must reload it.
 */
#include <stdint.h>

#include "tinyflow_model.h"

static int8_t in_buf[32];
static int8_t out_buf[2];

static const tf_tensor_info_t in_info = {TF_DTYPE_INT8, 4, {1, 4, 4, 2, 0, 0}, 32, 0.5f, -3};
static const tf_tensor_info_t out_info = {TF_DTYPE_INT8, 2, {1, 2, 0, 0, 0, 0}, 2,
                                          1.0f / 256.0f, -128};

const tf_model_info_t tf_model_info = {"fake", "0123456789abcdef", 64, 1, 1, 1, &in_info,
                                       &out_info};

void *tf_model_input(int index) { return index == 0 ? in_buf : 0; }

void *tf_model_output(int index) { return index == 0 ? out_buf : 0; }

int tf_model_invoke(void)
{
    int32_t s = 0;
    for (int i = 0; i < 32; i++) {
        s += in_buf[i];
        in_buf[i] = 0x55;   /* clobbered, like an arena reused by activations */
    }
    s /= 8;
    out_buf[1] = (int8_t)(s > 127 ? 127 : s < -128 ? -128 : s);
    out_buf[0] = (int8_t)(-1 - out_buf[1]);
    return 0;
}
