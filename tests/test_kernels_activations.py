"""SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH: bit-exact vs tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_tflite import assert_bit_exact
from kernel_cases import build, random_range

pytestmark = pytest.mark.xdist_group("tf")


def act_specs(kind: str, seed: int, n: int = 6) -> list[dict]:
    rng = np.random.default_rng(seed)
    ranges = [(-8.0, 8.0), (-1.0, 1.0), (-0.05, 0.05), (-30.0, 2.0), (0.0, 6.0), (-3.0, 0.5)]
    return [{"kind": kind, "shape": [int(rng.integers(1, 6)), int(rng.integers(2, 12))],
             "range": list(ranges[k % len(ranges)]) if k < len(ranges) else random_range(rng),
             "alpha": float(rng.choice([0.1, 0.2, 0.3, 0.01]))} for k in range(n)]


def make_act(s: dict):
    import keras

    kind = s["kind"]
    if kind == "softmax":
        layer = keras.layers.Softmax()
    elif kind == "leaky_relu":
        layer = keras.layers.LeakyReLU(negative_slope=s["alpha"])
    elif kind == "relu":
        layer = keras.layers.ReLU()
    elif kind == "relu6":
        layer = keras.layers.ReLU(max_value=6.0)
    elif kind == "hard_swish":
        layer = keras.layers.Activation("hard_swish")
    else:
        layer = keras.layers.Activation(kind)
    return tuple(s["shape"]), layer, tuple(s["range"])


CASES = {"softmax": "SOFTMAX", "sigmoid": "LOGISTIC", "tanh": "TANH", "relu": "RELU",
         "relu6": "RELU6", "leaky_relu": "LEAKY_RELU", "hard_swish": "HARD_SWISH"}


@pytest.mark.parametrize("kind", list(CASES))
def test_activation_bit_exact(kind):
    data = build("act", act_specs(kind, seed=len(kind)), make_act)
    assert_bit_exact(data, {CASES[kind]}, n_inputs=16)


def test_softmax_on_wide_rows_bit_exact():
    """Small tensors compute exp() per element; from 512 elements on it is tabulated once
    per call (tf_softmax.c), with differences below diff_min in the table as 0."""
    cases = [([2], (-5, 5)), ([10], (-20, 20)), ([100], (-3, 3)), ([1000], (-10, 1)),
             ([30, 25], (-30, 2)), ([16, 64], (-0.05, 0.05)), ([8, 128], (-60, 60))]
    spec = [{"kind": "softmax", "shape": list(n), "range": list(r), "alpha": 0.0}
            for n, r in cases]
    assert_bit_exact(build("act", spec, make_act), {"SOFTMAX"}, n_inputs=8)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(CASES))
def test_activation_many_random_ranges(kind):
    data = build("act", act_specs(kind, seed=1000 + len(kind), n=16), make_act, seed=7)
    assert_bit_exact(data, {CASES[kind]}, n_inputs=32)


def test_prelu_bit_exact():
    """PReLU with a learned alpha per channel (and one shared alpha)."""
    import keras

    def make(s):
        def fn(x):
            y = keras.layers.Dense(s["n"])(x)
            alpha = keras.initializers.RandomUniform(-0.5, 1.5)
            layer = keras.layers.PReLU(alpha_initializer=alpha, shared_axes=s["shared"])
            return layer(keras.layers.Reshape((1, s["n"]))(y))
        return (5,), fn, tuple(s["range"])

    spec = [{"n": 7, "shared": None, "range": [-1, 1]}, {"n": 4, "shared": [1], "range": [-3, 1]}]
    assert_bit_exact(build("prelu", spec, make), {"PRELU"}, n_inputs=16)
