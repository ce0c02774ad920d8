"""The DSP depthwise kernel (firmware/kernels/tf_conv_dw.c) on qemu-m4 and qemu-m7 (and the
Helium one on qemu-m55), bit-exact vs tflite-micro.

It takes 3x3, depth multiplier 1, stride 1 or 2, channels a multiple of 4, and gathers
blocks of up to four output pixels and chunks of up to 32 channels; so the cases cover
inputs 1 pixel high and wide (padding on every side), rows of 1, 2, 3, 5 and more output
pixels (blocks of 4, 3 and fewer), SAME and VALID, both strides, channel counts below, at
and above one chunk (4, 8, 12, 20, 36, 64), every activation, a channel count it declines
(6), and a layer whose requantization is not the short form (rq_fast = 0, checked in the
generated C), which it must decline too.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from kernel_cases import (build, generated_c, random_range, run_exact_on_board,
                          split_for_device)

# qemu-m55 runs the Helium depthwise kernel (tf_conv_dw_mve.c) on the same cases
BOARDS = ["qemu-m4", "qemu-m7", "qemu-m55"]
ACTS = [None, "relu", "relu6"]


def _spec(seed: int = 23) -> list[dict]:
    """Eight inputs (the firmware's limit), each feeding several depthwise layers."""
    rng = np.random.default_rng(seed)

    def dw(s: int, pad: str, k: int) -> dict:
        return {"s": s, "pad": pad, "act": ACTS[k % 3]}

    def both(pads: list[str], k: int) -> list[dict]:
        return [dw(s, p, k + i) for i, (s, p) in enumerate((s, p) for s in (1, 2) for p in pads)]

    def group(shape: list[int], layers: list[dict]) -> dict:
        return {"shape": shape, "layers": layers, "range": random_range(rng)}

    return [
        group([1, 1, 4], both(["same"], 0)),                  # one pixel: padding on all sides
        group([9, 10, 8], both(["same", "valid"], 1)),        # 8 channels (own window copy)
        group([4, 3, 12], both(["same", "valid"], 2)),        # three wide
        group([6, 5, 20], both(["same", "valid"], 0)),        # five wide: a block of 4 and of 1
        group([7, 9, 36], both(["same", "valid"], 1)),        # a full chunk and one of 4 channels
        group([6, 6, 64], both(["same", "valid"], 2)),        # two full chunks, like MobileNet
        group([5, 4, 6], both(["same"], 0)),                  # 6 channels: declined
        # large weights under relu6 (output scale 6/255 whatever the sums): multipliers of
        # 1 and more, a left shift, so rq_fast = 0
        {"shape": [4, 5, 8], "layers": [dw(1, "same", 2), dw(2, "same", 2)],
         "range": (-4.0, 6.0), "big": True},
    ]


def _make(g: dict):
    import keras
    from keras import layers as L

    def layer(c: dict):
        kw = {}
        if g.get("big"):
            kw = {"depthwise_initializer": keras.initializers.RandomUniform(-100.0, 100.0)}
        return L.DepthwiseConv2D(3, strides=c["s"], padding=c["pad"], activation=c["act"],
                                 **kw)

    def fn(x):
        return [layer(c)(x) for c in g["layers"]]

    return (tuple(g["shape"]), fn, tuple(g["range"]))


@pytest.fixture(scope="module")
def cases() -> list[bytes]:
    """The spec as models of at most 8 outputs (what the device protocol describes)."""
    return [build("dsp_depthwise", part, _make) for part in split_for_device(_spec())]


def test_cases_reach_both_requantizations(cases, tmp_path):
    text = generated_c(cases, tmp_path, "DEPTHWISE_CONV_2D")
    flags = re.findall(r"\.rq_fast = (\d)", text)
    assert "0" in flags and "1" in flags, flags


@pytest.mark.parametrize("board", BOARDS)
def test_dsp_depthwise_bit_exact_on_board(board, cases, tmp_path):
    for n, data in enumerate(cases):
        run_exact_on_board(board, data, f"dwcases{n}", tmp_path / str(n), seed=7)
