"""OpenOCD: `openocd -f <cfg>... -c "program <elf> verify reset exit"` (apt install openocd)."""

from __future__ import annotations

from pathlib import Path

from tinyflow.errors import TinyflowError
from tinyflow.runners.base import Runner, Session


class OpenOcdRunner(Runner):
    name = "openocd"
    tool = "openocd"
    install_hint = "sudo apt-get install openocd (0.12 or newer)"

    def command(self, elf: Path) -> list[str]:
        cfgs = self.board.runner.openocd_config
        if not cfgs:
            raise TinyflowError(f"{self.board.path}: field 'runner.openocd_config': missing, "
                                "so openocd cannot flash this board")
        cmd = [self.tool]
        for c in cfgs:
            cmd += ["-f", c]
        return cmd + ["-c", f"program {elf} verify reset exit"]

    def start(self, elf: Path) -> Session:
        cmd = self.command(elf)
        self.check()
        self._run(cmd, "openocd program")
        return Session()

    def failure_hint(self, output: str) -> str | None:
        if "open failed" in output or "No device found" in output or "LIBUSB" in output.upper():
            return f"plug in {self.board.name} (its debug probe's USB port) and retry"
        if "Can't find" in output and ".cfg" in output:
            return "this OpenOCD does not know the board's config file; update OpenOCD"
        return None
