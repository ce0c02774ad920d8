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
