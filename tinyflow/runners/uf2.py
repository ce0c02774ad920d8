"""UF2: copy firmware.uf2 onto a board's USB mass-storage boot loader (the RP2040's RPI-RP2
drive: hold BOOTSEL while plugging the Pico in). No probe and no tool needed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tinyflow.errors import TinyflowError
from tinyflow.runners.base import Runner, Session

# Where desktop Linux, macOS and plain mounts put removable drives.
MOUNT_ROOTS = ("/media", "/run/media", "/Volumes", "/mnt")


def find_uf2_drives(roots: tuple[str, ...] | None = None) -> list[Path]:
    """Mounted drives that look like a UF2 boot loader (they contain INFO_UF2.TXT)."""
    found = []
    for root in roots or MOUNT_ROOTS:
        r = Path(root)
        if not r.is_dir():
            continue
        # /media/<user>/<label> or /media/<label>
        for d in list(r.glob("*")) + list(r.glob("*/*")):
            try:
                if (d / "INFO_UF2.TXT").is_file():
                    found.append(d)
            except OSError:
                continue
    return sorted(set(found))


class Uf2Runner(Runner):
    name = "uf2"
    tool = ""

    def check(self) -> str:
        if self.board.runner.uf2_family is None:
            raise TinyflowError(f"board {self.board.name} has no UF2 boot loader "
                                f"(no runner.uf2_family in {self.board.path.name})")
        return ""

    def start(self, elf: Path) -> Session:
        self.check()
        uf2 = Path(elf).with_suffix(".uf2")
        if not uf2.is_file():
            raise TinyflowError(f"{uf2} does not exist",
                                hint=f"rebuild: tinyflow build --board {self.board.name}")
        drives = find_uf2_drives()
        if not drives:
            raise TinyflowError("no UF2 boot loader drive is mounted",
                                hint=f"hold BOOTSEL while plugging in {self.board.name}; "
                                     "it appears as a drive called RPI-RP2")
        if len(drives) > 1:
            raise TinyflowError(f"several UF2 drives are mounted: "
                                f"{', '.join(map(str, drives))}",
                                hint="unplug all but one board")
        shutil.copyfile(uf2, drives[0] / uf2.name)
        # The boot loader flashes and reboots when the copy is closed; make sure it is.
        os.sync()
        return Session()
