"""Views of an evaluation's results file: terminal tables, JSON, a self-contained HTML page.

    res = load_runs(["runs/eval/a", "runs/eval/b"])   # one run, or shards to merge
    summary = summarize(res)
    print(render_text(summary)); write_report(run_dir, res, summary)

Nothing here measures anything: every number comes from `results.jsonl` through
`tinyflow.evaluate.summary`, so `tinyflow report RUN_DIR` re-renders a report at any time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyflow.evaluate.store import Results, merge, read_results
from tinyflow.evaluate.summary import summarize
from tinyflow.report.text import render_text

__all__ = ["load_runs", "print_summary", "render_html", "render_text", "summarize",
           "write_report"]


def load_runs(paths: Sequence[str | Path]) -> Results:
    """One run folder (or results file), or several shards of one experiment merged."""
    parts = [read_results(p) for p in paths]
    return parts[0] if len(parts) == 1 else merge(parts)


def render_html(summary: dict[str, Any], res: Results) -> str:
    from tinyflow.report.html import render_html as _render

    return _render(summary, res)


def print_summary(summary: dict[str, Any]) -> None:
    print(render_text(summary))


def write_report(run_dir: str | Path, res: Results, summary: dict[str, Any] | None = None,
                 html: bool = True) -> dict[str, Path]:
    """Write summary.json (and report.html) into `run_dir`; returns the paths written."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = summary if summary is not None else summarize(res)
    out = {"summary": run_dir / "summary.json"}
    out["summary"].write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if html:
        out["html"] = run_dir / "report.html"
        out["html"].write_text(render_html(summary, res), encoding="utf-8")
    return out
