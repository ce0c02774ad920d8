"""Shared helpers for the firmware and link tests: the fake model, its numpy twin, and a
QEMU virtual board started on a real pty."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tinyflow.boards import get_board
from tinyflow.build import BuildResult, build_firmware
from tinyflow.link import Link
from tinyflow.runners import get_runner

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_MODEL = FIXTURES / "fake_model.c"
VIRTUAL = ["qemu-m4", "qemu-m7", "qemu-m55"]


def fake_reference(x: np.ndarray) -> np.ndarray:
    """What tests/fixtures/fake_model.c computes."""
    i = np.arange(128)[:, None]
    j = np.arange(10)[None, :]
    w = (i * 7 + j * 3) % 5 - 2
    return np.clip((x.astype(np.int32).reshape(-1) @ w) >> 5, -128, 127).astype(np.int8)


def zoo_bytes(name: str) -> bytes:
    """A zoo model as full-int8 .tflite (untrained weights, calibrated), cached on disk
    under the same key the engine's tests use, so the converter runs once per machine."""
    import tempfile

    from helpers_tflite import cached_tflite

    def build() -> bytes:
        from tinyflow import zoo

        with tempfile.TemporaryDirectory() as d:
            return zoo.quick_tflite(name, Path(d) / "m.tflite", seed=0).read_bytes()

    return cached_tflite(f"zoo {name} [] seed0 v1", build)


def build_fake(board: str, out: Path, **kw) -> BuildResult:
    return build_firmware(board, [FAKE_MODEL], out, model_name="fake", **kw)


@contextlib.contextmanager
def virtual_board(board: str, elf: Path, timeout: float = 2.0) -> Iterator[tuple[Link, object]]:
    b = get_board(board)
    session = get_runner(b).start(elf)
    try:
        with Link(session.port, timeout=timeout, icount_shift=b.qemu.icount_shift) as link:
            link.connect(timeout=15)
            yield link, session
    finally:
        session.stop()
