"""`tinyflow data`: synthesise datasets in the real on-disk formats, or check one.

    tinyflow data synth wake-vision --out data/wv --n 600 --seed 0
    tinyflow data synth ser --out data/ser --n 600 --seed 0
    tinyflow data check wake-vision data/wv      # every CSV row, every image decodes
    tinyflow data check ser data/ser             # manifest values, every WAV reads
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json

KINDS = ("wake-vision", "ser")


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser("synth", help="write a small synthetic dataset (deterministic from --seed)")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("--n", type=int, default=None, help="number of images or clips (default 600)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=None,
                   help="wake-vision: image side in pixels (default 128)")
    s.add_argument("--seconds", type=float, default=None,
                   help="ser: mean clip length in seconds (default 1.0)")
    add_json(s)
    c = sub.add_parser("check", help="validate a dataset: columns, values, every file decodes")
    c.add_argument("kind", choices=KINDS)
    c.add_argument("path", help="Wake Vision folder, or SER manifest (or its folder)")
    add_json(c)


def run(args: argparse.Namespace) -> int:
    from tinyflow import ui

    if args.action == "synth":
        result = _synth(args)
    else:
        result = _check(args)
    if args.json:
        ui.emit_json(result)
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0


def _synth(args: argparse.Namespace) -> dict:
    from tinyflow import ui
    from tinyflow.datasets import describe

    if args.kind == "wake-vision":
        from tinyflow.datasets.synth_wake_vision import generate

        d = describe("wake_vision")["synth"]
        ui.status(f"writing a synthetic Wake Vision set to {args.out}")
        return generate(args.out, n=args.n or d["n"], seed=args.seed, size=args.size or d["size"])
    from tinyflow.datasets.synth_ser import generate

    d = describe("ser")["synth"]
    ui.status(f"writing a synthetic speech-emotion set to {args.out}")
    return generate(args.out, n=args.n or d["n"], seed=args.seed,
                    seconds=args.seconds or d["seconds"])


def _check(args: argparse.Namespace) -> dict:
    from tinyflow import ui

    out: dict = {"path": args.path}
    if args.kind == "wake-vision":
        from tinyflow.datasets.wake_vision import WakeVision, load_image

        wv = WakeVision(args.path)
        splits = wv.available_splits()
        if not splits:
            wv.csv_path("train")  # raises with the list of CSVs found
        for name in splits:
            s = wv.split(name)
            for p in ui.iter_progress(s.paths, len(s), f"decoding {name}", "img"):
                load_image(p, 32, 1)
            out[name] = {"images": len(s), "person": int(s.labels.sum()),
                         **{c: int((v == 1).sum()) for c, v in s.attributes.items()}}
        return out
    from tinyflow.datasets.ser_manifest import SerManifest, load_wav

    m = SerManifest(args.path)
    for name in m.splits():
        s = m.split(name)
        secs = [len(load_wav(p)) / 16000 for p in ui.iter_progress(s.paths, len(s),
                                                                    f"reading {name}", "clip")]
        out[name] = {"clips": len(s), "seconds": round(sum(secs), 1),
                     "mean_targets": [round(float(v), 3) for v in s.targets.mean(axis=0)]}
    return out
