"""The device side of the protocol compiled for the host with AddressSanitizer and
UndefinedBehaviorSanitizer, fed random bytes: no input may read or write out of bounds,
and valid requests mixed into the noise still get correct replies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from _fw import FIXTURES, fake_reference

from tinyflow import link as L

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def host_fw(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("no host gcc")
    exe = tmp_path_factory.mktemp("hostfw") / "tfp_host"
    cmd = ["gcc", "-std=gnu99", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
           f"-I{REPO}/firmware/include", f"-I{REPO}/firmware/boards",
           f"-I{REPO}/firmware/protocol", str(REPO / "firmware/protocol/tfp.c"),
           str(FIXTURES / "fake_model.c"), str(FIXTURES / "host_port.c"), "-o", str(exe)]
    subprocess.run(cmd, check=True, timeout=120)
    return exe


def frames(data: bytes) -> list[tuple[int, int, bytes]]:
    return [f for raw in data.split(b"\x00") if raw and (f := L.decode_frame(raw))]


def run(exe: Path, data: bytes) -> bytes:
    p = subprocess.run([str(exe)], input=data, capture_output=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    return p.stdout


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_never_break_bounds(host_fw, seed):
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, 200_000, dtype=np.uint8)
    if seed % 2:   # fewer zeros: long frames and overflow paths
        noise[noise == 0] = 1
        noise[rng.integers(0, len(noise), 20)] = 0
    run(host_fw, noise.tobytes())


def test_mutated_valid_frames(host_fw):
    """Valid frames with flipped bytes, cut short or spliced: COBS and length checks."""
    rng = np.random.default_rng(7)
    base = [L.encode_frame(L.CMD_WRITE, 1, b"\x00" + bytes(4) + bytes(range(100))),
            L.encode_frame(L.CMD_READ, 2, bytes([0, 5, 0, 0, 0, 200, 0])),
            L.encode_frame(L.CMD_PROFILE, 3, bytes(6)),
            L.encode_frame(L.CMD_ECHO, 4, bytes(1020))]
    out = bytearray()
    for _ in range(3000):
        f = bytearray(base[rng.integers(len(base))])
        for _ in range(rng.integers(1, 4)):
            f[rng.integers(1, len(f) - 1)] = rng.integers(0, 256)
        out += f[: rng.integers(2, len(f) + 1)]
    run(host_fw, bytes(out))


def test_valid_requests_inside_noise(host_fw):
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, 128, dtype=np.int8)
    reqs = [L.encode_frame(L.CMD_HELLO, 1),
            L.encode_frame(L.CMD_WRITE, 2, struct_pack_write(x.tobytes())),
            L.encode_frame(L.CMD_INVOKE, 3),
            L.encode_frame(L.CMD_READ, 4, bytes([0, 0, 0, 0, 0, 10, 0]))]
    data = bytearray()
    for r in reqs:
        data += rng.integers(0, 256, 500, dtype=np.uint8).tobytes()
        data += r
    replies = {(c, s): p for c, s, p in frames(run(host_fw, bytes(data)))}
    assert L.parse_hello(replies[(L.CMD_HELLO | L.REPLY, 1)]).model == "fake"
    assert (L.CMD_WRITE | L.REPLY, 2) in replies
    out = np.frombuffer(replies[(L.CMD_READ | L.REPLY, 4)], np.int8)
    assert np.array_equal(out, fake_reference(x))


def struct_pack_write(data: bytes) -> bytes:
    return bytes([0, 0, 0, 0, 0]) + data


def test_cobs_and_crc_agree_with_python():
    rng = np.random.default_rng(0)
    for n in (0, 1, 253, 254, 255, 508, 1030):
        d = rng.integers(0, 3, n, dtype=np.uint8).tobytes() if n % 2 else bytes(
            rng.integers(1, 256, n, dtype=np.uint8))
        assert L.cobs_decode(L.cobs_encode(d)) == d
        assert b"\x00" not in L.cobs_encode(d)
