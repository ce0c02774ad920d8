"""int8 ADD/SUB on DSP cores (the short-requantization loop in tf_elementwise.c) on the
virtual boards, bit-exact against tflite-micro.

Cases: either input the one with the larger scale (its rescale is an exact halving), equal
scales (both), SUB in both orders, a fused ReLU, and a broadcast ADD (not flat: the general
loop runs).
"""

from __future__ import annotations

import pytest
from kernel_cases import build, run_exact_on_board

BOARDS = ["qemu-m4", "qemu-m7"]

SPEC = [
    {"shape": [5, 3, 8], "kind": "add_small_other", "range": [-1.0, 1.0]},
    {"shape": [4, 4, 6], "kind": "add_big_other", "range": [-0.3, 0.2]},
    {"shape": [3, 7, 4], "kind": "add_same", "range": [-2.5, 3.0]},
    {"shape": [2, 5, 8], "kind": "sub", "range": [-4.0, 1.0]},
    {"shape": [3, 3, 12], "kind": "add_relu", "range": [-1.0, 6.0]},
    {"shape": [4, 2, 8], "kind": "add_broadcast", "range": [-1.0, 0.5]},
]


def _make(s: dict):
    import keras
    from keras import layers as L

    def fn(x):
        k = s["kind"]
        if k == "add_same":
            return [L.Add()([x, x])]
        if k == "add_broadcast":
            return [L.Add()([x, L.Conv2D(1, 1)(x)])]
        # the other operand: a 1x1 conv whose output range is smaller or larger than x's
        scale = 0.2 if k == "add_small_other" else 5.0
        other = L.Conv2D(s["shape"][-1], 1,
                         kernel_initializer=keras.initializers.RandomUniform(-scale, scale))(x)
        if k == "sub":
            return [L.Subtract()([x, other]), L.Subtract()([other, x])]
        y = L.Add()([x, other])
        return [L.ReLU()(y)] if k == "add_relu" else [y]

    return tuple(s["shape"]), fn, tuple(s["range"])


@pytest.fixture(scope="module")
def cases() -> bytes:
    return build("dsp_add", SPEC, _make)


@pytest.mark.parametrize("board", BOARDS)
def test_add_sub_bit_exact_on_board(board, cases, tmp_path):
    from tinyflow.ir import parse_model

    ops = [op.opcode for op in parse_model(cases).operators]
    assert ops.count("ADD") >= 5 and ops.count("SUB") >= 2, ops
    run_exact_on_board(board, cases, "add_cases", tmp_path, seed=4, n_inputs=3)
