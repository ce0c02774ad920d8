"""`tinyflow train`: train a zoo model on a dataset into a run directory.

    tinyflow train --model person_det --width 0.25 --resolution 96 --data data/wv
    tinyflow train --model ser --data data/ser/manifest.csv --epochs 20

The run directory (default `runs/<model>/<config>/`) receives model.keras, config.json
and metrics.json. Started again on an unfinished run directory, training resumes where
it stopped; --restart discards that state.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json, add_model, add_model_options


def configure(p: argparse.ArgumentParser) -> None:
    add_model(p)
    add_model_options(p)
    p.add_argument("-d", "--data", required=True, metavar="PATH",
                   help="dataset: Wake Vision folder (person_det) or SER manifest/folder (ser)")
    p.add_argument("--epochs", type=int, default=None, help="default: the model's (see models)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (cosine decay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", metavar="DIR", default=None,
                   help="default: runs/<model>/<config>/")
    p.add_argument("--restart", action="store_true",
                   help="discard an interrupted run's state instead of resuming it")
    p.add_argument("--limit", type=int, default=None, help="use at most N training examples")
    p.add_argument("--no-augment", action="store_true", help="person_det: no augmentation")
    p.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                   default="default", help="tf.distribute strategy")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    import sys

    from tinyflow import ui, zoo
    from tinyflow.commands._common import model_options
    from tinyflow.train import train

    spec = zoo.resolve(args.model, **model_options(args))
    ui.status(f"training {spec.name} ({getattr(spec, 'config_name', '')}) on {args.data}")
    res = train(spec, args.data, run_dir=args.run_dir, epochs=args.epochs,
                batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                resume=False if args.restart else None, strategy=args.strategy,
                augment=not args.no_augment, limit=args.limit,
                verbose=0 if args.json else 1 if sys.stdout.isatty() else 2)  # 2: a line per epoch
    if args.json:
        ui.emit_json(res.to_dict())
        return 0
    v = res.metrics["validation"]
    secs = res.seconds_per_epoch
    per_epoch = f"{sum(secs[1:]) / max(len(secs) - 1, 1):.1f} s/epoch after the first" \
        if len(secs) > 1 else f"{secs[0]:.1f} s/epoch" if secs else ""
    if spec.task == "person_detection":
        line = (f"validation accuracy {v['accuracy']:.3f}  F1 {v['f1']:.3f}  "
                f"precision {v['precision']:.3f}  recall {v['recall']:.3f}  (n={v['n']})")
    else:
        line = (f"validation CCC arousal {v['ccc_arousal']:.3f}  dominance "
                f"{v['ccc_dominance']:.3f}  valence {v['ccc_valence']:.3f}  "
                f"mean {v['ccc_mean']:.3f}  MAE {v['mae_mean']:.3f}  (n={v['n']})")
    print(line)
    print(f"{res.metrics['params']:,} params, {per_epoch}; run: {res.run_dir}")
    return 0
