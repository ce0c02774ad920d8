"""Every number a report shows, computed from the results records alone.

Quality metrics use `tinyflow.metrics` (accuracy, precision, recall, F1, CCC, MAE). The
Wake Vision fine-grained subsets follow the benchmark's own definitions (harvard-edge
Wake_Vision `benchmark_suite.py`, summarised in docs/evaluation.md):

    F1 = 2·TPR / (2·TPR + FPR + FNR), from rates, not counts.

- Person subsets (lighting, distance, perceived gender and age): TPR is the recall on
  the persons of that subset and FNR = 1 − TPR. FPR is the error rate on a matching
  no-person set: the no-person images with the same lighting for the lighting subsets,
  all no-person images otherwise.
- Depiction subsets (person depictions, non-person depictions, non-person
  non-depictions; all labelled "no person"): TPR is the subset's accuracy (correctly
  rejected), FNR = 1 − TPR, FPR is the error rate on the person images.

Rates weigh a subset and its reference set equally whatever their sizes, so the sizes
are reported beside every F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinyflow.evaluate.store import Results

# (group, column, reference set): "same" = no-person images with the same tag,
# "negatives" = all no-person images, "positives" = all person images.
WAKE_VISION_SUBSETS: tuple[tuple[str, str, str], ...] = (
    ("lighting", "dark", "same"),
    ("lighting", "normal_lighting", "same"),
    ("lighting", "bright", "same"),
    ("distance", "near", "negatives"),
    ("distance", "medium_distance", "negatives"),
    ("distance", "far", "negatives"),
    ("gender", "predominantly_female", "negatives"),
    ("gender", "predominantly_male", "negatives"),
    ("gender", "gender_unknown", "negatives"),
    ("age", "young", "negatives"),
    ("age", "middle_age", "negatives"),
    ("age", "older", "negatives"),
    ("age", "age_unknown", "negatives"),
    ("depiction", "person_depiction", "positives"),
    ("depiction", "non-person_depiction", "positives"),
    ("depiction", "non-person_non-depiction", "positives"),
)


def _rate(mask: np.ndarray, correct: np.ndarray) -> float | None:
    n = int(mask.sum())
    return float(correct[mask].mean()) if n else None


def f1_from_rates(tpr: float | None, fpr: float | None) -> float | None:
    if tpr is None or fpr is None:
        return None
    fnr = 1.0 - tpr
    den = 2 * tpr + fpr + fnr
    return float(2 * tpr / den) if den else 0.0


def wake_vision_subsets(y: np.ndarray, pred: np.ndarray,
                        tags: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """One row per fine-grained subset: sizes, rates and F1 (None where a set is empty)."""
    y, pred = np.asarray(y).astype(bool), np.asarray(pred).astype(bool)
    correct = y == pred
    tagsets = [set(t) for t in tags]
    rows = []
    for group, col, ref in WAKE_VISION_SUBSETS:
        has = np.array([col in t for t in tagsets], bool)
        if group == "depiction":
            subset, reference = has & ~y, y
        else:
            subset = has & y
            reference = (has & ~y) if ref == "same" else ~y
        tpr = _rate(subset, correct)
        err = _rate(reference, correct)
        fpr = None if err is None else 1.0 - err
        rows.append({"group": group, "subset": col, "n": int(subset.sum()),
                     "n_reference": int(reference.sum()), "accuracy": tpr,
                     "reference_error": fpr, "f1": f1_from_rates(tpr, fpr)})
    return rows


def decode(outputs: Sequence[Sequence[int]], quant: Sequence[dict[str, Any]]) -> np.ndarray:
    """Raw int8 outputs → float values of the first output, dequantized."""
    q = quant[0]
    return (np.asarray(outputs[0], np.float64) - q["zero_point"]) * q["scale"]


def person_decision(values: np.ndarray) -> int:
    """Two scores [no_person, person]: argmax; one score: a probability ≥ 0.5."""
    if values.size == 1:
        return int(values[0] >= 0.5)
    return int(np.argmax(values[:2]) == 1)


def quality(res: Results, role: str) -> dict[str, Any]:
    """Task metrics of one target's outputs."""
    from tinyflow import metrics

    h = res.header
    rows = [r for r in res.samples if role in r["out"]]
    if not rows:
        return {"n": 0}
    quant = h["model"]["outputs"]
    values = np.stack([decode(r["out"][role], quant) for r in rows])
    if h["task"] == "person_detection":
        y = np.array([r["y"] for r in rows], np.int64)
        pred = np.array([person_decision(v) for v in values], np.int64)
        out: dict[str, Any] = metrics.classification_report(y, pred)
        out["subsets"] = wake_vision_subsets(y, pred, [r.get("tags", ()) for r in rows])
        return out
    y = np.array([r["y"] for r in rows], np.float64)
    dims = tuple(h.get("dims") or ("arousal", "dominance", "valence"))
    return metrics.regression_report(y, values[:, :y.shape[1]], names=dims)


def fidelity(res: Results, max_ids: int = 50) -> list[dict[str, Any]]:
    """Pairwise agreement of the raw outputs of every two targets on the same samples."""
    roles = [r for r in ("device", "host", "tflm") if any(r in s["out"] for s in res.samples)]
    person = res.header["task"] == "person_detection"
    quant = res.header["model"]["outputs"]
    pairs = []
    for i, a in enumerate(roles):
        for b in roles[i + 1:]:
            both = [s for s in res.samples if a in s["out"] and b in s["out"]]
            exact, maxdiff, bad, decisions = 0, 0, [], 0
            for s in both:
                xa = np.concatenate([np.asarray(o, np.int64).ravel() for o in s["out"][a]])
                xb = np.concatenate([np.asarray(o, np.int64).ravel() for o in s["out"][b]])
                d = int(np.abs(xa - xb).max()) if xa.shape == xb.shape else 256
                maxdiff = max(maxdiff, d)
                if d == 0:
                    exact += 1
                else:
                    bad.append(s["id"])
                if person:
                    decisions += person_decision(decode(s["out"][a], quant)) == \
                        person_decision(decode(s["out"][b], quant))
            n = len(both)
            row = {"a": a, "b": b, "n": n, "bit_exact": exact,
                   "rate": exact / n if n else None, "max_abs_diff": maxdiff,
                   "disagreements": len(bad), "disagree_ids": bad[:max_ids]}
            if person:
                row["decision_agreement"] = decisions / n if n else None
            pairs.append(row)
    return pairs


def _stats(v: np.ndarray) -> dict[str, float]:
    return {"mean": float(v.mean()), "p50": float(np.percentile(v, 50)),
            "p99": float(np.percentile(v, 99)), "min": float(v.min()), "max": float(v.max())}


def latency(res: Results) -> dict[str, Any]:
    """Device timer statistics (cycles, or instructions on a virtual board) and host time."""
    out: dict[str, Any] = {}
    board = res.header.get("board") or {}
    cyc = np.array([s["cycles"] for s in res.samples if s.get("cycles") is not None], np.float64)
    if cyc.size:
        clock = board.get("clock_hz") or 0
        unit = res.header.get("cycle_unit", "cycles")
        d: dict[str, Any] = {"unit": unit, "n": int(cyc.size), **_stats(cyc),
                             "clock_hz": clock or None}
        if clock:
            # On a virtual board one instruction is counted as one cycle: an estimate at
            # IPC 1 on the board's clock, not a measurement of real silicon.
            d["ms"] = {k: v * 1e3 / clock for k, v in _stats(cyc).items()}
        out["device"] = d
    stack = [s["stack"] for s in res.samples if s.get("stack") is not None]
    if stack:
        out["stack_bytes_max"] = int(max(stack))
        sizes = [x["target"]["stack_bytes"] for x in res.links
                 if isinstance(x.get("target"), dict) and x["target"].get("stack_bytes")]
        if sizes:
            out["stack_bytes_size"] = int(min(sizes))
    us = np.array([s["us"] for s in res.samples if s.get("us") is not None], np.float64)
    if us.size:
        out["host_us"] = {"n": int(us.size), **_stats(us)}
    return out


def throughput(res: Results) -> list[dict[str, Any]]:
    """Per session: samples/s achieved beside the raw link throughput measured then."""
    h = res.header
    in_bytes = sum(int(t["bytes"]) for t in h["model"]["inputs"])
    out_bytes = sum(int(t["bytes"]) for t in h["model"]["outputs"])
    rows = []
    for sess in res.sessions:
        k, part = sess.get("session"), sess.get("part")
        mine = [s for s in res.samples if s.get("s") == k and s.get("part") == part]
        end = next((e for e in res.ends if e.get("session") == k and e.get("part") == part), None)
        if not mine:
            continue
        if end and end.get("elapsed_s"):
            elapsed = float(end["elapsed_s"])
        else:
            elapsed = max(s["t"] for s in mine) - float(sess["time"])
        links = [x for x in res.links if x.get("session") == k and x.get("part") == part
                 and x.get("up_Bps")]
        finals = [x for x in res.links if x.get("session") == k and x.get("part") == part
                  and x.get("final")]
        row: dict[str, Any] = {"session": k, "samples": len(mine), "elapsed_s": elapsed,
                               "samples_per_s": len(mine) / elapsed if elapsed > 0 else None,
                               "workers": len({s.get("w") for s in mine}),
                               "bytes_per_sample": in_bytes + out_bytes,
                               "status": end.get("status") if end else "killed"}
        if finals:
            row["recovered_samples"] = sum(x.get("recovered_samples", 0) for x in finals)
            row["bad_frames"] = sum(x.get("bad_frames", 0) for x in finals)
        if links:
            # Workers run in parallel, so their links add up.
            up = sum(x["up_Bps"] for x in links)
            downs = [x.get("down_Bps") for x in links]
            down = sum(downs) if all(downs) else None  # type: ignore[arg-type]
            row.update(raw_up_Bps=up, raw_down_Bps=down,
                       raw_echo_Bps=sum(x.get("echo_Bps") or 0 for x in links),
                       link_bytes=links[0].get("bytes"),
                       link_bound_samples_per_s=1.0 / (in_bytes / up
                                                       + (out_bytes / down if down else 0)))
            paths = {(x.get("target") or {}).get("input_path", "uart") for x in links}
            row["input_path"] = paths.pop() if len(paths) == 1 else "mixed"
            # Inputs through semihosting do not cross the measured link: no bound then.
            if row["samples_per_s"] and row["input_path"] == "uart":
                row["link_efficiency"] = row["samples_per_s"] / row["link_bound_samples_per_s"]
        rows.append(row)
    return rows


def summarize(res: Results) -> dict[str, Any]:
    """The whole report as plain JSON types."""
    h = res.header
    primary = h.get("primary", "host")
    # The selection of the latest session of each part counts (a resume may raise --limit).
    latest: dict[Any, int] = {}
    for sess in res.sessions:
        if "selected" in sess:
            latest[sess.get("part")] = int(sess["selected"])
    selected = sum(latest.values()) if latest else h.get("selection", {}).get("n")
    return {
        "task": h["task"],
        "model": {k: h["model"].get(k) for k in ("name", "path", "sha256")},
        "board": h.get("board"),
        "dataset": {k: h["dataset"].get(k) for k in ("kind", "path", "split", "fingerprint",
                                                      "n_total")},
        "primary": primary,
        "progress": {"done": len(res.samples), "selected": selected,
                     "complete": selected is not None and len(res.samples) >= selected,
                     "duplicates_dropped": res.duplicates, "torn_lines": res.partial_lines,
                     "worker_errors": [x for e in res.ends for x in e.get("errors", [])],
                     "sources": res.sources},
        "quality": {role: quality(res, role) for role in (primary, *h.get("references", ()))
                    if any(role in s["out"] for s in res.samples)},
        "fidelity": fidelity(res),
        "latency": latency(res),
        "throughput": throughput(res),
    }
