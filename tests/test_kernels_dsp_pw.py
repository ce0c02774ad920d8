"""The GEMM convolution kernel for DSP cores (firmware/kernels/tf_conv_pw.c) on the virtual
boards, bit-exact against tflite-micro.

The kernel works on four pixels at a time with a one-pixel tail, tables per-channel
constants for up to 256 output channels, widens up to 256 input channels, and has a
saturating and a clamping epilogue. The cases below reach each of those: pixel counts
4..9 (every tail length), in_c from 4 to 48 (odd and even numbers of 4-channel steps, with
and without whole 16-channel groups), in_c 260 and out_c 260 (declined: the general kernel
runs), and a ReLU whose output range is widened by a concatenation, so its clamp is not
the int8 range. WINDOWS does the same for gathered windows: 3x3 and 5x5 over 8..16
channels, windows of K % 4 != 0 taps (the 3 spare filter bytes), stride 2, SAME padding
(zero-point taps), dilation, a strided 1x1, and a window over more than 256 taps (declined).
"""

from __future__ import annotations

import re

import pytest
from kernel_cases import build, run_exact_on_board, split_for_device

# qemu-m55 runs the Helium kernels on the same cases (tf_conv_pw_mve.c: four channels per
# pass, the in_c == 8 two-rows-per-load path, the channel tail)
BOARDS = ["qemu-m4", "qemu-m7", "qemu-m55"]

# (input h, w, c), [(out_c, activation)]
SPEC = [
    {"shape": [2, 2, 4], "layers": [[1, "relu"], [3, None]], "range": [-1.0, 1.0]},
    {"shape": [1, 5, 12], "layers": [[8, "relu6"], [24, None]], "range": [-2.5, 3.0]},
    {"shape": [3, 2, 16], "layers": [[5, "relu"], [16, "relu6"]], "range": [0.0, 6.0]},
    {"shape": [7, 1, 20], "layers": [[16, None]], "range": [-0.3, 0.2]},
    {"shape": [3, 3, 48], "layers": [[7, "relu6"], [32, None]], "range": [-4.0, 1.0]},
    {"shape": [2, 3, 260], "layers": [[4, None]], "range": [-1.0, 1.0]},
    {"shape": [2, 2, 8], "layers": [[260, "relu"], [12, "relu"], [6, None]],
     "range": [-1.0, 0.5]},
    {"shape": [2, 3, 16], "layers": [[8, "concat"]], "range": [-2.5, 1.0]},
]


# (input h, w, c), [(out_c, kernel, stride, dilation, padding, activation)]
WINDOWS = [
    {"shape": [7, 6, 8], "layers": [[8, 3, 1, 1, "same", "relu6"], [5, 3, 2, 1, "valid", None]],
     "range": [-1.0, 1.0]},
    {"shape": [9, 5, 13], "layers": [[13, 3, 1, 1, "same", "relu"], [3, 3, 2, 1, "same", None]],
     "range": [-2.5, 3.0]},
    {"shape": [6, 7, 16], "layers": [[4, 3, 1, 2, "same", None], [9, 5, 1, 1, "valid", "relu"]],
     "range": [0.0, 6.0]},
    {"shape": [5, 5, 13], "layers": [[13, 1, 1, 1, "valid", None], [6, 1, 2, 1, "valid", None]],
     "range": [-0.3, 0.2]},
    {"shape": [4, 4, 32], "layers": [[4, 3, 1, 1, "same", None]], "range": [-1.0, 1.0]},
]


def _make_window(s: dict):
    from keras import layers as L

    def fn(x):
        return [L.Conv2D(oc, k, strides=st, dilation_rate=d, padding=pad, activation=act)(x)
                for oc, k, st, d, pad, act in s["layers"]]

    return tuple(s["shape"]), fn, tuple(s["range"])


def _make(s: dict):
    import keras
    from keras import layers as L

    def fn(x):
        outs = []
        for oc, act in s["layers"]:
            if act == "concat":  # a ReLU output sharing its scale with negative values
                y = L.Conv2D(oc, 1, activation="relu")(x)
                outs.append(keras.layers.Concatenate()([y, x]))
            else:
                outs.append(L.Conv2D(oc, 1, activation=act)(x))
        return outs

    return tuple(s["shape"]), fn, tuple(s["range"])


@pytest.fixture(scope="module")
def cases() -> list[bytes]:
    return [build("dsp_pw", part, _make) for part in split_for_device(SPEC)]


@pytest.fixture(scope="module")
def window_cases() -> list[bytes]:
    return [build("dsp_window_gemm", part, _make_window) for part in split_for_device(WINDOWS)]


def test_cases_reach_every_path(cases, tmp_path):
    """The models really have what the docstring claims: fast-requant layers, declined
    shapes, and a clamp that is not the int8 range."""
    from tinyflow import codegen
    from tinyflow.ir import parse_model

    src = "".join(codegen.generate(parse_model(d, name=f"pw{n}"), tmp_path / str(n),
                                   name=f"pw{n}").c_file.read_text()
                  for n, d in enumerate(cases))
    convs = re.findall(r"tf_conv_params_t \w+ = \{(.*?)\};", src, re.S)
    fields = [dict(re.findall(r"\.(\w+) = (-?\d+)", c)) for c in convs]
    assert len(fields) == sum(len(s["layers"]) for s in SPEC)
    assert sum(f["rq_fast"] == "1" for f in fields) >= len(fields) - 1
    assert any(f["in_c"] == "260" for f in fields) and any(f["out_c"] == "260" for f in fields)
    assert any(int(f["act_min"]) > -128 for f in fields), "no layer with a narrow clamp"
    npix = {int(f["in_h"]) * int(f["in_w"]) % 4 for f in fields}
    assert npix == {0, 1, 2, 3}


@pytest.mark.parametrize("board", BOARDS)
def test_pointwise_kernel_bit_exact_on_board(board, cases, tmp_path):
    for n, data in enumerate(cases):
        run_exact_on_board(board, data, f"pw_cases{n}", tmp_path / str(n))


@pytest.mark.parametrize("board", BOARDS)
def test_gathered_windows_bit_exact_on_board(board, window_cases, tmp_path):
    from tinyflow.ir import parse_model

    convs = [op for d in window_cases for op in parse_model(d).operators
             if op.opcode == "CONV_2D"]
    assert len(convs) == sum(len(s["layers"]) for s in WINDOWS)
    for n, data in enumerate(window_cases):
        run_exact_on_board(board, data, f"window_cases{n}", tmp_path / str(n))
