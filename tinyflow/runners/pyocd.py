"""pyOCD: flashes through CMSIS-DAP, ST-LINK or J-Link probes (`pip install pyocd`)."""

from __future__ import annotations

from pathlib import Path

from tinyflow.errors import TinyflowError
from tinyflow.runners.base import Runner, Session


class PyOcdRunner(Runner):
    name = "pyocd"
    tool = "pyocd"
    install_hint = ("pip install 'tinyflow[flash]' (or pip install pyocd) into the same "
                    "environment")

    def command(self, elf: Path) -> list[str]:
        target = self.board.runner.pyocd_target
        if not target:
            raise TinyflowError(f"{self.board.path}: field 'runner.pyocd_target': missing, "
                                "so pyocd cannot flash this board")
        return [self.tool, "load", "--target", target, "--format", "elf", str(elf)]

    def start(self, elf: Path) -> Session:
        cmd = self.command(elf)
        self.check()
        self._run(cmd, "pyocd load")
        # pyocd load resets and runs the target after programming.
        return Session()

    def failure_hint(self, output: str) -> str | None:
        if "No available debug probes" in output or "No connected debug probe" in output:
            return f"plug in {self.board.name} (its ST-LINK/CMSIS-DAP USB port) and retry"
        if "Target type" in output and "not recognized" in output:
            return (f"install the CMSIS pack: pyocd pack install "
                    f"{self.board.runner.pyocd_target}")
        return None
