"""Firmware on the virtual boards: cost per inference, memory from the ELF, build times, link.

    .venv/bin/python benchmarks/firmware_bench.py [--models a,b] [--boards a,b] [--n 3]
        # writes benchmarks/results/firmware.{json,md}

For each model (person_det, ser, MobileNetV1-0.25 96x96x1) and each virtual board
(qemu-m4, qemu-m7, qemu-m55): a cold firmware build (empty build folder) and a warm one
(nothing changed), flash and RAM use from the linked ELF, then n random inputs over the
serial link in QEMU with -icount shift=0: instructions per inference (deterministic: the
same input gives the same count in every run), stack high-water mark, and whether every
output byte equals the host engine's. Also the raw link throughput (ECHO of 1000 bytes)
and, from the per-layer timer reads of a profiling build, where the instructions go by
operator type.
Instruction counts are QEMU instructions, not cycles (docs/protocol.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the cached zoo/reference .tflite builders

import numpy as np  # noqa: E402

MODELS = {
    "person_det": lambda: __import__("test_kernels_zoo").zoo_bytes("person_det"),
    "ser": lambda: __import__("test_kernels_zoo").zoo_bytes("ser"),
    "mobilenet_v1_025": lambda: __import__("test_kernels_zoo").reference_bytes("mobilenet_v1"),
}
BOARDS = ["qemu-m4", "qemu-m7", "qemu-m55"]


def bench(models: list[str], boards: list[str], n: int) -> dict:
    from helpers_tflite import random_inputs

    from tinyflow import codegen
    from tinyflow.boards import get_board
    from tinyflow.build import build_firmware
    from tinyflow.device import open_device
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="tf-fwbench-"))
    try:
        for name in models:
            data = MODELS[name]()
            model = parse_model(data, name=name)
            # profiling hooks: one timer read per layer, a few dozen instructions in all
            gen = codegen.generate(model, tmp / "gen" / name, name=name, profile=True)
            engine = HostEngine(model)
            rng = np.random.default_rng(0)
            inputs = [random_inputs(model, rng) for _ in range(n)]
            refs = [engine.invoke(xs) for xs in inputs]
            for board in boards:
                b = get_board(board)
                out = tmp / board / name
                t0 = time.monotonic()
                cold = build_firmware(b, [gen.c_file], out, model_name=name)
                cold_s = time.monotonic() - t0
                t0 = time.monotonic()
                warm = build_firmware(b, [gen.c_file], out, model_name=name)
                warm_s = time.monotonic() - t0
                assert not warm.rebuilt
                sizes = cold.sizes
                flash = sum(r["used"] for r in sizes["regions"] if r["kind"] != "ram")
                ram = sum(r["used"] for r in sizes["regions"] if r["kind"] == "ram")
                insns, stacks, exact = [], [], True
                by_op: dict[str, int] = {}
                t0 = time.monotonic()
                with open_device(b, cold.elf) as dev:
                    for k, (xs, ref) in enumerate(zip(inputs, refs)):
                        r = dev.run(xs, profile=k == 0)
                        for op, c in zip(model.operators, r.layer_cycles):
                            by_op[op.opcode] = by_op.get(op.opcode, 0) + \
                                dev.link.to_instructions(c)
                        insns.append(r.instructions)
                        stacks.append(r.stack_used)
                        for o, e in zip(r.outputs, ref):
                            exact &= o == np.ascontiguousarray(e).tobytes()
                    again = dev.run(inputs[0]).instructions
                    t1 = time.monotonic()
                    payload = bytes(range(256)) * 4
                    for _ in range(5):
                        dev.link.echo(payload[:1000])
                    echo_s = (time.monotonic() - t1) / 5
                run_s = time.monotonic() - t0
                rows.append({
                    "model": name, "board": board, "core": b.core,
                    "macs": model.total_macs,
                    "instructions": insns, "instructions_repeat_first": again,
                    "deterministic": again == insns[0],
                    "instructions_per_mac": round(float(np.mean(insns)) / model.total_macs, 2),
                    "stack_used": max(stacks), "bit_exact_vs_host_engine": bool(exact),
                    "flash_bytes": flash, "ram_bytes": ram, "text": sizes["text"],
                    "rodata": sizes["rodata"], "arena": sizes["arena"],
                    "data_bss": sizes["data_bss"],
                    "build_cold_s": round(cold_s, 2), "build_warm_s": round(warm_s, 2),
                    "session_s": round(run_s, 2),
                    "instructions_by_op_first_input": dict(sorted(by_op.items(),
                                                                 key=lambda kv: -kv[1])),
                    "echo_1000B_roundtrip_s": round(echo_s, 3),
                })
                print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": rows}


def versions() -> dict:
    def first_line(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            return "?"

    dirty = subprocess.run(["git", "status", "--porcelain", "--", "firmware", "tinyflow",
                            "templates"], cwd=ROOT, capture_output=True, text=True,
                           check=False).stdout.strip()
    return {"git": first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
            + (" with uncommitted changes" if dirty else ""),
            "gcc": first_line(["arm-none-eabi-gcc", "--version"]),
            "qemu": first_line(["qemu-system-arm", "--version"]),
            "python": platform.python_version(), "host": platform.platform(),
            "cpus": os.cpu_count()}


def markdown(res: dict) -> str:
    lines = [
        "# Firmware on the virtual boards",
        "",
        f"Measured {res['date']} with `{res['command']}` at commit {res['versions']['git']}.",
        f"Toolchain: {res['versions']['gcc']}; {res['versions']['qemu']}; "
        f"{res['versions']['cpus']} CPUs shared with other jobs (times are wall clock).",
        "",
        "Instructions per inference come from QEMU `-icount shift=0` via SysTick (exact to "
        "one tick, 40 instructions on MPS2 and 31.25 on the AN547); they are instruction "
        "counts, not cycles. Same input, same count: checked by re-running the first input. "
        "Flash = code + constants (+ .data image), RAM = .data/.bss + arena + 16 KiB stack "
        "reserve, from the linked ELF. Builds: -O2, no LTO; cold = empty build folder, "
        "warm = nothing changed.",
        "",
        "| model | board | instructions / inference | per MAC | same again | stack used "
        "| flash B | RAM B | arena B | cold build s | warm build s | = host engine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        ins = r["instructions"]
        span = f"{min(ins):,}" if min(ins) == max(ins) else f"{min(ins):,}–{max(ins):,}"
        lines.append(
            f"| {r['model']} | {r['board']} | {span} | {r['instructions_per_mac']} | "
            f"{'yes' if r['deterministic'] else 'NO'} | {r['stack_used']} | "
            f"{r['flash_bytes']:,} | {r['ram_bytes']:,} | {r['arena']:,} | "
            f"{r['build_cold_s']} | {r['build_warm_s']} | "
            f"{'yes' if r['bit_exact_vs_host_engine'] else 'NO'} |")
    lines += ["", "Where the instructions go (first input, per operator type, from the per-layer "
                  "timer reads; millions):", ""]
    ops = sorted({op for r in res["rows"] for op in r["instructions_by_op_first_input"]})
    lines += ["| model | board | " + " | ".join(ops) + " |",
              "|---|---|" + "---|" * len(ops)]
    for r in res["rows"]:
        d = r["instructions_by_op_first_input"]
        lines.append(f"| {r['model']} | {r['board']} | "
                     + " | ".join(f"{d[o] / 1e6:.2f}" if o in d else "" for o in ops) + " |")
    echo = [r["echo_1000B_roundtrip_s"] for r in res["rows"]]
    lines += ["", f"Link: an ECHO of 1000 bytes (host → guest → host, 1,012-byte frames each "
                  f"way) took {min(echo) * 1000:.0f}–{max(echo) * 1000:.0f} ms over the pty "
                  f"(about {2 / max(echo):.0f}–{2 / min(echo):.0f} kB/s counting both "
                  "directions).", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--n", type=int, default=3, help="random inputs per model and board")
    ap.add_argument("--out", default=str(HERE / "results" / "firmware"))
    a = ap.parse_args()
    res = bench(a.models.split(","), a.boards.split(","), a.n)
    res["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    res["command"] = "python benchmarks/firmware_bench.py " + " ".join(sys.argv[1:])
    res["versions"] = versions()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
