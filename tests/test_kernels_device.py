"""The DSP (M4/M7) and Helium (M55) kernels on the virtual boards, bit-exact vs tflite-micro.

The host tests prove the portable C; these run many random single-op cases through the
firmware each board builds (its own inner loops: conv 1x1 as a GEMM, the small-window stem,
3x3 depthwise interior/edges, fully connected, add) and compare every output byte with
tflite-micro. Shapes include odd pixel counts, odd channel counts and in_c not a multiple of
4, so the fast paths' tails and fallbacks run too.
"""

from __future__ import annotations

import numpy as np
import pytest
from _fw import VIRTUAL
from kernel_cases import build, random_range, run_exact_on_board, split_for_device

ACTS = [None, "relu", "relu6"]


def _spec(seed: int = 11) -> list[dict]:
    """Eight inputs (the firmware's limit), each feeding several random layers of one kind."""
    rng = np.random.default_rng(seed)

    def act() -> str | None:
        return ACTS[int(rng.integers(3))]

    def group(kind: str, shape: list[int], layers: list[dict]) -> dict:
        return {"kind": kind, "shape": shape, "layers": layers, "range": random_range(rng)}

    def pw(n: int) -> list[dict]:
        return [{"oc": int(rng.choice([1, 2, 3, 7, 8, 16])), "act": act()} for _ in range(n)]

    def dw(n: int) -> list[dict]:
        return [{"s": int(rng.choice([1, 2])), "pad": str(rng.choice(["same", "valid"])),
                 "act": act()} for _ in range(n)]

    def stem(n: int) -> list[dict]:
        return [{"oc": int(rng.choice([4, 5, 8])), "pad": str(rng.choice(["same", "valid"])),
                 "act": act()} for _ in range(n)]

    return [
        # pointwise: the GEMM path (in_c % 4 == 0, odd and even pixel counts) and the fallback
        group("pw", [int(rng.integers(3, 8)), int(rng.integers(3, 8)), 16], pw(4)),
        group("pw", [int(rng.integers(1, 6)), int(rng.integers(1, 6)), 12], pw(3)),
        group("pw", [3, 3, int(rng.choice([3, 6]))], pw(2) + [{"add": True}]),
        # 3x3 depthwise, stride 1 and 2, SAME and VALID; channels with and without a tail
        group("dw", [int(rng.integers(5, 10)), int(rng.integers(5, 10)), 8], dw(4)),
        group("dw", [int(rng.integers(3, 8)), int(rng.integers(3, 8)),
                     int(rng.choice([1, 5, 13]))], dw(3)),
        # 3x3 stride-2 stem over one and three channels
        group("stem", [int(rng.integers(5, 13)), int(rng.integers(5, 13)), 1], stem(3)),
        group("stem", [int(rng.integers(5, 10)), int(rng.integers(5, 10)), 3], stem(2)),
        group("fc", [int(rng.choice([16, 64, 100]))],
              [{"units": int(rng.choice([1, 2, 10, 13])), "act": act()} for _ in range(3)]),
    ]


def _make(g: dict):
    import keras
    from keras import layers as L

    def layer(c: dict):
        if g["kind"] == "pw":
            return L.Conv2D(c["oc"], 1, activation=c["act"])
        if g["kind"] == "dw":
            return L.DepthwiseConv2D(3, strides=c["s"], padding=c["pad"], activation=c["act"])
        if g["kind"] == "stem":
            return L.Conv2D(c["oc"], 3, strides=2, padding=c["pad"], activation=c["act"])
        return L.Dense(c["units"], activation=c["act"])

    def fn(x):
        outs = []
        for c in g["layers"]:
            if c.get("add"):  # ADD of the input and a 1x1 conv of it (another scale)
                outs.append(keras.layers.Add()([x, L.Conv2D(g["shape"][-1], 1)(x)]))
            else:
                outs.append(layer(c)(x))
        return outs

    return (tuple(g["shape"]), fn, tuple(g["range"]))


@pytest.fixture(scope="module")
def cases() -> list[bytes]:
    """The spec as several models of at most 8 outputs (the device protocol's limit)."""
    return [build("device_kernels", part, _make) for part in split_for_device(_spec())]


@pytest.mark.parametrize("board", VIRTUAL)
def test_optimized_kernels_bit_exact_on_board(board, cases, tmp_path):
    from tinyflow.ir import parse_model

    ops = {op.opcode for data in cases for op in parse_model(data).operators}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD"} <= ops, ops
    assert sum(len(parse_model(d).outputs) for d in cases) == sum(
        len(g["layers"]) for g in _spec())
    for n, data in enumerate(cases):
        run_exact_on_board(board, data, f"cases{n}", tmp_path / f"m{n}")
