"""`tinyflow inspect MODEL.tflite`: operators, shapes, params, MACs, memory, quantization."""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL.tflite", help="an int8 .tflite model")
    add_json(p)


def _params(opts: dict) -> str:
    keys = [("stride_h", "s"), ("padding", ""), ("depth_multiplier", "dm"),
            ("filter_height", "kh"), ("filter_width", "kw"),
            ("fused_activation_function", ""), ("axis", "axis"), ("keep_dims", "keep")]
    parts = []
    for k, label in keys:
        v = opts.get(k)
        if v is None or v == "NONE" or (k == "depth_multiplier" and v == 1):
            continue
        if k == "stride_h":
            v = f"{opts.get('stride_h')}x{opts.get('stride_w')}"
        if k == "filter_height":
            v = f"{opts.get('filter_height')}x{opts.get('filter_width')}"
            label = "k"
        if k == "filter_width":
            continue
        parts.append(f"{label}={v}" if label else str(v))
    return " ".join(parts)


def _quant(t) -> str:
    if t.quant is None:
        return ""
    if t.quant.per_channel:
        return f"per-ch[{len(t.quant.scale)}]"
    return f"s={float(t.quant.scale[0]):.4g} zp={int(t.quant.zero_point[0])}"


def describe(model) -> dict:
    from tinyflow.plan import plan_memory

    plan = plan_memory(model)
    ops = []
    for op in model.operators:
        ins = [t for t in model.op_inputs(op) if t is not None]
        outs = model.op_outputs(op)
        w = [t for t in ins if t.is_const]
        ops.append({
            "index": op.index, "op": op.opcode,
            "inputs": [list(t.shape) for t in ins if not t.is_const],
            "weights": [list(t.shape) for t in w],
            "outputs": [list(t.shape) for t in outs],
            "params": _params(op.options), "options": op.options,
            "macs": model.macs(op),
            "weight_bytes": sum(t.nbytes for t in w),
            "activation_bytes": sum(t.nbytes for t in ins + outs if not t.is_const),
            "live_bytes": plan.live_bytes(op.index),
            "quant": _quant(outs[0]) if outs else "",
            "weight_quant": _quant(w[0]) if w else "",
        })
    io = {"inputs": [model.tensors[i].to_dict() for i in model.inputs],
          "outputs": [model.tensors[i].to_dict() for i in model.outputs]}
    return {
        "model": model.name, "sha256": model.sha256, "file_bytes": model.size_bytes,
        **io, "operators": ops,
        "totals": {"operators": len(model.operators), "macs": model.total_macs,
                   "params": model.param_count, "weight_bytes": model.weight_bytes,
                   "peak_activation_bytes": plan.peak_live_bytes,
                   "peak_at_op": plan.peak_step, "arena_bytes": plan.arena_size,
                   "arena_bytes_without_overlap": plan.arena_without_overlap,
                   "op_counts": _counts(model)},
    }


def _counts(model) -> dict[str, int]:
    c: dict[str, int] = {}
    for op in model.operators:
        c[op.opcode] = c.get(op.opcode, 0) + 1
    return c


def run(args: argparse.Namespace) -> int:
    from tinyflow.ir import load_model
    from tinyflow.ui import emit_json, human_bytes, table

    model = load_model(args.model)
    d = describe(model)
    if args.json:
        emit_json(d)
        return 0
    for kind in ("inputs", "outputs"):
        for t in d[kind]:
            q = t["quant"] or {}
            print(f"{kind[:-1]:6} {t['name']}: {t['dtype']} {t['shape']} "
                  f"scale={q.get('scale', ['-'])[0]} zero_point={q.get('zero_point', ['-'])[0]}")
    rows = [(o["index"], o["op"], " ".join("x".join(map(str, s)) for s in o["inputs"]),
             " ".join("x".join(map(str, s)) for s in o["outputs"]), o["params"], o["macs"],
             o["weight_bytes"], o["activation_bytes"], o["quant"], o["weight_quant"])
            for o in d["operators"]]
    print(table(rows, ["#", "op", "input", "output", "params", "MACs", "weights B",
                       "act B", "out quant", "w quant"]))
    t = d["totals"]
    print(f"\n{t['operators']} operators  {t['macs']:,} MACs  {t['params']:,} parameters  "
          f"weights {human_bytes(t['weight_bytes'])}  file {human_bytes(d['file_bytes'])}")
    print(f"peak activation {human_bytes(t['peak_activation_bytes'])} at op #{t['peak_at_op']}  "
          f"planned arena {human_bytes(t['arena_bytes'])} "
          f"({human_bytes(t['arena_bytes_without_overlap'])} without overlap)")
    print("ops: " + ", ".join(f"{k}×{v}" for k, v in sorted(t["op_counts"].items())))
    return 0
