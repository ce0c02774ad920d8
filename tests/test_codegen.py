"""Code generation: unsupported ops fail cleanly, generated C builds warning-free for the
host and for Cortex-M0+/M4/M7/M55, figures are reported, and the host build is cached."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_tflite import cached_tflite

from tinyflow.errors import TinyflowError

pytestmark = pytest.mark.xdist_group("tf")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def small_cnn_bytes() -> bytes:
    def build() -> bytes:
        from foundation_models import small_cnn

        return small_cnn()[1]

    return cached_tflite("foundation small_cnn v1", build)


@pytest.fixture(scope="module")
def logsm_bytes() -> bytes:
    """A model with an op the engine lacks (LOG_SOFTMAX)."""
    def build() -> bytes:
        import keras
        from helpers_tflite import to_int8_tflite

        keras.utils.set_random_seed(0)
        i = keras.Input((6, 6, 2), batch_size=1, name="image")
        x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(i)
        x = keras.layers.Activation("log_softmax", name="logsm")(x)
        return to_int8_tflite(keras.Model(i, x))

    return cached_tflite("log_softmax model v1", build)


def test_unsupported_op_fails_at_generation(logsm_bytes, tmp_path):
    from tinyflow.codegen import generate, unsupported
    from tinyflow.ir import parse_model

    model = parse_model(logsm_bytes, name="logsm")
    problems = unsupported(model)
    assert problems
    for msg in problems:
        assert re.match(r"operator \d+ \([A-Z_0-9]+, inputs '.+' -> outputs '.+'\): [A-Z_0-9]+ "
                        r"is not supported by the tinyflow engine", msg), msg
    with pytest.raises(TinyflowError, match=r"unsupported operator\(s\):\n  operator \d+ ") as e:
        generate(model, tmp_path)
    assert "supported ops:" in str(e.value) or "hint" in str(e.value)
    assert not list(tmp_path.glob("*.c")), "nothing is written for an unsupported model"


def test_unsupported_parameter_names_op_and_fix(small_cnn_bytes, tmp_path):
    from tinyflow.codegen import generate, unsupported
    from tinyflow.ir import parse_model

    model = parse_model(small_cnn_bytes, name="cnn")
    conv = next(op for op in model.operators if op.opcode == "CONV_2D")
    conv.options["fused_activation_function"] = "TANH"
    msgs = unsupported(model)
    assert msgs == [m for m in msgs if f"operator {conv.index} (CONV_2D" in m]
    assert "fused activation TANH" in msgs[0] and "use RELU or RELU6" in msgs[0]
    with pytest.raises(TinyflowError, match="fused activation TANH"):
        generate(model, tmp_path)


def test_generate_reports_arena_and_constants(small_cnn_bytes, tmp_path):
    from tinyflow.codegen import generate
    from tinyflow.ir import parse_model
    from tinyflow.plan import plan_memory

    model = parse_model(small_cnn_bytes, name="cnn")
    gm = generate(model, tmp_path, name="cnn")
    assert gm.c_file == tmp_path / "model_cnn.c"
    assert gm.arena_bytes == plan_memory(model).arena_size
    assert [x.op for x in gm.layers] == [op.opcode for op in model.operators]
    weights = sum(t.nbytes for t in model.tensors if t.is_const)
    assert weights <= gm.const_bytes < len(small_cnn_bytes)
    from tinyflow.codegen import const_bytes

    assert const_bytes(model) == gm.const_bytes
    text = gm.c_file.read_text()
    assert "int tf_model_invoke(void)" in text and "section(\".tf_arena\")" in text
    assert f"uint8_t tf_arena[{gm.arena_bytes}]" in text
    assert "#define TF_PROFILE 0" in text
    assert text.count("TF_PROFILE_LAYER(") == len(model.operators) + 1 + 2  # + the 2 macros
    prof = generate(model, tmp_path / "prof", name="cnn", profile=True).c_file.read_text()
    assert "#define TF_PROFILE 1" in prof


def _compile(cc: list[str], src_dir: Path, gm, tmp: Path) -> None:
    for src in gm.sources:
        r = subprocess.run([*cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                            *(f"-I{d}" for d in gm.include_dirs), "-c", str(src),
                            "-o", str(tmp / (src.stem + ".o"))],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"{' '.join(cc)} {src.name}:\n{r.stderr}"


def test_generated_c_compiles_cleanly_on_host(small_cnn_bytes, tmp_path):
    from tinyflow.codegen import generate
    from tinyflow.ir import parse_model

    gm = generate(parse_model(small_cnn_bytes, name="cnn"), tmp_path / "gen", name="cnn")
    _compile(["gcc", "-Wpedantic"], tmp_path, gm, tmp_path)


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="no arm-none-eabi-gcc")
@pytest.mark.parametrize("flags", [
    ["-mcpu=cortex-m0plus"],
    ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],  # DSP inner loops
    ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
    ["-mcpu=cortex-m55", "-mfloat-abi=hard"],                      # Helium inner loops
    ["-mcpu=cortex-m55+nomve", "-mfloat-abi=hard"],
], ids=["m0plus", "m4", "m7", "m55", "m55-nomve"])
def test_generated_c_compiles_cleanly_for_cortex_m(small_cnn_bytes, tmp_path, flags):
    from tinyflow.codegen import generate
    from tinyflow.ir import parse_model

    gm = generate(parse_model(small_cnn_bytes, name="cnn"), tmp_path / "gen", name="cnn")
    _compile(["arm-none-eabi-gcc", "-mthumb", "-ffreestanding", *flags], tmp_path, gm, tmp_path)


def test_host_library_is_cached(small_cnn_bytes, tmp_path):
    import numpy as np

    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model

    model = parse_model(small_cnn_bytes, name="cnn")
    e1 = HostEngine(model, cache_dir=tmp_path)
    t0 = time.perf_counter()
    e2 = HostEngine(model, cache_dir=tmp_path)
    assert time.perf_counter() - t0 < 2.0  # a dlopen, not a compile (generous for loaded CI)
    assert e1.lib_path == e2.lib_path
    x = np.zeros(model.tensors[model.inputs[0]].shape, np.int8)
    assert np.array_equal(e1.invoke(x)[0], e2.invoke(x)[0])


def test_compare_layers_finds_the_first_differing_layer(small_cnn_bytes, monkeypatch):
    import numpy as np

    from tinyflow.hostengine import HostEngine, compare_layers
    from tinyflow.ir import parse_model

    model = parse_model(small_cnn_bytes, name="cnn")
    x = np.random.default_rng(0).integers(-128, 128, model.tensors[model.inputs[0]].shape,
                                          dtype=np.int8)
    assert all(d.exact for d in compare_layers(model, small_cnn_bytes, x))
    target = model.operators[3].outputs[0]
    real = HostEngine.intermediates

    def broken(self, inputs):
        out = real(self, inputs)
        out[target] = out[target].copy()
        out[target].flat[0] ^= 1
        return out

    monkeypatch.setattr(HostEngine, "intermediates", broken)
    diffs = compare_layers(model, small_cnn_bytes, x)
    first = next(d for d in diffs if not d.exact)
    assert (first.index, first.differing, first.max_abs) == (3, 1, 1)


def test_inplace_inputs_only_for_elementwise_same_shape(small_cnn_bytes):
    from tinyflow.codegen.registry import inplace_inputs
    from tinyflow.ir import parse_model

    model = parse_model(small_cnn_bytes, name="cnn")
    got = {op.opcode: inplace_inputs(model, op) for op in model.operators}
    assert got["ADD"] == [0, 1] and got["SOFTMAX"] == [0]
    assert got["CONV_2D"] == [] and got["MEAN"] == [] and got["MAX_POOL_2D"] == []


def test_inplace_placement_stays_bit_exact(small_cnn_bytes):
    """Put each in-place-safe op's output on its dying input; results must not change."""
    import numpy as np

    from tinyflow.codegen.registry import inplace_inputs
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle
    from tinyflow.plan import plan_memory

    model = parse_model(small_cnn_bytes, name="cnn")
    # the plain plan: moving one output in an overlap plan could land on a neighbour
    plan = plan_memory(model, overlap=False)
    last_use = {t: op.index for op in model.operators for t in op.inputs}
    moved = 0
    for op in model.operators:
        for pos in inplace_inputs(model, op):
            src = op.inputs[pos]
            if last_use[src] == op.index and src not in model.inputs:
                plan.offsets[op.outputs[0]] = plan.offsets[src]
                moved += 1
                break
    assert moved >= 1
    engine = HostEngine(model, plan=plan)
    oracle = TflmOracle(small_cnn_bytes)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.integers(-128, 128, (1, 24, 24, 3)).astype(np.int8)
        assert np.array_equal(engine.invoke(x)[0], oracle.invoke(x)[0])


def test_overlapping_windowed_ops_stay_bit_exact():
    """Place each windowed op's output `output_lead_bytes` before its input, overlapping
    the rest, as a planner with partial in-place reuse would; results must not change."""
    import keras
    import numpy as np
    from kernel_cases import build

    from tinyflow.codegen import output_lead_bytes
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle
    from tinyflow.plan import MemoryPlan

    def chain(_):
        def fn(x):
            x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
            x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
            x = keras.layers.MaxPooling2D(3, strides=1, padding="same")(x)
            x = keras.layers.Conv2D(12, (3, 5), strides=2, padding="same")(x)
            x = keras.layers.AveragePooling2D(2, padding="valid")(x)
            return keras.layers.Conv2D(6, 1)(x)
        return (13, 11, 8), fn, (-1.0, 1.0)

    data = build("overlap chain", [{"v": 1}], chain)
    model = parse_model(data)
    ops = model.operators
    assert [op.opcode for op in ops] == ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D",
                                         "CONV_2D", "AVERAGE_POOL_2D", "CONV_2D"]
    leads = [output_lead_bytes(model, op) for op in ops]
    assert all(lead is not None and 0 <= lead < model.tensors[op.outputs[0]].nbytes
               for lead, op in zip(leads, ops))
    # the chain's tensors each sit `lead` bytes below the one before
    offsets = {ops[0].inputs[0]: sum(leads)}
    for op, lead in zip(ops, leads):
        offsets[op.outputs[0]] = offsets[op.inputs[0]] - lead
    arena = max(off + model.tensors[t].nbytes for t, off in offsets.items())
    plan = MemoryPlan(buffers=[], arena_size=arena, n_steps=len(ops), offsets=offsets)
    engine, oracle = HostEngine(model, plan=plan), TflmOracle(data)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.integers(-128, 128, model.tensors[model.inputs[0]].shape).astype(np.int8)
        assert np.array_equal(engine.invoke(x)[0], oracle.invoke(x)[0])
    # and the saving is real: far less than input + output for every op
    assert arena < sum(model.tensors[t].nbytes for t in offsets) / 2
