"""Shared helpers: turn small Keras models into full-int8 .tflite bytes, and compare the
tinyflow engine with the tflite-micro oracle on the same inputs.

Conversions are cached on disk (build/test-cache/, keyed by the caller's spec string plus
the TensorFlow version), so a second test run skips the converter entirely. Anything that
changes the model must change the key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "test-cache"


def to_int8_tflite(model, n_rep: int = 16, seed: int = 0, ranges=None,
                   per_tensor: bool = False, float_io: bool = False,
                   int16: bool = False) -> bytes:
    """Full-int8 post-training quantization of a fixed-batch Keras model.

    int16=True converts in TFLite's 16x8 mode (int16 activations, int8 weights).
    `ranges` gives one (low, high) per model input for the representative data (so tests
    get varied input scales and zero points); default (-1, 1).
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    shapes = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
    ranges = ranges or [(-1.0, 1.0)] * len(shapes)

    names = [t.name for t in model.inputs]

    def rep():
        for _ in range(n_rep):
            xs = [rng.uniform(lo, hi, (1, *s)).astype(np.float32)
                  for s, (lo, hi) in zip(shapes, ranges)]
            # by name: the converter orders a multi-input model's inputs arbitrarily
            yield xs if len(xs) == 1 else dict(zip(names, xs))

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    if int16:
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    else:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int16 if int16 else tf.int8
        conv.inference_output_type = tf.int16 if int16 else tf.int8
    if per_tensor:
        conv._experimental_disable_per_channel = True
    return conv.convert()


def cached_tflite(key: str, build: Callable[[], bytes]) -> bytes:
    """bytes of build(), cached under a hash of `key` and the TensorFlow version."""
    import importlib.metadata as md

    try:
        tfv = md.version("tensorflow-cpu")
    except md.PackageNotFoundError:
        tfv = md.version("tensorflow")
    h = hashlib.sha256(f"{key}|tf={tfv}".encode()).hexdigest()[:24]
    path = CACHE / f"{h}.tflite"
    if path.exists():
        return path.read_bytes()
    data = build()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def random_inputs(model, rng: np.random.Generator) -> list[np.ndarray]:
    """One random array per model input, covering the full int8 range."""
    out = []
    for i in model.inputs:
        t = model.tensors[i]
        if t.dtype == "float32":
            out.append(rng.uniform(-2, 2, t.shape).astype(np.float32))
        else:
            info = np.iinfo(t.dtype)
            out.append(rng.integers(info.min, info.max + 1, t.shape).astype(t.dtype))
    return out


def compare_with_tflm(data: bytes, n_inputs: int = 8, seed: int = 0) -> dict:
    """Run the same random inputs through tflite-micro and the tinyflow host engine.

    Returns {"differing_bytes", "total_bytes", "opcodes", "first_diff"}; bit-exact means
    differing_bytes == 0.
    """
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle

    model = parse_model(data, name="case")
    engine = HostEngine(model)
    oracle = TflmOracle(data)
    rng = np.random.default_rng(seed)
    diff = total = 0
    first = None
    for k in range(n_inputs):
        xs = random_inputs(model, rng)
        ours, ref = engine.invoke(xs), oracle.invoke(xs)
        for j, (a, b) in enumerate(zip(ours, ref)):
            a = np.asarray(a).reshape(-1).view(np.uint8)
            b = np.asarray(b).reshape(-1).view(np.uint8)
            d = int((a != b).sum())
            if d and first is None:
                first = f"input {k}, output {j}: {d} bytes differ"
            diff += d
            total += a.size
    return {"differing_bytes": diff, "total_bytes": total, "first_diff": first,
            "opcodes": sorted({op.opcode for op in model.operators})}


def assert_bit_exact(data: bytes, expect_ops: set[str] | None = None, n_inputs: int = 8,
                     seed: int = 0) -> dict:
    r = compare_with_tflm(data, n_inputs=n_inputs, seed=seed)
    if expect_ops:
        missing = expect_ops - set(r["opcodes"])
        assert not missing, f"converter did not produce {missing}; got {r['opcodes']}"
    assert r["differing_bytes"] == 0, (
        f"{r['differing_bytes']} of {r['total_bytes']} output bytes differ from tflite-micro "
        f"({r['first_diff']}); ops {r['opcodes']}")
    return r
