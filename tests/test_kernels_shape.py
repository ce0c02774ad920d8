"""Data movement (RESHAPE, PAD, CONCATENATION, STRIDED_SLICE, TRANSPOSE) and the model-edge
conversions QUANTIZE / DEQUANTIZE: bit-exact vs tflite-micro."""

from __future__ import annotations

import pytest
from helpers_tflite import assert_bit_exact
from kernel_cases import build

pytestmark = pytest.mark.xdist_group("tf")


def _dense_to(shape):
    """A Dense + Reshape in front, so the op under test sees a computed int8 tensor."""
    import keras
    import numpy as np

    def pre(x):
        return keras.layers.Reshape(shape)(keras.layers.Dense(int(np.prod(shape)))(x))

    return pre


def make_shape_case(s: dict):
    import keras

    kind, shape = s["kind"], tuple(s["shape"])
    pre = _dense_to(shape)

    def fn(x):
        y = pre(x)
        if kind == "pad":
            return keras.layers.ZeroPadding2D(tuple(map(tuple, s["pad"])))(y)
        if kind == "transpose":
            return keras.layers.Permute(tuple(s["perm"]))(y)
        if kind == "reshape":
            return keras.layers.Dense(3)(keras.layers.Reshape(tuple(s["to"]))(y))
        if kind == "slice":
            sl = tuple(slice(*a) for a in s["slices"])
            return y[(slice(None), *sl)]
        if kind == "tfslice":
            return keras.ops.slice(y, [0, *s["begin"]], [1, *s["size"]])
        if kind == "padc":
            return keras.ops.pad(y, [[0, 0], *s["pad"]], constant_values=s["value"])
        if kind == "split":
            return list(keras.ops.split(y, s["parts"], axis=s["axis"]))
        if kind == "unstack":
            return list(keras.ops.unstack(y, axis=s["axis"]))
        if kind == "stack":
            z = keras.layers.Dense(shape[-1])(y)
            return keras.ops.stack([y, z], axis=s["axis"])
        if kind == "concat":
            z = keras.layers.Dense(shape[-1])(y)
            return keras.layers.Concatenate(axis=s["axis"])([y, z, y])
        raise AssertionError(kind)

    return (5,), fn, (-1.0, 1.0)


SPECS = {
    "pad": [{"kind": "pad", "shape": [4, 5, 3], "pad": [[1, 2], [0, 3]]},
            {"kind": "pad", "shape": [2, 2, 1], "pad": [[3, 0], [1, 1]]}],
    "transpose": [{"kind": "transpose", "shape": [3, 4, 5], "perm": [2, 1, 3]},
                  {"kind": "transpose", "shape": [2, 3, 4], "perm": [3, 1, 2]},
                  {"kind": "transpose", "shape": [6, 7], "perm": [2, 1]}],
    "reshape": [{"kind": "reshape", "shape": [4, 6], "to": [3, 8]},
                {"kind": "reshape", "shape": [2, 3, 4], "to": [24]}],
    "slice": [{"kind": "slice", "shape": [8, 6, 3], "slices": [[1, 7, 2], [None, None, 3]]},
              {"kind": "slice", "shape": [10, 4], "slices": [[-4, None], [1, 3]]},
              {"kind": "slice", "shape": [9, 5, 2], "slices": [[None, None, -2]]}],
    "concat": [{"kind": "concat", "shape": [3, 4, 2], "axis": -1},
               {"kind": "concat", "shape": [3, 4, 2], "axis": 1},
               {"kind": "concat", "shape": [5, 3], "axis": 1}],
}
SPECS.update({
    "tfslice": [{"kind": "tfslice", "shape": [6, 5, 3], "begin": [1, 2, 0], "size": [4, 2, 3]},
                {"kind": "tfslice", "shape": [7, 4], "begin": [3, 1], "size": [2, 3]}],
    "padc": [{"kind": "padc", "shape": [3, 4], "pad": [[1, 2], [2, 0]], "value": 0.5}],
    "split": [{"kind": "split", "shape": [4, 6], "parts": 3, "axis": -1},
              {"kind": "split", "shape": [6, 2, 3], "parts": 2, "axis": 1},
              {"kind": "split", "shape": [7, 5], "parts": [2, 3], "axis": 1}],
    "unstack": [{"kind": "unstack", "shape": [3, 4], "axis": 1},
                {"kind": "unstack", "shape": [2, 3, 2], "axis": 1}],
    "stack": [{"kind": "stack", "shape": [3, 4], "axis": 1},
              {"kind": "stack", "shape": [5], "axis": 0}],
})
OPS = {"tfslice": {"SLICE"}, "padc": {"PADV2"},
       "split": {"SPLIT", "SPLIT_V"}, "unstack": {"UNPACK"}, "stack": {"PACK"},
       "pad": {"PAD"}, "transpose": {"TRANSPOSE"}, "reshape": {"RESHAPE"},
       "slice": {"STRIDED_SLICE"}, "concat": {"CONCATENATION"}}


@pytest.mark.parametrize("kind", list(SPECS))
def test_data_movement_bit_exact(kind):
    assert_bit_exact(build("shape", SPECS[kind], make_shape_case), OPS[kind])


def test_float_io_quantize_dequantize_bit_exact():
    """A model with float input and output: QUANTIZE in front, DEQUANTIZE at the end."""
    import keras

    def make(s):
        return (s["n"],), keras.layers.Dense(s["u"], activation="tanh"), (-2.0, 2.0)

    data = build("floatio", [{"n": 7, "u": 5}, {"n": 3, "u": 12}], make, float_io=True)
    assert_bit_exact(data, {"QUANTIZE", "DEQUANTIZE"}, n_inputs=64)


def test_upsampling_tile_matches_numpy():
    """Keras 3's UpSampling2D converts to RESHAPE + TILE + RESHAPE. tflite-micro has no TILE
    kernel, so the reference here is numpy's repeat (TILE only moves bytes)."""
    import keras
    import numpy as np

    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model

    def make(s):
        return (s["h"], s["w"], s["c"]), keras.layers.UpSampling2D(s["f"]), (-1.0, 1.0)

    spec = [{"h": 3, "w": 4, "c": 2, "f": 2}, {"h": 5, "w": 2, "c": 3, "f": [3, 2]}]
    model = parse_model(build("upsample", spec, make))
    assert "TILE" in {op.opcode for op in model.operators}
    engine = HostEngine(model)
    rng = np.random.default_rng(0)
    xs = [rng.integers(-128, 128, model.tensors[i].shape).astype(np.int8) for i in model.inputs]
    ys = engine.invoke(xs)
    for x in xs:  # match each input to its output by shape
        for fh, fw in ((2, 2), (3, 2)):
            want = np.repeat(np.repeat(x, fh, axis=1), fw, axis=2)
            if any(y.shape == want.shape and np.array_equal(y, want) for y in ys):
                break
        else:
            raise AssertionError(f"no output is the upsampled input {x.shape}")


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_bit_exact(mode):
    import keras

    def make(s):
        layer = keras.layers.Resizing(s["to"][0], s["to"][1], interpolation=mode)
        return (s["h"], s["w"], s["c"]), layer, (-1.0, 1.0)

    spec = [{"h": 4, "w": 5, "c": 3, "to": [9, 7]}, {"h": 8, "w": 6, "c": 2, "to": [3, 6]},
            {"h": 3, "w": 3, "c": 1, "to": [12, 12]}]
    op = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
    assert_bit_exact(build(f"resize {mode}", spec, make), {op}, n_inputs=16)
