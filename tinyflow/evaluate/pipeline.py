"""Pipelined samples over the TFP link: no waiting for each frame's reply.

`Link.run` does one request at a time: upload chunk, wait, ..., invoke, wait, read, wait.
Each wait is a round trip, and while the board infers, the line is idle. Here every frame
of a batch is queued at once (WRITE chunks, INVOKE, READ per sample) and sent as fast as a
byte window allows, while replies are collected as they come. The next sample's upload
then travels while the board is still computing the current one.

Why this is safe: the firmware handles frames strictly in arrival order, one at a time.
So if every reply of a sample arrived intact and in order -- all WRITE acks at the right
offsets, the INVOKE status, the READ bytes -- its inference ran on exactly its own input,
whatever happened to the samples around it. A sample with any missing, damaged or error
reply is returned as None, and the caller redoes it on the request/reply path.

Two limits keep the firmware's 2 KiB receive ring (firmware/boards/cortex_m/console.c)
from overflowing; its interrupt handler keeps filling the ring while the main loop is busy,
on QEMU as on silicon, and an overflow loses bytes:
- `window`: bytes sent and not yet answered. While the board only handles WRITEs it
  empties the ring as fast as bytes come, so two full frames may travel at once.
- `busy_window`: bytes sent after an INVOKE that has not been answered yet. Those wait
  in the ring for the whole inference, so they must fit in it with room to spare.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tinyflow.link import (
    CMD_INVOKE,
    CMD_LOAD,
    CMD_READ,
    CMD_WRITE,
    REPLY,
    Link,
    RunResult,
    encode_frame,
)

BUSY_WINDOW = 1536          # under the firmware's 2 KiB receive ring
MAX_FRAMES = 128            # frames in flight, so sequence numbers (mod 256) stay unique
_LOST = object()


def default_window(max_payload: int) -> int:
    """Two full WRITE frames (COBS and framing add a few bytes) plus small ones."""
    return 2 * (max_payload + 16) + 64


@dataclass
class _Frame:
    sample: int
    cmd: int
    seq: int
    wire: bytes
    check: Any               # payload -> parsed value, or raises ValueError


def _write_ack(end: int):
    def check(body: bytes) -> int:
        if len(body) != 4 or struct.unpack("<I", body)[0] != end:
            raise ValueError("bad WRITE acknowledgement")
        return end
    return check


def _plan(link: Link, samples: Sequence[Sequence[bytes]]) -> list[_Frame]:
    info = link.info
    assert info is not None
    chunk = info.max_payload - 5
    frames: list[_Frame] = []

    def add(k: int, cmd: int, payload: bytes, check) -> None:
        link.seq = (link.seq + 1) & 0xFF
        frames.append(_Frame(k, cmd, link.seq, encode_frame(cmd, link.seq, payload), check))

    # Virtual boards with fast_load: one LOAD frame per input (a host file, read through
    # semihosting) instead of the WRITE chunks; each sample of the batch has its own file.
    fast = bool(getattr(link, "fast_load", False)) and info.virtual
    for k, inputs in enumerate(samples):
        for i, data in enumerate(inputs):
            if fast:
                add(k, CMD_LOAD, link.load_payload(i, data, f"-{k}"), _write_ack(len(data)))
                continue
            for off in range(0, max(len(data), 1), chunk):
                part = data[off:off + chunk]
                add(k, CMD_WRITE, struct.pack("<BI", i, off) + part, _write_ack(off + len(part)))

        def invoked(body: bytes) -> tuple:
            if len(body) != 24:
                raise ValueError("bad INVOKE reply")
            r = struct.unpack("<iQIII", body)
            if r[0] != 0:
                raise ValueError(f"tf_model_invoke returned {r[0]}")
            return r

        add(k, CMD_INVOKE, b"", invoked)
        for o, t in enumerate(info.outputs):
            for off in range(0, t.bytes, info.max_payload):
                n = min(info.max_payload, t.bytes - off)

                def got(body: bytes, n=n) -> bytes:
                    if len(body) != n:
                        raise ValueError("short READ reply")
                    return body

                add(k, CMD_READ, struct.pack("<BIH", o, off, n), got)
    return frames


def _exchange(link: Link, frames: list[_Frame], window: int, busy_window: int,
              wait_for: float) -> list[Any]:
    """Send `frames` under the windows and collect their replies in order. Returns, per
    frame, the checked reply value, or _LOST for a frame whose reply was missing, damaged
    or an error."""
    values: list[Any] = [_LOST] * len(frames)
    sent = 0            # frames written
    done = 0            # frames answered (or given up)
    in_flight = 0       # bytes written and not yet answered
    deadline = time.monotonic() + wait_for
    while done < len(frames):
        while sent < len(frames):
            size = len(frames[sent].wire)
            if sent > done:
                if in_flight + size > window or sent - done >= MAX_FRAMES:
                    break
                inv = next((j for j in range(done, sent) if frames[j].cmd == CMD_INVOKE), None)
                if inv is not None and sum(len(f.wire) for f in frames[inv + 1:sent]) + size \
                        > busy_window:
                    break
            link.ser.write(frames[sent].wire)
            in_flight += size
            sent += 1
        link.ser.flush()
        f = link.read_frame(deadline)
        if f is None:
            break                           # nothing for a whole timeout: the rest is lost
        cmd, seq, body = f
        if link.handle_unsolicited(cmd, body):    # logs and faults
            continue
        # Replies come in order; one for a later frame means the earlier ones were lost.
        idx = next((j for j in range(done, sent) if frames[j].seq == seq), None)
        if idx is None:
            link.stale_frames += 1
            continue
        fr = frames[idx]
        if cmd == (fr.cmd | REPLY):
            try:
                values[idx] = fr.check(body)
            except ValueError:
                pass
        in_flight -= sum(len(x.wire) for x in frames[done:idx + 1])
        done = idx + 1
        deadline = time.monotonic() + wait_for
    return values


def run_pipelined(link: Link, samples: Sequence[Sequence[bytes]], window: int,
                  invoke_timeout: float, busy_window: int = BUSY_WINDOW
                  ) -> list[RunResult | None]:
    """Run every sample; None for a sample whose replies were not all intact."""
    info = link.info
    assert info is not None
    frames = _plan(link, samples)
    values = _exchange(link, frames, window, busy_window, invoke_timeout + link.timeout)
    results: list[dict[str, Any]] = [{"ok": True, "out": [], "inv": None} for _ in samples]
    for fr, v in zip(frames, values):
        r = results[fr.sample]
        if v is _LOST:
            r["ok"] = False
        elif fr.cmd == CMD_INVOKE:
            r["inv"] = v
        elif fr.cmd == CMD_READ:
            r["out"].append(v)

    out: list[RunResult | None] = []
    n_out = [(t.bytes + info.max_payload - 1) // info.max_payload for t in info.outputs]
    for r in results:
        if not r["ok"] or r["inv"] is None or len(r["out"]) != sum(n_out):
            out.append(None)
            continue
        chunks, outputs = r["out"], []
        for n in n_out:
            outputs.append(b"".join(chunks[:n]))
            chunks = chunks[n:]
        status, cycles, used, size, _ = r["inv"]
        out.append(RunResult(outputs, cycles, link.to_instructions(cycles), used, size))
    return out




def stream_upload(link: Link, data: bytes, rounds: int, window: int) -> float | None:
    """Seconds per upload of `data` into input 0 as streamed WRITE frames (the eval's own
    upload path, without inference): the raw host -> device capacity of this link. None
    if a frame was lost (a figure from a lossy measurement would be fiction)."""
    frames = _plan_writes(link, data, rounds)
    t0 = time.perf_counter()
    values = _exchange(link, frames, window, BUSY_WINDOW, link.timeout)
    dt = time.perf_counter() - t0
    return None if any(v is _LOST for v in values) else dt / rounds


def _plan_writes(link: Link, data: bytes, rounds: int) -> list[_Frame]:
    assert link.info is not None
    chunk = link.info.max_payload - 5
    frames = []
    for _ in range(rounds):
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            link.seq = (link.seq + 1) & 0xFF
            frames.append(_Frame(0, CMD_WRITE, link.seq,
                                 encode_frame(CMD_WRITE, link.seq,
                                              struct.pack("<BI", 0, off) + part),
                                 _write_ack(off + len(part))))
    return frames


__all__ = ["BUSY_WINDOW", "default_window", "run_pipelined", "stream_upload"]
