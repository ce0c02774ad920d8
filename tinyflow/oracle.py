"""The oracle: TFLM's reference kernels, compiled for the host by the tflite-micro package.

Everything tinyflow claims about bit-exactness is measured against this interpreter. It
also gives the arena TFLM itself would allocate, which `tinyflow check` shows beside our
plan. TFLM reports problems on the C-level stderr, so calls capture fd 2 and turn failures
into TinyflowError carrying TFLM's own message.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from tinyflow.errors import TinyflowError

_ARENA_RE = re.compile(r"Arena allocation total (\d+) bytes")
_HEAD_RE = re.compile(r"Arena allocation head (\d+) bytes")
_TAIL_RE = re.compile(r"Arena allocation tail (\d+) bytes")


@contextlib.contextmanager
def capture_stderr_fd() -> Iterator[list[str]]:
    """Capture what C code writes to file descriptor 2 (Python's redirect can't)."""
    out: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def _tflm_lines(text: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


class TflmOracle:
    """A tflite-micro interpreter for one model.

    arena_size=None sizes the arena automatically: a generous first try, then the arena
    TFLM reports it used (plus slack for alignment) is recorded in `arena_bytes`.
    """

    def __init__(self, model: bytes | str | Path, arena_size: int | None = None):
        from tflite_micro.python.tflite_micro import runtime

        self._runtime = runtime
        if isinstance(model, (str, Path)):
            model = Path(model).read_bytes()
        self.model_bytes = bytes(model)
        from tinyflow.ir import parse_model

        ir = parse_model(self.model_bytes)  # validates first: TFLM aborts on some bad input
        self.n_inputs, self.n_outputs = len(ir.inputs), len(ir.outputs)
        size = arena_size or max(len(self.model_bytes) * 4, 1 << 20)
        self.interpreter = self._make(size)
        self.arena_size = size
        self._allocations: str | None = None

    def _make(self, arena_size: int):
        with capture_stderr_fd() as err:
            try:
                return self._runtime.Interpreter.from_bytes(
                    self.model_bytes, arena_size=arena_size,
                    intrepreter_config=self._runtime.InterpreterConfig.kAllocationRecording)
            except (RuntimeError, ValueError) as e:
                failure = e
        raise TinyflowError(f"tflite-micro could not load the model: {failure}; "
                            f"TFLM says: {_tflm_lines(err[0])}",
                            hint="an op TFLM lacks, a wrong dtype or a too-small arena")

    # -- running -------------------------------------------------------------------------
    def input_details(self, i: int = 0) -> dict:
        return self.interpreter.get_input_details(i)

    def output_details(self, i: int = 0) -> dict:
        return self.interpreter.get_output_details(i)

    def invoke(self, inputs: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run one inference; `inputs` is one array or one per model input."""
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        if len(inputs) != self.n_inputs:
            raise TinyflowError(f"the model has {self.n_inputs} inputs, got {len(inputs)}")
        for i, x in enumerate(inputs):
            d = self.input_details(i)
            x = np.asarray(x)
            if x.dtype != d["dtype"] or x.size != int(np.prod(d["shape"])):
                raise TinyflowError(f"input {i}: got {x.dtype} {list(x.shape)}, the model wants "
                                    f"{np.dtype(d['dtype']).name} {list(d['shape'])}")
            self.interpreter.set_input(x.reshape(d["shape"]), i)
        with capture_stderr_fd() as err:
            try:
                self.interpreter.invoke()
                failure = None
            except RuntimeError as e:
                failure = e
        if failure is not None:
            raise TinyflowError(f"tflite-micro failed to invoke the model: {failure}; "
                                f"TFLM says: {_tflm_lines(err[0])}")
        return [np.array(self.interpreter.get_output(i)) for i in range(self.n_outputs)]

    # -- memory --------------------------------------------------------------------------
    def allocations(self) -> str:
        """TFLM's RecordingMicroAllocator report (needs one invoke first to be complete)."""
        if self._allocations is None:
            with capture_stderr_fd() as err:
                self.interpreter.print_allocations()
            self._allocations = err[0]
        return self._allocations

    @property
    def arena_bytes(self) -> int:
        """Arena TFLM actually allocated on this (64-bit) host: head + tail."""
        m = _ARENA_RE.search(self.allocations())
        if not m:
            raise TinyflowError("tflite-micro did not report its arena allocation")
        return int(m.group(1))

    @property
    def arena_head_bytes(self) -> int | None:
        """The planned activation part of TFLM's arena (comparable to our plan)."""
        m = _HEAD_RE.search(self.allocations())
        return int(m.group(1)) if m else None


def tflm_arena(model: bytes | str | Path, timeout: float = 120.0) -> dict[str, int | None]:
    """Measure TFLM's arena for a model: construct, invoke once on zeros, read the report.

    Runs in a child process: TFLM aborts the whole process on some models (a failed
    internal check), and a budget check must report that, not die with it.
    """
    import json
    import subprocess
    import sys

    data = Path(model).read_bytes() if isinstance(model, (str, Path)) else bytes(model)
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        try:
            r = subprocess.run([sys.executable, "-m", "tinyflow.oracle", f.name],
                               check=False, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise TinyflowError(f"tflite-micro did not finish within {timeout:.0f} s") from e
    if r.returncode < 0:
        raise TinyflowError(f"tflite-micro crashed on this model (signal {-r.returncode}); "
                            "TFLM aborts on failed internal checks, e.g. a degenerate quantization "
                            "scale from an untrained model",
                            hint="train the model or check its quantization with tinyflow inspect")
    if r.returncode != 0:
        detail = r.stdout.strip().splitlines()[-1:] or _tflm_lines(r.stderr).split(" | ")[-1:]
        raise TinyflowError(f"tflite-micro failed on this model (exit {r.returncode}): "
                            f"{detail[0] if detail else 'no message'}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _measure_in_process(path: str) -> dict[str, int | None]:
    o = TflmOracle(path)
    o.invoke([np.zeros(d["shape"], dtype=d["dtype"])
              for d in (o.input_details(i) for i in range(o.n_inputs))])
    return {"total": o.arena_bytes, "head": o.arena_head_bytes}


if __name__ == "__main__":
    import json
    import sys

    try:
        print(json.dumps(_measure_in_process(sys.argv[1])))
    except TinyflowError as e:
        print(str(e).splitlines()[0])
        sys.exit(3)
