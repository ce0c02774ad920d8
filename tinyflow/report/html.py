"""A self-contained HTML report: inline CSS, tables, PNG figures embedded as base64."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from tinyflow.evaluate.store import Results
from tinyflow.report import plots
from tinyflow.report.text import fidelity_lines, header_lines, latency_lines, quality_lines, \
    throughput_lines

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 12.5px; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; }
img { max-width: 100%; } .meta { color: #555; } details { margin-top: 1em; }
"""


def _pre(lines: list[str]) -> str:
    return f"<pre>{html.escape(chr(10).join(lines))}</pre>" if lines else ""


def render_html(summary: dict[str, Any], res: Results) -> str:
    title = f"tinyflow eval: {summary['model']['name']} on " \
            f"{(summary.get('board') or {}).get('name') or summary['primary']}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>{'<br>'.join(html.escape(x) for x in header_lines(summary))}</p>"]
    sections = [("Quality", quality_lines(summary)), ("Fidelity", fidelity_lines(summary)),
                ("Latency", latency_lines(summary)), ("Throughput", throughput_lines(summary))]
    for name, lines in sections:
        if lines:
            parts.append(f"<h2>{name}</h2>{_pre(lines)}")
    figs = plots.all_figures(summary, res)
    if figs:
        parts.append("<h2>Figures</h2>")
    for caption, png in figs:
        b64 = base64.b64encode(png).decode()
        parts.append(f"<figure><img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}"
                     "</figcaption></figure>")
    parts.append("<details><summary>Summary as JSON</summary>"
                 f"<pre>{html.escape(json.dumps(summary, indent=2, default=str))}</pre>"
                 "</details></body></html>")
    return "\n".join(parts)
