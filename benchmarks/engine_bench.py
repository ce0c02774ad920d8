"""The tinyflow engine vs the tflite-micro interpreter, measured in one run.

    .venv/bin/python benchmarks/engine_bench.py [--n 50] [--models a,b]
        # writes benchmarks/results/engine.{json,md}

For each model: our static arena vs TFLM's arena (its RecordingMicroAllocator total on
this 64-bit host, and the planned-activation "head" part alone); our constant bytes
(weights, biases, requantization multipliers and layer parameters as emitted in C) vs the
.tflite file; host inferences/s of our generated C (gcc -O2, via ctypes) vs the TFLM
Python interpreter on the same random int8 inputs, alternating the two in blocks so
machine load hits both alike; and whether every output byte agreed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
CACHE = ROOT / "build" / "bench"


def _cached(name: str, make) -> bytes:
    path = CACHE / f"{name}.tflite"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
    return path.read_bytes()


def _zoo(name: str) -> bytes:
    # in a child process: the zoo's training-mode BN passes leave TF state behind
    code = (f"from tinyflow import zoo; import sys; "
            f"print(zoo.quick_tflite({name!r}, sys.argv[1]))")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "m.tflite"
        subprocess.run([sys.executable, "-c", code, str(out)], check=True,
                       capture_output=True, cwd=ROOT)
        return out.read_bytes()


def _reference(name: str) -> bytes:
    from reference_models import build, to_int8

    return to_int8(build(name))


MODELS = {
    "person_det": lambda: _zoo("person_det"),
    "ser": lambda: _zoo("ser"),
    "mobilenet_v1_0.25_96x96x1": lambda: _reference("mobilenet_v1_0.25_96x96x1"),
}


def measure(name: str, data: bytes, n: int, blocks: int = 5) -> dict:
    import numpy as np

    from tinyflow.codegen import generate
    from tinyflow.codegen.overlap import plan_with_overlap
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import parse_model
    from tinyflow.oracle import TflmOracle, tflm_arena

    model = parse_model(data, name=name)
    with tempfile.TemporaryDirectory() as d:
        gm = generate(model, d, name=name)
    engine = HostEngine(model)
    oracle = TflmOracle(data)
    arena = tflm_arena(data)
    overlap = plan_with_overlap(model)
    overlap_engine = HostEngine(model, plan=overlap)
    rng = np.random.default_rng(0)
    t = model.tensors[model.inputs[0]]
    xs = [rng.integers(-128, 128, t.shape).astype(np.int8) for _ in range(n)]
    differing = 0
    for x in xs[: min(n, 20)]:
        a, b, c = engine.invoke(x), oracle.invoke(x), overlap_engine.invoke(x)
        differing += sum(int((p != q).sum()) for p, q in zip(a, b))
        differing += sum(int((p != q).sum()) for p, q in zip(c, b))
    rates: dict[str, list[float]] = {"tinyflow": [], "tflm": []}
    per_block = max(1, n // blocks)
    for k in range(blocks):
        chunk = xs[k * per_block:(k + 1) * per_block] or xs[:1]
        for label, fn in (("tinyflow", engine.invoke), ("tflm", oracle.invoke)):
            t0 = time.perf_counter()
            for x in chunk:
                fn(x)
            rates[label].append(len(chunk) / (time.perf_counter() - t0))
    ours, tflm = statistics.median(rates["tinyflow"]), statistics.median(rates["tflm"])
    return {
        "model": name, "ops": len(model.operators), "macs": model.total_macs,
        "tflite_bytes": len(data), "tinyflow_arena": gm.arena_bytes,
        "tflm_arena_total": arena["total"], "tflm_arena_head": arena["head"],
        "arena_ratio": round(gm.arena_bytes / arena["total"], 3),
        "tinyflow_arena_overlap": overlap.arena_size,
        "arena_overlap_ratio": round(overlap.arena_size / arena["total"], 3),
        "tinyflow_const_bytes": gm.const_bytes,
        "const_ratio": round(gm.const_bytes / len(data), 3),
        "tinyflow_inf_per_s": round(ours, 1), "tflm_inf_per_s": round(tflm, 1),
        "speedup": round(ours / tflm, 2), "checked_inputs": min(n, 20),
        "differing_output_bytes": differing,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="inferences per engine and model")
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    rows = []
    for name in args.models.split(","):
        data = _cached(name, MODELS[name])
        rows.append(measure(name, data, args.n))
        print(json.dumps(rows[-1]), file=sys.stderr)
    meta = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": "python benchmarks/engine_bench.py " + " ".join(sys.argv[1:]),
            "host": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores "
                    "(shared with other jobs: timings are ratios from the same run)",
            "compiler": subprocess.run(["gcc", "--version"], capture_output=True, text=True,
                                       check=False).stdout.splitlines()[0]}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "engine.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# tinyflow engine vs tflite-micro", "",
        f"Measured {meta['date']} with `{meta['command']}` on {meta['host']}; {meta['compiler']}.",
        "", "Arena: ours is the static plan (tinyflow.plan), and in brackets the prototype "
        "overlap planner (tinyflow.codegen.overlap.plan_with_overlap, outputs placed over dying "
        "inputs; its results are checked bit-exact too); TFLM's is its allocator total on "
        "this 64-bit host (head = planned activations only). Constants: everything we put in "
        "flash (weights, biases, multipliers, layer parameters) vs the .tflite file. Speed: "
        "host inferences/s, generated C at -O3 via ctypes vs the TFLM Python interpreter, "
        "median of 5 alternating blocks.", "",
        "| model | arena ours | TFLM total (head) | ratio | const ours | .tflite | ratio "
        "| inf/s ours | inf/s TFLM | speedup | bit-exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['tinyflow_arena']:,} ({r['tinyflow_arena_overlap']:,}) | "
            f"{r['tflm_arena_total']:,} ({r['tflm_arena_head']:,}) | {r['arena_ratio']:.2f} "
            f"({r['arena_overlap_ratio']:.2f}) | "
            f"{r['tinyflow_const_bytes']:,} | {r['tflite_bytes']:,} | {r['const_ratio']:.2f} | "
            f"{r['tinyflow_inf_per_s']:.1f} | {r['tflm_inf_per_s']:.1f} | {r['speedup']:.2f}x | "
            f"{'yes' if r['differing_output_bytes'] == 0 else 'NO'} "
            f"({r['checked_inputs']} inputs) |")
    (out / "engine.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
