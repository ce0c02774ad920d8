"""`tinyflow report RUN_DIR [RUN_DIR ...]`: re-render a report from saved results
(several folders, e.g. the shards of one evaluation, are merged)."""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="run folder(s) holding results.jsonl; shards are merged")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="where to write summary.json and report.html (default: the first RUN_DIR)")
    p.add_argument("--no-html", action="store_true", help="skip report.html")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tinyflow.report import load_runs, print_summary, summarize, write_report
    from tinyflow.ui import emit_json, status

    res = load_runs(args.runs)
    summary = summarize(res)
    out = Path(args.out) if args.out else Path(args.runs[0])
    if out.is_file():
        out = out.parent
    written = write_report(out, res, summary, html=not args.no_html)
    if args.json:
        emit_json(summary)
    else:
        print_summary(summary)
        status("wrote " + ", ".join(str(p) for p in written.values()))
    return 0
