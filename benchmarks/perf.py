"""Speed and size on the virtual boards: optimized vs portable kernels, beside TFLM's figures.

    .venv/bin/python benchmarks/perf.py [--models a,b] [--boards a,b]
        # writes benchmarks/results/perf.{json,md}, appends to perf_history.jsonl

For each model (MobileNetV1-0.25 96x96x1, zoo person_det and ser) and virtual board
(qemu-m4, qemu-m7, qemu-m55), two firmware builds of the same generated model: the
board's optimized kernels (DSP on M4/M7, Helium on M55) and -DTF_PORTABLE_ONLY. Each runs
one fixed random input under QEMU -icount shift=0 (the count is deterministic; the run is
repeated to prove it), its output is checked byte for byte against the host engine, and the
per-layer timer reads give instructions per layer and MACs per instruction. Flash is code +
constants (+ .data image) from the linked ELF. TFLM's figures for MobileNetV1-0.25 on
qemu-m7 come from ../shared/notes/tflm-anchor.md (measured once, outside the project).
Instruction counts are QEMU instructions, not cycles.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the cached zoo/reference .tflite builders
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from firmware_bench import MODELS, versions  # noqa: E402

BOARDS = ["qemu-m4", "qemu-m7", "qemu-m55"]
ORDER = ["mobilenet_v1_025", "person_det", "ser"]
# ../shared/notes/tflm-anchor.md: TFLM on qemu-m7 (mps2-an500), MobileNetV1-0.25 96x96x1
TFLM = {("mobilenet_v1_025", "qemu-m7"): {
    "reference": {"instructions": 96_070_000, "CONV_2D": 53_600_000,
                  "DEPTHWISE_CONV_2D": 42_400_000, "arena": 82_292,
                  "flash": 300_568 + 18_046 + 23_440},
    "cmsis_nn": {"instructions": 22_550_000, "CONV_2D": 14_300_000,
                 "DEPTHWISE_CONV_2D": 8_200_000, "arena": 82_308,
                 "flash": 300_568 + 18_046 + 13_657 + 17_868}}}
# issue 8, qemu-m7, MobileNetV1-0.25
TARGET = {"instructions": 11_300_000, "arena": 49_000, "flash": 225_000}


def engine_flash(elf: Path, arena: int) -> dict:
    """What issue 8 counts as flash: the model's constants plus the engine's code (the
    kernels and the generated model code), without the serial protocol and board support;
    TFLM's figure is likewise its flatbuffer plus TFLM's core and kernels."""
    from tinyflow.memreport import sizes_by_object

    objs = sizes_by_object(elf, elf.parent / "obj")
    code = sum(v["code"] for k, v in objs.items()
               if k.startswith("fw/kernels/") or k.startswith("model/"))
    consts = sum(v["data"] for k, v in objs.items() if k.startswith("model/")) - arena
    return {"engine_code": code, "model_constants": consts,
            "constants_plus_engine": code + consts}


def run_variant(board, gen, model, out: Path, xs, ref, defines: list[str]) -> dict:
    from tinyflow.build import build_firmware
    from tinyflow.device import open_device

    res = build_firmware(board, [gen.c_file], out, model_name=gen.name, extra_defines=defines)
    sizes = res.sizes
    with open_device(board, res.elf) as dev:
        r = dev.run(xs, profile=True)
        again = dev.run(xs).instructions
        layers = [dev.link.to_instructions(c) for c in r.layer_cycles]
    exact = all(o == np.ascontiguousarray(e).tobytes() for o, e in zip(r.outputs, ref))
    return {"instructions": again, "instructions_profiled": r.instructions,
            "deterministic": bool(r.instructions is not None and again is not None
                                  and abs(again - r.instructions) < 200 * len(layers) + 200),
            "bit_exact_vs_host_engine": bool(exact),
            "flash": sum(x["used"] for x in sizes["regions"] if x["kind"] != "ram"),
            **engine_flash(res.elf, sizes["arena"]),
            "text": sizes["text"], "rodata": sizes["rodata"], "arena": sizes["arena"],
            "layers": layers}


def bench(models: list[str], boards: list[str]) -> dict:
    from helpers_tflite import random_inputs

    from tinyflow import codegen
    from tinyflow.boards import get_board
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="tf-perf-"))
    try:
        for name in models:
            model = parse_model(MODELS[name](), name=name)
            gen = codegen.generate(model, tmp / "gen" / name, name=name, profile=True)
            xs = random_inputs(model, np.random.default_rng(0))
            ref = HostEngine(model).invoke(xs)
            for bname in boards:
                board = get_board(bname)
                opt = run_variant(board, gen, model, tmp / bname / name / "opt", xs, ref, [])
                port = run_variant(board, gen, model, tmp / bname / name / "portable", xs, ref,
                                   ["TF_PORTABLE_ONLY"])
                # on a Helium core, also its DSP loops: MVE against DSP on the same core
                dsp = (run_variant(board, gen, model, tmp / bname / name / "dsp", xs, ref,
                                   ["TF_NO_MVE"]) if board.mve else None)
                layers = [{"index": li.index, "op": li.op, "output": li.output, "macs": li.macs,
                           "const_bytes": li.const_bytes,
                           "instructions": a, "instructions_portable": b}
                          for li, a, b in zip(gen.layers, opt["layers"], port["layers"])]
                for d in (opt, port):
                    del d["layers"]
                if dsp:
                    del dsp["layers"]
                row = {"model": name, "board": bname, "core": board.core,
                       "macs": model.total_macs, "optimized": opt, "portable": port,
                       "dsp_on_mve_core": dsp,
                       "layers": layers, "tflm": TFLM.get((name, bname))}
                rows.append(row)
                print(f"{name} {bname}: {opt['instructions'] / 1e6:.2f} M "
                      f"(portable {port['instructions'] / 1e6:.2f} M), exact "
                      f"{opt['bit_exact_vs_host_engine']}/{port['bit_exact_vs_host_engine']}",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": rows}


def _m(x: float) -> str:
    return f"{x / 1e6:.2f}"


def markdown(res: dict) -> str:
    v = res["versions"]
    lines = [
        "# Speed and size: optimized vs portable kernels, beside TFLM",
        "",
        f"Measured {res['date']} with `{res['command']}` at commit {v['git']}.",
        f"Toolchain: {v['gcc']}; {v['qemu']}.",
        "",
        "Instructions per inference from QEMU `-icount shift=0` (SysTick; ±40 on MPS2, ±32 on "
        "the AN547), one fixed random input, deterministic (run twice). Not cycles: QEMU counts "
        "an MVE or SMLAD instruction as one. Optimized = the board's DSP (M4/M7) or Helium "
        "(M55) loops; portable = `-DTF_PORTABLE_ONLY`. Flash = code + constants from the ELF "
        "(whole firmware: engine, protocol, board support). Every output byte equals the host "
        "engine's (which equals TFLM's, tests/test_kernels_*.py).",
        "",
        "| model | board | MACs | instr. optimized | portable | speed-up | MACs/instr. "
        "| arena B | flash B | of which code (.text) | constants (.rodata) "
        "| model constants + engine code | = host |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in res["rows"]:
        o, p = r["optimized"], r["portable"]
        lines.append(
            f"| {r['model']} | {r['board']} | {r['macs']:,} | {_m(o['instructions'])} M | "
            f"{_m(p['instructions'])} M | {p['instructions'] / o['instructions']:.2f}x | "
            f"{r['macs'] / o['instructions']:.3f} | {o['arena']:,} | {o['flash']:,} | "
            f"{o['text']:,} | {o['rodata']:,} | "
            f"{o['model_constants']:,} + {o['engine_code']:,} | "
            f"{'yes' if o['bit_exact_vs_host_engine'] and p['bit_exact_vs_host_engine'] else 'NO'}"
            " |")
    mve = [r for r in res["rows"] if r.get("dsp_on_mve_core")]
    if mve:
        lines += ["", "## Helium against the DSP loops on the same core (`-DTF_NO_MVE`)", "",
                  "| model | board | MVE | DSP only | MVE speed-up | = host |",
                  "|---|---|---:|---:|---:|---|"]
        for r in mve:
            o, d = r["optimized"], r["dsp_on_mve_core"]
            lines.append(f"| {r['model']} | {r['board']} | {_m(o['instructions'])} M | "
                         f"{_m(d['instructions'])} M | "
                         f"{d['instructions'] / o['instructions']:.2f}x | "
                         f"{'yes' if d['bit_exact_vs_host_engine'] else 'NO'} |")
    anchored = [r for r in res["rows"] if r["tflm"]]
    if anchored:
        lines += ["", "## Against TFLM (tflm-anchor.md) and issue 8's targets", "",
                  "| model | board | | tinyflow | TFLM reference | TFLM + CMSIS-NN "
                  "| ours / CMSIS-NN | target | met |",
                  "|---|---|---|---:|---:|---:|---:|---:|---|"]
        for r in anchored:
            t, o = r["tflm"], r["optimized"]
            by_op: dict[str, int] = {}
            for lay in r["layers"]:
                by_op[lay["op"]] = by_op.get(lay["op"], 0) + (lay["instructions"] or 0)
            items = [("instructions", o["instructions"], True),
                     ("CONV_2D", by_op.get("CONV_2D", 0), True),
                     ("DEPTHWISE_CONV_2D", by_op.get("DEPTHWISE_CONV_2D", 0), True),
                     ("arena", o["arena"], False),
                     ("flash", o["constants_plus_engine"], False)]
            for key, ours, is_insn in items:
                fmt = _m if is_insn else (lambda x: f"{x:,}")
                tgt = TARGET.get(key)
                lines.append(
                    f"| {r['model']} | {r['board']} | {key} | {fmt(ours)} | "
                    f"{fmt(t['reference'][key])} | {fmt(t['cmsis_nn'][key])} | "
                    f"{ours / t['cmsis_nn'][key]:.2f} | {fmt(tgt) if tgt else ''} | "
                    f"{('yes' if ours <= tgt else f'no ({ours / tgt:.2f}x)') if tgt else ''} |")
        lines += ["", "Flash here is the model's constants plus the engine's code (kernels and "
                  "generated model code; without the serial protocol and board support), "
                  "as TFLM's is its flatbuffer plus TFLM's core and kernels. The whole "
                  "firmware's flash is in the first table."]
    lines += ["", "## Per layer (optimized; instructions, and MACs per instruction)", ""]
    for r in res["rows"]:
        o = r["optimized"]["instructions"]
        target_share = ""
        if (r["model"], r["board"]) in TFLM:
            target_share = (" — 'at target' is the layer's share of the 11.3 M target, "
                            "proportional to its MACs")
        if target_share:
            target_share += ("; 'constants' is what the layer puts in flash (weights, biases, "
                             "requantization tables, parameters)")
        lines += [f"### {r['model']} on {r['board']}{target_share}", "",
                  "| # | op | output | MACs | instr. | portable | MACs/instr. | % of total |"
                  + (" at target | over | constants B |" if target_share else ""),
                  "|---:|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if target_share
                                                               else "")]
        for lay in r["layers"]:
            n = lay["instructions"] or 0
            if n < 0.002 * o:
                continue
            extra = ""
            if target_share:
                share = TARGET["instructions"] * lay["macs"] / r["macs"]
                extra = f" {_m(share)} | {n / share:.2f}x |" if share else " | |"
                extra += f" {lay.get('const_bytes', 0):,} |"
            lines.append(
                f"| {lay['index']} | {lay['op']} | {lay['output'][:40]} | {lay['macs']:,} | "
                f"{n:,} | {lay['instructions_portable'] or 0:,} | "
                f"{lay['macs'] / n if n else 0:.3f} | {100 * n / o:.1f} |" + extra)
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(ORDER))
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--out", default=str(HERE / "results" / "perf"))
    a = ap.parse_args()
    res = bench(a.models.split(","), a.boards.split(","))
    res["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    res["command"] = "python benchmarks/perf.py " + " ".join(sys.argv[1:])
    res["versions"] = versions()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(res))
    # one line per (model, board) per run: a regression shows against earlier lines
    with open(out.parent / "perf_history.jsonl", "a") as f:
        for r in res["rows"]:
            f.write(json.dumps({
                "date": res["date"], "commit": res["versions"]["git"], "command": res["command"],
                "model": r["model"], "board": r["board"],
                "instructions": r["optimized"]["instructions"],
                "instructions_portable": r["portable"]["instructions"],
                "instructions_dsp_only": (r["dsp_on_mve_core"] or {}).get("instructions"),
                "arena": r["optimized"]["arena"], "flash": r["optimized"]["flash"],
                "bit_exact": r["optimized"]["bit_exact_vs_host_engine"]}) + "\n")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
