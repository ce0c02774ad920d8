"""Targets: anything that turns a batch of int8 input tensors into outputs.

Every target has the same three calls, so the eval loop never asks what it talks to:

    info() -> dict                      what to record in the results header
    run(batch) -> list[Inference]       one Inference per sample, in order
    close()

`batch` is a list of samples, each a list of input arrays (one per model input). A
batch lets a link-bound target pipeline uploads and inferences; host targets just loop.

Implementations: `HostEngineTarget` (our generated C compiled for the host),
`TflmTarget` (the tflite-micro reference interpreter) and, in `board.py`, `BoardTarget`
(the firmware over the serial link). A target's `role` names its column in the results:
"device", "host" or "tflm".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

ROLES = ("device", "host", "tflm")


@dataclass
class Inference:
    outputs: list[np.ndarray]          # raw output tensors (int8), one per model output
    cycles: int | None = None          # the device's own timer, for this inference only
    stack_bytes: int | None = None     # stack high-water mark during this inference
    host_us: float | None = None       # host wall time per sample (transfer included)


class Target(Protocol):
    role: str
    name: str

    def info(self) -> dict[str, Any]: ...

    def run(self, batch: Sequence[Sequence[np.ndarray]]) -> list[Inference]: ...

    def close(self) -> None: ...


class _HostTarget:
    """Shared loop for in-process targets: one call per sample, wall time per call."""

    role = "host"
    name = "host"

    def _invoke(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def run(self, batch: Sequence[Sequence[np.ndarray]]) -> list[Inference]:
        out = []
        for inputs in batch:
            t0 = time.perf_counter()
            y = self._invoke(list(inputs))
            out.append(Inference([np.asarray(v) for v in y],
                                 host_us=(time.perf_counter() - t0) * 1e6))
        return out

    def close(self) -> None:
        pass


class HostEngineTarget(_HostTarget):
    """tinyflow's engine (generated C + kernels) compiled with the host gcc."""

    role = "host"
    name = "host"

    def __init__(self, model_path: str | Path):
        from tinyflow.hostengine import HostEngine

        self.engine = HostEngine(model_path)     # thread-safe: it locks its library

    def _invoke(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.engine.invoke(list(inputs))

    def info(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "kind": "host-engine",
                "arena_bytes": int(self.engine.arena_bytes)}


class TflmTarget(_HostTarget):
    """The tflite-micro reference interpreter (the oracle for bit-exactness)."""

    role = "tflm"
    name = "tflm"

    def __init__(self, model_path: str | Path):
        from tinyflow.oracle import TflmOracle

        self.oracle = TflmOracle(model_path)

    def _invoke(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return self.oracle.invoke(list(inputs))

    def info(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "kind": "tflite-micro"}


def host_target(role: str, model_path: str | Path) -> Target:
    """A host-side target by role ("host" or "tflm")."""
    if role == "host":
        return HostEngineTarget(model_path)
    if role == "tflm":
        return TflmTarget(model_path)
    raise ValueError(f"no host target for role {role!r}")
