"""Small real Keras models converted to full int8, for the foundation tests.

Each builder returns (keras_model, tflite_bytes). Layers carry biases and no BatchNorm so
that parameter counts can be checked exactly against Keras.
"""

from __future__ import annotations

import numpy as np


def to_int8(model, n_rep: int = 8, seed: int = 0) -> bytes:
    """Full-int8 (int8 I/O) through tinyflow's own converter, calibrated on uniform [-1, 1]."""
    from tinyflow.quantize import convert_int8

    rng = np.random.default_rng(seed)
    rep = rng.uniform(-1, 1, (n_rep, *model.input_shape[1:])).astype(np.float32)
    return convert_int8(model, rep, n_rep=n_rep)


def small_cnn():
    import keras

    keras.utils.set_random_seed(1)
    # Non-zero biases: the converter drops all-zero FULLY_CONNECTED biases, and the test
    # compares parameter counts exactly.
    b = {"bias_initializer": "random_uniform"}
    i = keras.Input((24, 24, 3), batch_size=1)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", **b)(i)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6", **b)(x)
    x = keras.layers.Add()([x, y])
    x = keras.layers.Conv2D(12, 1, activation="relu", **b)(x)
    x = keras.layers.Conv2D(10, (3, 5), strides=(1, 2), padding="valid", **b)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(5, activation="relu", **b)(x)
    x = keras.layers.Dense(2, activation="softmax", **b)(x)
    m = keras.Model(i, x)
    return m, to_int8(m)


def big_activations():
    """Tiny weights, huge activations: 160x160x32 int8 = 800 KiB for one tensor."""
    import keras

    keras.utils.set_random_seed(2)
    i = keras.Input((160, 160, 3), batch_size=1)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(i)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(2, activation="softmax")(x)
    m = keras.Model(i, x)
    return m, to_int8(m, n_rep=2)


def keras_macs(model) -> int:
    """MACs computed from the Keras layers alone (independent of tinyflow's IR)."""
    import keras

    total = 0
    for layer in model.layers:
        out = layer.output.shape
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += out[1] * out[2] * out[3] * kh * kw
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            cin = layer.input.shape[-1]
            total += out[1] * out[2] * out[3] * kh * kw * cin
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


def keras_weight_params(model) -> int:
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
    return sum(layer.count_params() for layer in model.layers if isinstance(layer, kinds))
