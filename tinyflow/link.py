"""The serial link, host side: tinyflow protocol (TFP) frames over a pyserial port.

The same code talks to /dev/ttyACM0 on a real board and to the pty of a QEMU virtual board.
Wire format (docs/protocol.md, firmware/protocol/tfp.c): 0x00, COBS(cmd, seq, payload,
CRC-32 LE), 0x00. Every request carries a sequence number that its reply echoes; replies with
another number (stale answers to an earlier retry) are dropped. A request that times out is
sent again with the same number, and the firmware answers a repeated request from its reply
cache instead of running it twice.

    with Link(port) as link:
        info = link.connect()                      # handshake: board, model, shapes, clock
        res = link.run([input_bytes])              # upload, invoke, download
        res.outputs, res.cycles, res.stack_used
"""

from __future__ import annotations

import logging
import struct
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import serial

from tinyflow.errors import TinyflowError

log = logging.getLogger("tinyflow.link")

PROTOCOL_VERSION = 1

CMD_HELLO, CMD_WRITE, CMD_INVOKE, CMD_READ = 0x01, 0x02, 0x03, 0x04
CMD_PROFILE, CMD_STATS, CMD_EXIT, CMD_ECHO, CMD_LOAD = 0x05, 0x06, 0x07, 0x08, 0x09
MSG_LOG, MSG_FAULT, MSG_ERROR, REPLY = 0x7D, 0x7E, 0x7F, 0x80

ERRORS = {1: "CRC mismatch", 2: "frame too long", 3: "frame too short or bad COBS",
          4: "unknown command", 5: "bad payload length", 6: "offset/length out of range",
          7: "no such tensor or layer", 8: "host file not available (not a virtual board?)"}
FAULTS = {1: "HardFault", 2: "MemManage", 3: "BusFault", 4: "UsageFault", 5: "NMI",
          6: "unexpected interrupt"}
FLAG_VIRTUAL, FLAG_DWT = 1, 2
DTYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8"}


# ------------------------------------------------------------------ errors

class LinkError(TinyflowError):
    """The link failed: timeout, closed port, device error reply or fault."""


class LinkTimeout(LinkError):
    pass


class LinkClosed(LinkError):
    """The port went away (QEMU exited, the board was unplugged)."""


class DeviceError(LinkError):
    def __init__(self, code: int, cmd: int):
        super().__init__(f"device rejected command 0x{cmd:02x}: "
                         f"{ERRORS.get(code, f'error {code}')}")
        self.code, self.cmd = code, cmd


class DeviceFault(LinkError):
    def __init__(self, fault: dict[str, Any]):
        regs = ", ".join(f"{k}=0x{v:08x}" for k, v in fault.items()
                         if k not in ("kind", "name"))
        super().__init__(f"the firmware crashed: {fault['name']} ({regs})",
                         hint="the pc is the faulting instruction: "
                              "arm-none-eabi-addr2line -e firmware.elf <pc>")
        self.fault = fault


# ------------------------------------------------------------------ framing

def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    out = bytearray([0])
    code_at, code = 0, 1
    for b in data:
        if b == 0:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at, code = len(out), 1
                out.append(0)
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        i += 1
        if code == 0 or i + code - 1 > len(data):
            return None
        out += data[i:i + code - 1]
        i += code - 1
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def encode_frame(cmd: int, seq: int, payload: bytes = b"") -> bytes:
    body = bytes([cmd, seq]) + payload
    return b"\x00" + cobs_encode(body + struct.pack("<I", crc32(body))) + b"\x00"


def decode_frame(raw: bytes) -> tuple[int, int, bytes] | None:
    """(cmd, seq, payload) of one frame without its 0x00 delimiters, or None if corrupt."""
    pkt = cobs_decode(raw)
    if pkt is None or len(pkt) < 6:
        return None
    body, crc = pkt[:-4], struct.unpack("<I", pkt[-4:])[0]
    if crc32(body) != crc:
        return None
    return body[0], body[1], body[2:]


# ------------------------------------------------------------------ results

@dataclass
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    scale: float
    zero_point: int


@dataclass
class TargetInfo:
    protocol: int
    max_payload: int
    clock_hz: int
    virtual: bool
    dwt: bool
    arena_bytes: int
    n_layers: int
    stack_bytes: int
    board: str
    core: str
    model: str
    model_hash: str
    build: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    n_inputs: int = 0   # the model's true counts; HELLO describes at most 8 of each
    n_outputs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class InvokeResult:
    status: int
    cycles: int            # core clock cycles (real boards); virtual-time ticks on QEMU
    stack_used: int        # deepest stack during the inference, bytes from the top
    stack_size: int
    profiled_layers: int


@dataclass
class RunResult:
    outputs: list[bytes]
    cycles: int
    instructions: int | None   # virtual boards: cycles converted with -icount (see docs)
    stack_used: int
    stack_size: int
    layer_cycles: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outputs"] = [list(o) for o in self.outputs]
        return d


# ------------------------------------------------------------------ the link

class Link:
    """A TFP connection over a serial port (a path, or an open pyserial object)."""

    def __init__(self, port: Any, baudrate: int = 115200, timeout: float = 2.0,
                 retries: int = 3, icount_shift: int | None = None, fast_load: bool = False):
        self.port_name = port if isinstance(port, str) else getattr(port, "port", "?")
        self._port_arg = port
        self.baudrate, self.timeout, self.retries = baudrate, timeout, retries
        self.icount_shift = icount_shift      # set for virtual boards: cycles -> instructions
        self.ser: Any = None
        self.seq = 0
        self.info: TargetInfo | None = None
        self.logs: list[str] = []
        self._buf = bytearray()
        self.stale_frames = 0
        self.bad_frames = 0
        # Virtual boards: inputs go through a host file and semihosting (LOAD) instead of
        # the emulated UART, which QEMU feeds one byte per main-loop turn. Outputs, timing
        # and every other request still use the serial link.
        self.fast_load = fast_load
        self._load_dir: Any = None

    # -- port
    def open(self) -> Link:
        if self.ser is None:
            if isinstance(self._port_arg, str):
                try:
                    self.ser = serial.Serial(self._port_arg, self.baudrate, timeout=0.05)
                except serial.SerialException as e:
                    raise LinkError(f"cannot open serial port {self._port_arg}: {e}",
                                    hint="check the port name and that nothing else has it "
                                         "open (tinyflow monitor, screen, ...)") from None
            else:
                self.ser = self._port_arg
                self.ser.timeout = 0.05
        return self

    def close(self) -> None:
        if self.ser is not None and isinstance(self._port_arg, str):
            self.ser.close()
        self.ser = None
        if self._load_dir is not None:
            self._load_dir.cleanup()
            self._load_dir = None

    def __enter__(self) -> Link:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- frames
    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (tests use it to send garbage)."""
        self.open()
        self.ser.write(data)
        self.ser.flush()

    def read_frame(self, deadline: float) -> tuple[int, int, bytes] | None:
        """The next valid frame, or None at the deadline. Corrupt frames are skipped.
        Public for protocols layered on the link (evaluate/pipeline.py)."""
        while True:
            while b"\x00" in self._buf:
                i = self._buf.index(0)
                raw, self._buf = bytes(self._buf[:i]), self._buf[i + 1:]
                if not raw:
                    continue
                frame = decode_frame(raw)
                if frame is None:
                    self.bad_frames += 1
                    log.debug("dropped a corrupt frame of %d bytes", len(raw))
                    continue
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                chunk = self.ser.read(max(1, self.ser.in_waiting))
            except (serial.SerialException, OSError) as e:
                raise LinkClosed(f"serial port {self.port_name} closed: {e}",
                                 hint="the firmware exited or crashed, or the board "
                                      "was unplugged") from None
            if chunk:
                self._buf += chunk
            if len(self._buf) > 1 << 16:     # a flood without delimiters: keep the tail
                del self._buf[:-4096]

    def handle_unsolicited(self, cmd: int, payload: bytes) -> bool:
        """True if the frame was a device log line (recorded); raises DeviceFault on a
        fault report; False for anything else (a reply)."""
        if cmd == MSG_LOG:
            text = payload.decode("utf-8", "replace")
            self.logs.append(text)
            log.info("device: %s", text)
            return True
        if cmd == MSG_FAULT:
            raise DeviceFault(parse_fault(payload))
        return False

    def request(self, cmd: int, payload: bytes = b"", timeout: float | None = None,
                retries: int | None = None) -> bytes:
        """Send one request and return its reply payload. Retries on timeout and on a CRC
        error reported by the device, with the same sequence number."""
        self.open()
        # 1..254: the device uses seq 0 for unsolicited frames and 0xFF for errors about
        # frames it could not read, so neither can be mistaken for our reply.
        self.seq = self.seq % 254 + 1
        seq = self.seq
        frame = encode_frame(cmd, seq, payload)
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            if attempt:
                log.debug("retry %d of cmd 0x%02x seq %d", attempt, cmd, seq)
            self.ser.write(frame)
            self.ser.flush()
            deadline = time.monotonic() + timeout
            while True:
                f = self.read_frame(deadline)
                if f is None:
                    break                     # timed out: resend
                rcmd, rseq, body = f
                if self.handle_unsolicited(rcmd, body):
                    continue
                if rseq != seq:
                    self.stale_frames += 1
                    continue
                if rcmd == MSG_ERROR and len(body) >= 2:
                    if body[0] == 1:          # CRC error: our frame was damaged, resend
                        break
                    raise DeviceError(body[0], body[1])
                if rcmd == cmd | REPLY:
                    return body
                self.stale_frames += 1
        raise LinkTimeout(f"no reply to command 0x{cmd:02x} from {self.port_name} after "
                          f"{retries + 1} attempts of {timeout:g} s",
                          hint="is the firmware running and the port right? "
                               "`tinyflow monitor` shows what the device sends")

    # -- commands
    def connect(self, timeout: float = 15.0) -> TargetInfo:
        """Handshake: send HELLO until the device answers (it may still be booting)."""
        self.open()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                body = self.request(CMD_HELLO, timeout=min(0.5, self.timeout), retries=0)
                self.info = parse_hello(body)
                if self.info.protocol != PROTOCOL_VERSION:
                    raise LinkError(f"firmware speaks protocol {self.info.protocol}, tinyflow "
                                    f"{PROTOCOL_VERSION}", hint="rebuild and reflash the firmware")
                return self.info
            except LinkTimeout as e:
                last = e
        raise LinkTimeout(f"no handshake from {self.port_name} within {timeout:g} s",
                          hint="check the port, the baud rate and that the board runs "
                               "tinyflow firmware") from last

    def hello(self) -> TargetInfo:
        self.info = parse_hello(self.request(CMD_HELLO))
        return self.info

    def write_input(self, index: int, data: bytes) -> None:
        chunk = (self.info.max_payload if self.info else 1024) - 5
        for off in range(0, max(len(data), 1), chunk):
            part = data[off:off + chunk]
            end = struct.unpack("<I", self.request(
                CMD_WRITE, struct.pack("<BI", index, off) + part))[0]
            if end != off + len(part):
                raise LinkError(f"device acknowledged input bytes up to {end}, "
                                f"expected {off + len(part)}")

    def load_payload(self, index: int, data: bytes, tag: str = "") -> bytes:
        """The LOAD request payload for `data` into input `index`: the bytes go to a host
        file (one per `tag`, so pipelined samples do not overwrite each other's)."""
        import tempfile
        from pathlib import Path

        if self._load_dir is None:
            self._load_dir = tempfile.TemporaryDirectory(prefix="tinyflow-load-")
        path = Path(self._load_dir.name) / f"input{index}{tag}.bin"
        path.write_bytes(data)
        return struct.pack("<BI", index, 0) + str(path.resolve()).encode()

    def load_input(self, index: int, data: bytes) -> None:
        """Virtual boards: put an input in place through a host file (semihosting)."""
        end = struct.unpack("<I", self.request(CMD_LOAD, self.load_payload(index, data)))[0]
        if end != len(data):
            raise LinkError(f"device loaded {end} bytes of input {index}, expected {len(data)}")

    def invoke(self, timeout: float = 120.0) -> InvokeResult:
        # One retry only: a timeout here usually means a slow or hung model, not a lost
        # frame, and every retry waits the full timeout again.
        status, cycles, used, size, n = struct.unpack("<iQIII", self.request(
            CMD_INVOKE, timeout=timeout, retries=1))
        return InvokeResult(status, cycles, used, size, n)

    def read_output(self, index: int, size: int | None = None) -> bytes:
        if size is None:
            if not self.info:
                self.hello()
            size = self.info.outputs[index].bytes
        chunk = self.info.max_payload if self.info else 1024
        out = bytearray()
        for off in range(0, size, chunk):
            n = min(chunk, size - off)
            out += self.request(CMD_READ, struct.pack("<BIH", index, off, n))
        return bytes(out)

    def profile(self, layers: int) -> list[int]:
        out: list[int] = []
        step = 256
        for first in range(0, layers, step):
            n = min(step, layers - first)
            body = self.request(CMD_PROFILE, struct.pack("<IH", first, n))
            out += list(struct.unpack(f"<{n}I", body))
        return out

    def stats(self) -> dict[str, int]:
        keys = ("frames", "crc_errors", "too_long", "short_frames", "unknown_cmds", "replays",
                "rx_overflows")
        return dict(zip(keys, struct.unpack("<7I", self.request(CMD_STATS))))

    def echo(self, data: bytes) -> bytes:
        return self.request(CMD_ECHO, data)

    def exit(self, code: int = 0) -> None:
        """Ask the firmware to end: QEMU exits with `code`, a real board resets."""
        try:
            self.request(CMD_EXIT, bytes([code & 0xFF]), retries=0, timeout=1.0)
        except (LinkClosed, LinkTimeout):
            pass  # the port may close before the acknowledgement arrives

    def to_instructions(self, cycles: int) -> int | None:
        """Virtual boards: QEMU's clock with -icount shift=N runs 2^N ns per instruction, so
        instructions = cycles * 1e9 / (clock_hz * 2^N). None on real boards."""
        if not self.info or not self.info.virtual or self.icount_shift is None:
            return None
        return round(cycles * 1e9 / (self.info.clock_hz * (1 << self.icount_shift)))

    def run(self, inputs: Sequence[bytes], profile: bool = False,
            timeout: float = 120.0) -> RunResult:
        """Upload every input, invoke, download every output."""
        if self.info is None:
            self.connect()
        assert self.info is not None
        if (self.info.n_inputs > len(self.info.inputs)
                or self.info.n_outputs > len(self.info.outputs)):
            raise LinkError(
                f"model {self.info.model} has {self.info.n_inputs} inputs and "
                f"{self.info.n_outputs} outputs; the serial protocol describes at most "
                f"{len(self.info.inputs)} and {len(self.info.outputs)}",
                hint="split the model, or evaluate it on the host (tinyflow invoke)")
        if len(inputs) != len(self.info.inputs):
            raise LinkError(f"model {self.info.model} takes {len(self.info.inputs)} input(s), "
                            f"got {len(inputs)}")
        for i, (data, ti) in enumerate(zip(inputs, self.info.inputs)):
            data = bytes(data)
            if len(data) != ti.bytes:
                raise LinkError(f"input {i} has {len(data)} bytes; the model expects "
                                f"{ti.bytes} ({ti.dtype} {list(ti.shape)})")
            if self.fast_load and self.info.virtual:
                try:
                    self.load_input(i, data)
                    continue
                except DeviceError as e:
                    if e.code != 8:
                        raise
                    log.info("LOAD not available; inputs go over the serial link")
                    self.fast_load = False
            self.write_input(i, data)
        r = self.invoke(timeout)
        if r.status != 0:
            raise LinkError(f"tf_model_invoke returned {r.status} on the device")
        outs = [self.read_output(i) for i in range(len(self.info.outputs))]
        layers = self.profile(r.profiled_layers) if profile and r.profiled_layers else []
        return RunResult(outs, r.cycles, self.to_instructions(r.cycles), r.stack_used,
                         r.stack_size, layers)


# ------------------------------------------------------------------ parsing

class _Reader:
    def __init__(self, data: bytes):
        self.data, self.i = data, 0

    def take(self, fmt: str) -> tuple:
        n = struct.calcsize(fmt)
        if self.i + n > len(self.data):
            raise LinkError("reply shorter than its format: firmware and host out of step",
                            hint="rebuild the firmware with this tinyflow version")
        v = struct.unpack_from(fmt, self.data, self.i)
        self.i += n
        return v

    def string(self) -> str:
        (n,) = self.take("<B")
        return bytes(self.take(f"<{n}s")[0]).decode("utf-8", "replace")


def parse_hello(body: bytes) -> TargetInfo:
    r = _Reader(body)
    proto, max_payload, clock, flags, arena, layers, stack = r.take("<HHIIIII")
    board, core, model, mhash, build = (r.string() for _ in range(5))
    ni, no = r.take("<BB")

    def tensor() -> TensorInfo:
        dtype, rank = r.take("<BB")
        dims = r.take(f"<{rank}i")
        nbytes, scale, zp = r.take("<Ifi")
        return TensorInfo(DTYPES.get(dtype, f"type{dtype}"), tuple(dims), nbytes,
                          round(scale, 9), zp)

    ins = [tensor() for _ in range(ni)]
    outs = [tensor() for _ in range(no)]
    n_in, n_out = r.take("<BB") if r.i + 2 <= len(body) else (ni, no)
    return TargetInfo(proto, max_payload, clock, bool(flags & FLAG_VIRTUAL),
                      bool(flags & FLAG_DWT), arena, layers, stack, board, core, model, mhash,
                      build, ins, outs, n_in, n_out)


def parse_fault(body: bytes) -> dict[str, Any]:
    vals = struct.unpack_from("<14I", body.ljust(56, b"\x00"))
    names = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr", "vector", "cfsr", "hfsr",
             "mmfar", "bfar")
    d: dict[str, Any] = {"kind": vals[0], "name": FAULTS.get(vals[0], f"fault {vals[0]}")}
    d.update(zip(names, vals[1:]))
    return d
