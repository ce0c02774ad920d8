"""Randomised single-op Keras cases for the differential kernel tests.

Each family builds one Keras model with several independent branches (one input and one
output per branch, each with its own random shape, parameters and input range), converts
it once, and the test compares every output byte with tflite-micro. Batching cases into
one model keeps the converter and compiler calls few.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
from helpers_tflite import cached_tflite, to_int8_tflite

Branch = tuple[tuple[int, ...], Callable, tuple[float, float]]


def multi_branch(branches: list[Branch], seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    ins, outs = [], []
    for n, (shape, fn, _) in enumerate(branches):
        # zero-padded names: the converter orders inputs by name, and the representative
        # data must come in that order
        i = keras.Input(shape, batch_size=1, name=f"x{n:03d}")
        ins.append(i)
        y = fn(i)
        outs.extend(y if isinstance(y, (list, tuple)) else [y])
    return keras.Model(ins, outs)


def random_range(rng: np.random.Generator) -> tuple[float, float]:
    lo = float(rng.choice([-1.0, -2.5, -0.3, 0.0, -4.0]))
    hi = float(rng.choice([1.0, 0.5, 3.0, 6.0, 0.2]))
    return lo, hi


def build(family: str, spec: list[dict], make: Callable[[dict], Branch], seed: int = 0,
          **convert_kw) -> bytes:
    """Convert (or fetch from cache) the multi-branch model for `spec`."""
    key = json.dumps({"family": family, "spec": spec, "seed": seed, "kw": convert_kw,
                      "v": 1}, sort_keys=True)

    def _build() -> bytes:
        branches = [make(s) for s in spec]
        model = multi_branch(branches, seed)
        return to_int8_tflite(model, ranges=[b[2] for b in branches], seed=seed, **convert_kw)

    return cached_tflite(key, _build)


# The device protocol describes at most 8 inputs and 8 outputs per model (HELLO), and the
# host refuses a model with more: board tests split their cases into models that fit.
DEVICE_MAX_TENSORS = 8


def split_for_device(spec: list[dict], key: str = "layers",
                     limit: int = DEVICE_MAX_TENSORS) -> list[list[dict]]:
    """Pack branches (each with len(branch[key]) outputs, one input) into groups of at
    most `limit` outputs and inputs, splitting a branch whose layers alone exceed it."""
    pieces = []
    for s in spec:
        layers = s[key]
        for i in range(0, len(layers), limit):
            pieces.append({**s, key: layers[i:i + limit]})
    groups: list[list[dict]] = [[]]
    for p in pieces:
        if groups[-1] and (sum(len(q[key]) for q in groups[-1]) + len(p[key]) > limit
                           or len(groups[-1]) >= limit):
            groups.append([])
        groups[-1].append(p)
    return groups


def generated_c(cases: list[bytes], out_dir, opcode: str) -> str:
    """The C the code generator emits for every case model (each made of `opcode` layers
    only), concatenated: for asserting which kernel parameters the cases reach."""
    from tinyflow import codegen
    from tinyflow.ir import parse_model

    text = ""
    for n, data in enumerate(cases):
        model = parse_model(data, name=f"cases{n}")
        assert {op.opcode for op in model.operators} == {opcode}
        text += codegen.generate(model, out_dir / str(n), name=f"cases{n}").c_file.read_text()
    return text


def run_exact_on_board(board: str, data: bytes, name: str, out_dir, seed: int = 5,
                       n_inputs: int = 2, plan=None, rng=None) -> None:
    """Build `data` for `board` (with `plan`, or the planner's), run random inputs, and
    compare every output byte with tflite-micro (the device must report every output)."""
    from helpers_tflite import random_inputs

    from tinyflow import codegen
    from tinyflow.build import build_firmware
    from tinyflow.device import run_on_board
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle

    model = parse_model(data, name=name)
    gen = codegen.generate(model, out_dir / "gen", name=name, plan=plan)
    elf = build_firmware(board, [gen.c_file], out_dir / "fw", model_name=name).elf
    rng = np.random.default_rng(seed) if rng is None else rng
    inputs = [random_inputs(model, rng) for _ in range(n_inputs)]
    oracle = TflmOracle(data)
    for k, (xs, r) in enumerate(zip(inputs, run_on_board(board, elf, inputs))):
        want_all = oracle.invoke(xs)
        assert len(r.outputs) == len(want_all) == len(model.outputs), \
            f"{board}: {len(r.outputs)} outputs read, the model has {len(model.outputs)}"
        for j, (got, want) in enumerate(zip(r.outputs, want_all)):
            want = np.ascontiguousarray(want).tobytes()
            diff = sum(a != b for a, b in zip(got, want))
            assert got == want, (f"{board}, {name}, input {k}, output {j}: {diff} bytes "
                                 "differ from TFLM")
