"""Will this model fit on this board? The memory budget, line by line, per region.

flash = model constants (weights, biases, per-channel requantization data)
        + engine code for the ops used + application code
SRAM  = arena (from the memory plan) + application data (.data/.bss)
        + stack reserve + heap reserve, each in the region the board file names.

Code sizes are estimates until a reference build exists; the firmware build replaces them
with the linked ELF's figures (see tinyflow/memreport.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinyflow.boards import Board
from tinyflow.ir import Model, Operator
from tinyflow.plan import MemoryPlan, plan_memory

# Estimated Thumb-2 code bytes (-O2) per kernel family and for the fixed firmware parts.
# Conservative round figures; replaced by measured sizes once a reference build exists.
KERNEL_CODE_ESTIMATE = {
    "CONV_2D": 2400, "DEPTHWISE_CONV_2D": 2000, "FULLY_CONNECTED": 900,
    "ADD": 700, "SUB": 700, "MUL": 600, "AVERAGE_POOL_2D": 600, "MAX_POOL_2D": 500,
    "MEAN": 700, "SOFTMAX": 900, "LOGISTIC": 500, "TANH": 500, "HARD_SWISH": 600,
}
DEFAULT_KERNEL_CODE = 400
APP_CODE_ESTIMATE = 7 * 1024        # startup, UART driver, serial protocol, timer, faults
APP_DATA_ESTIMATE = 4 * 1024        # RX ring buffer, frame buffers, .data/.bss of the firmware
PER_CHANNEL_BYTES = 8               # int32 multiplier + int32 shift per output channel


@dataclass
class Line:
    """One consumer of memory in one region."""

    what: str
    region: str
    bytes: int
    kind: str  # "flash" or "ram"
    estimated: bool = False


@dataclass
class RegionUse:
    name: str
    size: int
    used: int
    lines: list[Line]

    @property
    def free(self) -> int:
        return self.size - self.used

    @property
    def ok(self) -> bool:
        return self.used <= self.size


@dataclass
class Budget:
    board: Board
    model: Model
    plan: MemoryPlan
    lines: list[Line]
    regions: list[RegionUse]
    consumers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tflm: dict[str, Any] | None = None
    unsupported: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.regions) and not self.unsupported

    @property
    def flash_bytes(self) -> int:
        return sum(ln.bytes for ln in self.lines if ln.kind == "flash")

    @property
    def ram_bytes(self) -> int:
        return sum(ln.bytes for ln in self.lines if ln.kind == "ram")

    def to_dict(self) -> dict[str, Any]:
        return {
            "board": self.board.name, "model": self.model.name,
            "verdict": "PASS" if self.ok else "FAIL",
            "flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes,
            "arena_bytes": self.plan.arena_size,
            "lines": [vars(ln) for ln in self.lines],
            "regions": [{"name": r.name, "size": r.size, "used": r.used, "free": r.free,
                         "ok": r.ok} for r in self.regions],
            "biggest_consumers": self.consumers,
            "tflm_arena": self.tflm,
            "unsupported_ops": self.unsupported,
            "suggestions": self.suggestions,
        }


def constant_bytes(model: Model) -> int:
    """Bytes the engine stores in flash for the model: every constant buffer plus
    precomputed requantization data per output channel. No flatbuffer metadata."""
    total = sum(t.nbytes for t in model.constants)
    for op in model.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
            out = model.tensors[op.outputs[0]]
            total += PER_CHANNEL_BYTES * (out.shape[-1] if out.shape else 1)
    return total


def code_estimate(model: Model) -> dict[str, int]:
    used = sorted({op.opcode for op in model.operators})
    return {op: KERNEL_CODE_ESTIMATE.get(op, DEFAULT_KERNEL_CODE) for op in used}


def _op_label(op: Operator) -> str:
    return f"#{op.index} {op.opcode}"


def biggest_consumers(model: Model, plan: MemoryPlan, n: int = 5) -> dict[str, list[dict]]:
    peak = plan.peak_step
    producer = {t: op for op in model.operators for t in op.outputs}
    live = sorted(plan.live_at(peak), key=lambda b: -b.size)
    acts = sorted(model.activations, key=lambda t: -t.nbytes)[:n]
    by_op: dict[int, int] = {}
    for op in model.operators:
        by_op[op.index] = sum(model.tensors[i].nbytes for i in op.inputs
                              if i >= 0 and model.tensors[i].is_const)
    heavy = sorted(by_op.items(), key=lambda kv: -kv[1])[:n]
    return {
        "peak": [{"op": _op_label(model.operators[peak]) if model.operators else "",
                  "live_bytes": plan.peak_live_bytes}],
        "live_at_peak": [{"tensors": [model.tensors[t].name for t in b.tensors] or ["scratch"],
                          "bytes": b.size,
                          "produced_by": (_op_label(producer[b.tensors[0]])
                                          if b.tensors and b.tensors[0] in producer else "input")}
                         for b in live[:n]],
        "largest_activations": [{"tensor": t.name, "shape": list(t.shape), "bytes": t.nbytes}
                                for t in acts],
        "largest_weights": [{"op": _op_label(model.operators[i]), "bytes": b}
                            for i, b in heavy if b > 0],
    }


def check_budget(model: Model, board: Board, plan: MemoryPlan | None = None,
                 tflm: dict[str, Any] | None = None, code_sizes: dict[str, int] | None = None,
                 unsupported: list[str] | None = None) -> Budget:
    plan = plan or plan_memory(model)
    estimated = code_sizes is None
    code_sizes = code_sizes or {**code_estimate(model), "application": APP_CODE_ESTIMATE}
    r_code, r_const = board.roles["code"], board.roles["const"]
    lines = [Line("model constants (weights, biases, requantization)", r_const,
                  constant_bytes(model), "flash")]
    lines.append(Line(f"engine + application code ({len(code_sizes)} parts)", r_code,
                      sum(code_sizes.values()), "flash", estimated))
    lines.append(Line("tensor arena (static memory plan)", board.roles["arena"],
                      plan.arena_size, "ram"))
    lines.append(Line("application data (.data/.bss)", board.roles["data"],
                      APP_DATA_ESTIMATE, "ram", True))
    lines.append(Line("stack reserve", board.roles["stack"], board.stack_bytes, "ram"))
    if board.heap_bytes:
        lines.append(Line("heap reserve", board.roles["heap"], board.heap_bytes, "ram"))
    regions = []
    for r in board.regions:
        mine = [ln for ln in lines if ln.region == r.name]
        if mine:
            regions.append(RegionUse(r.name, r.size, sum(ln.bytes for ln in mine), mine))
    b = Budget(board, model, plan, lines, regions, biggest_consumers(model, plan), tflm,
               list(unsupported or []))
    b.suggestions = suggestions(b)
    return b


def suggestions(b: Budget) -> list[str]:
    out: list[str] = []
    for r in b.regions:
        if r.ok:
            continue
        over = -r.free
        kinds = {ln.what for ln in r.lines}
        if any("arena" in k for k in kinds):
            out.append(f"{r.name} is {over:,} B over: lower the input resolution or width "
                       "(activation memory scales with resolution² × width), or use a board "
                       "with more SRAM")
        if any("constants" in k for k in kinds):
            out.append(f"{r.name} is {over:,} B over: lower the width multiplier (weights scale "
                       "with width²) or shrink the last layers")
        if not any(("arena" in k or "constants" in k) for k in kinds):
            out.append(f"{r.name} is {over:,} B over: lower the stack/heap reserve in the board "
                       "file or move a role to a larger region")
    if b.unsupported:
        out.append("replace the unsupported ops listed above (see tinyflow inspect)")
    return out


def boards_that_fit(model: Model, boards: list[Board], plan: MemoryPlan | None = None) -> list[str]:
    plan = plan or plan_memory(model)
    return [bd.name for bd in boards if check_budget(model, bd, plan).ok]
