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


# Ops whose kernel reads element i of the listed inputs before writing element i of the
# output and never reads it again (SOFTMAX: per row), so the output may occupy exactly
# the same bytes as that input. For the planner's in-place reuse; see inplace_inputs().
INPLACE_SAFE: dict[str, tuple[int, ...]] = {
    "RELU": (0,), "RELU6": (0,), "RELU_N1_TO_1": (0,), "LEAKY_RELU": (0,), "LOGISTIC": (0,),
    "TANH": (0,), "HARD_SWISH": (0,), "SOFTMAX": (0,), "QUANTIZE": (0,),
    "ADD": (0, 1), "SUB": (0, 1), "MUL": (0, 1),
}


def inplace_inputs(model, op) -> list[int]:
    """Input positions of `op` whose buffer its output may share byte for byte.

    An input qualifies when the kernel allows it (INPLACE_SAFE), it is an activation
    (not a constant) of the output's dtype and shape (so no broadcasting or size change).
    Whether the input is still needed by a later op is the planner's question.
    """
    out = model.tensors[op.outputs[0]] if op.outputs else None
    ok = []
    for pos in INPLACE_SAFE.get(op.opcode, ()):
        if out is None or pos >= len(op.inputs) or op.inputs[pos] < 0:
            continue
        t = model.tensors[op.inputs[pos]]
        if op.opcode == "SOFTMAX" and t.dtype != "int8":
            continue  # the int16 kernel stages exp() values in the output row
        if not t.is_const and t.dtype == out.dtype and tuple(t.shape) == tuple(out.shape):
            ok.append(pos)
    return ok
