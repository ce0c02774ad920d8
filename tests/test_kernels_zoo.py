"""The two zoo models and the MLPerf Tiny reference networks, end to end: every output
byte and every intermediate tensor equal to tflite-micro's."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers_tflite import cached_tflite, compare_with_tflm, random_inputs

pytestmark = pytest.mark.xdist_group("tf")
ROOT = Path(__file__).resolve().parents[1]


def zoo_bytes(name: str, **options) -> bytes:
    def build() -> bytes:
        from tinyflow import zoo

        with tempfile.TemporaryDirectory() as d:
            return zoo.quick_tflite(name, Path(d) / "m.tflite", seed=0, **options).read_bytes()

    # the same key as tests/_fw.py, so the converter runs once per machine; delete
    # build/test-cache after changing a zoo builder
    return cached_tflite(f"zoo {name} {sorted(options.items())} seed0 v1", build)


def reference_bytes(name: str) -> bytes:
    def build() -> bytes:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import reference_models as rm

        model = getattr(rm, name)()
        rm.calibrate_bn(model)
        return rm.to_int8(model)

    return cached_tflite(f"reference {name} v1", build)


def _layers_exact(data: bytes, n: int, seed: int) -> None:
    from tinyflow.hostengine import HostEngine, compare_layers
    from tinyflow.ir import parse_model

    model = parse_model(data)
    engine = HostEngine(model)
    rng = np.random.default_rng(seed)
    for _ in range(n):
        diffs = compare_layers(model, data, random_inputs(model, rng), engine)
        bad = [d for d in diffs if not d.exact]
        assert not bad, f"first differing layer: {bad[0]}"


@pytest.mark.parametrize("name", ["person_det", "ser"])
def test_zoo_model_bit_exact(name):
    data = zoo_bytes(name)
    r = compare_with_tflm(data, n_inputs=16)
    assert r["differing_bytes"] == 0, r
    _layers_exact(data, n=2, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["person_det", "ser"])
def test_zoo_model_bit_exact_many_inputs(name):
    r = compare_with_tflm(zoo_bytes(name), n_inputs=100, seed=5)
    assert r["differing_bytes"] == 0, r
    _layers_exact(zoo_bytes(name), n=5, seed=6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v1", "ds_cnn", "resnet8"])
def test_reference_network_bit_exact(name):
    data = reference_bytes(name)
    r = compare_with_tflm(data, n_inputs=20)
    assert r["differing_bytes"] == 0, r
    _layers_exact(data, n=2, seed=2)


def mobilenet_v3_bytes() -> bytes:
    def build() -> bytes:
        import keras
        from helpers_tflite import to_int8_tflite

        sys.path.insert(0, str(ROOT / "benchmarks"))
        import reference_models as rm

        keras.utils.set_random_seed(0)
        net = keras.applications.MobileNetV3Small(
            input_shape=(64, 64, 3), alpha=0.75, weights=None, classes=4,
            include_preprocessing=False)
        rm.calibrate_bn(net, low=-1, high=1)
        i = keras.Input((64, 64, 3), batch_size=1)
        return to_int8_tflite(keras.Model(i, net(i)), n_rep=8)

    return cached_tflite("mobilenet_v3_small 64x64x3 a0.75 v2", build)


@pytest.mark.slow
def test_mobilenet_v3_small_bit_exact():
    """HARD_SWISH, squeeze-excite MUL and MEAN, as MobileNetV3 uses them."""
    data = mobilenet_v3_bytes()
    r = compare_with_tflm(data, n_inputs=10)
    assert {"HARD_SWISH", "MUL", "MEAN"} <= set(r["opcodes"])
    assert r["differing_bytes"] == 0, r
    _layers_exact(data, n=2, seed=3)


def test_overlap_planner_prototype_on_ser():
    """plan_with_overlap (conv outputs placed over their dying inputs) roughly halves the
    ser arena and the engine stays bit-exact with it."""
    from tinyflow.codegen.overlap import plan_with_overlap
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle
    from tinyflow.plan import plan_memory

    data = zoo_bytes("ser")
    model = parse_model(data)
    plan = plan_with_overlap(model)
    assert plan.arena_size < 0.6 * plan_memory(model, overlap=False).arena_size
    engine, oracle = HostEngine(model, plan=plan), TflmOracle(data)
    rng = np.random.default_rng(4)
    for _ in range(4):
        xs = random_inputs(model, rng)
        assert all(np.array_equal(a, b) for a, b in zip(engine.invoke(xs), oracle.invoke(xs)))
