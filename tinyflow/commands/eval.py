"""`tinyflow eval --model M --dataset D [--board B]`: evaluate on a board (or the host),
append every result to RUN_DIR/results.jsonl, then print the report."""

from __future__ import annotations

import argparse
import sys

from tinyflow.commands._common import add_board, add_json, add_model


def configure(p: argparse.ArgumentParser) -> None:
    add_model(p)
    p.add_argument("-d", "--dataset", required=True, metavar="DIR",
                   help="Wake Vision folder (CSV + images) or SER manifest folder")
    p.add_argument("--split", default="test", help="dataset split (default: test)")
    add_board(p, required=False)
    p.add_argument("--port", action="append", metavar="PORT",
                   help="serial port of a real board; repeat for a board farm")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="virtual boards: start N QEMU instances in parallel (default 1)")
    p.add_argument("--target", choices=("device", "host", "tflm"), default=None,
                   help="what to evaluate: the board (default with --board), our engine "
                        "compiled for this machine (default without), or tflite-micro")
    p.add_argument("--reference", default="host,tflm", metavar="ROLES",
                   help="also run these on every sample for the fidelity check "
                        "(comma list of host, tflm; 'none' to skip; default host,tflm)")
    p.add_argument("-o", "--out", metavar="RUN_DIR",
                   help="run folder (default runs/eval/<model>-<target>-<dataset>-<split>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in RUN_DIR: skip the samples already done")
    p.add_argument("--fresh", action="store_true",
                   help="start over (keeps the old results as results.jsonl.old)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N samples (of the shard)")
    p.add_argument("--shard", metavar="I/N", help="only every N-th sample starting at I (1-based)")
    p.add_argument("--batch", type=int, default=8, metavar="K",
                   help="samples per batch sent to a target (pipelined on a board)")
    p.add_argument("--features", metavar="CONFIG_JSON",
                   help="SER: log-mel parameters (a training run's config.json)")
    p.add_argument("--features-upload", action="store_true",
                   help="SER on a board: send the host's int8 features (the network "
                        "firmware) instead of 16 kHz audio to the raw-audio firmware")
    p.add_argument("--max-clip-seconds", type=float, default=None, metavar="S",
                   help="SER raw audio: refuse clips longer than this (default 10 s; the "
                        "device crops every clip to the model's window anyway)")
    p.add_argument("--uart", action="store_true",
                   help="virtual boards: inputs over the emulated UART, as on a real board "
                        "(default: a host file through semihosting, several times faster)")
    p.add_argument("--no-html", action="store_true", help="do not write RUN_DIR/report.html")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from tinyflow.errors import TinyflowError
    from tinyflow.evaluate import evaluate, summarize
    from tinyflow.models import tflite_path
    from tinyflow.report import print_summary, write_report
    from tinyflow.ui import emit_json, status

    model_path = tflite_path(args.model)
    target = args.target or ("device" if args.board or args.port else "host")
    refs = [] if args.reference.strip() == "none" else \
        [r.strip() for r in args.reference.split(",") if r.strip()]
    bad = [r for r in refs if r not in ("host", "tflm")]
    if bad:
        raise TinyflowError(f"--reference {args.reference}: unknown role(s) {', '.join(bad)}",
                            hint="use host, tflm, both (host,tflm) or none")
    features = None
    if args.features:
        features = json.loads(Path(args.features).read_text()).get("features")
    board_info, workers, unit = None, None, "cycles"
    from tinyflow.evaluate.data import detect_kind
    from tinyflow.ir import load_model

    model = load_model(model_path)
    ser = detect_kind(Path(args.dataset)) == "ser" if Path(args.dataset).exists() else False
    raw_audio = target == "device" and ser and not args.features_upload
    if target == "device":
        if not args.board:
            raise TinyflowError("evaluating on a device needs --board",
                                hint="e.g. --board qemu-m7, or --target host for this machine")
        from tinyflow.evaluate.board import board_workers

        board_info, workers, unit = board_workers(args.board, model_path, ports=args.port,
                                                  jobs=args.jobs, boards_dir=args.boards_dir,
                                                  uart=args.uart, raw_audio=raw_audio,
                                                  features=features,
                                                  max_clip_seconds=args.max_clip_seconds)
    elif args.board:
        status(f"note: --target {target} runs on this machine; --board {args.board} is ignored")
    # The model's own name (a run's config.json) and its hash: a retrained model gets a
    # new folder instead of colliding with the old run.
    out = Path(args.out) if args.out else Path("runs") / "eval" / "-".join(
        [model.name, model.sha256[:8], args.board if target == "device" else target]
        + (["audio"] if raw_audio else [])
        + [Path(args.dataset).resolve().name, args.split]
        + ([args.shard.replace("/", "of")] if args.shard else []))
    res = evaluate(model_path, args.dataset, out, split=args.split, target=target,
                   references=refs, workers=workers, board=board_info, cycle_unit=unit,
                   limit=args.limit, shard=args.shard, batch=args.batch, resume=args.resume,
                   fresh=args.fresh, features=features, argv=sys.argv[1:],
                   max_clip_seconds=args.max_clip_seconds)
    summary = summarize(res)
    write_report(out, res, summary, html=not args.no_html)
    if args.json:
        emit_json(summary)
    else:
        print_summary(summary)
        status(f"results: {out / 'results.jsonl'}"
               + ("" if args.no_html else f"; report: {out / 'report.html'}"))
    return 0
