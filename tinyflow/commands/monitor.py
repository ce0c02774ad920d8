"""`tinyflow monitor`: watch a board's serial port; log lines and decoded protocol frames.

Frames from the firmware are shown one per line (LOG text, FAULT registers, replies by
command); bytes outside any valid frame are shown as text. --hello sends a handshake first
and prints what the firmware reports. For a virtual board started with
`tinyflow flash --detach`, the port is found automatically.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json

NAMES = {0x01: "HELLO", 0x02: "WRITE", 0x03: "INVOKE", 0x04: "READ", 0x05: "PROFILE",
         0x06: "STATS", 0x07: "EXIT", 0x08: "ECHO"}


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p, required=False)
    p.add_argument("-p", "--port", help="serial port (default: from the board's USB id, or "
                                        "the detached QEMU's pty)")
    p.add_argument("--baud", type=int, help="baud rate (default: the board file's)")
    p.add_argument("--hello", action="store_true", help="send a handshake and print it")
    p.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    add_json(p)


def describe(cmd: int, seq: int, payload: bytes) -> str:
    from tinyflow import link as L

    if cmd == L.MSG_LOG:
        return f"LOG   {payload.decode('utf-8', 'replace')}"
    if cmd == L.MSG_FAULT:
        f = L.parse_fault(payload)
        regs = " ".join(f"{k}=0x{v:08x}" for k, v in f.items() if k not in ("kind", "name"))
        return f"FAULT {f['name']}: {regs}"
    if cmd == L.MSG_ERROR and len(payload) >= 2:
        return (f"ERROR seq {seq}: {L.ERRORS.get(payload[0], payload[0])} "
                f"(cmd 0x{payload[1]:02x})")
    base = cmd & 0x7F
    kind = "reply" if cmd & L.REPLY else "request"
    return f"{NAMES.get(base, f'cmd 0x{base:02x}')} {kind} seq {seq}, {len(payload)} bytes"


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from tinyflow import link as L
    from tinyflow.boards import get_board
    from tinyflow.errors import TinyflowError

    board = get_board(args.board, args.boards_dir) if args.board else None
    port = args.port
    if port is None:
        if board is None:
            raise TinyflowError("give --port or --board")
        if board.is_virtual:
            from tinyflow.runners.qemu import read_detached

            d = read_detached(board.name)
            if not d:
                raise TinyflowError(f"no detached QEMU for {board.name}",
                                    hint=f"tinyflow flash --board {board.name} --detach")
            port = d["port"]
        else:
            from tinyflow.device import find_port

            port = find_port(board)
    baud = args.baud or (board.console.baud if board else 115200)
    link = L.Link(port, baudrate=baud)
    link.open()
    if not args.json:
        print(f"monitoring {port} at {baud} baud (Ctrl-C to stop)", flush=True)
    if args.hello:
        info = link.connect(timeout=10)
        if args.json:
            print(json.dumps({"hello": info.to_dict()}), flush=True)
        else:
            print(f"HELLO {info.board} ({info.core}, {info.clock_hz / 1e6:g} MHz): model "
                  f"{info.model} {info.model_hash}, arena {info.arena_bytes:,} B, "
                  f"{info.n_layers} layers, inputs "
                  f"{[(t.dtype, list(t.shape)) for t in info.inputs]}, outputs "
                  f"{[(t.dtype, list(t.shape)) for t in info.outputs]}; {info.build}",
                  flush=True)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    buf = bytearray()
    try:
        while deadline is None or time.monotonic() < deadline:
            chunk = link.ser.read(max(1, link.ser.in_waiting))
            buf += chunk
            while b"\x00" in buf:
                i = buf.index(0)
                raw, buf = bytes(buf[:i]), buf[i + 1:]
                if not raw:
                    continue
                f = L.decode_frame(raw)
                if args.json:
                    rec = ({"cmd": f[0], "seq": f[1], "text": describe(*f)} if f
                           else {"raw": raw.hex()})
                    print(json.dumps(rec), flush=True)
                elif f:
                    print(describe(*f), flush=True)
                else:
                    print(f"text  {raw.decode('utf-8', 'replace')!r}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        link.close()
    return 0
