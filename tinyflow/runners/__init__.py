"""Runners: how a firmware image reaches a board. One small class per tool behind one
interface (`Runner`), one explicit registry (`RUNNERS`), the board file choosing the default.

    runner = get_runner(board)            # the board's default, or get_runner(board, "openocd")
    runner.check()                        # raises TinyflowError saying what to install/plug in
    session = runner.start(elf)           # QEMU: starts the virtual board; others: flash + reset
    session.port                          # the serial port the protocol runs on (may be None)
    session.stop()
"""

from __future__ import annotations

from tinyflow.boards import Board
from tinyflow.errors import TinyflowError
from tinyflow.runners.base import Runner, Session
from tinyflow.runners.openocd import OpenOcdRunner
from tinyflow.runners.pyocd import PyOcdRunner
from tinyflow.runners.qemu import QemuRunner, QemuSession
from tinyflow.runners.uf2 import Uf2Runner

RUNNERS: dict[str, type[Runner]] = {
    "qemu": QemuRunner,
    "pyocd": PyOcdRunner,
    "openocd": OpenOcdRunner,
    "uf2": Uf2Runner,
}


def get_runner(board: Board, name: str | None = None) -> Runner:
    """The runner called `name`, or the board's default."""
    name = name or board.runner.default
    if name not in RUNNERS:
        raise TinyflowError(f"unknown runner {name!r}", hint=f"runners: {', '.join(RUNNERS)}")
    if (name == "qemu") != board.is_virtual:
        raise TinyflowError(f"runner {name!r} cannot drive board {board.name!r}",
                            hint="qemu runs exactly the virtual boards (qemu-*)")
    return RUNNERS[name](board)


__all__ = ["RUNNERS", "Runner", "Session", "QemuRunner", "QemuSession", "PyOcdRunner",
           "OpenOcdRunner", "Uf2Runner", "get_runner"]
