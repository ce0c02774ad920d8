"""The serial link under abuse: garbage, truncated and oversized frames, bad CRCs, bad
requests, retries and a crashing model. After each, the firmware must answer correctly."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from _fw import build_fake, fake_reference, virtual_board

from tinyflow import link as L

BOARD = "qemu-m4"


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return build_fake(BOARD, tmp_path_factory.mktemp("robust")).elf


def check_still_works(link: L.Link, seed: int = 0) -> None:
    x = np.random.default_rng(seed).integers(-128, 128, 128, dtype=np.int8)
    r = link.run([x.tobytes()])
    assert np.array_equal(np.frombuffer(r.outputs[0], np.int8), fake_reference(x))


def test_garbage_truncated_and_oversized_frames(elf):
    rng = np.random.default_rng(5)
    with virtual_board(BOARD, elf) as (link, _):
        before = link.stats()
        # random bytes with zeros (many bogus frames) and without (one huge frame)
        link.send_raw(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
        link.send_raw(rng.integers(1, 256, 5000, dtype=np.uint8).tobytes() + b"\x00")
        # a truncated frame, then a frame whose CRC is wrong
        good = L.encode_frame(L.CMD_HELLO, 200)
        link.send_raw(good[: len(good) // 2])
        bad = bytearray(L.encode_frame(L.CMD_ECHO, 201, b"hello"))
        bad[4] ^= 0x55
        link.send_raw(bytes(bad))
        # an over-long frame that is otherwise valid (payload above the maximum)
        link.send_raw(L.encode_frame(L.CMD_ECHO, 202, bytes(range(1, 256)) * 8))
        check_still_works(link)
        after = link.stats()
        assert after["too_long"] >= before["too_long"] + 2
        assert after["crc_errors"] > before["crc_errors"]
        assert after["short_frames"] > before["short_frames"]
        assert after["rx_overflows"] == 0
        assert link.echo(b"\x00\x01\x00" * 300) == b"\x00\x01\x00" * 300


@pytest.mark.parametrize("cmd,payload,code", [
    (L.CMD_WRITE, struct.pack("<BI", 0, 120) + bytes(16), 6),        # past the input's end
    (L.CMD_WRITE, struct.pack("<BI", 0, 0xFFFFFFF0) + bytes(32), 6),  # offset wraps around
    (L.CMD_WRITE, struct.pack("<BI", 3, 0) + bytes(4), 7),            # no such input
    (L.CMD_WRITE, b"\x00\x00", 5),                                    # too short
    (L.CMD_READ, struct.pack("<BIH", 0, 8, 4), 6),
    (L.CMD_READ, struct.pack("<BIH", 0, 0, 0xFFFF), 6),
    (L.CMD_READ, struct.pack("<BIH", 9, 0, 1), 7),
    (L.CMD_PROFILE, struct.pack("<IH", 0, 500), 6),
    (L.CMD_INVOKE, b"x", 5),
    (L.CMD_LOAD, struct.pack("<BI", 0, 0) + b"/nonexistent/tinyflow", 8),
    (L.CMD_LOAD, struct.pack("<BI", 2, 0) + b"/etc/hostname", 7),
    (L.CMD_LOAD, struct.pack("<BI", 0, 129) + b"/etc/hostname", 6),
    (L.CMD_LOAD, b"\x00\x00", 5),
    (0x42, b"", 4),
])
def test_bad_requests_get_error_codes(elf, cmd, payload, code):
    with virtual_board(BOARD, elf) as (link, _):
        with pytest.raises(L.DeviceError) as e:
            link.request(cmd, payload)
        assert e.value.code == code and e.value.cmd == cmd
        check_still_works(link)


def test_repeated_request_is_answered_from_cache(elf):
    with virtual_board(BOARD, elf) as (link, _):
        check_still_works(link)
        link.seq = 99
        link.request(L.CMD_INVOKE)
        link.seq = 99                # same seq again: as if the first reply was lost
        link.request(L.CMD_INVOKE)
        assert link.stats()["replays"] == 1


def test_fault_is_reported_and_exits(tmp_path):
    res = build_fake(BOARD, tmp_path, extra_defines=["FAKE_FAULT=1"])
    with virtual_board(BOARD, res.elf) as (link, session):
        check_still_works(link)
        x = np.zeros(128, np.int8)
        x[:2] = 127
        with pytest.raises(L.DeviceFault) as e:
            link.run([x.tobytes()])
        f = e.value.fault
        assert f["name"] == "UsageFault" and f["cfsr"] & (1 << 16)   # UNDEFINSTR
        assert res.elf.exists() and f["pc"] != 0
        assert session.wait(10) == 100 + 4


def test_no_reply_times_out_with_a_clear_error(elf, tmp_path):
    import os
    import pty

    master, slave = pty.openpty()           # a port where nothing answers
    try:
        with L.Link(os.ttyname(slave), timeout=0.2, retries=1) as link:
            with pytest.raises(L.LinkTimeout, match="no handshake"):
                link.connect(timeout=0.6)
    finally:
        os.close(master)
        os.close(slave)


def test_load_from_host_file_is_bounded_and_matches_uart(elf, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4)      # 1024 bytes for a 128-byte input
    x = np.random.default_rng(9).integers(-128, 128, 128, dtype=np.int8)
    with virtual_board(BOARD, elf) as (link, _):
        end = struct.unpack("<I", link.request(
            L.CMD_LOAD, struct.pack("<BI", 0, 100) + str(big).encode()))[0]
        assert end == 128                       # read stops at the tensor's end
        check_still_works(link)
        uart = link.run([x.tobytes()])
        link.fast_load = True
        fast = link.run([x.tobytes()])
        assert link.fast_load                   # it really took the semihosting path
        assert fast.outputs == uart.outputs and fast.cycles == uart.cycles


def test_stack_overflow_is_caught_on_armv8m(tmp_path):
    """M33/M55 arm MSPLIM at the stack's limit: an overflow is a UsageFault (STKOF) reported
    over the link, not silent corruption of the memory below the stack."""
    res = build_fake("qemu-m55", tmp_path, extra_defines=["FAKE_FAULT=1"])
    with virtual_board("qemu-m55", res.elf) as (link, session):
        check_still_works(link)
        x = np.zeros(128, np.int8)
        x[:2] = 126
        with pytest.raises(L.DeviceFault) as e:
            link.run([x.tobytes()])
        assert e.value.fault["name"] == "UsageFault"
        assert e.value.fault["cfsr"] & (1 << 20)    # UFSR.STKOF
        assert session.wait(10) == 104
