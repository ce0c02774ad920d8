"""A board running tinyflow firmware, ready to talk to: the runner and the link together.

    with open_device("qemu-m7", elf) as dev:      # starts QEMU on a pty
        dev.info                                  # handshake: model, shapes, clock, arena
        r = dev.run([x])                          # numpy arrays or bytes -> RunResult

    results = run_on_board("qemu-m7", elf, [[x1], [x2]])   # one call, many inferences

For a real board the firmware must already be flashed (`tinyflow flash`); the serial port is
`port`, or the one whose USB VID:PID matches the board file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyflow.boards import Board, get_board
from tinyflow.errors import TinyflowError
from tinyflow.link import Link, RunResult, TargetInfo


def find_port(board: Board) -> str:
    """The serial port of a connected real board, by the USB VID:PID in its board file."""
    from serial.tools import list_ports

    if board.usb is None:
        raise TinyflowError(f"board {board.name} has no USB VID:PID in {board.path}",
                            hint="pass the serial port with --port")
    vid, pid = board.usb
    ports = [p.device for p in list_ports.comports() if (p.vid, p.pid) == (vid, pid)]
    if not ports:
        raise TinyflowError(f"no serial port with USB id {vid:04x}:{pid:04x} ({board.name})",
                            hint="plug the board in, or pass the port with --port")
    if len(ports) > 1:
        raise TinyflowError(f"several serial ports match {board.name}: {', '.join(ports)}",
                            hint="choose one with --port")
    return ports[0]


@dataclass
class Device:
    board: Board
    link: Link
    info: TargetInfo
    session: Any = None          # the QEMU session for a virtual board

    def run(self, inputs: Sequence[Any], profile: bool = False,
            timeout: float = 120.0) -> RunResult:
        """One inference. `inputs` holds one numpy array (or bytes) per model input."""
        data = [x if isinstance(x, (bytes, bytearray)) else _tobytes(x) for x in inputs]
        return self.link.run(data, profile=profile, timeout=timeout)


def _tobytes(x: Any) -> bytes:
    import numpy as np

    return np.ascontiguousarray(x).tobytes()


@contextmanager
def open_device(board: Board | str, elf: Path | None = None, port: str | None = None,
                timeout: float = 5.0, connect_timeout: float = 15.0,
                expect_hash: str | None = None, fast_load: bool = True) -> Iterator[Device]:
    """Start (virtual) or attach to (real) a board and complete the handshake.

    A virtual board starts QEMU on `elf`, or without one attaches to the QEMU that
    `tinyflow flash --detach` left running; a real board uses `port` or finds it by VID:PID. With
    `expect_hash`, a firmware built for another model is an error, not a wrong answer.
    With fast_load (virtual boards only), inputs reach the firmware through a host file
    and semihosting rather than the emulated UART: several times faster, same results.
    """
    board = get_board(board)
    session = None
    if board.is_virtual and port is None and elf is None:
        from tinyflow.runners.qemu import read_detached

        detached = read_detached(board.name)   # started by `tinyflow flash --detach`
        if detached is None:
            raise TinyflowError(f"{board.name} is a virtual board: give the firmware ELF, or "
                                f"start it with tinyflow flash --board {board.name} --detach",
                                hint=f"tinyflow build --board {board.name} --model ...")
        port = detached["port"]
    if board.is_virtual and port is None:
        from tinyflow.runners import get_runner

        session = get_runner(board).start(Path(elf))
        port = session.port
    elif port is None:
        port = find_port(board)
    shift = board.qemu.icount_shift if board.qemu else None
    link = Link(port, baudrate=board.console.baud, timeout=timeout, icount_shift=shift,
                fast_load=fast_load and board.is_virtual)
    try:
        link.open()
        info = link.connect(timeout=connect_timeout)
        if info.board != board.name:
            raise TinyflowError(f"the firmware on {port} was built for board {info.board!r}, "
                                f"not {board.name!r}",
                                hint=f"tinyflow build --board {board.name} and flash it")
        if expect_hash and info.model_hash != expect_hash[:len(info.model_hash)]:
            raise TinyflowError(
                f"the firmware on {board.name} runs model {info.model} ({info.model_hash}), "
                f"not the expected one ({expect_hash[:16]})",
                hint="rebuild and reflash: tinyflow build / tinyflow flash")
        yield Device(board, link, info, session)
    finally:
        link.close()
        if session is not None:
            session.stop()


def run_on_board(board: Board | str, elf: Path | None, inputs: Sequence[Sequence[Any]],
                 port: str | None = None, profile: bool = False) -> list[RunResult]:
    """Run each entry of `inputs` (a list of per-input arrays) on the board; returns one
    RunResult (outputs as bytes, cycles, instructions on QEMU, stack high-water) each."""
    with open_device(board, elf, port) as dev:
        return [dev.run(xs, profile=profile) for xs in inputs]
