"""Train and quantize both zoo models at their default sizes on synthetic data; record
seconds per epoch, quantization time, float vs int8 quality and int8 size.

    .venv/bin/python benchmarks/train_zoo.py [--n-wv N] [--n-ser N] [--out FILE.json]

Uses the library API exactly as `tinyflow train` / `tinyflow quantize` do, with each
model's default options and training settings and the generators' default sizes
(datasets/*.toml). Data and runs go under build/bench_train/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    from tinyflow.datasets import describe

    ap.add_argument("--n-wv", type=int, default=describe("wake_vision")["synth"]["n"])
    ap.add_argument("--n-ser", type=int, default=describe("ser")["synth"]["n"])
    ap.add_argument("--epochs-wv", type=int, default=None)
    ap.add_argument("--epochs-ser", type=int, default=None)
    ap.add_argument("--out", default="benchmarks/train_zoo.json")
    ap.add_argument("--work", default="build/bench_train")
    ap.add_argument("--only", choices=("person_det", "ser"), default=None)
    args = ap.parse_args()

    from tinyflow import zoo
    from tinyflow.datasets.synth_ser import generate as gen_ser
    from tinyflow.datasets.synth_wake_vision import generate as gen_wv
    from tinyflow.quantize import quantize_run
    from tinyflow.train import train

    work = Path(args.work)
    results = []
    jobs = [("person_det", args.n_wv, args.epochs_wv), ("ser", args.n_ser, args.epochs_ser)]
    for name, n, epochs in jobs:
        if args.only and name != args.only:
            continue
        spec = zoo.resolve(name)
        data = work / f"data-{name}-{n}"
        t0 = time.monotonic()
        if name == "person_det":
            gen_wv(data, n=n, seed=0)
        else:
            gen_ser(data, n=n, seed=0)
        t_data = time.monotonic() - t0
        run = work / f"run-{name}-{n}"
        res = train(spec, data, run, epochs=epochs, seed=0, resume=False, verbose=2)
        t0 = time.monotonic()
        q = quantize_run(run)
        t_quant = time.monotonic() - t0
        secs = res.seconds_per_epoch
        results.append({
            "model": spec.to_dict(), "config": spec.config_name,
            "params": res.metrics["params"], "dataset_n": n,
            "n_train": res.config["dataset"]["n_train"], "training": res.config["training"],
            "synth_seconds": round(t_data, 1),
            "seconds_per_epoch": secs,
            "first_epoch_s": secs[0],
            "steady_epoch_s": round(sum(secs[1:]) / max(len(secs) - 1, 1), 2),
            "quantize_total_s": round(t_quant, 1), "convert_s": q.convert_seconds,
            "int8_bytes": q.size_bytes, "tflm_arena_bytes_host": q.arena_bytes, "ops": q.ops,
            "eval_split": q.extra.get("eval_split"), "n_eval": q.n_eval,
            "float": q.float_metrics, "int8": q.int8_metrics,
        })
    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
           "command": "python " + " ".join(sys.argv),
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "loadavg_at_end": os.getloadavg()},
           "results": results}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    for r in results:
        f, i = r["float"], r["int8"]
        key = ["accuracy", "f1"] if "accuracy" in f else ["ccc_arousal", "ccc_dominance",
                                                           "ccc_valence", "ccc_mean"]
        print(r["model"]["name"], r["config"], f"steady {r['steady_epoch_s']} s/epoch,",
              f"quantize {r['quantize_total_s']} s,", f"{r['int8_bytes']} B int8;",
              " ".join(f"{k} {f[k]:.3f}->{i[k]:.3f}" for k in key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
