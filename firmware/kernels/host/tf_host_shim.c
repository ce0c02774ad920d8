/*
 * Host-only glue for running generated models in-process (tinyflow.hostengine): the
 * firmware supplies tf_profile_layer on a board; on the host it forwards to a callback
 * that Python sets through ctypes, which is how per-layer tensors are captured.
 */
#include <stddef.h>
#include <stdint.h>

#include "tinyflow_model.h"

typedef void (*tf_host_layer_cb_t)(uint32_t layer);

static tf_host_layer_cb_t layer_cb = NULL;

void tf_host_set_layer_callback(tf_host_layer_cb_t cb) { layer_cb = cb; }

void tf_profile_layer(uint32_t layer) {
    if (layer_cb != NULL) {
        layer_cb(layer);
    }
}
