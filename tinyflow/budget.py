"""Will this model fit on this board? The memory budget, line by line, per region.

flash = model constants (weights, biases, per-channel requantization data)
        + engine code for the ops used + application code
SRAM  = arena (from the memory plan) + application data (.data/.bss)
        + stack reserve + heap reserve, each in the region the board file names.

Figures and where they come from:
- model constants: exact, from the code generator's own lowering (the bytes it will emit);
- application code and data: measured from a reference build of the firmware for this
  board without a model (tinyflow.memreport.runtime_sizes, cached), when the Arm
  toolchain is installed; otherwise estimates, marked as such;
- engine kernels: measured the same way for exactly the kernels the model calls
  (tinyflow.memreport.kernel_sizes); without the toolchain, per-family estimates for the
  board's kernel set (DSP, Helium or portable C), marked as such;
- measured constant tables (kernel LUTs, strings) are charged to the constants region,
  where the linker script puts every .rodata;
- the audio front end of a speech-emotion model: from tinyflow.frontend's budget.
`tinyflow build` then prints the linked ELF beside this prediction, region by region.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.boards import Board
from tinyflow.ir import Model, Operator
from tinyflow.plan import MemoryPlan, plan_memory

# Thumb-2 code bytes (-O2) per kernel family and kernel set, each family linked alone
# (memreport.kernel_sizes, measured on qemu-m4, qemu-m55 and rpi-pico; M7 and M33 are within
# 3% of the M4). Families that share helpers are counted in full each, so a model's sum
# over-predicts a little. Only used without an Arm toolchain to measure.
KERNEL_FAMILY = {
    "CONV_2D": "conv", "DEPTHWISE_CONV_2D": "depthwise", "FULLY_CONNECTED": "fully_connected",
    "ADD": "binary", "SUB": "binary", "MUL": "binary", "AVERAGE_POOL_2D": "pool",
    "MAX_POOL_2D": "pool", "MEAN": "mean", "SOFTMAX": "softmax", "LOGISTIC": "lut",
    "TANH": "lut", "HARD_SWISH": "hard_swish",
}
KERNEL_CODE_ESTIMATE = {
    # M4/M7/M33 with the DSP extension: the SMLAD kernels beside the portable ones
    "dsp": {"conv": 14200, "depthwise": 8700, "fully_connected": 460, "binary": 3800,
            "pool": 1120, "mean": 530, "softmax": 2500, "lut": 2170, "hard_swish": 520},
    # M55 with Helium
    "mve": {"conv": 10550, "depthwise": 3740, "fully_connected": 440, "binary": 3810,
            "pool": 1100, "mean": 590, "softmax": 2540, "lut": 2140, "hard_swish": 520},
    # M0+ (and any core without DSP or MVE): portable C only
    "portable": {"conv": 1680, "depthwise": 1410, "fully_connected": 430, "binary": 3380,
                 "pool": 1010, "mean": 650, "softmax": 3080, "lut": 2730, "hard_swish": 510},
}
DEFAULT_KERNEL_CODE = 600
INVOKE_CODE_PER_LAYER = 40          # the generated straight-line invoke: one call per layer
APP_CODE_ESTIMATE = 7 * 1024        # startup, UART driver, serial protocol, timer, faults
# RX ring buffer, frame buffers, .data/.bss of the firmware: 7.1-7.2 KB measured on every
# shipped board (benchmarks/results/firmware_budget.md), rounded up
APP_DATA_ESTIMATE = 7 * 1024 + 512
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
            "arena_bytes_without_overlap": self.plan.arena_without_overlap,
            "lines": [vars(ln) for ln in self.lines],
            "regions": [{"name": r.name, "size": r.size, "used": r.used, "free": r.free,
                         "ok": r.ok} for r in self.regions],
            "biggest_consumers": self.consumers,
            "tflm_arena": self.tflm,
            "unsupported_ops": self.unsupported,
            "suggestions": self.suggestions,
        }


def constant_bytes(model: Model) -> int:
    """Bytes the engine stores in flash for the model: exactly what the code generator
    emits when it can lower the model, else every constant buffer plus requantization data
    per output channel (an upper bound). No flatbuffer metadata either way."""
    try:
        from tinyflow.codegen import const_bytes

        return int(const_bytes(model))
    except Exception:  # unsupported ops: check reports them; fall back to the bound
        pass
    total = sum(t.nbytes for t in model.constants)
    for op in model.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
            out = model.tensors[op.outputs[0]]
            total += PER_CHANNEL_BYTES * (out.shape[-1] if out.shape else 1)
    return total


def kernel_set(board: Board) -> str:
    """Which kernels the firmware compiles for the board's core (firmware/kernels/
    tf_conv_fast.h chooses the same way from the compiler's feature macros)."""
    if board.core == "cortex-m55":
        return "mve" if board.mve else "dsp"
    if board.core in ("cortex-m4", "cortex-m7") or (board.core == "cortex-m33" and board.dsp):
        return "dsp"  # -mcpu=cortex-m4/m7 always has the DSP extension
    return "portable"


def code_estimate(model: Model, board: Board) -> dict[str, int]:
    """Estimated code bytes per kernel family the model uses, plus its invoke function."""
    families = sorted({KERNEL_FAMILY.get(op.opcode, op.opcode.lower()) for op in model.operators})
    table = KERNEL_CODE_ESTIMATE[kernel_set(board)]
    est = {f: table.get(f, DEFAULT_KERNEL_CODE) for f in families}
    est["invoke"] = 64 + INVOKE_CODE_PER_LAYER * len(model.operators)
    return est


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


_CALL = re.compile(r"\b(tf_[a-z0-9_]+)\s*\(")


def kernel_functions(model: Model) -> list[str]:
    """The engine's C entry points the generated invoke calls for this model."""
    from tinyflow.codegen import lower

    class _AnyOffset(dict):  # a dry run: placement does not change which kernels run
        def get(self, key: Any, default: Any = None) -> Any:
            return 0

    gen = lower(model, _AnyOffset())
    return sorted({m for layer in gen.layers for st in layer.statements
                   for m in _CALL.findall(st)})


def measured_kernels(model: Model, board: Board) -> dict[str, int] | None:
    """Linked code of the kernels this model calls, from a cached reference build for the
    board (tinyflow.memreport.kernel_sizes); None without the toolchain or for a model the
    generator cannot lower."""
    try:
        from tinyflow.memreport import kernel_sizes

        return kernel_sizes(board, kernel_functions(model))
    except Exception:
        return None


def measured_runtime(board: Board) -> dict[str, int] | None:
    """Code and .data/.bss of the firmware without a model, from a cached reference build
    for this board; None when the Arm toolchain is missing or the build fails."""
    try:
        from tinyflow.memreport import runtime_sizes

        return runtime_sizes(board)
    except Exception:
        return None


def _code_and_tables(what: str, r_code: str, r_const: str, code: int,
                     rodata: int) -> list[Line]:
    """Measured functions go to the code region, their constant tables where the linker
    script puts every .rodata: the constants region (one line when that is the same)."""
    if r_code == r_const or not rodata:
        return [Line(what, r_code, code + rodata, "flash")]
    return [Line(what, r_code, code, "flash"),
            Line(what.replace(" (", ": constant tables (", 1), r_const, rodata, "flash")]


def check_budget(model: Model, board: Board, plan: MemoryPlan | None = None,
                 tflm: dict[str, Any] | None = None, runtime: dict[str, int] | None = None,
                 unsupported: list[str] | None = None,
                 extra_lines: list[Line] | None = None,
                 kernels: dict[str, int] | None = None) -> Budget:
    """The budget of `model` on `board`. `runtime` is the measured firmware cost without a
    model ({"code", "rodata", "data"} bytes, see measured_runtime) and `kernels` the
    measured code and tables of the kernels it calls (measured_kernels); without them,
    estimates are used.
    `extra_lines` adds consumers outside the network (e.g. the audio front end)."""
    plan = plan or plan_memory(model)
    estimate = code_estimate(model, board)
    r_code, r_const = board.roles["code"], board.roles["const"]
    lines = [Line("model constants (weights, biases, requantization)", r_const,
                  constant_bytes(model), "flash")]
    if kernels is not None:
        lines += _code_and_tables("engine kernels (measured reference build)", r_code,
                                  r_const, kernels["code"], kernels["data"])
        lines.append(Line(f"generated invoke ({len(model.operators)} calls)", r_code,
                          estimate["invoke"], "flash", True))
    else:
        lines.append(Line(f"engine code ({', '.join(estimate)})", r_code,
                          sum(estimate.values()), "flash", True))
    if runtime is not None:
        lines += _code_and_tables("application code (measured reference build)", r_code,
                                  r_const, runtime["code"], runtime.get("rodata", 0))
    else:
        lines.append(Line("application code", r_code, APP_CODE_ESTIMATE, "flash", True))
    lines.append(Line("tensor arena (static memory plan)", board.roles["arena"],
                      plan.arena_size, "ram"))
    if runtime is not None:
        lines.append(Line("application data (.data/.bss, measured)", board.roles["data"],
                          runtime["data"], "ram"))
    else:
        lines.append(Line("application data (.data/.bss)", board.roles["data"],
                          APP_DATA_ESTIMATE, "ram", True))
    lines.append(Line("stack reserve", board.roles["stack"], board.stack_bytes, "ram"))
    if board.heap_bytes:
        lines.append(Line("heap reserve", board.roles["heap"], board.heap_bytes, "ram"))
    lines.extend(extra_lines or [])
    regions = []
    for r in board.regions:
        mine = [ln for ln in lines if ln.region == r.name]
        if mine:
            regions.append(RegionUse(r.name, r.size, sum(ln.bytes for ln in mine), mine))
    b = Budget(board, model, plan, lines, regions, biggest_consumers(model, plan), tflm,
               list(unsupported or []))
    b.suggestions = suggestions(b)
    return b


def frontend_lines(model_path: str | Path | None, board: Board) -> list[Line]:
    """The audio front end's lines when the model was trained on log-mel features (its run's
    config.json records them): the SER firmware computes them on the device."""
    if model_path is None:
        return []
    cfg = Path(model_path).parent / "config.json"
    if not cfg.is_file():
        return []
    try:
        features = json.loads(cfg.read_text()).get("features")
    except ValueError:
        return []
    if not features:
        return []
    from tinyflow.features import LogMelParams
    from tinyflow.frontend import frontend_budget_lines

    return frontend_budget_lines(LogMelParams.from_dict(features), board)


def full_budget(model: Model, board: Board, plan: MemoryPlan | None = None,
                model_path: str | Path | None = None, tflm: dict[str, Any] | None = None,
                measure: bool = True) -> Budget:
    """What `tinyflow check` and `tinyflow build` show: measured firmware runtime when the
    toolchain is there, unsupported ops, and the audio front end for log-mel models."""
    unsupported: list[str] = []
    try:
        from tinyflow.codegen import unsupported as find_unsupported

        unsupported = list(find_unsupported(model))
    except ImportError:
        pass
    return check_budget(model, board, plan, tflm=tflm,
                        runtime=measured_runtime(board) if measure else None,
                        kernels=measured_kernels(model, board) if measure else None,
                        unsupported=unsupported, extra_lines=frontend_lines(model_path, board))


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


def boards_that_fit(model: Model, boards: list[Board], plan: MemoryPlan | None = None
                    ) -> list[str]:
    plan = plan or plan_memory(model)
    return [bd.name for bd in boards if check_budget(model, bd, plan).ok]
