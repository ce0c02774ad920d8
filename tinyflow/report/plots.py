"""Report figures as PNG bytes (matplotlib, Agg backend: no display needed).

Each function takes the summary and, where it needs per-sample values, the results, and
returns PNG bytes or None when there is nothing to draw.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from tinyflow.evaluate.store import Results
from tinyflow.evaluate.summary import decode


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def _si_tick(v: float, _pos: int) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return f"{v / div:.4g}{unit}"
    return f"{v:g}"


def subset_f1(summary: dict[str, Any]) -> bytes | None:
    """Horizontal F1 bars per Wake Vision subset, labelled with the subset size."""
    q = summary["quality"].get(summary["primary"]) or {}
    rows = q.get("subsets")
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2))
    labels = [f"{r['group']}: {r['subset']} (n={r['n']}, ref {r['n_reference']})" for r in rows]
    vals = [r["f1"] if r["f1"] is not None else 0.0 for r in rows]
    groups = sorted({r["group"] for r in rows}, key=[r["group"] for r in rows].index)
    colors = [f"C{groups.index(r['group'])}" for r in rows]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, vals, color=colors)
    for yi, r, v in zip(y, rows, vals):
        ax.text(v + 0.01, yi, "n/a" if r["f1"] is None else f"{v:.3f}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 1.1)
    overall = q.get("f1", 0.0)
    ax.axvline(overall, color="grey", ls="--", lw=1, label=f"overall F1 {overall:.3f}")
    ax.set_xlabel("F1 (Wake Vision definition, from rates)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Fine-grained subsets")
    return _png(fig)


def confusion(summary: dict[str, Any]) -> bytes | None:
    q = summary["quality"].get(summary["primary"]) or {}
    if "tp" not in q:
        return None
    plt = _plt()
    m = np.array([[q["tn"], q["fp"]], [q["fn"], q["tp"]]])
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(m, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xticks([0, 1], ["no person", "person"])
    ax.set_yticks([0, 1], ["no person", "person"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion (n={q['n']})")
    return _png(fig)


def ccc_scatter(summary: dict[str, Any], res: Results) -> bytes | None:
    """Predicted vs target per emotion dimension, with CCC and MAE in each title."""
    if summary["task"] != "speech_emotion":
        return None
    role = summary["primary"]
    rows = [r for r in res.samples if role in r["out"]]
    if not rows:
        return None
    quant = res.header["model"]["outputs"]
    y = np.array([r["y"] for r in rows], np.float64)
    p = np.stack([decode(r["out"][role], quant) for r in rows])[:, :y.shape[1]]
    q = summary["quality"][role]
    dims = res.header.get("dims") or [f"dim{i}" for i in range(y.shape[1])]
    plt = _plt()
    fig, axes = plt.subplots(1, len(dims), figsize=(3.8 * len(dims), 3.6), layout="constrained")
    for k, (ax, d) in enumerate(zip(np.atleast_1d(axes), dims)):
        ax.scatter(y[:, k], p[:, k], s=8, alpha=0.6)
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel(f"target {d}")
        ax.set_ylabel(f"predicted {d}")
        ax.set_title(f"{d}: CCC {q.get(f'ccc_{d}', 0):.3f}, MAE {q.get(f'mae_{d}', 0):.3f}",
                     fontsize=9)
    return _png(fig)


def latency_hist(summary: dict[str, Any], res: Results) -> bytes | None:
    dev = summary["latency"].get("device")
    if dev:
        vals = np.array([s["cycles"] for s in res.samples if s.get("cycles") is not None], float)
        label = dev["unit"]
    else:
        vals = np.array([s["us"] for s in res.samples if s.get("us") is not None], float)
        label = "host µs per sample (this machine)"
    if vals.size == 0:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(vals, bins=min(50, max(5, vals.size // 4)), color="C0")
    for name, v, c in (("mean", vals.mean(), "C1"), ("p50", np.percentile(vals, 50), "C2"),
                       ("p99", np.percentile(vals, 99), "C3")):
        ax.axvline(v, color=c, lw=1, label=f"{name} {v:,.0f}")
    ax.xaxis.set_major_formatter(_plt().FuncFormatter(_si_tick))
    ax.set_xlabel(label)
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    ax.set_title("Latency per inference")
    return _png(fig)


def fidelity_bars(summary: dict[str, Any]) -> bytes | None:
    pairs = summary["fidelity"]
    if not pairs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 0.5 * len(pairs) + 1))
    labels = [f"{p['a']} vs {p['b']}" for p in pairs]
    vals = [100 * (p["rate"] or 0) for p in pairs]
    y = np.arange(len(pairs))[::-1]
    ax.barh(y, vals, color=["C2" if v == 100 else "C3" for v in vals])
    for yi, p, v in zip(y, pairs, vals):
        label = f"{v:.2f}% of {p['n']}, max |diff| {p['max_abs_diff']}"
        inside = v > 60      # long bars carry their label inside, short ones beside
        ax.text(2 if inside else v + 1, yi, label, va="center", fontsize=8,
                color="white" if inside else "black")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("bit-exact outputs (%)")
    ax.set_title("Fidelity")
    return _png(fig)


def all_figures(summary: dict[str, Any], res: Results) -> list[tuple[str, bytes]]:
    figs = [("Per-subset F1", subset_f1(summary)), ("Confusion matrix", confusion(summary)),
            ("CCC per dimension", ccc_scatter(summary, res)),
            ("Latency histogram", latency_hist(summary, res)),
            ("Fidelity", fidelity_bars(summary))]
    return [(t, png) for t, png in figs if png is not None]
