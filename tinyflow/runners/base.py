"""The runner interface shared by every flash tool."""

from __future__ import annotations

import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from tinyflow.boards import Board
from tinyflow.errors import TinyflowError


class Session:
    """A board with a firmware on it. `port` is the serial device for the link, when known
    (a pty for QEMU; for a real board found later by USB VID:PID)."""

    port: str | None = None

    def stop(self) -> None:
        """Release the board (QEMU: end the process). Idempotent."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Runner(ABC):
    name: str = ""
    tool: str = ""                 # executable the runner needs
    install_hint: str = ""

    def __init__(self, board: Board):
        self.board = board

    def check(self) -> str:
        """Path of the tool; raises TinyflowError with what to install when it is missing."""
        path = shutil.which(self.tool)
        if not path:
            raise TinyflowError(f"{self.tool} not found: the {self.name} runner needs it",
                                hint=self.install_hint)
        return path

    @abstractmethod
    def start(self, elf: Path) -> Session:
        """Put `elf` on the board and start it."""

    def _run(self, cmd: list[str], what: str, timeout: float = 120.0) -> str:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise TinyflowError(f"{what} timed out after {timeout:.0f} s: {' '.join(cmd)}") \
                from None
        out = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0:
            raise TinyflowError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                                + "\n".join(out.splitlines()[-15:]),
                                hint=self.failure_hint(out))
        return out

    def failure_hint(self, output: str) -> str | None:
        return None
