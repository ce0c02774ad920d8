"""Reference architectures used across the benchmarks, built in Keras with a fixed batch of 1.

- mobilenet_v1: the MLPerf Tiny / TFLM person-detection network (width 0.25, 96x96x1).
- ds_cnn: the MLPerf Tiny keyword-spotting DS-CNN (49x10x1 MFCC input).
- resnet8: the MLPerf Tiny image-classification ResNet-8 (32x32x3).

Weights are random (benchmarks measure memory and cost, not accuracy). `calibrate_bn` sets
every BatchNorm's statistics from one batch of data, so activations keep a unit range through
the depth of the network and the int8 scales are not degenerate (without it, signals decay
to zero after a dozen random layers and TFLM's softmax aborts on the tiny scale).
"""

from __future__ import annotations

import numpy as np


def _bn_relu(x, relu6: bool = True):
    import keras

    x = keras.layers.BatchNormalization()(x)
    return keras.layers.ReLU(6.0 if relu6 else None)(x)


def mobilenet_v1(alpha: float = 0.25, resolution: int = 96, channels: int = 1, classes: int = 2):
    import keras

    keras.utils.set_random_seed(0)
    init = "he_normal"
    i = keras.Input((resolution, resolution, channels), batch_size=1)
    x = keras.layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False,
                            kernel_initializer=init)(i)
    x = _bn_relu(x)
    # (pointwise filters, depthwise stride) of MobileNetV1's 13 separable blocks
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
             [(1024, 2), (1024, 1)]
    for filters, stride in blocks:
        x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                                         depthwise_initializer=init)(x)
        x = _bn_relu(x)
        x = keras.layers.Conv2D(int(filters * alpha), 1, use_bias=False, kernel_initializer=init)(x)
        x = _bn_relu(x)
    x = keras.layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = keras.layers.Reshape((x.shape[-1],))(x)
    x = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(i, x, name=f"mobilenet_v1_{alpha}_{resolution}x{resolution}x{channels}")


def ds_cnn(classes: int = 12):
    import keras

    keras.utils.set_random_seed(0)
    i = keras.Input((49, 10, 1), batch_size=1)
    x = keras.layers.Conv2D(64, (10, 4), strides=2, padding="same", use_bias=False)(i)
    x = _bn_relu(x, relu6=False)
    for _ in range(4):
        x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = _bn_relu(x, relu6=False)
        x = keras.layers.Conv2D(64, 1, use_bias=False)(x)
        x = _bn_relu(x, relu6=False)
    x = keras.layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(i, x, name="ds_cnn")


def resnet8(classes: int = 10):
    import keras

    keras.utils.set_random_seed(0)
    i = keras.Input((32, 32, 3), batch_size=1)
    x = keras.layers.Conv2D(16, 3, padding="same", kernel_initializer="he_normal")(i)
    x = _bn_relu(x, relu6=False)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same",
                                kernel_initializer="he_normal")(x)
        y = _bn_relu(y, relu6=False)
        y = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal")(y)
        y = keras.layers.BatchNormalization()(y)
        if stride != 1:
            x = keras.layers.Conv2D(filters, 1, strides=stride, kernel_initializer="he_normal")(x)
        x = keras.layers.ReLU()(keras.layers.Add()([x, y]))
    x = keras.layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(i, x, name="resnet8")


def calibrate_bn(model, n: int = 16, seed: int = 0, low: float = 0.0, high: float = 1.0):
    import keras

    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (n, *model.input_shape[1:])).astype(np.float32)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [b.momentum for b in bns]
    for b in bns:
        b.momentum = 0.0
    # One layer at a time, so each BN sees the already-normalised output of the one before.
    for b in bns:
        sub = keras.Model(model.input, b.output)
        sub(x, training=True)
    for b, m in zip(bns, saved):
        b.momentum = m
    return model


def to_int8(model, n_rep: int = 16, seed: int = 0, low: float = 0.0, high: float = 1.0) -> bytes:
    """Full-int8 conversion (int8 in and out) with uniform random calibration data, through
    the same converter `tinyflow quantize` uses."""
    from tinyflow.quantize import convert_int8

    rng = np.random.default_rng(seed)
    rep = rng.uniform(low, high, (n_rep, *model.input_shape[1:])).astype(np.float32)
    return convert_int8(model, rep, n_rep=n_rep)


def build(name: str):
    return calibrate_bn(REFERENCE[name]())


REFERENCE = {"mobilenet_v1_0.25_96x96x1": mobilenet_v1, "ds_cnn": ds_cnn, "resnet8": resnet8}
