"""Run generated model C on the host: compile once (cached by content), call via ctypes.

    eng = HostEngine("person_det.tflite")
    y, = eng.invoke(x)             # one input array per model input
    acts = eng.intermediates(x)    # every layer's output tensor, for per-layer debugging

The shared library is the same generated C and the same kernels the firmware builds,
compiled with the host gcc. It is cached under build/host/<key>/ where the key hashes the
model and every source that shapes the generated code (codegen, planner, template,
kernels, compiler flags), so a second call costs a dlopen.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinyflow.errors import TinyflowError
from tinyflow.ir import Model, load_model, parse_model

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / "build" / "host"
# No -Werror here: a newer compiler's new warning must not break a user's run (the tests
# compile the same sources with -Werror).
CFLAGS = ["-std=c99", "-O3", "-fPIC", "-shared", "-Wall", "-Wextra",
          "-DTF_ARENA_SECTION=", "-DTF_PROFILE=1"]
_NP_DTYPES = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "uint8": np.uint8,
              "float32": np.float32, "int64": np.int64, "bool": np.bool_}


def _as_model(model: Model | str | Path | bytes) -> Model:
    if isinstance(model, Model):
        return model
    if isinstance(model, (bytes, bytearray)):
        return parse_model(bytes(model))
    return load_model(model)


def _source_fingerprint() -> str:
    h = hashlib.sha256()
    files = sorted((ROOT / "tinyflow" / "codegen").rglob("*.py"))
    files += [ROOT / "tinyflow" / "plan.py", ROOT / "templates" / "model.c.j2",
              ROOT / "firmware" / "include" / "tinyflow_model.h"]
    files += sorted((ROOT / "firmware" / "kernels").rglob("*.[ch]"))
    for f in files:
        if f.exists():
            h.update(f.relative_to(ROOT).as_posix().encode())
            h.update(f.read_bytes())
    h.update(" ".join(CFLAGS).encode())
    return h.hexdigest()


def build_host_library(model: Model, cache_dir: Path | None = None,
                       compiler: str | None = None, plan=None) -> Path:
    """Generate and compile `model` into a shared library; return its (cached) path.

    `plan` overrides the memory plan (e.g. to test a planner's in-place placements); it
    is part of the cache key."""
    from tinyflow.codegen import KERNEL_DIR, generate

    cc = compiler or os.environ.get("CC", "gcc")
    plan_key = "" if plan is None else repr((plan.arena_size, sorted(plan.offsets.items())))
    key = hashlib.sha256((model.sha256 + _source_fingerprint() + cc + plan_key).encode()
                         ).hexdigest()[:20]
    out = (cache_dir or CACHE_DIR) / key
    lib = out / "libmodel.so"
    if lib.exists():
        return lib
    if shutil.which(cc) is None:
        raise TinyflowError(f"C compiler '{cc}' not found", hint="install gcc or set $CC")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=out.parent))
    try:
        gm = generate(model, tmp, name="host", plan=plan)
        cmd = [cc, *CFLAGS, *(f"-I{d}" for d in gm.include_dirs),
               *map(str, gm.sources), str(KERNEL_DIR / "host" / "tf_host_shim.c"),
               "-o", str(tmp / "libmodel.so")]
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise TinyflowError(f"host compile of the generated model failed:\n{r.stderr[-4000:]}",
                                hint="this is a tinyflow bug; rerun with --debug")
        try:
            tmp.rename(out)          # atomic publish; a parallel builder may have won
        except OSError:
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return lib


# Every HostEngine of one model dlopens the same shared library, so all of them share its
# globals (arena, tensors, layer callback): two threads invoking "their" engine at once
# corrupt each other's results. One lock per library serialises them.
_LIB_LOCKS: dict[str, threading.RLock] = {}
_LIB_LOCKS_GUARD = threading.Lock()


def library_lock(lib_path: str | Path) -> threading.RLock:
    """The lock every HostEngine on this shared library holds while it runs."""
    with _LIB_LOCKS_GUARD:
        return _LIB_LOCKS.setdefault(str(Path(lib_path).resolve()), threading.RLock())


class HostEngine:
    """The tinyflow engine compiled for this machine, behind the same calls as the oracle.
    Thread-safe: engines sharing a library take turns (`library_lock`)."""

    def __init__(self, model: Model | str | Path | bytes, cache_dir: Path | None = None,
                 plan=None):
        from tinyflow.plan import plan_memory

        self.model = _as_model(model)
        self.plan = plan or plan_memory(self.model)
        self.lib_path = build_host_library(self.model, cache_dir, plan=plan)
        self.lib = ctypes.CDLL(str(self.lib_path))
        self.lib.tf_model_input.restype = ctypes.c_void_p
        self.lib.tf_model_input.argtypes = [ctypes.c_int]
        self.lib.tf_model_output.restype = ctypes.c_void_p
        self.lib.tf_model_output.argtypes = [ctypes.c_int]
        self.lib.tf_model_invoke.restype = ctypes.c_int
        self._cb_type = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
        self.arena_address = ctypes.addressof(ctypes.c_uint8.in_dll(self.lib, "tf_arena"))
        self.lock = library_lock(self.lib_path)

    @property
    def arena_bytes(self) -> int:
        return self.plan.arena_size

    def _set_inputs(self, inputs: np.ndarray | Sequence[np.ndarray]) -> None:
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        if len(inputs) != len(self.model.inputs):
            raise TinyflowError(f"the model has {len(self.model.inputs)} inputs, got {len(inputs)}")
        for i, (x, ti) in enumerate(zip(inputs, self.model.inputs)):
            t = self.model.tensors[ti]
            x = np.ascontiguousarray(x)
            if x.dtype != _NP_DTYPES[t.dtype] or x.size != t.size:
                raise TinyflowError(f"input {i} ('{t.name}'): got {x.dtype} {list(x.shape)}, the "
                                    f"model wants {t.dtype} {list(t.shape)}")
            ctypes.memmove(self.lib.tf_model_input(i), x.ctypes.data, t.nbytes)

    def _read(self, address: int, t) -> np.ndarray:
        raw = ctypes.string_at(address, t.nbytes)
        return np.frombuffer(raw, dtype=_NP_DTYPES[t.dtype]).reshape(t.shape).copy()

    def invoke(self, inputs: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run one inference; returns one array per model output."""
        with self.lock:
            self._set_inputs(inputs)
            if self.lib.tf_model_invoke() != 0:
                raise TinyflowError("tf_model_invoke failed")
            return [self._read(self.lib.tf_model_output(i), self.model.tensors[t])
                    for i, t in enumerate(self.model.outputs)]

    def intermediates(self, inputs: np.ndarray | Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Run once and capture every operator's outputs: tensor index -> array."""
        captured: dict[int, np.ndarray] = {}
        ops = self.model.operators

        def on_layer(layer: int) -> None:
            if layer == 0:
                return
            for ti in ops[layer - 1].outputs:
                t = self.model.tensors[ti]
                captured[ti] = self._read(self.arena_address + self.plan.offsets[ti], t)

        cb = self._cb_type(on_layer)
        with self.lock:          # re-entrant: invoke() takes it again
            self.lib.tf_host_set_layer_callback(cb)
            try:
                self.invoke(inputs)
            finally:
                self.lib.tf_host_set_layer_callback(self._cb_type())
        return captured


# -- per-layer comparison with tflite-micro ------------------------------------------------

@dataclass
class LayerDiff:
    """One operator's output, ours vs tflite-micro's, on the same input."""

    index: int
    op: str
    tensor: str
    shape: tuple[int, ...]
    differing: int          # elements that differ
    total: int
    max_abs: int

    @property
    def exact(self) -> bool:
        return self.differing == 0

    def to_dict(self) -> dict:
        return {"index": self.index, "op": self.op, "tensor": self.tensor,
                "shape": list(self.shape), "differing": self.differing, "total": self.total,
                "max_abs_diff": self.max_abs}


def tflm_intermediates(model: Model, data: bytes, inputs: Sequence[np.ndarray],
                       arena_size: int | None = None) -> dict[int, np.ndarray]:
    """Every operator output tensor as tflite-micro computes it (kPreserveAllTensors)."""
    from tflite_micro.python.tflite_micro import runtime

    from tinyflow.oracle import capture_stderr_fd

    size = arena_size or max(len(data) * 4, 1 << 20) + 4 * sum(
        t.nbytes for t in model.tensors if not t.is_const)
    with capture_stderr_fd():
        it = runtime.Interpreter.from_bytes(
            data, arena_size=size,
            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        for i, x in enumerate(inputs):
            t = model.tensors[model.inputs[i]]
            it.set_input(np.asarray(x).reshape(t.shape), i)
        it.invoke()
    out = {}
    for op in model.operators:
        for ti in op.outputs:
            t = model.tensors[ti]
            raw = np.asarray(it.GetTensor(ti, 0)["tensor_data"])
            out[ti] = raw.reshape(-1).view(_NP_DTYPES[t.dtype])[:t.size].reshape(t.shape)
    return out


def compare_layers(model: Model, data: bytes, inputs: np.ndarray | Sequence[np.ndarray],
                   engine: HostEngine | None = None) -> list[LayerDiff]:
    """Run one input through both engines and diff every operator's output, in order."""
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    engine = engine or HostEngine(model)
    ours = engine.intermediates(inputs)
    ref = tflm_intermediates(model, data, inputs)
    diffs = []
    for op in model.operators:
        for ti in op.outputs:
            t = model.tensors[ti]
            a, b = ours[ti], ref[ti]
            if a.dtype.kind == "f":
                d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            else:
                d = np.abs(a.astype(np.int64) - b.astype(np.int64))
            diffs.append(LayerDiff(op.index, op.opcode, t.name, t.shape, int((d != 0).sum()),
                                   int(t.size), int(d.max()) if d.size else 0))
    return diffs
