"""`tinyflow check --board B --model M`: the memory plan and the budget verdict."""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json, add_model


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p)
    add_model(p)
    add_json(p)
    p.add_argument("--no-tflm", action="store_true",
                   help="skip the cross-check against tflite-micro's own arena allocation")
    p.add_argument("--plan", action="store_true", help="also print the full memory plan")
    p.add_argument("--estimate", action="store_true",
                   help="use code-size estimates instead of a reference build of the firmware")


def run(args: argparse.Namespace) -> int:
    from tinyflow.boards import get_board
    from tinyflow.budget import full_budget
    from tinyflow.errors import TinyflowError
    from tinyflow.ir import load_model
    from tinyflow.models import tflite_path
    from tinyflow.oracle import tflm_arena
    from tinyflow.plan import plan_memory
    from tinyflow.ui import emit_json, status

    board = get_board(args.board, args.boards_dir)
    path = tflite_path(args.model)
    model = load_model(path)
    plan = plan_memory(model)
    tflm = None
    if not args.no_tflm:
        status("measuring tflite-micro's arena for the same model ...")
        try:
            tflm = tflm_arena(path)
        except TinyflowError as e:
            tflm = {"error": str(e).splitlines()[0]}
    budget = full_budget(model, board, plan, model_path=path, tflm=tflm,
                         measure=not args.estimate)
    if args.json:
        d = budget.to_dict()
        if args.plan:
            d["plan"] = plan.to_dict()
        emit_json(d)
    else:
        print_budget(budget, show_plan=args.plan)
    return 0 if budget.ok else 1


def print_budget(b, show_plan: bool = False) -> None:
    from tinyflow.ui import human_bytes, table

    bd = b.board
    print(f"{b.model.name} on {bd.name} ({bd.mcu}, {bd.core} @ {bd.clock_hz / 1e6:.0f} MHz)\n")
    rows = [(ln.what, ln.region, ln.bytes, human_bytes(ln.bytes),
             "estimate" if ln.estimated else "") for ln in b.lines]
    print(table(rows, ["", "region", "bytes", "", "note"], align="llrrl"))
    print()
    rows = []
    for r in b.regions:
        pct = 100.0 * r.used / r.size if r.size else float("inf")
        rows.append((r.name, human_bytes(r.size), human_bytes(r.used),
                     human_bytes(r.free) if r.free >= 0 else f"-{human_bytes(-r.free)}",
                     f"{pct:.1f}%", "ok" if r.ok else "OVER"))
    print(table(rows, ["region", "size", "used", "free", "use", ""], align="lrrrrl"))
    peak = b.consumers["peak"][0]
    print(f"\narena: tinyflow plan {b.plan.arena_size:,} B "
          f"(peak of live tensors {b.plan.peak_live_bytes:,} B at {peak['op']})")
    if b.plan.arena_without_overlap is not None:
        print(f"       without overlap {b.plan.arena_without_overlap:,} B "
              f"({len(b.plan.overlaps)} outputs placed over the inputs they consume)")
    if b.tflm:
        if "error" in b.tflm:
            print(f"       tflite-micro: not measured ({b.tflm['error']})")
        else:
            ratio = b.plan.arena_size / b.tflm["total"] if b.tflm["total"] else 0
            print(f"       tflite-micro: {b.tflm['total']:,} B in all "
                  f"({b.tflm['head']:,} B planned activations + its interpreter bookkeeping; "
                  f"measured on the 64-bit host, a 32-bit target needs somewhat less) "
                  f"-> tinyflow/TFLM = {ratio:.2f}")
    for msg in b.unsupported:
        print(f"unsupported: {msg}")
    if not b.ok or show_plan:
        print("\nbiggest consumers:")
        for c in b.consumers["live_at_peak"]:
            print(f"  {c['bytes']:>9,} B  live at the peak: {', '.join(c['tensors'])} "
                  f"(from {c['produced_by']})")
        for c in b.consumers["largest_weights"][:3]:
            print(f"  {c['bytes']:>9,} B  weights of {c['op']}")
    if show_plan:
        print("\nmemory plan (offset, bytes, live steps, tensors):")
        for buf in b.plan.buffers:
            names = ([b.model.tensors[t].name for t in buf.tensors]
                     or [f"scratch of op {buf.scratch_for}"])
            print(f"  {buf.offset:>8}  {buf.size:>8}  [{buf.first:>3}..{buf.last:>3}]  "
                  f"{', '.join(names)}")
    print(f"\n{'PASS' if b.ok else 'FAIL'}: {b.model.name} "
          f"{'fits' if b.ok else 'does not fit'} on {bd.name}")
    for s in b.suggestions:
        print(f"  suggestion: {s}")
