"""The small-window DSP conv kernel (firmware/kernels/tf_conv_window.c) on qemu-m4 and
qemu-m7 (and the Helium one on qemu-m55), bit-exact vs tflite-micro.

It takes CONV_2D layers with a small window (k_h * k_w * in_c <= 64) over one group: a 3x3
window over one channel (or 3x1 over three) has its own path with interior runs, padded
edge strips and a fixed-shift requantization, everything else a general path (int16
weights, or int8 ones when many channels would not fit its table). The cases cover in_c
1..4, out_c 1, 3, 4, 5, 8, 16, 24, 32 (counts not a multiple of four enter the channel
loop late), 3x3, 5x5, 3x1, 1x3, 3x4 and 4x4 windows, stride 1 and 2 (also different per
axis), SAME and VALID, dilation, tiny, odd and even inputs, every activation (ReLU/ReLU6
skip the rounding correction, no activation keeps it), biases that push the right shift
through each fixed-shift form and past them, and layers the kernel declines: one whose
requantization the code generator cannot prove short (rq_fast == 0) and one whose bias is
too large for the kernel's doubled accumulator.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_cases import (build, generated_c, random_range, run_exact_on_board,
                          split_for_device)

# qemu-m55 runs the Helium window kernel (tf_conv_window_mve.c) on the windows of at most
# 16 taps, and the general kernels on the rest
BOARDS = ["qemu-m4", "qemu-m7", "qemu-m55"]


def _spec(seed: int = 23) -> list[dict]:
    rng = np.random.default_rng(seed)

    def conv(oc: int, k, s, pad: str, act, **kw) -> dict:
        return {"oc": oc, "k": list(k) if isinstance(k, tuple) else k, "s": s, "pad": pad,
                "act": act, **kw}

    def group(shape: list[int], layers: list[dict], rng_=None) -> dict:
        return {"shape": shape, "layers": layers,
                "range": list(rng_) if rng_ else list(random_range(rng))}

    return [
        # one channel: the 3x3 assembly path (stem), odd and even sizes
        group([9, 10, 1], [conv(8, 3, 2, "same", "relu6"), conv(3, 3, 1, "valid", None),
                           conv(16, 3, 2, "valid", "relu"), conv(1, 3, 1, "same", None),
                           conv(8, 5, 2, "same", "relu"), conv(3, (3, 1), 1, "same", "relu6"),
                           conv(8, (1, 3), 2, "same", None)]),
        group([12, 12, 1], [conv(8, 3, 2, "same", None), conv(16, 3, 2, "same", "relu6"),
                            conv(8, 3, 1, "same", "relu", dil=2),
                            conv(4, 3, [1, 2], "same", "relu"),
                            conv(5, 3, [2, 1], "valid", None)], (-1.0, 1.0)),
        # three channels: 3x3 and 3x1 (the latter on the assembly path)
        group([8, 7, 3], [conv(16, 3, 2, "same", None), conv(1, 3, 1, "valid", "relu"),
                          conv(3, (3, 1), 2, "same", "relu6"), conv(8, (3, 1), 1, "valid", None),
                          # many channels: the general path's int8 weights
                          conv(32, 3, 2, "same", "relu6"), conv(24, 3, 1, "valid", None),
                          # 3x1 over three channels, rows two apart
                          conv(8, (3, 1), 1, "same", "relu", dil=[2, 1])]),
        # two and four channels, 5x5
        group([6, 6, 2], [conv(8, 3, 1, "same", "relu6"), conv(3, 5, 2, "valid", None),
                          conv(16, 5, 1, "same", "relu")]),
        group([5, 9, 4], [conv(16, 3, 2, "valid", "relu6"), conv(8, (3, 1), 1, "same", None),
                          conv(1, 3, 2, "same", "relu"),
                          # 48 and 64 taps: the general path's longest windows
                          conv(5, (3, 4), 2, "valid", None), conv(8, 4, 1, "same", "relu"),
                          conv(16, 4, 2, "valid", None)]),
        # tiny inputs: every pixel is an edge
        group([3, 3, 1], [conv(8, 3, 2, "same", "relu6"), conv(1, 3, 1, "valid", None),
                          conv(3, 3, 1, "same", "relu")]),
        group([2, 4, 3], [conv(3, 3, 2, "same", "relu"), conv(16, 3, 1, "same", None)]),
        # a huge bias (the kernel's own overflow bound declines it); a ReLU that is never
        # active, so a tiny output scale, a left shift and rq_fast == 0
        group([7, 6, 1], [conv(8, 3, 2, "same", None, bias=1000.0, small_w=True),
                          conv(4, 3, 1, "same", "relu", bias=-5.0),
                          conv(3, 3, 2, "valid", "relu"),
                          # positive biases of growing size: larger right shifts (each
                          # fixed-shift form of the assembly path, then past them)
                          conv(8, 3, 2, "same", "relu", bias=1.0),
                          conv(3, 3, 1, "same", "relu", bias=30.0),
                          conv(8, 3, 2, "valid", "relu", bias=300.0),
                          conv(5, 3, 2, "same", "relu6", bias=0.05)], (0.0, 0.2)),
    ]


def _make(g: dict):
    import keras
    from keras import layers as L

    def layer(c: dict):
        kw = {}
        if "bias" in c:
            kw["bias_initializer"] = keras.initializers.Constant(c["bias"])
        if c.get("small_w"):
            kw["kernel_initializer"] = keras.initializers.RandomUniform(-0.01, 0.01)
        k = tuple(c["k"]) if isinstance(c["k"], list) else c["k"]
        s, dil = c["s"], c.get("dil", 1)
        return L.Conv2D(c["oc"], k, strides=tuple(s) if isinstance(s, list) else s,
                        padding=c["pad"], activation=c["act"],
                        dilation_rate=tuple(dil) if isinstance(dil, list) else dil, **kw)

    def fn(x):
        return [layer(c)(x) for c in g["layers"]]

    return (tuple(g["shape"]), fn, tuple(g["range"]))


@pytest.fixture(scope="module")
def cases() -> list[bytes]:
    """The spec as models of at most 8 outputs (what the device protocol describes)."""
    return [build("dsp_window", part, _make) for part in split_for_device(_spec())]


def test_cases_cover_both_requantizations(cases, tmp_path):
    text = generated_c(cases, tmp_path, "CONV_2D")
    assert ".rq_fast = 0" in text and ".rq_fast = 1" in text


@pytest.mark.parametrize("board", BOARDS)
def test_window_kernel_bit_exact_on_board(board, cases, tmp_path):
    for n, data in enumerate(cases):
        run_exact_on_board(board, data, f"cases{n}", tmp_path / str(n), seed=7)
