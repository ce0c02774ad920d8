"""ADD, SUB, MUL (with broadcasting and fused activations), pooling and MEAN."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_tflite import assert_bit_exact
from kernel_cases import build, random_range

pytestmark = pytest.mark.xdist_group("tf")

SHAPES = [  # (a, b): b broadcasts against a
    ((5, 7, 3), (5, 7, 3)), ((4, 6, 8), (1, 1, 8)), ((3, 5, 2), (3, 1, 2)), ((9,), (9,)),
    ((2, 3, 4), (2, 3, 1)), ((6, 4), (1, 4)), ((4, 4, 4), (4, 1, 1)),
]


def binary_specs(op: str, seed: int, n: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        a, b = SHAPES[k % len(SHAPES)]
        if rng.integers(0, 2):
            a, b = b, a
        out.append({"op": op, "a": list(a), "b": list(b),
                    "act": str(rng.choice(["none", "relu", "relu6"])),
                    "range": random_range(rng), "range_b": random_range(rng),
                    "scale_b": float(rng.choice([1.0, 0.1, 4.0, 0.5]))})
    return out


def make_binary(s: dict):
    """x and a learned-free second operand derived from a second slice of the same input,
    so each branch has a single input yet two differently quantized operands."""
    import keras

    a_shape, b_shape = tuple(s["a"]), tuple(s["b"])

    def fn(x):
        a = keras.layers.Reshape(a_shape)(keras.layers.Dense(int(np.prod(a_shape)))(x))
        b = keras.layers.Reshape(b_shape)(keras.layers.Dense(int(np.prod(b_shape)))(x))
        b = keras.layers.Rescaling(s["scale_b"])(b)
        y = {"ADD": keras.ops.add, "SUB": keras.ops.subtract, "MUL": keras.ops.multiply,
             "MAXIMUM": keras.ops.maximum, "MINIMUM": keras.ops.minimum}[s["op"]](a, b)
        if s["act"] == "relu":
            y = keras.ops.relu(y)
        elif s["act"] == "relu6":
            y = keras.ops.relu6(y)
        return y

    return (6,), fn, tuple(s["range"])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"])
def test_binary_bit_exact(op):
    seed = {"ADD": 1, "SUB": 2, "MUL": 3, "MAXIMUM": 4, "MINIMUM": 5}[op]
    data = build("binary", binary_specs(op, seed=seed), make_binary)
    assert_bit_exact(data, {op})


def pool_specs(seed: int, n: int = 8) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = [int(rng.integers(1, 5)), int(rng.integers(1, 5))]
        st = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        out.append({"kind": str(rng.choice(["avg", "max"])), "k": k, "stride": st,
                    "pad": str(rng.choice(["same", "valid"])),
                    "hw": [k[0] + int(rng.integers(0, 9)), k[1] + int(rng.integers(0, 9))],
                    "c": int(rng.integers(1, 6)), "range": random_range(rng)})
    return out


def make_pool(s: dict):
    import keras

    cls = keras.layers.AveragePooling2D if s["kind"] == "avg" else keras.layers.MaxPooling2D
    return ((s["hw"][0], s["hw"][1], s["c"]),
            cls(s["k"], strides=s["stride"], padding=s["pad"]), tuple(s["range"]))


def test_pooling_bit_exact():
    assert_bit_exact(build("pool", pool_specs(21), make_pool),
                     {"AVERAGE_POOL_2D", "MAX_POOL_2D"})


MEAN_CASES = [  # (input shape, axes, keepdims)
    ((5, 7, 8), (0, 1), True), ((5, 7, 8), (0, 1), False), ((6, 9), (1,), False),
    ((4, 5, 6), (2,), True), ((3, 4, 5), (0, 2), False), ((10, 3, 2), (1,), True),
    ((2, 3, 4), (0, 1, 2), False), ((12, 12, 16), (0, 1), True),
]


def make_mean(s: dict):
    import keras

    def fn(x):
        # a conv in front gives the mean an input scale different from its output's
        return keras.ops.mean(x * 1.0, axis=tuple(a + 1 for a in s["axes"]),
                              keepdims=s["keep"])

    return tuple(s["shape"]), fn, tuple(s["range"])


def test_mean_bit_exact():
    rng = np.random.default_rng(31)
    spec = [{"shape": list(sh), "axes": list(ax), "keep": kd, "range": random_range(rng)}
            for sh, ax, kd in MEAN_CASES]
    assert_bit_exact(build("mean", spec, make_mean), {"MEAN"})


def make_reduce(s: dict):
    import keras

    def fn(x):
        axes = tuple(a + 1 for a in s["axes"])
        if s["op"] == "max":
            return keras.ops.max(x, axis=axes, keepdims=s["keep"])
        return keras.ops.sum(x, axis=axes, keepdims=s["keep"])

    return tuple(s["shape"]), fn, tuple(s["range"])


@pytest.mark.parametrize("op", ["max", "sum"])
def test_reduce_max_and_sum_bit_exact(op):
    rng = np.random.default_rng(33)
    spec = [{"op": op, "shape": list(sh), "axes": list(ax), "keep": kd,
             "range": random_range(rng)} for sh, ax, kd in MEAN_CASES[:6]]
    assert_bit_exact(build("reduce", spec, make_reduce), {"REDUCE_MAX" if op == "max" else "SUM"})


def test_global_average_pooling_bit_exact():
    """Keras GlobalAveragePooling2D as MobileNet heads use it."""
    def make(s):
        import keras

        return ((s["hw"], s["hw"], s["c"]), keras.layers.GlobalAveragePooling2D(),
                tuple(s["range"]))

    rng = np.random.default_rng(32)
    spec = [{"hw": int(h), "c": int(c), "range": random_range(rng)}
            for h, c in [(3, 8), (6, 16), (7, 5), (1, 3), (12, 32)]]
    assert_bit_exact(build("gap", spec, make), {"MEAN"})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [201])
def test_binary_and_pool_many_random_cases(seed):
    for op in ("ADD", "SUB", "MUL"):
        assert_bit_exact(build("binary", binary_specs(op, seed, n=14), make_binary, seed=seed),
                         {op})
    assert_bit_exact(build("pool", pool_specs(seed, n=16), make_pool, seed=seed))


def test_constant_operands_bit_exact():
    """x * c + d with constant tensors (Keras Rescaling, per-channel constants)."""
    import keras

    def make(s):
        def fn(x):
            y = keras.layers.Dense(s["n"], activation="tanh")(x)  # stops constant folding
            y = keras.layers.Rescaling(scale=s["scale"], offset=s["offset"])(y)
            return keras.ops.multiply(y, np.linspace(-1.5, 2.0, s["n"]).astype("float32"))
        return (4,), fn, (-1.0, 1.0)

    spec = [{"n": 6, "scale": 0.7, "offset": 0.2}, {"n": 3, "scale": -2.0, "offset": 1.5}]
    data = build("constops v2", spec, make)
    assert_bit_exact(data, {"MUL", "ADD"})
    from tinyflow.ir import parse_model

    model = parse_model(data)
    assert any(model.tensors[i].is_const for op in model.operators if op.opcode == "MUL"
               for i in op.inputs)
