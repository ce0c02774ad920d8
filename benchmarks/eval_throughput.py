"""Eval throughput on a virtual board: samples/s against the raw link, in the same run.

For each zoo model (person_det on synthetic Wake Vision, ser on a synthetic SER set):
build the firmware once, then evaluate the same samples several times, alternating the
request/reply path (one frame at a time) and the pipelined path, and record

- samples/s of the whole eval loop (decode the sample, quantize, device, host references),
- the raw link throughput that worker measured at the start of the same session
  (input-sized WRITE frames, and the link-bound samples/s that implies),
- the device's own instruction count per inference.

Models are untrained but full-size quantized zoo models (`zoo.quick_tflite`): the cost of
an inference and of a transfer does not depend on the weights' values.

The "semihosting" modes are `tinyflow eval`'s default on virtual boards (inputs through a
host file, `--uart` for the serial path); their "of link" can exceed 100% because the
link-bound rate is the UART's.

    .venv/bin/python benchmarks/eval_throughput.py [--board qemu-m7] [--n 12] [--repeat 4]

Writes benchmarks/results/eval_throughput.json and prints a Markdown table (kept in
benchmarks/results/eval_throughput.md with the date and command).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def dataset(kind: str, out: Path, n: int, seconds: float) -> Path:
    if kind == "person_det":
        from tinyflow.datasets.synth_wake_vision import generate

        generate(out, n=n, seed=0, size=128, splits={"test": 1.0})
    else:
        from tinyflow.datasets.synth_ser import generate

        generate(out, n=n, seed=0, seconds=seconds, splits={"test": 1.0})
    return out


def one(model: Path, data: Path, board: str, window: int | None, refs: tuple[str, ...],
        n: int, elf: Path, work: Path, uart: bool = True) -> dict:
    from tinyflow.evaluate import evaluate, summarize
    from tinyflow.evaluate.board import board_workers

    info, workers, unit = board_workers(board, model, elf=elf, window=window, uart=uart)
    run = Path(tempfile.mkdtemp(dir=work))
    res = evaluate(model, data, run, target="device", references=refs, workers=workers,
                   board=info, cycle_unit=unit, limit=n, progress=False)
    s = summarize(res)
    tp = s["throughput"][0]
    return {"samples_per_s": tp["samples_per_s"], "raw_up_Bps": tp.get("raw_up_Bps"),
            "link_bound_samples_per_s": tp.get("link_bound_samples_per_s"),
            "instructions_p50": s["latency"]["device"]["p50"],
            "bit_exact": [p["rate"] for p in s["fidelity"]], "n": tp["samples"]}


def table(out: dict) -> str:
    """Markdown: medians over the repeats; "of link" is the median of each run's own
    samples/s divided by the link-bound rate measured in that same run."""
    lines = ["| model | path | samples/s median (range) | raw up kB/s median | link-bound "
             "samples/s median | of link (median of runs) | instructions/inference | "
             "bit-exact |", "|---|---|---|---|---|---|---|---|"]
    for name, runs in out["runs"].items():
        for mode, rs in runs.items():
            sps = [r["samples_per_s"] for r in rs]
            eff = [r["samples_per_s"] / r["link_bound_samples_per_s"] for r in rs]
            exact = all(x == 1.0 for r in rs for x in r["bit_exact"])
            lines.append(
                f"| {name} | {mode} | {statistics.median(sps):.2f} ({min(sps):.2f}-"
                f"{max(sps):.2f}) | {statistics.median(r['raw_up_Bps'] for r in rs) / 1e3:.1f} "
                f"| {statistics.median(r['link_bound_samples_per_s'] for r in rs):.2f} "
                f"| {100 * statistics.median(eff):.0f}% "
                f"| {rs[0]['instructions_p50'] / 1e6:.2f}M | {'yes' if exact else 'NO'} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="qemu-m7")
    ap.add_argument("--n", type=int, default=12, help="samples per run")
    ap.add_argument("--repeat", type=int, default=4, help="runs per mode (alternating)")
    ap.add_argument("--models", default="person_det,ser")
    ap.add_argument("--table", action="store_true",
                    help="only print the table of benchmarks/results/eval_throughput.json")
    args = ap.parse_args()
    if args.table:
        print(table(json.loads((ROOT / "benchmarks" / "results" / "eval_throughput.json")
                               .read_text())))
        return 0

    from tinyflow.boards import get_board
    from tinyflow.evaluate.board import firmware_for
    from tinyflow.zoo import quick_tflite

    work = Path(tempfile.mkdtemp(prefix="tinyflow-bench-"))
    board = get_board(args.board)
    raw: dict[str, dict] = {}
    for name in args.models.split(","):
        model = quick_tflite(name, work / f"{name}.tflite")
        seconds = 1.0
        data = dataset(name, work / f"data-{name}", args.n, seconds)
        elf = firmware_for(board, model, work / f"fw-{name}")
        runs: dict[str, list[dict]] = {}
        for _ in range(args.repeat):
            for mode, window, refs, uart in (
                    ("request/reply", 0, (), True), ("pipelined", None, (), True),
                    ("pipelined + host,tflm refs", None, ("host", "tflm"), True),
                    # the default on virtual boards: inputs through semihosting (LOAD)
                    ("semihosting, pipelined", None, (), False),
                    ("semihosting, pipelined + host,tflm refs", None, ("host", "tflm"), False)):
                runs.setdefault(mode, []).append(one(model, data, args.board, window, refs,
                                                     args.n, elf, work, uart))
        raw[name] = runs
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": " ".join(["benchmarks/eval_throughput.py", *sys.argv[1:]]),
           "board": args.board, "n": args.n, "repeat": args.repeat,
           "load_average": os.getloadavg(), "runs": raw}
    dest = ROOT / "benchmarks" / "results" / "eval_throughput.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
