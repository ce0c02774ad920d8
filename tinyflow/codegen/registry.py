"""The per-op lowering registry: opcode -> function that turns one operator into C.

Adding an op means adding one kernel under firmware/kernels/ and one lowering module under
tinyflow/codegen/ops/ decorated with `@lowering("OPCODE")`. The code generator, the
unsupported-op report and `tinyflow check` all read this one table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tinyflow.codegen.emit import LayerCtx

LowerFn = Callable[["LayerCtx"], None]
LOWERINGS: dict[str, LowerFn] = {}


class Unsupported(Exception):
    """Raised by a lowering for a parameter combination the kernels do not cover."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def lowering(*opcodes: str) -> Callable[[LowerFn], LowerFn]:
    def register(fn: LowerFn) -> LowerFn:
        for code in opcodes:
            if code in LOWERINGS:
                raise RuntimeError(f"two lowerings for {code}")
            LOWERINGS[code] = fn
        return fn
    return register


def supported_ops() -> list[str]:
    from tinyflow.codegen import ops  # noqa: F401  (registers every lowering)
    return sorted(LOWERINGS)
