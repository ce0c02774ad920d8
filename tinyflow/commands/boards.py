"""`tinyflow boards`: the boards tinyflow knows, with core, clock and memory."""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json


def configure(p: argparse.ArgumentParser) -> None:
    add_json(p)
    p.add_argument("--boards-dir", metavar="DIR", action="append", default=None,
                   help="extra folder of board files (also $TINYFLOW_BOARDS, ':'-separated)")
    p.add_argument("name", nargs="?", help="show one board in detail (regions, console, runner)")


def run(args: argparse.Namespace) -> int:
    from tinyflow import ui
    from tinyflow.boards import get_board, list_boards

    if args.name:
        b = get_board(args.name, args.boards_dir)
        if args.json:
            ui.emit_json(b.to_dict())
            return 0
        print(f"{b.name}: {b.description}")
        print(f"  mcu {b.mcu}, {b.core}, fpu {b.fpu}, dsp {'yes' if b.dsp else 'no'}, "
              f"mve {'yes' if b.mve else 'no'}, {b.clock_hz / 1e6:g} MHz, family {b.family}")
        print(f"  console {b.console.peripheral} @0x{b.console.base:08x} irq {b.console.irq} "
              f"{b.console.baud} baud")
        runner = b.runner.default + (f" ({b.qemu.machine})" if b.qemu else "")
        print(f"  runner {runner}; file {b.path}")
        rows = []
        for r in b.regions:
            roles = [role for role, rn in b.roles.items() if rn == r.name]
            rows.append((r.name, r.kind, f"0x{r.base:08x}", f"0x{r.end:08x}", r.size,
                         ui.human_bytes(r.size), ",".join(roles)))
        print(ui.table(rows, ["region", "kind", "base", "end", "bytes", "size", "holds"]))
        return 0

    boards = list_boards(args.boards_dir)
    if args.json:
        ui.emit_json([b.to_dict() for b in boards])
        return 0
    rows = [(b.name, b.mcu, b.core, f"{b.clock_hz / 1e6:g} MHz",
             ui.human_bytes(b.flash_bytes), ui.human_bytes(b.sram_bytes),
             "qemu " + b.qemu.machine if b.qemu else b.runner.default)
            for b in boards]
    print(ui.table(rows, ["board", "mcu", "core", "clock", "flash", "sram", "runner"],
                   align="lllrrrl"))
    return 0
