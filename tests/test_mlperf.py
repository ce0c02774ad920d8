"""MLPerf Tiny / EEMBC mode, driven by a client written from the protocol description
(shared/notes/benchmarks.md §1) and nothing of tinyflow's host code: commands end with
'%', replies are \\r\\n lines, every reply ends with a line containing "m-ready".

The C module (firmware/mlperf/) is compiled with the host gcc twice: with a fake model,
for the protocol's corner cases, and with the generated C of a real int8 model, whose
m-results line must match tflite-micro."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from test_eval_helpers import ROOT, person_model

MLPERF = ROOT / "firmware" / "mlperf"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
# The runner's own patterns (benchmark/runner).
NAME_RE = re.compile(r"^m-(name)-dut-\[([^]]+)]$")
PROFILE_RE = re.compile(r"^m-(model|profile)-\[([^]]+)]$")
RESULTS_RE = re.compile(r"^m-results-\[([^]]+)\]$")
LAP_RE = re.compile(r"^m-lap-us-(\d+)$")

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


class DutClient:
    """An EEMBC host: send `cmd%`, collect lines up to the one containing m-ready."""

    def __init__(self, write, read):
        self._write, self._read = write, read
        self._buf = b""

    def lines_until_ready(self, timeout: float = 10.0) -> list[str]:
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buf:
                raw, self._buf = self._buf.split(b"\n", 1)
                line = raw.replace(b"\r", b"").replace(b"\0", b"").decode("ascii", "replace")
                out.append(line)
                if "m-ready" in line:
                    return out
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no m-ready within {timeout} s; got {out!r}")
            self._buf += self._read(left)

    def command(self, cmd: str, timeout: float = 10.0) -> list[str]:
        self._write((cmd + "%").encode("ascii"))
        return self.lines_until_ready(timeout)

    def load(self, data: bytes, chunk: int = 31) -> list[str]:
        """As the runner does: `db load N`, then `db HEX` in 31-byte pieces."""
        replies = self.command(f"db load {len(data)}")
        for off in range(0, len(data), chunk):
            replies += self.command("db " + data[off:off + chunk].hex())
        return replies


class HostDut:
    """The host build as a child process with pipes for the serial port."""

    def __init__(self, exe: Path):
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        fd = self.proc.stdout.fileno()

        def read(timeout: float) -> bytes:
            ready, _, _ = select.select([fd], [], [], timeout)
            data = os.read(fd, 4096) if ready else b""
            if ready and not data:
                raise EOFError("the DUT exited")
            return data

        def write(b: bytes) -> None:
            self.proc.stdin.write(b)
            self.proc.stdin.flush()

        self.client = DutClient(write, read)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(5)


def _compile(out: Path, sources: list[Path], includes: list[Path], defines: list[str]) -> Path:
    cmd = ["gcc", *CFLAGS, *(f"-I{i}" for i in includes), *(f"-D{d}" for d in defines),
           *map(str, sources), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def fake_dut(tmp_path_factory):
    exe = _compile(tmp_path_factory.mktemp("mlperf") / "dut",
                   [MLPERF / "tf_mlperf.c", MLPERF / "host" / "host_main.c",
                    MLPERF / "host" / "fake_model.c"],
                   [MLPERF, ROOT / "firmware" / "include"],
                   ["TF_MLPERF_DB_BYTES=64", 'TF_MLPERF_MODEL_ID="kws01"'])
    dut = HostDut(exe)
    # Read the banner here: with xdist the tests of this module may run in any order.
    dut.banner = dut.client.lines_until_ready()
    yield dut
    dut.close()


def fake_results(data: bytes) -> list[float]:
    """What firmware/mlperf/host/fake_model.c computes, dequantized (scale 1/256, zp -128)."""
    s = int(np.frombuffer(data, np.int8).astype(np.int32).sum())
    s = int(s / 8)        # C division truncates toward zero
    hi = max(-128, min(127, s))
    lo = -1 - hi
    return [round((v + 128) / 256, 3) for v in (lo, hi)]


def test_boot_banner_name_and_profile(fake_dut):
    c = fake_dut.client
    boot = fake_dut.banner
    assert boot[0] == "m-timestamp-mode-performance"
    assert LAP_RE.match(boot[1]) and boot[2:] == ["m-init-done", "m-ready"]
    name = c.command("name")
    assert NAME_RE.match(name[0]).group(2) == "tinyflow" and name[-1] == "m-ready"
    prof = dict(PROFILE_RE.match(x).groups() for x in c.command("profile")[:-1])
    assert prof == {"profile": "ULPMark for tinyML Firmware V0.0.1", "model": "kws01"}
    assert LAP_RE.match(c.command("timestamp")[0])
    assert any("infer N" in x for x in c.command("help"))


def test_load_infer_results_and_timing(fake_dut):
    c = fake_dut.client
    data = bytes((i * 37 + 11) % 256 for i in range(32))
    replies = c.load(data)
    assert replies[0] == "m-[Expecting 32 bytes]" and replies[-2:] == ["m-load-done", "m-ready"]
    assert c.command("db print")[:4] == [
        "m-buffer-" + "-".join(f"{b:02x}" for b in data[k:k + 8]) for k in range(0, 32, 8)]
    lines = c.command("infer 5 2")
    assert lines[:4] == ["m-warmup-start-2", "m-warmup-done", "m-infer-start-5",
                         lines[3]] and LAP_RE.match(lines[3])
    laps = [int(LAP_RE.match(x).group(1)) for x in lines if LAP_RE.match(x)]
    assert len(laps) == 2 and laps[1] >= laps[0]
    assert lines[-3] == "m-infer-done"
    values = [float(v) for v in RESULTS_RE.match(lines[-2]).group(1).split(",") if v]
    assert values == fake_results(data)
    assert c.command("results")[0] == lines[-2]
    # Defaults: N=1, W=10.
    assert c.command("infer")[:3] == ["m-warmup-start-10", "m-warmup-done", "m-infer-start-1"]
    # Upper-case hex digits work too, and digits past N are ignored.
    c.command("db load 32")
    assert c.command("db " + (data + b"\xff\xff").hex().upper())[0] == "m-load-done"
    assert c.command("results")[0] == lines[-2]


@pytest.mark.parametrize("cmd, reply", [
    ("db load 0", "e-[Command 'db load' must be >0 bytes]"),
    ("db load", "e-[Command 'db load' requires the # of bytes]"),
    ("db", "e-[Command 'db' requires a subcommand]"),
    ("db load 65", "Supplied buffer size 65 exceeds maximum of 64"),
    ("infer 0", "e-[Inference iterations must be >0]"),
    ("infer 1 -1", "e-[Inference warmup must be >=0]"),
    ("frobnicate now", "e-[Unknown command: frobnicate]"),
])
def test_errors_are_reported_and_still_end_with_ready(fake_dut, cmd, reply):
    assert fake_dut.client.command(cmd) == [reply, "m-ready"]


def test_hex_errors_and_the_80_character_buffer(fake_dut):
    c = fake_dut.client
    c.command("db load 40")
    assert c.command("db 123") == ["e-[Insufficent number of hex digits]", "m-ready"]
    assert c.command("db 12zz") == ["e-[Invalid hex digit 'zz']", "m-ready"]
    # "db " + 76 digits = 79 characters: all kept (38 bytes, not yet done).
    assert c.command("db " + "ab" * 38) == ["m-ready"]
    c.command("db load 40")
    # "db " + 78 digits = 81 characters: cut at 80, leaving 77 digits, an odd count.
    assert c.command("db " + "ab" * 39) == ["e-[Insufficent number of hex digits]", "m-ready"]
    # Too few bytes for the model input: refused, not run on stale data.
    c.command("db load 8")
    c.command("db " + "00" * 8)
    assert c.command("infer 1 0")[0] == "e-[Loaded 8 bytes; the model input takes 32]"


def test_generated_model_results_match_tflite_micro(tmp_path):
    from tinyflow.codegen import generate
    from tinyflow.ir import load_model
    from tinyflow.oracle import TflmOracle

    path = person_model()
    model = load_model(path)
    gen = generate(model, tmp_path / "gen", name="person")
    n_in = model.tensors[model.inputs[0]].nbytes
    exe = _compile(tmp_path / "dut",
                   [*gen.sources, MLPERF / "tf_mlperf.c", MLPERF / "host" / "host_main.c"],
                   [MLPERF, *gen.include_dirs],
                   ["TF_ARENA_SECTION=", "TF_PROFILE=0", f"TF_MLPERF_DB_BYTES={n_in}"])
    dut = HostDut(exe)
    try:
        c = dut.client
        c.lines_until_ready()
        oracle = TflmOracle(path)
        out_t = model.tensors[model.outputs[0]]
        scale, zp = float(out_t.quant.scale[0]), int(out_t.quant.zero_point[0])
        rng = np.random.default_rng(7)
        for _ in range(3):
            x = rng.integers(-128, 128, n_in, dtype=np.int8)
            assert c.load(x.tobytes())[-2] == "m-load-done"
            lines = c.command("infer 2 1")
            got = [float(v) for v in RESULTS_RE.match(lines[-2]).group(1).split(",") if v]
            ref = oracle.invoke(x.reshape(model.tensors[model.inputs[0]].shape))[0].ravel()
            expect = [(int(q) - zp) * scale for q in ref]
            assert got == pytest.approx(expect, abs=5e-4)
    finally:
        dut.close()


def _build_mlperf_firmware(board, gen, out: Path, defines: list[str]) -> Path:
    """The firmware in MLPerf mode, as `tinyflow build --mlperf` builds it."""
    from tinyflow.build import build_firmware

    return build_firmware(board, [gen.c_file], out, model_name="person", app="mlperf",
                          extra_defines=defines).elf


@pytest.mark.xdist_group("qemu_eval")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None
                    or shutil.which("arm-none-eabi-gcc") is None,
                    reason="needs qemu-system-arm and arm-none-eabi-gcc")
def test_mlperf_firmware_on_qemu(tmp_path):
    """The same client over the pty of a QEMU board running the firmware in MLPerf mode."""
    import serial

    from tinyflow.boards import get_board
    from tinyflow.codegen import generate
    from tinyflow.ir import load_model
    from tinyflow.oracle import TflmOracle
    from tinyflow.runners import get_runner

    path = person_model()
    model = load_model(path)
    gen = generate(model, tmp_path / "gen", name="person")
    n_in = model.tensors[model.inputs[0]].nbytes
    board = get_board("qemu-m7")
    elf = _build_mlperf_firmware(board, gen, tmp_path / "fw",
                                 ['TF_MLPERF_MODEL_ID="vww01"', f"TF_MLPERF_DB_BYTES={n_in}"])
    session = get_runner(board).start(elf)
    try:
        port = serial.Serial(session.port, 115200, timeout=0.05)

        def read(timeout: float) -> bytes:
            port.timeout = min(timeout, 0.2)
            return port.read(max(1, port.in_waiting))

        def write(b: bytes) -> None:
            port.write(b)
            port.flush()

        c = DutClient(write, read)
        # The banner may be gone before the pty was opened: send empty commands until
        # something ends with m-ready. Then align the stream on a reply nothing else
        # produces: every stray banner or m-ready comes before it.
        deadline = time.monotonic() + 15
        while True:
            try:
                c.command("", timeout=0.5)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        lines = c.command("db load 7")
        while "m-[Expecting 7 bytes]" not in lines:
            lines = c.lines_until_ready(timeout=10)
        assert NAME_RE.match(c.command("name")[0])
        prof = dict(PROFILE_RE.match(x).groups() for x in c.command("profile")[:-1])
        assert prof["model"] == "vww01"
        x = np.random.default_rng(3).integers(-128, 128, n_in, dtype=np.int8)
        assert c.load(x.tobytes())[-2] == "m-load-done"
        lines = c.command("infer 3 1", timeout=30)
        laps = [int(LAP_RE.match(v).group(1)) for v in lines if LAP_RE.match(v)]
        assert len(laps) == 2 and laps[1] > laps[0]
        got = [float(v) for v in RESULTS_RE.match(lines[-2]).group(1).split(",") if v]
        ref = TflmOracle(path).invoke(x.reshape(model.tensors[model.inputs[0]].shape))[0]
        t = model.tensors[model.outputs[0]]
        expect = [(int(q) - int(t.quant.zero_point[0])) * float(t.quant.scale[0])
                  for q in ref.ravel()]
        assert got == pytest.approx(expect, abs=5e-4)
        port.close()
    finally:
        session.stop()
