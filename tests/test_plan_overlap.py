"""Overlap plans (outputs over the inputs they consume) proven on the engine: the lead
arithmetic against a brute-force walk of the kernels' access order, soundness on random
conv/pool chains, and bit-exact outputs vs tflite-micro on the host and on the virtual
boards (whose DSP/Helium kernels must keep the same write order)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from _fw import VIRTUAL
from helpers_tflite import random_inputs
from test_kernels_zoo import reference_bytes, zoo_bytes
from test_plan import assert_plan_sound

from tinyflow.codegen.overlap import PIXEL_BLOCK, allowed_overlap
from tinyflow.codegen.quantmath import out_size
from tinyflow.ir import Model, Operator, Tensor, parse_model
from tinyflow.plan import plan_memory


def _windowed(rng: random.Random, tensors: list[Tensor], x: int, k: int) -> Operator:
    """A random conv, depthwise or pool reading tensor x, its output appended."""
    n, ih, iw, c = tensors[x].shape
    kind = rng.choice(["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"])
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    s, d = rng.choice([1, 1, 2]), rng.choice([1, 1, 2]) if kind.endswith("CONV_2D") else 1
    pad = rng.choice(["SAME", "VALID"])
    if (kh - 1) * d + 1 > ih or (kw - 1) * d + 1 > iw:
        pad = "SAME"
    oc = rng.choice([1, 4, 8, 16]) if kind == "CONV_2D" else c
    opts = {"stride_h": s, "stride_w": s, "padding": pad}
    ins = [x]
    if kind.endswith("CONV_2D"):
        opts |= {"dilation_h_factor": d, "dilation_w_factor": d}
        wshape = (oc, kh, kw, c) if kind == "CONV_2D" else (1, kh, kw, c)
        tensors.append(Tensor(len(tensors), "w", wshape, "int8", data=np.zeros(wshape, np.int8)))
        ins.append(len(tensors) - 1)
    else:
        opts |= {"filter_height": kh, "filter_width": kw}
    oh, ow = out_size(pad, ih, kh, s, d), out_size(pad, iw, kw, s, d)
    tensors.append(Tensor(len(tensors), f"y{k}", (n, oh, ow, oc), "int8"))
    return Operator(k, kind, ins, [len(tensors) - 1], opts)


def _chain(seed: int) -> Model:
    rng = random.Random(seed)
    tensors = [Tensor(0, "in", (1, rng.randint(3, 12), rng.randint(3, 12), rng.choice([1, 3, 8])),
                      "int8")]
    ops: list[Operator] = []
    live = [0]
    for k in range(rng.randint(1, 8)):
        x = rng.choice(live[-2:])
        if rng.random() < 0.2:  # an in-place op now and then
            tensors.append(Tensor(len(tensors), f"r{k}", tensors[x].shape, "int8"))
            ops.append(Operator(k, "RELU", [x], [len(tensors) - 1]))
        else:
            ops.append(_windowed(rng, tensors, x, k))
        live.append(ops[-1].outputs[0])
    return Model("chain", tensors, ops, [0], [live[-1]], "0", 0)


def _brute_force_lead(model: Model, op: Operator, block: int) -> int:
    """The smallest lead for which no block of `block` pixels writes over input still
    to be read, walking every tap of every window (the kernels' documented order)."""
    x, y = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
    n, ih, iw, c = x.shape
    _, oh, ow, oc = y.shape
    o = op.options
    if op.opcode.endswith("CONV_2D"):
        kh, kw = model.tensors[op.inputs[1]].shape[1:3]
        d = o["dilation_h_factor"]
    else:
        kh, kw, d = o["filter_height"], o["filter_width"], 1
    s = o["stride_h"]
    pt = max((oh - 1) * s + (kh - 1) * d + 1 - ih, 0) // 2
    pl = max((ow - 1) * s + (kw - 1) * d + 1 - iw, 0) // 2
    first_read = []
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                taps = [((b * ih + oy * s - pt + ky * d) * iw + ox * s - pl + kx * d) * c
                        for ky in range(kh) for kx in range(kw)
                        if 0 <= oy * s - pt + ky * d < ih and 0 <= ox * s - pl + kx * d < iw]
                first_read.append(min(taps))
    p_n = len(first_read)
    lead = 0
    for p in range(p_n):
        still = min(first_read[p:])            # input bytes still to be read
        written = min(p + block, p_n) * oc      # output bytes written by the block's end
        lead = max(lead, written - still)
    return lead


@pytest.mark.parametrize("seed", range(60))
def test_lead_matches_brute_force_and_plans_are_sound(seed):
    m = _chain(seed)
    for op in m.operators:
        a = allowed_overlap(m, op)
        if op.opcode == "RELU":
            assert a is not None and a.exact
        elif a is not None:
            exact = _brute_force_lead(m, op, PIXEL_BLOCK)
            # never less than the walk needs; equal unless a dilated window starts in the
            # padding (the formula then assumes an earlier first read: safe, a bit larger)
            assert a.lead >= exact, op
            if op.options.get("dilation_h_factor", 1) == 1:
                assert a.lead == exact, op
    p = plan_memory(m)
    assert_plan_sound(m, p)
    assert p.arena_size <= p.arena_without_overlap


REAL = {"person_det": lambda: zoo_bytes("person_det"), "ser": lambda: zoo_bytes("ser"),
        "mobilenet_v1": lambda: reference_bytes("mobilenet_v1"),
        "ds_cnn": lambda: reference_bytes("ds_cnn"), "resnet8": lambda: reference_bytes("resnet8")}


@pytest.mark.xdist_group("tf")
@pytest.mark.parametrize("name", list(REAL))
def test_overlap_plan_bit_exact_on_host(name):
    """The default (overlap) plan is sound, uses overlaps, and gives TFLM's bytes."""
    from tinyflow.hostengine import HostEngine
    from tinyflow.oracle import TflmOracle

    data = REAL[name]()
    model = parse_model(data, name=name)
    plan = plan_memory(model)
    assert_plan_sound(model, plan)
    assert plan.overlaps and plan.arena_size < plan.arena_without_overlap
    engine, oracle = HostEngine(model, plan=plan), TflmOracle(data)
    rng = np.random.default_rng(7)
    for _ in range(4):
        xs = random_inputs(model, rng)
        for a, b in zip(engine.invoke(xs), oracle.invoke(xs)):
            assert np.array_equal(a, b)


def test_mobilenet_v1_arena_target():
    """Issue 8: MobileNetV1-0.25 96x96x1 within 0.6x TFLM's 82,292-byte arena."""
    model = parse_model(reference_bytes("mobilenet_v1"))
    plan = plan_memory(model)
    assert plan.arena_without_overlap == 55_296
    assert plan.arena_size <= 0.6 * 82_292


@pytest.fixture(scope="module")
def mobilenet_fw(tmp_path_factory):
    from tinyflow import codegen

    data = reference_bytes("mobilenet_v1")
    model = parse_model(data, name="mobilenet_v1")
    plan = plan_memory(model)
    assert plan.overlaps
    gen = codegen.generate(model, tmp_path_factory.mktemp("gen"), name="mobilenet_v1",
                           plan=plan)
    assert gen.arena_bytes == plan.arena_size
    return data, model, gen


@pytest.mark.slow
@pytest.mark.xdist_group("overlap-mobilenet")
@pytest.mark.parametrize("board", VIRTUAL)
def test_overlap_plan_bit_exact_on_virtual_board(board, mobilenet_fw, tmp_path):
    """MobileNetV1 with its overlap plan on qemu-m4/m7 (DSP kernels) and m55 (Helium):
    every output byte equals tflite-micro's."""
    from tinyflow.build import build_firmware
    from tinyflow.device import open_device
    from tinyflow.oracle import TflmOracle

    data, model, gen = mobilenet_fw
    res = build_firmware(board, [gen.c_file], tmp_path, model_name="mobilenet_v1")
    oracle = TflmOracle(data)
    rng = np.random.default_rng(13)
    with open_device(board, res.elf, expect_hash=model.sha256) as dev:
        assert dev.info.arena_bytes == gen.arena_bytes
        for _ in range(3):
            xs = random_inputs(model, rng)
            r = dev.run(xs)
            ref = [np.asarray(o).reshape(-1).view(np.uint8) for o in oracle.invoke(xs)]
            for d, t in zip(r.outputs, ref):
                assert np.array_equal(np.frombuffer(d, np.uint8), t)


# -- random single-op cases with the overlap forced to its limit -----------------------------

def _forced_spec(seed: int = 21) -> list[dict]:
    rng = np.random.default_rng(seed)
    spec = []
    for _ in range(6):  # pointwise, widening (the case that needs the longest lead)
        spec.append({"kind": "pw", "hw": [int(rng.integers(1, 9)), int(rng.integers(1, 9))],
                     "c": int(rng.choice([4, 8, 16, 3, 6])), "oc": int(rng.choice([8, 16, 32, 7]))})
    for _ in range(6):  # depthwise 3x3, stride 1 and 2, multiplier 1 and 2
        spec.append({"kind": "dw", "hw": [int(rng.integers(3, 10)), int(rng.integers(3, 10))],
                     "c": int(rng.choice([1, 4, 5, 8, 16])), "s": int(rng.choice([1, 2])),
                     "dm": int(rng.choice([1, 1, 2])), "pad": str(rng.choice(["same", "valid"]))})
    for _ in range(4):  # 3x3 convs: the stride-2 stem and a wider, sometimes dilated one
        spec.append({"kind": "conv", "hw": [int(rng.integers(5, 12)), int(rng.integers(5, 12))],
                     "c": int(rng.choice([1, 3, 8])), "oc": int(rng.choice([4, 8, 12])),
                     "s": int(rng.choice([1, 2])), "d": int(rng.choice([1, 1, 2])),
                     "pad": str(rng.choice(["same", "valid"]))})
    for _ in range(4):
        spec.append({"kind": str(rng.choice(["max", "avg"])),
                     "hw": [int(rng.integers(4, 10)), int(rng.integers(4, 10))],
                     "c": int(rng.choice([1, 4, 6])), "k": int(rng.choice([2, 3])),
                     "s": int(rng.choice([1, 2])), "pad": str(rng.choice(["same", "valid"]))})
    return spec


def _forced_make(s: dict):
    from keras import layers as L

    shape = (*s["hw"], s["c"])
    if s["kind"] == "pw":
        return shape, L.Conv2D(s["oc"], 1, activation="relu"), (-1.0, 1.0)
    if s["kind"] == "dw":
        return shape, L.DepthwiseConv2D(3, strides=s["s"], padding=s["pad"],
                                        depth_multiplier=s["dm"]), (-2.5, 3.0)
    if s["kind"] == "conv":
        strides = s["s"] if s["d"] == 1 else 1
        return shape, L.Conv2D(s["oc"], 3, strides=strides, dilation_rate=s["d"],
                               padding=s["pad"], activation="relu6"), (-1.0, 6.0)
    pool = L.MaxPooling2D if s["kind"] == "max" else L.AveragePooling2D
    return shape, pool(s["k"], strides=s["s"], padding=s["pad"]), (-4.0, 0.5)


def _forced_plan(model: Model, short: int = 0):
    """Every windowed op's output exactly `lead` bytes before its input (the most overlap
    the rule allows), each such pair in its own region; everything else disjoint.
    `short` > 0 places each output that many bytes too late (an unsafe plan)."""
    from tinyflow.plan import MemoryPlan

    def up(n: int) -> int:
        return (n + 15) // 16 * 16

    offsets: dict[int, int] = {}
    base, forced = 0, 0
    for op in model.operators:
        a = allowed_overlap(model, op)
        x, y = op.inputs[0], op.outputs[0]
        if a is None or a.exact or x not in model.inputs or x in offsets:
            continue
        lead = up(a.lead)
        if lead >= model.tensors[y].nbytes:
            continue  # they would not overlap at all
        lead = max(lead - short, 0)
        offsets[y], offsets[x] = base, base + lead
        base = up(max(base + model.tensors[y].nbytes, base + lead + model.tensors[x].nbytes))
        forced += 1
    for t in model.tensors:
        if not t.is_const and t.index not in offsets:
            offsets[t.index] = base
            base = up(base + t.nbytes)
    return MemoryPlan(buffers=[], arena_size=base, n_steps=len(model.operators),
                      offsets=offsets), forced


@pytest.fixture(scope="module")
def forced_cases() -> list[tuple[bytes, Model, object]]:
    """Three models of about seven branches each (the device protocol lists at most 8
    inputs), every windowed output forced over its input."""
    from kernel_cases import build

    spec, out, forced = _forced_spec(), [], 0
    for k in range(3):
        data = build("overlap_forced", spec[k::3], _forced_make)
        model = parse_model(data, name=f"forced{k}")
        plan, n = _forced_plan(model)
        assert_plan_sound(model, plan)
        out.append((data, model, plan))
        forced += n
    assert forced >= 16
    return out


@pytest.mark.xdist_group("tf")
def test_forced_overlap_single_ops_bit_exact_on_host(forced_cases):
    from tinyflow.hostengine import HostEngine
    from tinyflow.oracle import TflmOracle

    rng = np.random.default_rng(3)
    for data, model, plan in forced_cases:
        engine, oracle = HostEngine(model, plan=plan), TflmOracle(data)
        for _ in range(3):
            xs = random_inputs(model, rng)
            for j, (a, b) in enumerate(zip(engine.invoke(xs), oracle.invoke(xs))):
                assert np.array_equal(a, b), f"{model.name} output {j}"


@pytest.mark.xdist_group("tf")
def test_forced_overlap_test_detects_a_short_lead(forced_cases):
    """The control: the same cases with every output 64 bytes later than the rule allows
    must differ from tflite-micro somewhere, or the tests above could not fail."""
    from tinyflow.hostengine import HostEngine
    from tinyflow.oracle import TflmOracle

    rng = np.random.default_rng(3)
    bad = 0
    for data, model, _ in forced_cases:
        plan, _ = _forced_plan(model, short=64)
        engine, oracle = HostEngine(model, plan=plan), TflmOracle(data)
        xs = random_inputs(model, rng)
        bad += sum(not np.array_equal(a, b) for a, b in zip(engine.invoke(xs), oracle.invoke(xs)))
    assert bad >= 5, bad


@pytest.mark.slow
@pytest.mark.xdist_group("overlap-forced")
@pytest.mark.parametrize("board", VIRTUAL)
def test_forced_overlap_single_ops_bit_exact_on_board(board, forced_cases, tmp_path):
    """The same cases through each board's DSP/Helium kernels (1x1 GEMM on two pixels,
    small-window stem, depthwise 3x3) with every output over its input."""
    from kernel_cases import run_exact_on_board

    rng = np.random.default_rng(5)
    for data, model, plan in forced_cases:
        run_exact_on_board(board, data, model.name, tmp_path / model.name, plan=plan, rng=rng)


def test_check_and_inspect_report_both_arenas(capsys, tmp_path):
    import json

    from tinyflow.cli import main

    path = tmp_path / "mbv1.tflite"
    path.write_bytes(reference_bytes("mobilenet_v1"))
    plan = plan_memory(parse_model(path.read_bytes()))
    assert main(["check", "-b", "qemu-m7", "-m", str(path), "--no-tflm", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert f"arena: tinyflow plan {plan.arena_size:,} B" in out
    assert "without overlap 55,296 B" in out
    main(["check", "-b", "qemu-m7", "-m", str(path), "--no-tflm", "--estimate", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert (d["arena_bytes"], d["arena_bytes_without_overlap"]) == (plan.arena_size, 55_296)
    assert main(["inspect", str(path)]) == 0
    assert "(54.0 KiB without overlap)" in capsys.readouterr().out
