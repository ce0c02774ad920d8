"""`tinyflow build --board B --model M`: model -> int8 -> budget check -> C -> firmware.

Stages, each printed on stderr with its time: prepare the int8 model (training and
quantizing a zoo model only when no run exists yet), check the memory budget (a model that
cannot fit stops here, with the numbers, before any compiling), generate C, compile and link
with SCons. Then the linked ELF is compared with the budget's prediction, region by region.
Artifacts (.elf .bin .hex .map, manifest.json) go to build/<board>/<model>/.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json, add_model


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p)
    add_model(p)
    add_json(p)
    p.add_argument("-O", "--opt", default="O2", choices=("O0", "O1", "O2", "O3", "Os", "Oz"),
                   help="compiler optimisation level (default O2)")
    p.add_argument("--lto", action="store_true", help="link-time optimisation")
    p.add_argument("--profile", action="store_true",
                   help="generate per-layer timing hooks (tinyflow invoke --board --layers)")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="build folder (default build/<board>/<model>)")
    p.add_argument("--epochs", type=int, help="zoo model: training epochs, when it trains")
    p.add_argument("--seed", type=int, default=0, help="zoo model: data and training seed")
    p.add_argument("-v", "--verbose", action="store_true", help="show compiler command lines")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tinyflow import codegen, ui
    from tinyflow.boards import get_board
    from tinyflow.budget import full_budget
    from tinyflow.build import build_firmware, default_out_dir
    from tinyflow.errors import TinyflowError
    from tinyflow.ir import load_model
    from tinyflow.pipeline import Stage, prepare_model
    from tinyflow.plan import plan_memory

    board = get_board(args.board, args.boards_dir)
    prep = prepare_model(args.model, epochs=args.epochs, seed=args.seed)
    model = load_model(prep.tflite)
    name = codegen.c_name(prep.name)
    out = Path(args.out) if args.out else default_out_dir(board, name)

    with Stage(f"check the memory budget on {board.name}"):
        plan = plan_memory(model)
        # the network firmware (features in): no audio front end lines here
        budget = full_budget(model, board, plan)
    if not budget.ok:
        import contextlib
        import sys

        from tinyflow.commands.check import print_budget

        with contextlib.redirect_stdout(sys.stderr):
            print_budget(budget)
        raise TinyflowError(f"{model.name} does not fit on {board.name} (see the budget above); "
                            "nothing was compiled",
                            hint=budget.suggestions[0] if budget.suggestions else None)
    with Stage("generate C"):
        gen = codegen.generate(model, out / "model", name=name, profile=args.profile, plan=plan)
    with Stage(f"compile and link for {board.name} ({board.core}, -{args.opt}"
               f"{', LTO' if args.lto else ''})"):
        res = build_firmware(board, [gen.c_file], out, model_name=name, opt=args.opt,
                             lto=args.lto, verbose=args.verbose)
    rows, comparison = compare_with_budget(res.sizes, budget, board)
    if args.json:
        ui.emit_json({"build": res.to_dict(), "budget_vs_elf": comparison,
                      "model": {"name": name, "tflite": str(prep.tflite),
                                "hash": model.sha256[:16]}})
        return 0
    for w in res.warnings:
        ui.status(w)
    print(f"{name} on {board.name}: {'built' if res.rebuilt else 'up to date'} in "
          f"{res.seconds:.2f} s -> {res.elf}")
    print(ui.table(rows, ["region", "size", "ELF", "predicted", "ELF - predicted", "use"],
                   align="lrrrrr"))
    s = res.sizes
    print(f"code {s['text']:,} B, constants {s['rodata']:,} B, data+bss {s['data_bss']:,} B, "
          f"arena {s['arena']:,} B; deepest frame: "
          + (f"{s['deepest_frames'][0]['function']} {s['deepest_frames'][0]['bytes']} B"
             if s["deepest_frames"] else "n/a"))
    sb = s.get("stack_bound")
    if sb:
        print(f"stack: at most {sb['bytes']:,} B by the call graph (deepest: "
              f"{' > '.join(sb['path'][-3:])}; interrupts {sb['isr_bytes']} B), "
              f"reserve {board.stack_bytes:,} B"
              + (f"; not bounded: {', '.join(sb['unbounded'])}" if sb["unbounded"] else ""))
        if sb["bytes"] > board.stack_bytes:
            ui.status(f"warning: the stack may need {sb['bytes']:,} B, more than the "
                      f"{board.stack_bytes:,} B reserved in {board.path.name}")
    how = ("tinyflow flash --board " + board.name + (" (starts QEMU)" if board.is_virtual
                                                     else ""))
    print(f"next: {how}")
    return 0


def compare_with_budget(sizes: dict, budget, board) -> tuple[list[tuple], list[dict]]:
    """Per region: the linked ELF's use against `tinyflow check`'s prediction."""
    from tinyflow.ui import human_bytes

    elf = {r["region"]: r["used"] for r in sizes["regions"]}
    pred = {r.name: r.used for r in budget.regions}
    rows, out = [], []
    for r in board.regions:
        if r.name not in elf and r.name not in pred:
            continue
        e, p = elf.get(r.name, 0), pred.get(r.name, 0)
        rows.append((r.name, human_bytes(r.size), f"{e:,}", f"{p:,}", f"{e - p:+,}",
                     f"{100 * e / r.size:.1f}%"))
        out.append({"region": r.name, "size": r.size, "elf": e, "predicted": p,
                    "difference": e - p})
    return rows, out
