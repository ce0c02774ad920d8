/*
 * The contract between generated model code and everything else on the device.
 *
 * The code generator (tinyflow/codegen, templates/) emits one model_<name>.c that
 * defines everything declared here; the firmware (main.c, the serial protocol) and the
 * host harness use only this header. Keeping it hand-written and fixed means the
 * firmware never depends on the shape of a particular model.
 */
#ifndef TINYFLOW_MODEL_H
#define TINYFLOW_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, numbered as in the TFLite schema's TensorType. */
enum {
    TF_DTYPE_FLOAT32 = 0,
    TF_DTYPE_INT32 = 2,
    TF_DTYPE_UINT8 = 3,
    TF_DTYPE_INT64 = 4,
    TF_DTYPE_INT16 = 7,
    TF_DTYPE_INT8 = 9,
};

#define TF_MAX_RANK 6

typedef struct {
    uint8_t dtype;               /* TF_DTYPE_* */
    uint8_t rank;
    int32_t dims[TF_MAX_RANK];
    uint32_t bytes;
    float scale;                 /* per-tensor quantization of model inputs/outputs */
    int32_t zero_point;
} tf_tensor_info_t;

typedef struct {
    const char *name;            /* model name given at generation time */
    const char *hash;            /* first 16 hex digits of the .tflite's SHA-256 */
    uint32_t arena_bytes;        /* static activation arena, placed in section .tf_arena */
    uint32_t n_layers;           /* operators executed by tf_model_invoke */
    uint8_t n_inputs;
    uint8_t n_outputs;
    const tf_tensor_info_t *inputs;
    const tf_tensor_info_t *outputs;
} tf_model_info_t;

extern const tf_model_info_t tf_model_info;

/* Pointers into the arena. Input buffers may be reused by activations during
 * tf_model_invoke(): refill the input before every inference. */
void *tf_model_input(int index);
void *tf_model_output(int index);

/* Runs the whole network. Returns 0 on success. */
int tf_model_invoke(void);

/* Optional per-layer hook: when the model is generated with profiling, invoke calls
 * tf_profile_layer(i) before layer i and tf_profile_layer(n_layers) at the end.
 * The firmware supplies it (e.g. reading the cycle counter). */
void tf_profile_layer(uint32_t layer);

#ifdef __cplusplus
}
#endif

#endif /* TINYFLOW_MODEL_H */
