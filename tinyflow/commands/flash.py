"""`tinyflow flash --board B`: put the firmware on the board, or start the virtual board.

Real boards go through the runner the board file names (pyocd or openocd; `--runner` picks
another). A virtual board starts QEMU with the ELF and its UART on a pty and prints the port;
it runs until Ctrl-C, or in the background with --detach until `tinyflow flash --board B
--stop`.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p)
    p.add_argument("-m", "--model", metavar="MODEL",
                   help="flash build/<board>/<model>/firmware.elf (default: the newest build "
                        "for the board)")
    p.add_argument("--elf", metavar="FILE", help="flash this ELF instead")
    p.add_argument("--runner", choices=("pyocd", "openocd", "qemu", "uf2"),
                   help="override the board file's default runner")
    p.add_argument("--detach", action="store_true",
                   help="virtual board: leave QEMU running in the background")
    p.add_argument("--stop", action="store_true", help="virtual board: stop a detached QEMU")
    add_json(p)


def find_elf(board, model: str | None, elf: str | None):
    from pathlib import Path

    from tinyflow.build import default_out_dir
    from tinyflow.errors import TinyflowError

    if elf:
        p = Path(elf)
        if not p.is_file():
            raise TinyflowError(f"firmware {p} does not exist")
        return p
    if model:
        from tinyflow.codegen import c_name

        p = default_out_dir(board, c_name(Path(model).stem if model.endswith(".tflite")
                                          else model)) / "firmware.elf"
        if not p.is_file():
            raise TinyflowError(f"no firmware built for {model} on {board.name} ({p})",
                                hint=f"tinyflow build --board {board.name} --model {model}")
        return p
    builds = sorted((Path.cwd() / "build" / board.name).glob("*/firmware.elf"),
                    key=lambda q: q.stat().st_mtime)
    if not builds:
        raise TinyflowError(f"no firmware built for {board.name} yet",
                            hint=f"tinyflow build --board {board.name} --model MODEL")
    if len(builds) > 1:
        # The newest build is usually the one just made, but say so: flashing another
        # model's firmware by accident is worse than one more line on stderr.
        from tinyflow import ui

        others = ", ".join(q.parent.name for q in reversed(builds[:-1]))
        ui.status(f"{len(builds)} builds for {board.name}: flashing the newest, "
                  f"{builds[-1].parent.name} (also built: {others}; pick one with --model)")
    return builds[-1]


def run(args: argparse.Namespace) -> int:
    import time

    from tinyflow import ui
    from tinyflow.boards import get_board
    from tinyflow.runners import get_runner
    from tinyflow.runners.qemu import read_detached, record_detached, stop_detached

    board = get_board(args.board, args.boards_dir)
    if args.stop:
        stopped = stop_detached(board.name)
        if args.json:
            ui.emit_json({"board": board.name, "stopped": stopped})
        else:
            print(f"{board.name}: {'stopped' if stopped else 'no detached QEMU was running'}")
        return 0
    elf = find_elf(board, args.model, args.elf)
    runner = get_runner(board, args.runner)
    if not board.is_virtual:
        ui.status(f"flashing {elf} to {board.name} with {runner.name} ...")
        runner.start(elf)
        if args.json:
            ui.emit_json({"board": board.name, "elf": str(elf), "runner": runner.name})
        else:
            print(f"{board.name}: flashed {elf.name} with {runner.name}")
        return 0

    old = read_detached(board.name)
    if old:
        stop_detached(board.name)
        ui.status(f"stopped the previous {board.name} (pid {old['pid']})")
    session = runner.start(elf, detach=args.detach)
    info = {"board": board.name, "elf": str(elf), "runner": "qemu", "port": session.port,
            "pid": session.pid, "command": " ".join(session.cmd)}
    if args.detach:
        record_detached(session, board.name, elf)
        if args.json:
            ui.emit_json(info)
        else:
            print(f"{board.name}: QEMU running {elf.name} (pid {session.pid}); serial port "
                  f"{session.port}\nstop it with: tinyflow flash --board {board.name} --stop")
        return 0
    if args.json:
        ui.emit_json(info)
    else:
        print(f"{board.name}: QEMU running {elf.name}; serial port {session.port} "
              "(Ctrl-C to stop)", flush=True)
    try:
        while session.alive():
            time.sleep(0.2)
        code = session.proc.returncode
        ui.status(f"QEMU exited with status {code}")
        return 0 if code == 0 else 1
    except KeyboardInterrupt:
        return 0
    finally:
        session.stop()
