"""`tinyflow quantize`: full-int8 PTQ of a trained run, checked in tflite-micro.

    tinyflow quantize --run runs/person_det/w0.25-r96-c1
    tinyflow quantize --model person_det --width 0.25      # its default run directory
    tinyflow quantize --model ser --untrained --out ser.tflite   # engine tests: no training
    tinyflow quantize --run runs/ser/s1-f13-l7 --qat --qat-epochs 2  # optional QAT path

Writes model_int8.tflite and quant.json into the run directory and prints float vs
int8 quality on the held-out split, the int8 size and the tflite-micro arena.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json, add_model, add_model_options


def configure(p: argparse.ArgumentParser) -> None:
    add_model(p, required=False)
    add_model_options(p)
    p.add_argument("--run", metavar="DIR", help="a `tinyflow train` run directory")
    p.add_argument("-d", "--data", metavar="PATH",
                   help="dataset for a .keras outside a run directory (calibration + eval)")
    p.add_argument("--out", metavar="PATH", help="default: <run>/model_int8.tflite")
    p.add_argument("--untrained", action="store_true",
                   help="quantize an untrained zoo model (for engine tests; no data needed)")
    p.add_argument("--n-rep", type=int, default=100,
                   help="representative samples from the training split (default 100)")
    p.add_argument("--split", default="test", help="held-out split to compare on (default test)")
    p.add_argument("--max-eval", type=int, default=None, help="compare on at most N examples")
    p.add_argument("--seed", type=int, default=0, help="--untrained: weight seed")
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware fine-tuning first (needs the qat extra: "
                        "tf_keras + tensorflow-model-optimization, or $TINYFLOW_QAT_PATH)")
    p.add_argument("--qat-epochs", type=int, default=2)
    p.add_argument("--qat-lr", type=float, default=1e-4)
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tinyflow import ui, zoo
    from tinyflow.commands._common import model_options
    from tinyflow.errors import TinyflowError
    from tinyflow.quantize import quantize_keras_file, quantize_run, quantize_untrained
    from tinyflow.train import default_run_dir

    if bool(args.run) == bool(args.model):
        raise TinyflowError("give either --run DIR or --model NAME")
    if args.untrained:
        spec = zoo.resolve(args.model or "", **model_options(args))
        if not isinstance(spec, zoo.ModelSpec):
            raise TinyflowError("--untrained needs a zoo model name")
        out = Path(args.out or f"build/zoo/{spec.name}-{spec.config_name}.tflite")
        res = quantize_untrained(spec, out, seed=args.seed)
    else:
        if args.run:
            run_dir = Path(args.run)
        else:
            spec = zoo.resolve(args.model, **model_options(args))
            if isinstance(spec, zoo.ModelFile):
                if spec.kind == "tflite":
                    raise TinyflowError(f"{spec.path} is already a .tflite model")
                run_dir = spec.path.parent
                if args.data:
                    ui.status(f"quantizing {spec.path} on {args.data}")
                    res = quantize_keras_file(spec.path, args.data, args.out, n_rep=args.n_rep,
                                              eval_split=args.split, max_eval=args.max_eval)
                    return _report(res, args)
                if not (run_dir / "config.json").is_file():
                    raise TinyflowError(
                        f"{spec.path} is not in a tinyflow run directory (no config.json "
                        "beside it), so there is no training data to calibrate on",
                        hint=f"give a dataset: tinyflow quantize --model {spec.path} --data DIR")
            else:
                run_dir = default_run_dir(spec)
                if not (run_dir / "model.keras").is_file():
                    raise TinyflowError(f"no trained {spec.name} in {run_dir}",
                                        hint=f"train it: tinyflow train --model {spec.name} "
                                             "--data DIR (or use --untrained)")
        if args.qat:
            from tinyflow.qat import qat_run

            ui.status(f"quantization-aware training of {run_dir} ({args.qat_epochs} epochs, "
                      "in a tf_keras process)")
            res = qat_run(run_dir, epochs=args.qat_epochs, learning_rate=args.qat_lr,
                          out_path=args.out, n_rep=args.n_rep, eval_split=args.split,
                          max_eval=args.max_eval, seed=args.seed)
            return _report(res, args)
        ui.status(f"quantizing {run_dir}")
        res = quantize_run(run_dir, args.out, n_rep=args.n_rep, eval_split=args.split,
                           max_eval=args.max_eval)
    return _report(res, args)


def _report(res, args: argparse.Namespace) -> int:
    from tinyflow import ui

    if args.json:
        ui.emit_json(res.to_dict())
        return 0
    print(f"{res.path}: {res.size_bytes:,} bytes int8, TFLM arena {res.arena_bytes:,} bytes "
          f"(host), converted in {res.convert_seconds:.1f} s, invoked once in tflite-micro: ok")
    print("ops: " + ", ".join(f"{k} x{v}" for k, v in res.ops.items()))
    if res.float_metrics and res.int8_metrics:
        keys = [k for k, v in res.float_metrics.items()
                if isinstance(v, float) and k not in ("tp", "fp", "tn", "fn")]
        print(ui.table([[k, f"{res.float_metrics[k]:.4f}", f"{res.int8_metrics[k]:.4f}",
                         f"{res.int8_metrics[k] - res.float_metrics[k]:+.4f}"] for k in keys],
                       ["metric", "float", "int8", "delta"], align="lrrr"))
        print(f"(held-out {res.extra.get('eval_split')}, n={res.n_eval})")
    subsets = [r for r in res.extra.get("subsets", []) if r["f1_float"] is not None]
    if subsets:
        print("\nWake Vision fine-grained F1")
        print(ui.table([[r["group"], r["subset"], r["n"], f"{r['f1_float']:.3f}",
                         f"{r['f1_int8']:.3f}"] for r in subsets],
                       ["group", "subset", "n", "float", "int8"], align="llrrr"))
    return 0
