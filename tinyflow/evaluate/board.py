"""The board target: the firmware on a real board or a QEMU virtual board, over the link.

    info, workers, unit = board_workers("qemu-m7", "model.tflite", jobs=2)

For a virtual board, tinyflow builds the firmware for the model (cached by SCons) and each
worker starts its own QEMU on a pty (or uses one `tinyflow flash --detach` left running).
With `--port`, each port is one worker: a real board, or a QEMU started elsewhere, that
already runs this model's firmware. The handshake's board name and model hash are checked
against `--board` and the .tflite, so a stale firmware is an error, not wrong numbers.

Timing comes from the device: `cycles` of its own timer per inference. On a virtual board
those are converted to executed instructions (QEMU -icount), and the results say so.

On a virtual board started here, inputs go through a host file and semihosting (LOAD,
docs/protocol.md) instead of the emulated UART (`uart=False`, the default): the same
bytes reach the same tensor, several times faster. `uart=True` keeps the serial path that
a real board uses. `raw_audio=True` (speech emotion) builds the SER firmware (front end +
network, `tinyflow.ser_app`) and sends each clip's int16 audio instead of features.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError
from tinyflow.evaluate.targets import Inference, Target

log = logging.getLogger("tinyflow.evaluate")

_NP = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
       "float32": np.float32}


class BoardTarget:
    """One board (or QEMU instance) behind a `tinyflow.link.Link`."""

    role = "device"

    def __init__(self, port: Any, model_sha256: str, name: str, *, baudrate: int = 115200,
                 icount_shift: int | None = None, session: Any = None, timeout: float = 2.0,
                 connect_timeout: float = 15.0, sample_retries: int = 3,
                 invoke_timeout: float = 30.0, window: int | None = None,
                 expect_board: str | None = None, fast_load: bool = False):
        from tinyflow.link import Link

        self.name = name
        self.session = session
        self.sample_retries = sample_retries
        self.recovered = 0          # samples redone after the link lost or damaged a frame
        # How long to wait for an INVOKE reply before asking again. A lost INVOKE frame
        # costs this much, so after the first sample it shrinks to the link timeout plus
        # twenty times the fastest whole sample seen. The fastest, not the slowest: a
        # sample slowed by retries must not stretch the timeout (that feeds on itself).
        self.invoke_timeout = invoke_timeout
        self._fastest = float("inf")
        self.link = Link(port, baudrate=baudrate, timeout=timeout, icount_shift=icount_shift,
                         fast_load=fast_load)
        try:
            self.hello = self.link.connect(timeout=connect_timeout)
        except BaseException:
            self.close()
            raise
        from tinyflow.evaluate.pipeline import default_window

        # Bytes in flight when pipelining (0 = one request at a time), see pipeline.py.
        self.window = default_window(self.hello.max_payload) if window is None else window
        if expect_board is not None and self.hello.board != expect_board:
            self.close()
            raise TinyflowError(
                f"{name} runs firmware built for board {self.hello.board}, not {expect_board}",
                hint=f"pass --board {self.hello.board}, or flash the firmware for {expect_board}")
        if self.hello.model_hash != model_sha256[:16]:
            self.close()
            raise TinyflowError(
                f"{name} runs model {self.hello.model} (hash {self.hello.model_hash}), not the "
                f"model being evaluated (hash {model_sha256[:16]})",
                hint="build and flash this model first: tinyflow build / tinyflow flash")

    def info_dict(self) -> dict[str, Any]:
        d = self.hello.to_dict()
        return {**{k: d[k] for k in ("board", "core", "build", "clock_hz", "virtual", "dwt",
                                     "arena_bytes", "stack_bytes", "n_layers", "model",
                                     "model_hash", "max_payload")},
                "input_path": "semihosting" if self.link.fast_load else "uart"}

    def info(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, **self.info_dict()}

    def _run_one(self, data: list[bytes]) -> Any:
        """One sample: upload, invoke, download. If the link gives up on a request (every
        retry lost or damaged), the whole sample is redone from its first byte: each step
        only overwrites state, so a redo cannot mix two samples."""
        from tinyflow.link import DeviceError, LinkTimeout

        for attempt in range(self.sample_retries + 1):
            try:
                t0 = time.perf_counter()
                r = self.link.run(data, timeout=self.invoke_timeout)
                self._note_time(time.perf_counter() - t0)
                return r
            except (LinkTimeout, DeviceError) as e:
                if attempt == self.sample_retries:
                    raise
                log.warning("%s: %s; redoing the sample", self.name, e)
                self.recovered += 1
                try:
                    self.link.connect(timeout=5 * self.link.timeout)
                except LinkTimeout:
                    pass
        raise AssertionError("unreachable")

    def _note_time(self, seconds: float) -> None:
        self._fastest = min(self._fastest, seconds)
        self.invoke_timeout = self.link.timeout + 20 * self._fastest

    def final_stats(self) -> dict[str, Any]:
        d = {"recovered_samples": self.recovered, "stale_frames": self.link.stale_frames,
             "bad_frames": self.link.bad_frames}
        try:
            d["device"] = self.link.stats()
        except Exception:  # noqa: BLE001 - best effort: the link may be gone
            pass
        return d

    def run(self, batch: Sequence[Sequence[np.ndarray]]) -> list[Inference]:
        from tinyflow.evaluate.pipeline import run_pipelined

        data = [[np.ascontiguousarray(x).tobytes() for x in inputs] for inputs in batch]
        t0 = time.perf_counter()
        if self.window:
            results = run_pipelined(self.link, data, self.window, self.invoke_timeout)
            if all(r is not None for r in results):
                self._note_time((time.perf_counter() - t0) / max(1, len(data)))
        else:
            results = [None] * len(data)
        out = []
        for d, r in zip(data, results):
            if r is None:
                if self.window:
                    self.recovered += 1
                    log.info("%s: a pipelined sample lost a reply; redoing it", self.name)
                r = self._run_one(d)
            outs = [np.frombuffer(o, _NP.get(t.dtype, np.int8)).reshape(t.shape)
                    for o, t in zip(r.outputs, self.hello.outputs)]
            cost = r.instructions if r.instructions is not None else r.cycles
            out.append(Inference(outs, cycles=cost, stack_bytes=r.stack_used))
        per_sample = (time.perf_counter() - t0) * 1e6 / max(1, len(batch))
        for inf in out:
            inf.host_us = per_sample      # pipelined: only the batch's wall time is meaningful
        return out

    def measure_link(self, payload: int | None = None, rounds: int = 4) -> dict[str, Any]:
        """Raw throughput of this link, measured now: whole inputs streamed as WRITE frames
        (host → device, no inference) and ECHO round trips (device → host)."""
        from tinyflow.link import LinkError

        try:
            return self._measure_link(payload, rounds)
        except LinkError as e:
            # A throughput figure from a link that loses frames would be fiction.
            return {"target": self.info_dict(), "error": str(e).splitlines()[0]}

    def _measure_link(self, payload: int | None, rounds: int) -> dict[str, Any]:
        from tinyflow.evaluate.pipeline import default_window, stream_upload

        info = self.hello
        size = info.inputs[0].bytes
        data = (bytes(range(256)) * (size // 256 + 1))[:size]
        # Up: whole inputs streamed the way the eval streams them, minus the inference.
        t_up = stream_upload(self.link, data, rounds, default_window(info.max_payload))
        if t_up is None:
            return {"target": self.info_dict(), "error": "frames lost while measuring"}
        # Down: ECHO round trips (the device's replies are small in an eval anyway).
        n = min(payload or info.max_payload - 8, info.max_payload - 8)
        echo = data[:n] if len(data) >= n else (data * (n // max(1, len(data)) + 1))[:n]
        t0 = time.perf_counter()
        for _ in range(rounds):
            if self.link.echo(echo) != echo:
                raise TinyflowError(f"{self.name}: the link corrupted an ECHO of {n} bytes")
        t_echo = (time.perf_counter() - t0) / rounds
        t_up_n = t_up * n / size
        # The echo's way back is what remains after the same bytes' way up; when that
        # drowns in noise (device -> host is much faster on QEMU), say so.
        t_down = t_echo - t_up_n
        return {"target": self.info_dict(), "bytes": size, "rounds": rounds,
                "up_Bps": size / t_up,
                "down_Bps": n / t_down if t_down > 0.1 * t_echo else None,
                "echo_Bps": 2 * n / t_echo}

    def close(self) -> None:
        try:
            self.link.close()
        finally:
            if self.session is not None:
                self.session.stop()
                self.session = None


def firmware_for(board: Any, model_path: Path, out_dir: Path | None = None) -> Path:
    """Generate the model's C and build the firmware for `board` (SCons skips what is
    up to date). Returns the ELF."""
    from tinyflow.build import build_firmware
    from tinyflow.codegen import c_name, generate
    from tinyflow.ir import load_model

    model = load_model(model_path)
    name = c_name(model.name)            # the run's model name, not the .tflite stem
    out = out_dir or Path("build") / board.name / f"{name}-{model.sha256[:8]}"
    gen = generate(model, out / "model", name=name)
    return build_firmware(board, [gen.c_file], out / "fw", model_name=name).elf


def ser_params(model_path: Path, features: dict[str, Any] | None = None) -> Any:
    """The front-end parameters of a SER model: `features` (as recorded in a run's
    config.json), else the config.json beside the model (tinyflow.ser_app)."""
    from tinyflow.features import LogMelParams
    from tinyflow.ser_app import params_for_model

    return LogMelParams.from_dict(features) if features else params_for_model(model_path)


def board_workers(board_name: str, model_path: str | Path, *, ports: Sequence[str] | None = None,
                  jobs: int = 1, boards_dir: list[str] | None = None,
                  elf: Path | None = None, port_wrapper: Callable[[str], Any] | None = None,
                  link_timeout: float = 2.0, invoke_timeout: float = 30.0,
                  window: int | None = None, uart: bool = False, raw_audio: bool = False,
                  features: dict[str, Any] | None = None,
                  max_clip_seconds: float | None = None,
                  ) -> tuple[dict[str, Any], list[Callable[[], Target]], str]:
    """(board record for the results header, one target factory per worker, cycle unit).

    `port_wrapper` turns a port path into what the link opens (tests put a fault-injecting
    proxy there); by default the path itself. `uart`: virtual boards get their inputs over
    the emulated UART, as a real board does, instead of through semihosting. `raw_audio`:
    the SER firmware with the front end; each sample is sent as int16 audio (`features`:
    the run's log-mel parameters, default the config.json beside the model).
    """
    from tinyflow.boards import get_board
    from tinyflow.ir import load_model
    from tinyflow.ui import status

    board = get_board(board_name, boards_dir)
    model_path = Path(model_path)
    net = load_model(model_path)
    sha = net.sha256
    wrap = port_wrapper or (lambda p: p)
    record = {"name": board.name, "core": board.core, "clock_hz": board.clock_hz,
              "virtual": board.is_virtual, "baud": board.console.baud,
              "input": "raw_audio" if raw_audio else "tensor"}
    params = ser_params(model_path, features) if raw_audio else None
    if raw_audio:
        from tinyflow.ser_app import make_audio_target

        record["features"] = params.to_dict()

    def target(port: Any, name: str, **kw: Any) -> Target:
        """A board target, or the SER audio target (the same constructor plus params)."""
        kw.setdefault("baudrate", board.console.baud)
        kw.update(timeout=link_timeout, invoke_timeout=invoke_timeout, window=window,
                  expect_board=board.name)
        if raw_audio:
            if max_clip_seconds:
                kw["max_clip_seconds"] = max_clip_seconds
            return make_audio_target(port, sha, name, params, **kw)
        return BoardTarget(port, sha, name, **kw)

    if ports:
        # Boards already running this model's firmware: real ones, or QEMU instances
        # started elsewhere (tinyflow flash --detach prints the pty).
        shift = board.qemu.icount_shift if board.is_virtual else None
        if shift is not None:
            record["icount_shift"] = shift
        # Ports: the serial path always (a real board, or a QEMU whose host may be another).
        return record, [lambda p=p: target(wrap(p), p, icount_shift=shift)
                        for p in ports], "instructions" if board.is_virtual else "cycles"
    if board.is_virtual:
        from tinyflow.runners import get_runner

        record["icount_shift"] = board.qemu.icount_shift
        fast = not uart and not raw_audio      # the SER app takes audio over the link
        record["input_path"] = "semihosting" if fast else "uart"
        runner = get_runner(board)
        runner.check()
        built: list[Path] = [elf] if elf is not None else []
        build_lock = threading.Lock()

        def firmware() -> Path:
            # Built on first need (not at all when a detached board runs the model),
            # once, whichever worker gets here first.
            with build_lock:
                if not built:
                    status(f"building the firmware for {board.name} ...")
                    if raw_audio:
                        from tinyflow.ser_app import build_ser_firmware

                        built.append(build_ser_firmware(board, params, net).elf)
                    else:
                        built.append(firmware_for(board, model_path))
                return built[0]

        detached = None
        if jobs <= 1:
            from tinyflow.runners.qemu import read_detached

            detached = read_detached(board.name)

        def start(k: int) -> Target:
            if k == 0 and detached is not None:
                # `tinyflow flash --detach` left this board running: use it if it runs
                # this model, and leave it running afterwards.
                try:
                    return target(wrap(detached["port"]), f"{board.name}#0",
                                  icount_shift=board.qemu.icount_shift, connect_timeout=5.0,
                                  **({} if raw_audio else {"fast_load": fast}))
                except TinyflowError as e:
                    status(f"not using the detached {board.name} ({e.message}); "
                           "starting a new one")
            session = runner.start(firmware())
            try:
                port = wrap(session.port)
            except BaseException:
                session.stop()
                raise
            return target(port, f"{board.name}#{k}", icount_shift=board.qemu.icount_shift,
                          session=session, **({} if raw_audio else {"fast_load": fast}))

        return record, [lambda k=k: start(k) for k in range(max(1, jobs))], "instructions"
    raise TinyflowError(f"evaluating on {board.name} needs --port (the board's serial port)",
                        hint="flash it first (tinyflow flash), then pass --port /dev/ttyACM0; "
                             "repeat --port for several boards")
