"""The two zoo models, generated to C and built into the firmware, on every virtual board:
outputs over the serial link must equal the host engine's and tflite-micro's, byte for byte,
and the instruction count must be deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from _fw import VIRTUAL, zoo_bytes
from helpers_tflite import random_inputs

from tinyflow import codegen
from tinyflow.build import build_firmware
from tinyflow.device import open_device
from tinyflow.ir import parse_model

MODELS = ["person_det", "ser"]


@pytest.fixture(scope="module", params=MODELS)
def zoo_model(request, tmp_path_factory):
    data = zoo_bytes(request.param)
    model = parse_model(data, name=request.param)
    gen = codegen.generate(model, tmp_path_factory.mktemp("gen"), name=request.param,
                           profile=True)
    return request.param, data, model, gen


@pytest.mark.slow
@pytest.mark.parametrize("board", VIRTUAL)
def test_zoo_model_on_virtual_board(board, zoo_model, tmp_path):
    from tinyflow.hostengine import HostEngine
    from tinyflow.oracle import TflmOracle

    name, data, model, gen = zoo_model
    res = build_firmware(board, [gen.c_file], tmp_path, model_name=name)
    assert res.warnings == []
    engine, oracle = HostEngine(model), TflmOracle(data)
    rng = np.random.default_rng(11)
    inputs = [random_inputs(model, rng) for _ in range(3)]
    with open_device(board, res.elf, expect_hash=model.sha256) as dev:
        assert dev.info.model == name and dev.info.arena_bytes == gen.arena_bytes
        assert dev.info.n_layers == len(model.operators)
        runs = []
        for k, xs in enumerate(inputs + inputs[:1]):
            # the first input over the UART as on a real board, the others through LOAD
            dev.link.fast_load = k > 0
            runs.append(dev.run(xs, profile=True))
    for xs, r in zip(inputs, runs):
        ours = [np.asarray(o).reshape(-1).view(np.uint8) for o in engine.invoke(xs)]
        ref = [np.asarray(o).reshape(-1).view(np.uint8) for o in oracle.invoke(xs)]
        dev_out = [np.frombuffer(o, np.uint8) for o in r.outputs]
        for d, h, t in zip(dev_out, ours, ref):
            assert np.array_equal(d, h) and np.array_equal(d, t)
        assert r.instructions > 100_000 and 0 < r.stack_used < r.stack_size
        assert len(r.layer_cycles) == len(model.operators)
    assert runs[0].cycles == runs[-1].cycles   # same input, same virtual time
    # the static bound from GCC's call graph covers the painted high-water mark
    bound = res.sizes["stack_bound"]
    libc = {"memcpy", "memmove", "memset", "strlen"}   # leaf functions of newlib
    assert bound["unbounded"] == [] and set(bound["unknown_callees"]) <= libc
    assert max(r.stack_used for r in runs) <= bound["bytes"] <= res.sizes["regions"][0]["size"]


def test_link_time_optimized_build_runs_the_same(tmp_path):
    """-O2 -flto over a whole zoo model (the naked startup code's literal pools used to
    land out of reach and the assembler refused the build): it links warning-free, and the
    device's outputs equal the host engine's."""
    from tinyflow.hostengine import HostEngine

    data = zoo_bytes("person_det")
    model = parse_model(data, name="person_det")
    gen = codegen.generate(model, tmp_path / "gen", name="person_det")
    res = build_firmware("qemu-m7", [gen.c_file], tmp_path / "fw", model_name="person_det",
                         lto=True)
    assert res.warnings == []
    xs = random_inputs(model, np.random.default_rng(2))
    with open_device("qemu-m7", res.elf) as dev:
        r = dev.run(xs)
    want = [np.ascontiguousarray(o).tobytes() for o in HostEngine(model).invoke(xs)]
    assert list(r.outputs) == want
