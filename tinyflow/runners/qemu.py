"""QEMU: a virtual board is a QEMU machine whose console UART is a pty.

The firmware runs with `-icount shift=N,sleep=off`, so every timer counts instructions
(1 instruction = 2^N ns of virtual time) and cost figures are deterministic, and with
semihosting on, so the firmware can end QEMU with an exit code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from tinyflow.errors import TinyflowError
from tinyflow.runners.base import Runner, Session

QEMU = "qemu-system-arm"
_PTY = re.compile(r"char device redirected to (/dev/pts/\d+)")


class QemuSession(Session):
    def __init__(self, proc: subprocess.Popen, port: str, cmd: list[str]):
        self.proc, self.port, self.cmd = proc, port, cmd
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        if self.proc.stdout is None:     # detached: output goes to a log file
            return
        try:
            for line in self.proc.stdout:
                self.output.append(line.rstrip("\n"))
        except (ValueError, OSError):   # the pipe was closed under us by stop()
            pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for QEMU to exit (the firmware ended it); returns its exit code."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TinyflowError(f"QEMU did not exit within {timeout} s") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # QEMU has exited, so the pipe reaches EOF and the reader ends. Close only after it
        # has: closing a file another thread is reading from is undefined in CPython's
        # buffered I/O. (A grandchild holding the pipe would keep it open; then the
        # daemon thread keeps it until it exits.)
        self._reader.join(5)
        if self.proc.stdout and not self._reader.is_alive():
            self.proc.stdout.close()


class QemuRunner(Runner):
    name = "qemu"
    tool = QEMU
    install_hint = "sudo apt-get install qemu-system-arm (or run `make setup`)"

    def command(self, elf: Path) -> list[str]:
        q = self.board.qemu
        if q is None:
            raise TinyflowError(f"board {self.board.name} is not a virtual board")
        return [
            QEMU, "-M", q.machine, "-kernel", str(elf),
            "-display", "none", "-monitor", "none", "-serial", "pty", "-no-reboot",
            "-icount", f"shift={q.icount_shift},sleep=off",
            "-semihosting-config", "enable=on,target=native",
            *q.args,
        ]

    def start(self, elf: Path, detach: bool = False, timeout: float = 10.0) -> QemuSession:
        """Start QEMU on `elf`; returns once the pty is known. With detach, QEMU survives
        this Python process (see `stop_detached`)."""
        elf = Path(elf)
        if not elf.is_file():
            raise TinyflowError(f"firmware {elf} does not exist",
                                hint=f"build it first: tinyflow build --board {self.board.name}")
        cmd = self.command(elf)
        self.check()
        log_path = None
        if detach:
            # A detached QEMU outlives us, so its output goes to a file, not to our pipe.
            log_path = state_file(self.board.name).with_suffix(".log")
            log_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(log_path, "w")  # noqa: SIM115 (handed to the child)
        else:
            out = subprocess.PIPE
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, text=True, bufsize=1,
                                start_new_session=detach)
        if log_path is not None:
            out.close()
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        port = None
        while time.monotonic() < deadline and port is None:
            if log_path is not None:
                seen = log_path.read_text().splitlines()
                if proc.poll() is not None:
                    break
                time.sleep(0.02)
            else:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                if not line:
                    break
                seen.append(line.rstrip())
            for line in seen:
                m = _PTY.search(line)
                if m:
                    port = m.group(1)
        if port is None:
            proc.kill()
            proc.wait()
            raise TinyflowError("QEMU did not open its serial pty:\n" + "\n".join(seen[-10:]),
                                hint="command: " + " ".join(cmd))
        session = QemuSession(proc, port, cmd)
        session.output.extend(seen)
        return session

    def check(self) -> str:
        path = shutil.which(self.tool)
        if not path:
            raise TinyflowError(f"{self.tool} not found: virtual boards need it",
                                hint=self.install_hint)
        return path


# ------------------------------------------------------------------ detached sessions

def state_file(board_name: str, root: Path | None = None) -> Path:
    return (root or Path.cwd() / "build") / ".qemu" / f"{board_name}.json"


def record_detached(session: QemuSession, board_name: str, elf: Path,
                    root: Path | None = None) -> Path:
    p = state_file(board_name, root)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"pid": session.pid, "port": session.port, "elf": str(elf),
                             "cmd": session.cmd}) + "\n")
    return p


def read_detached(board_name: str, root: Path | None = None) -> dict | None:
    p = state_file(board_name, root)
    if not p.exists():
        return None
    info = json.loads(p.read_text())
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        p.unlink()
        return None
    return info


def stop_detached(board_name: str, root: Path | None = None) -> bool:
    """End the detached QEMU started for `board_name`; False when none was running."""
    info = read_detached(board_name, root)
    if info is None:
        return False
    cmdline = Path(f"/proc/{info['pid']}/cmdline")
    # Only signal the process we started: its command line must still be our QEMU's.
    if cmdline.exists() and QEMU not in cmdline.read_bytes().decode(errors="replace"):
        state_file(board_name, root).unlink()
        return False
    os.kill(info["pid"], signal.SIGTERM)
    state_file(board_name, root).unlink()
    return True
