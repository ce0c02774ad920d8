"""A hostile serial line between tinyflow and a QEMU board: a proxy on a second pty
corrupts, drops and duplicates bytes in both directions. The evaluation must end with
correct (bit-exact) results or a clear error -- never hang, never return wrong numbers."""

from __future__ import annotations

import os
import pty
import random
import select
import shutil
import threading
import time
import tty
from pathlib import Path

import pytest
from test_eval_helpers import person_model, write_wake_vision

from tinyflow.errors import TinyflowError
from tinyflow.evaluate import evaluate, summarize
from tinyflow.evaluate.board import board_workers

pytestmark = [pytest.mark.xdist_group("qemu_eval"),
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                                 reason="needs qemu-system-arm")]


class FaultyLine:
    """Forwards bytes between a new pty (the host's side) and the board's pty, damaging a
    fraction of them: each byte is independently corrupted (one bit flipped), dropped or
    sent twice with the given probabilities."""

    def __init__(self, device: str, seed: int, corrupt: float, drop: float, dup: float):
        import serial

        self.rng = random.Random(seed)
        self.p = (corrupt, drop, dup)
        self.counts = {"bytes": 0, "corrupted": 0, "dropped": 0, "duplicated": 0}
        self.dev = serial.Serial(device, 115200, timeout=0)   # puts the pty in raw mode
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _damage(self, data: bytes) -> bytes:
        out = bytearray()
        corrupt, drop, dup = self.p
        for b in data:
            self.counts["bytes"] += 1
            r = self.rng.random()
            if r < corrupt:
                self.counts["corrupted"] += 1
                out.append(b ^ (1 << self.rng.randrange(8)))
            elif r < corrupt + drop:
                self.counts["dropped"] += 1
            elif r < corrupt + drop + dup:
                self.counts["duplicated"] += 1
                out += bytes([b, b])
            else:
                out.append(b)
        return bytes(out)

    def _pump(self) -> None:
        dev_fd = self.dev.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master, dev_fd], [], [], 0.05)
            try:
                if self.master in ready:
                    data = os.read(self.master, 4096)
                    if data:
                        self.dev.write(self._damage(data))
                if dev_fd in ready:
                    data = os.read(dev_fd, 4096)
                    if data:
                        os.write(self.master, self._damage(data))
            except OSError:
                return   # QEMU or the host side went away

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self.dev.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_wake_vision(tmp_path_factory.mktemp("wv"), n=24, seed=2)


def _run(data: Path, out: Path, lines: list, **faults):
    def wrap(port: str) -> str:
        line = FaultyLine(port, seed=len(lines) + 11, **faults)
        lines.append(line)
        return line.path

    board, workers, unit = board_workers("qemu-m7", person_model(), port_wrapper=wrap,
                                         link_timeout=0.4, invoke_timeout=2.0,
                                         uart=True)   # every input byte crosses the proxy
    return evaluate(person_model(), data, out, target="device", references=("host",),
                    workers=workers, board=board, cycle_unit=unit, batch=4, progress=False)


def test_damaged_bytes_are_recovered_and_results_stay_bit_exact(data, tmp_path):
    lines: list[FaultyLine] = []
    t0 = time.monotonic()
    try:
        res = _run(data, tmp_path / "run", lines, corrupt=0.001, drop=0.0005, dup=0.0005)
    finally:
        for line in lines:
            line.close()
    s = summarize(res)
    damaged = sum(line.counts["corrupted"] + line.counts["dropped"] + line.counts["duplicated"]
                  for line in lines)
    assert damaged > 0, "the proxy should have damaged some bytes"
    assert s["progress"]["complete"] and s["progress"]["done"] == 24
    (pair,) = s["fidelity"]
    assert pair["rate"] == 1.0, pair          # every sample right despite the damage
    assert time.monotonic() - t0 < 120


def test_a_line_that_destroys_everything_fails_clearly_not_hangs(data, tmp_path):
    lines: list[FaultyLine] = []
    t0 = time.monotonic()
    try:
        with pytest.raises(TinyflowError) as err:
            _run(data, tmp_path / "run", lines, corrupt=0.3, drop=0.3, dup=0.1)
    finally:
        for line in lines:
            line.close()
    assert time.monotonic() - t0 < 60
    assert "handshake" in str(err.value) or "reply" in str(err.value) or \
        "stopped" in str(err.value)
