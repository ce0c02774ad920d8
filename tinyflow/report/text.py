"""The terminal view of an evaluation summary: a few aligned tables, no colour."""

from __future__ import annotations

from typing import Any

from tinyflow.ui import table


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _si(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return f"{v / div:.2f}{unit}"
    return f"{v:.0f}"


def header_lines(s: dict[str, Any]) -> list[str]:
    m, d, b = s["model"], s["dataset"], s.get("board") or {}
    p = s["progress"]
    where = b.get("name") or s["primary"]
    done = f"{p['done']}/{p['selected']}" if p.get("selected") is not None else str(p["done"])
    lines = [f"{s['task']}: {m['name']} (sha256 {str(m['sha256'])[:12]}) on {where}, "
             f"{d['kind']} {d['split']} (fingerprint {d['fingerprint']})",
             f"samples: {done}" + (" complete" if p.get("complete") else "")
             + (f"; {p['duplicates_dropped']} duplicate ids dropped"
                if p.get("duplicates_dropped") else "")]
    for err in p.get("worker_errors") or []:
        lines.append(f"warning: a worker stopped: {err}")
    return lines


def quality_lines(s: dict[str, Any]) -> list[str]:
    out = []
    for role, q in s["quality"].items():
        if not q.get("n"):
            continue
        if s["task"] == "person_detection":
            out.append(f"quality ({role}): accuracy {_f(q['accuracy'])}  precision "
                       f"{_f(q['precision'])}  recall {_f(q['recall'])}  F1 {_f(q['f1'])}  "
                       f"(n={q['n']}; TP {q['tp']} FP {q['fp']} TN {q['tn']} FN {q['fn']})")
        else:
            dims = [k[4:] for k in q if k.startswith("ccc_") and k != "ccc_mean"]
            rows = [[d, _f(q[f"ccc_{d}"]), _f(q[f"mae_{d}"])] for d in dims]
            rows.append(["mean", _f(q["ccc_mean"]), _f(q["mae_mean"])])
            out.append(f"quality ({role}), n={q['n']}:")
            out.append(table(rows, ["dimension", "CCC", "MAE"], "lrr"))
    primary = s["quality"].get(s["primary"]) or {}
    if primary.get("subsets"):
        rows = [[f"{r['group']}/{r['subset']}", r["n"], r["n_reference"], _f(r["accuracy"]),
                 _f(r["reference_error"]), _f(r["f1"])] for r in primary["subsets"]]
        out.append(f"Wake Vision fine-grained subsets ({s['primary']}):")
        out.append(table(rows, ["subset", "n", "ref n", "accuracy", "ref error", "F1"],
                         "lrrrrr"))
    return out


def fidelity_lines(s: dict[str, Any]) -> list[str]:
    if not s["fidelity"]:
        return []
    rows = [[f"{r['a']} vs {r['b']}", r["n"], r["bit_exact"], _pct(r["rate"]),
             r["max_abs_diff"], _pct(r.get("decision_agreement"))] for r in s["fidelity"]]
    out = ["fidelity (raw int8 outputs):",
           table(rows, ["pair", "n", "bit-exact", "rate", "max |diff|", "same decision"],
                 "lrrrrr")]
    for r in s["fidelity"]:
        if r["disagreements"]:
            more = r["disagreements"] - len(r["disagree_ids"])
            out.append(f"  {r['a']} vs {r['b']} differ on: {', '.join(r['disagree_ids'])}"
                       + (f" (+{more} more)" if more > 0 else ""))
    return out


def latency_lines(s: dict[str, Any]) -> list[str]:
    lat = s["latency"]
    out = []
    dev = lat.get("device")
    if dev:
        rows = [[dev["unit"], _si(dev["mean"]), _si(dev["p50"]), _si(dev["p99"])]]
        if dev.get("ms"):
            rows.append([f"ms at {dev['clock_hz'] / 1e6:g} MHz", _f(dev["ms"]["mean"]),
                         _f(dev["ms"]["p50"]), _f(dev["ms"]["p99"])])
        out.append(f"latency (device timer, n={dev['n']}):")
        out.append(table(rows, ["", "mean", "p50", "p99"], "lrrr"))
    if lat.get("stack_bytes_max") is not None:
        size = lat.get("stack_bytes_size")
        out.append(f"stack high-water mark: {lat['stack_bytes_max']} bytes"
                   + (f" of {size} ({100 * lat['stack_bytes_max'] / size:.1f}%)" if size else ""))
    if lat.get("host_us") and not dev:
        h = lat["host_us"]
        out.append(f"host time per sample: mean {h['mean']:.0f} us, p50 {h['p50']:.0f} us, "
                   f"p99 {h['p99']:.0f} us (this machine, not the board)")
    return out


def throughput_lines(s: dict[str, Any]) -> list[str]:
    rows = []
    for r in s["throughput"]:
        rows.append([r["session"], r["workers"], r["samples"], _f(r["elapsed_s"], 1),
                     _f(r["samples_per_s"], 2), _si(r.get("raw_up_Bps")),
                     _si(r.get("raw_down_Bps")), _f(r.get("link_bound_samples_per_s"), 2),
                     _pct(r.get("link_efficiency")), r.get("input_path", "-"), r["status"]])
    if not rows:
        return []
    out = ["throughput (per session):",
           table(rows, ["session", "workers", "samples", "s", "samples/s", "raw up B/s",
                        "raw down B/s", "link-bound/s", "of link", "inputs", "status"],
                 "rrrrrrrrrll")]
    if any(r.get("input_path") == "semihosting" for r in s["throughput"]):
        out.append("inputs via semihosting (virtual board): they skip the UART, so the "
                   "UART's link-bound rate does not apply (--uart for the serial path)")
    return out


def render_text(summary: dict[str, Any]) -> str:
    blocks = [header_lines(summary), quality_lines(summary), fidelity_lines(summary),
              latency_lines(summary), throughput_lines(summary)]
    return "\n\n".join("\n".join(b) for b in blocks if b)
