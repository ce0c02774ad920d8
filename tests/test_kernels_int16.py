"""16x8 mode (int16 activations, int8 weights, int64 bias): the ops TFLM runs in int16."""

from __future__ import annotations

import pytest
from helpers_tflite import assert_bit_exact
from kernel_cases import build

pytestmark = pytest.mark.xdist_group("tf")


def make(s: dict):
    import keras

    k = s["kind"]
    shape = tuple(s["shape"])
    rng = tuple(s["range"])
    if k == "conv":
        return shape, keras.layers.Conv2D(5, 3, strides=s.get("stride", 1), padding=s["pad"],
                                          activation=s.get("act"),
                                          bias_initializer="random_uniform"), rng
    if k == "dw":
        return shape, keras.layers.DepthwiseConv2D(3, padding=s["pad"], depth_multiplier=s["dm"],
                                                   bias_initializer="random_uniform"), rng
    if k == "fc":
        return shape, keras.layers.Dense(7, activation=s.get("act"),
                                         bias_initializer="random_uniform"), rng
    if k == "pool":
        cls = keras.layers.AveragePooling2D if s["avg"] else keras.layers.MaxPooling2D
        return shape, cls(2, padding=s["pad"]), rng
    if k == "mean":
        return shape, keras.layers.GlobalAveragePooling2D(), rng
    if k in ("sigmoid", "tanh"):
        def fn(x):
            y = keras.layers.Dense(shape[-1])(x)  # a computed (non power-of-two) input scale
            return keras.layers.Activation(k)(y)
        return shape, fn, rng
    if k in ("relu", "relu6"):
        # straight on the model input: there is nothing to fuse it into
        return shape, keras.layers.ReLU(max_value=6.0 if k == "relu6" else None), rng
    if k in ("add", "mul", "sub"):
        def fn(x):
            a = keras.layers.Dense(shape[-1])(x)
            b = keras.layers.Dense(1)(x)  # broadcast along the last axis
            op = {"add": keras.ops.add, "mul": keras.ops.multiply, "sub": keras.ops.subtract}[k]
            return op(a, b)
        return shape, fn, rng
    raise AssertionError(k)


SPEC = [
    {"kind": "conv", "shape": [9, 8, 3], "pad": "same", "range": [-1, 1]},
    {"kind": "conv", "shape": [7, 9, 2], "pad": "valid", "stride": 2, "act": "relu",
     "range": [-2, 3]},
    {"kind": "dw", "shape": [8, 8, 4], "pad": "same", "dm": 1, "range": [-1, 1]},
    {"kind": "dw", "shape": [6, 7, 3], "pad": "valid", "dm": 2, "range": [-3, 1]},
    {"kind": "fc", "shape": [13], "range": [-1, 2]},
    {"kind": "fc", "shape": [20], "act": "relu", "range": [-4, 4]},
    {"kind": "pool", "shape": [8, 6, 3], "avg": True, "pad": "same", "range": [-1, 1]},
    {"kind": "pool", "shape": [9, 7, 2], "avg": False, "pad": "valid", "range": [-2, 1]},
    {"kind": "mean", "shape": [5, 6, 4], "range": [-1, 3]},
    {"kind": "sigmoid", "shape": [11], "range": [-6, 6]},
    {"kind": "tanh", "shape": [11], "range": [-3, 3]},
    {"kind": "relu", "shape": [9], "range": [-1, 1]},
    {"kind": "relu6", "shape": [9], "range": [-8, 8]},
    {"kind": "sub", "shape": [6], "range": [-1, 1]},
    {"kind": "add", "shape": [6], "range": [-1, 1]},
    {"kind": "mul", "shape": [5], "range": [-2, 2]},
]


def test_16x8_ops_bit_exact():
    data = build("int16 v3", SPEC, make, int16=True)
    assert_bit_exact(data, {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D",
                            "AVERAGE_POOL_2D", "MEAN", "LOGISTIC", "TANH", "ADD", "MUL", "SUB",
                            "RELU", "RELU6"},
                     n_inputs=8)
    from tinyflow.ir import parse_model

    model = parse_model(data)
    assert {model.tensors[i].dtype for i in model.inputs} == {"int16"}
    biases = [model.tensors[op.inputs[2]] for op in model.operators
              if op.opcode == "CONV_2D" and len(op.inputs) > 2 and op.inputs[2] >= 0]
    assert biases and all(b.dtype == "int64" for b in biases)


def test_int16_softmax_bit_exact():
    """TFLM's table-based int16 softmax: both tables are generated at build time."""
    import keras

    def mk(s):
        def fn(x):
            return keras.layers.Softmax()(keras.layers.Dense(s["n"])(x))
        return (s["n"],), fn, tuple(s["range"])

    spec = [{"n": n, "range": r} for n, r in [(6, (-2.0, 2.0)), (40, (-8.0, 8.0)), (3, (-1, 1))]]
    assert_bit_exact(build("int16sm", spec, mk, int16=True), {"SOFTMAX"}, n_inputs=16)
