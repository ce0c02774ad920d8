"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: tinyflow vs tflite-micro, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_tflite import assert_bit_exact
from kernel_cases import build, random_range

pytestmark = pytest.mark.xdist_group("tf")


def conv_specs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        dil = int(rng.choice([1, 1, 2]))
        stride = 1 if dil > 1 else int(rng.integers(1, 4))
        pad = str(rng.choice(["same", "valid"]))
        groups = 1  # grouped conv fails in the TFLite calibrator
        cin = int(rng.integers(1, 6)) * groups
        eff = [(kk - 1) * dil + 1 for kk in k]
        h, w = eff[0] + int(rng.integers(0, 9)), eff[1] + int(rng.integers(0, 9))
        out.append({"hw": [h, w], "cin": cin, "cout": int(rng.integers(1, 7)) * groups,
                    "k": list(k), "stride": stride, "dil": dil, "pad": pad, "groups": groups,
                    "act": str(rng.choice(["linear", "relu", "relu6"])),
                    "bias": bool(rng.integers(0, 4) > 0), "range": random_range(rng)})
    return out


def make_conv(s: dict):
    import keras

    layer = keras.layers.Conv2D(s["cout"], s["k"], strides=s["stride"], padding=s["pad"],
                                dilation_rate=s["dil"], groups=s["groups"],
                                activation=s["act"], use_bias=s["bias"],
                                bias_initializer="random_uniform")
    return (s["hw"][0], s["hw"][1], s["cin"]), layer, tuple(s["range"])


def dw_specs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        dil = int(rng.choice([1, 1, 2]))
        stride = 1 if dil > 1 else int(rng.integers(1, 4))
        eff = [(kk - 1) * dil + 1 for kk in k]
        out.append({"hw": [eff[0] + int(rng.integers(0, 8)), eff[1] + int(rng.integers(0, 8))],
                    "cin": int(rng.integers(1, 9)), "dm": int(rng.choice([1, 1, 2, 3])),
                    "k": list(k), "stride": stride, "dil": dil,
                    "pad": str(rng.choice(["same", "valid"])),
                    "act": str(rng.choice(["linear", "relu", "relu6"])),
                    "range": random_range(rng)})
    return out


def make_dw(s: dict):
    import keras

    layer = keras.layers.DepthwiseConv2D(s["k"], strides=s["stride"], padding=s["pad"],
                                         depth_multiplier=s["dm"], dilation_rate=s["dil"],
                                         activation=s["act"], bias_initializer="random_uniform")
    return (s["hw"][0], s["hw"][1], s["cin"]), layer, tuple(s["range"])


def fc_specs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"rows": int(rng.choice([1, 1, 3])), "depth": int(rng.integers(1, 40)),
             "units": int(rng.integers(1, 20)),
             "act": str(rng.choice(["linear", "relu", "relu6"])),
             "range": random_range(rng)} for _ in range(n)]


def make_fc(s: dict):
    import keras

    dense = keras.layers.Dense(s["units"], activation=s["act"], bias_initializer="random_uniform")
    shape = (s["depth"],) if s["rows"] == 1 else (s["rows"], s["depth"])
    return shape, dense, tuple(s["range"])


@pytest.mark.parametrize("per_tensor", [False, True], ids=["per_channel", "per_tensor"])
def test_conv2d_bit_exact(per_tensor):
    data = build("conv2d", conv_specs(8, seed=11), make_conv, per_tensor=per_tensor)
    assert_bit_exact(data, {"CONV_2D"})


@pytest.mark.parametrize("per_tensor", [False, True], ids=["per_channel", "per_tensor"])
def test_depthwise_conv2d_bit_exact(per_tensor):
    data = build("dwconv", dw_specs(8, seed=12), make_dw, per_tensor=per_tensor)
    assert_bit_exact(data, {"DEPTHWISE_CONV_2D"})


@pytest.mark.parametrize("per_tensor", [False, True], ids=["per_channel", "per_tensor"])
def test_fully_connected_bit_exact(per_tensor):
    data = build("fc", fc_specs(8, seed=13), make_fc, per_tensor=per_tensor)
    assert_bit_exact(data, {"FULLY_CONNECTED"})


def test_batch_matmul_bit_exact():
    """Two computed operands multiplied (attention-style), with a transposed right side."""
    import keras

    def make(s):
        def fn(x):
            a = keras.layers.Reshape(tuple(s["a"]))(keras.layers.Dense(int(np.prod(s["a"])))(x))
            b = keras.layers.Reshape(tuple(s["b"]))(keras.layers.Dense(int(np.prod(s["b"])))(x))
            if s["t"]:
                b = keras.ops.swapaxes(b, -1, -2)
            return keras.ops.matmul(a, b)
        return (6,), fn, tuple(s["range"])

    spec = [{"a": [4, 6], "b": [6, 5], "t": False, "range": [-1, 1]},
            {"a": [2, 3, 7], "b": [2, 4, 7], "t": True, "range": [-2, 1]},
            {"a": [3, 5], "b": [5, 1], "t": False, "range": [0, 3]}]
    assert_bit_exact(build("bmm", spec, make), {"BATCH_MATMUL"}, n_inputs=16)


def test_transpose_conv_bit_exact():
    import keras

    def make(s):
        layer = keras.layers.Conv2DTranspose(s["cout"], s["k"], strides=s["stride"],
                                             padding=s["pad"], use_bias=s["bias"],
                                             bias_initializer="random_uniform")
        return (s["h"], s["w"], s["cin"]), layer, tuple(s["range"])

    spec = [{"h": 4, "w": 5, "cin": 3, "cout": 4, "k": [3, 3], "stride": 2, "pad": "same",
             "bias": True, "range": [-1, 1]},
            {"h": 3, "w": 3, "cin": 2, "cout": 3, "k": [2, 4], "stride": 1, "pad": "valid",
             "bias": False, "range": [-2, 3]},
            {"h": 5, "w": 2, "cin": 4, "cout": 2, "k": [4, 3], "stride": 3, "pad": "valid",
             "bias": True, "range": [0, 2]}]
    assert_bit_exact(build("tconv", spec, make), {"TRANSPOSE_CONV"})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [101, 102])
def test_conv_family_many_random_cases(seed):
    assert_bit_exact(build("conv2d", conv_specs(16, seed), make_conv, seed=seed), {"CONV_2D"})
    assert_bit_exact(build("dwconv", dw_specs(16, seed), make_dw, seed=seed),
                     {"DEPTHWISE_CONV_2D"})
    assert_bit_exact(build("fc", fc_specs(16, seed), make_fc, seed=seed), {"FULLY_CONNECTED"})
