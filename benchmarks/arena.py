"""Planned arena (tinyflow) vs the arena tflite-micro really allocates, for several models.

    .venv/bin/python benchmarks/arena.py          # writes benchmarks/results/arena.{json,md}

TFLM's figure is its RecordingMicroAllocator total on this 64-bit host: the planned
activations ("head") plus persistent interpreter data ("tail"); on a 32-bit target the tail
is somewhat smaller. Our engine keeps no interpreter state in the arena, so the comparison
that matters to a user is our arena vs TFLM's total.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference_models import REFERENCE, build, to_int8  # noqa: E402

from tinyflow.ir import parse_model  # noqa: E402
from tinyflow.oracle import tflm_arena  # noqa: E402
from tinyflow.plan import plan_memory  # noqa: E402


def zoo_models() -> dict[str, bytes]:
    """The zoo's models at their default sizes (untrained int8 exports). Each is made in a
    child process: a zoo problem must neither crash nor hide the other figures."""
    import subprocess

    out = {}
    for name in ("person_det", "ser"):
        code = f"from tinyflow import zoo; print(zoo.quick_tflite({name!r}))"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=False)
        lines = r.stdout.strip().splitlines()
        if r.returncode == 0 and lines and Path(lines[-1]).is_file():
            out[f"zoo:{name}"] = Path(lines[-1]).read_bytes()
        else:
            print(f"skipping zoo model {name}: exit {r.returncode} {r.stderr[-300:]}",
                  file=sys.stderr)
    return out


def main() -> None:
    models = {name: to_int8(build(name)) for name in REFERENCE}
    models.update(zoo_models())
    rows = []
    for name, data in models.items():
        m = parse_model(data, name=name)
        plan = plan_memory(m)                   # overlap plan (the default)
        plain = plan_memory(m, overlap=False)   # no tensor shares bytes with a live one
        tflm = tflm_arena(data)
        rows.append({"model": name, "macs": m.total_macs, "tflite_bytes": len(data),
                     "tinyflow_arena": plan.arena_size,
                     "tinyflow_arena_no_overlap": plain.arena_size,
                     "overlaps": len(plan.overlaps), "peak_live": plain.peak_live_bytes,
                     "tflm_total": tflm["total"], "tflm_head": tflm["head"],
                     "ratio_vs_tflm_total": round(plan.arena_size / tflm["total"], 3),
                     "ratio_no_overlap": round(plain.arena_size / tflm["total"], 3)})
        print(f"{name:28} tinyflow {plan.arena_size:>8,} B (no overlap {plain.arena_size:,})"
              f"   tflm {tflm['total']:>8,} B (head {tflm['head']:,})"
              f"   ratio {rows[-1]['ratio_vs_tflm_total']:.2f}")
    meta = {"date": datetime.date.today().isoformat(),
            "command": ".venv/bin/python benchmarks/arena.py",
            "host": f"{platform.machine()} {platform.python_version()}", "results": rows}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "arena.json").write_text(json.dumps(meta, indent=2) + "\n")
    lines = [f"# Planned arena vs tflite-micro ({meta['date']})", "",
             f"Command: `{meta['command']}`", "",
             "Overlap: an output may run over the input it consumes, as far as the kernel's "
             "write order allows (docs/memory-plan.md); without it, no two live tensors "
             "share bytes (TFLM's greedy plan, equal to its head).", "",
             "| model | MACs | .tflite B | arena B (overlap) | arena B (no overlap) | "
             "overlapping ops | peak live B | TFLM total B | TFLM head B | "
             "/ TFLM total (overlap) | / TFLM total (no overlap) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['macs']:,} | {r['tflite_bytes']:,} | "
                     f"{r['tinyflow_arena']:,} | {r['tinyflow_arena_no_overlap']:,} | "
                     f"{r['overlaps']} | {r['peak_live']:,} | {r['tflm_total']:,} | "
                     f"{r['tflm_head']:,} | {r['ratio_vs_tflm_total']:.2f} | "
                     f"{r['ratio_no_overlap']:.2f} |")
    (out / "arena.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
