"""How close is `tinyflow check`'s prediction to the linked ELF? Every board, three models.

    .venv/bin/python benchmarks/firmware_budget.py
        # writes benchmarks/results/firmware_budget.{json,md}

For each (board, model): the budget's per-region prediction (tinyflow.budget.check_budget,
code sizes estimated) against the memory actually used in the linked firmware
(tinyflow.memreport), and the same prediction with the measured firmware runtime
(tinyflow.memreport.runtime_sizes) in place of the application code estimate.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))


def main() -> int:
    from firmware_bench import MODELS

    from tinyflow import codegen
    from tinyflow.boards import list_boards
    from tinyflow.budget import check_budget, measured_kernels
    from tinyflow.build import build_firmware
    from tinyflow.ir import parse_model
    from tinyflow.memreport import runtime_sizes
    from tinyflow.plan import plan_memory

    tmp = Path(tempfile.mkdtemp(prefix="tf-budget-"))
    rows = []
    for name, get in MODELS.items():
        model = parse_model(get(), name=name)
        plan = plan_memory(model)
        gen = codegen.generate(model, tmp / "gen" / name, name=name, plan=plan)
        for b in list_boards():
            res = build_firmware(b, [gen.c_file], tmp / b.name / name, model_name=name)
            elf = {r["region"]: r["used"] for r in res.sizes["regions"]}
            est = check_budget(model, b, plan)
            rt = runtime_sizes(b, tmp / "rt")
            meas = check_budget(model, b, plan, runtime=rt,
                                kernels=measured_kernels(model, b))
            for r in est.regions:
                m = next(x for x in meas.regions if x.name == r.name)
                rows.append({"model": name, "board": b.name, "region": r.name,
                             "elf": elf.get(r.name, 0), "predicted": r.used,
                             "predicted_with_runtime": m.used})
                e, p, q = rows[-1]["elf"], r.used, m.used
                print(f"{name:18} {b.name:20} {r.name:8} elf {e:>9,} predicted {p:>9,} "
                      f"({e - p:+,}) with runtime {q:>9,} ({e - q:+,})", flush=True)
    worst = max(abs(r["elf"] - r["predicted"]) / r["elf"] for r in rows if r["elf"])
    worst_abs = max(abs(r["elf"] - r["predicted_with_runtime"]) for r in rows)
    worst_rt = max(abs(r["elf"] - r["predicted_with_runtime"]) / r["elf"] for r in rows if r["elf"])
    from firmware_bench import versions

    res = {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "command": "python benchmarks/firmware_budget.py", "rows": rows,
           "git": versions()["git"],
           "worst_relative_error": round(worst, 4),
           "worst_relative_error_with_runtime": round(worst_rt, 4),
           "worst_absolute_difference_with_runtime": worst_abs}
    out = HERE / "results" / "firmware_budget"
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    md = ["# `tinyflow check` prediction vs the linked ELF", "",
          f"Measured {res['date']} with `{res['command']}` (-O2, no LTO) at commit "
          f"{res['git']}.", "",
          f"Worst relative error over all regions: {worst:.1%} with the code-size estimates, "
          f"{worst_rt:.1%} with the measured firmware runtime and kernels "
          f"(memreport.runtime_sizes, memreport.kernel_sizes: what `tinyflow check` uses); "
          f"largest absolute difference {worst_abs:,} B.", "",
          "| model | board | region | ELF B | predicted B | diff "
          "| predicted (runtime measured) | diff |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e, p, q = r["elf"], r["predicted"], r["predicted_with_runtime"]
        md.append(f"| {r['model']} | {r['board']} | {r['region']} | {e:,} | {p:,} | "
                  f"{e - p:+,} | {q:,} | {e - q:+,} |")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print(f"worst {worst:.1%}, with runtime {worst_rt:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
