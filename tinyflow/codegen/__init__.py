"""Ahead-of-time code generation: model IR + memory plan -> one C file per model.

    gm = generate(model, "build/gen", name="person_det")
    gm.sources      # the generated model_<name>.c plus every kernel .c it needs
    gm.arena_bytes  # static activation arena (from the memory plan)
    gm.const_bytes  # weights, biases, multipliers and parameter structs in flash

The generated file implements `firmware/include/tinyflow_model.h`: a straight-line
`tf_model_invoke()` calling the C99 kernels in `firmware/kernels/` (with DSP/Helium inner
loops where the core has them) with arena offsets fixed at generation time. No
flatbuffer, interpreter or allocator on the device. Ops are lowered by the per-op
registry in `tinyflow.codegen.registry`; see docs/engine.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.codegen.emit import DTYPE_ENUM, Generation, LayerCtx, LayerInfo, c_comment
from tinyflow.codegen.overlap import output_lead_bytes
from tinyflow.codegen.registry import LOWERINGS, Unsupported, inplace_inputs, supported_ops
from tinyflow.errors import TinyflowError
from tinyflow.ir import Model, Operator

ROOT = Path(__file__).resolve().parents[2]
KERNEL_DIR = ROOT / "firmware" / "kernels"
INCLUDE_DIR = ROOT / "firmware" / "include"
TEMPLATE_DIR = ROOT / "templates"

__all__ = [
    "INCLUDE_DIR",
    "KERNEL_DIR",
    "GeneratedModel",
    "LayerInfo",
    "const_bytes",
    "generate",
    "inplace_inputs",
    "output_lead_bytes",
    "supported_ops",
    "unsupported",
]


@dataclass
class GeneratedModel:
    name: str
    c_file: Path
    sources: list[Path]          # generated C first, then the kernels
    include_dirs: list[Path]
    arena_bytes: int
    const_bytes: int
    layers: list[LayerInfo]
    io_offsets: dict[str, list[int]] = field(default_factory=dict)  # arena offsets of I/O
    tensor_offsets: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "c_file": str(self.c_file), "arena_bytes": self.arena_bytes,
                "const_bytes": self.const_bytes, "layers": [x.to_dict() for x in self.layers]}


def c_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return s if s and not s[0].isdigit() else f"m_{s}"


def _describe(model: Model, op: Operator) -> str:
    ins = ", ".join(f"'{model.tensors[i].name}'" for i in op.inputs if i >= 0)
    outs = ", ".join(f"'{model.tensors[i].name}'" for i in op.outputs)
    return f"operator {op.index} ({op.opcode}, inputs {ins} -> outputs {outs})"


_HINTS = {
    "REDUCE_PROD": "convert with a fixed batch size of 1 (keras.Input(shape, batch_size=1))",
    "SHAPE": "convert with a fixed batch size of 1 so shapes are folded into constants",
    "GATHER": "convert with a fixed batch size of 1 so shapes are folded into constants",
    "LOG": "keep the log outside the model (compute log-mel features before the network)",
    "SQRT": "keep the sqrt outside the model",
}


def _lower_op(gen: Generation, op: Operator) -> LayerCtx:
    fn = LOWERINGS.get(op.opcode)
    if fn is None:
        raise Unsupported(f"{op.opcode} is not supported by the tinyflow engine",
                          hint=_HINTS.get(op.opcode,
                                          "supported ops: " + ", ".join(supported_ops())))
    ctx = LayerCtx(gen, op)
    fn(ctx)
    return ctx


def unsupported(model: Model) -> list[str]:
    """Every operator the engine cannot generate, as user-facing messages ([] when fine)."""
    from tinyflow.codegen import ops  # noqa: F401

    gen = Generation(model, _DryOffsets())
    problems = []
    for op in model.operators:
        try:
            _lower_op(gen, op)
        except Unsupported as e:
            msg = f"{_describe(model, op)}: {e.message}"
            problems.append(msg + (f" (hint: {e.hint})" if e.hint else ""))
    return problems


class _DryOffsets(dict):
    """Offsets for a dry run: every tensor at 0 (only the checks matter)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return 0


def const_bytes(model: Model) -> int:
    """Flash bytes the generated model will hold (weights, biases, requantization tables,
    layer parameters), without rendering any C. Raises TinyflowError like generate()."""
    return lower(model, _DryOffsets()).const_bytes


def lower(model: Model, offsets: dict[int, int]) -> Generation:
    from tinyflow.codegen import ops  # noqa: F401

    gen = Generation(model, offsets)
    errors: list[tuple[str, str | None]] = []
    for op in model.operators:
        try:
            ctx = _lower_op(gen, op)
        except Unsupported as e:
            errors.append((f"{_describe(model, op)}: {e.message}", e.hint))
            continue
        out = model.tensors[op.outputs[0]] if op.outputs else None
        gen.layers.append(LayerInfo(
            index=op.index, op=op.opcode, output=out.name if out else "",
            output_tensors=list(op.outputs), macs=model.macs(op), const_bytes=ctx.const_bytes,
            statements=ctx.statements,
            comment=c_comment(f"'{out.name}' {list(out.shape)}" if out else "")))
    if errors:
        first, hint = errors[0]
        more = "".join(f"\n  {m}" for m, _ in errors[1:])
        raise TinyflowError(
            f"cannot generate C for model '{model.name}': {len(errors)} unsupported "
            f"operator(s):\n  {first}{more}",
            hint=hint or "change the model to use supported ops "
                         f"({', '.join(supported_ops())})")
    return gen


def _io_info(model: Model, offsets: dict[int, int], idxs: list[int]) -> list[dict[str, Any]]:
    out = []
    for i in idxs:
        t = model.tensors[i]
        if t.dtype not in DTYPE_ENUM:
            raise TinyflowError(f"model input/output '{t.name}' has type {t.dtype}",
                                hint="use int8 (or float32) model inputs and outputs")
        dims = list(t.shape) + [0] * (6 - len(t.shape))
        scale = float(t.quant.scale[0]) if t.quant is not None else 0.0
        zp = int(t.quant.zero_point[0]) if t.quant is not None else 0
        out.append({"name": c_comment(t.name), "dtype": DTYPE_ENUM[t.dtype], "rank": len(t.shape),
                    "dims": "{" + ", ".join(str(d) for d in dims) + "}", "bytes": t.nbytes,
                    "scale": scale.hex(), "zero_point": zp, "offset": offsets[i]})
    return out


def generate(model: Model, out_dir: str | Path, name: str | None = None,
             profile: bool = False, plan: Any = None) -> GeneratedModel:
    """Write `model_<name>.c` into out_dir and return what was generated."""
    import jinja2

    from tinyflow import __version__
    from tinyflow.plan import plan_memory

    plan = plan or plan_memory(model)
    name = c_name(name or model.name)
    gen = lower(model, plan.offsets)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    text = env.get_template("model.c.j2").render(
        version=__version__, model_name=name, hash=model.sha256[:16], layers=gen.layers,
        macs=model.total_macs, arena_bytes=plan.arena_size,
        arena_alloc=max(plan.arena_size, 16), const_bytes=gen.const_bytes, arrays=gen.arrays,
        structs=gen.structs, inputs=_io_info(model, plan.offsets, model.inputs),
        outputs=_io_info(model, plan.offsets, model.outputs), profile=profile)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    c_file = out_dir / f"model_{name}.c"
    if not c_file.exists() or c_file.read_text() != text:  # keep mtimes stable for make/scons
        c_file.write_text(text)
    kernels = sorted(KERNEL_DIR.glob("tf_*.c"))
    return GeneratedModel(
        name=name, c_file=c_file, sources=[c_file, *kernels],
        include_dirs=[KERNEL_DIR, INCLUDE_DIR], arena_bytes=plan.arena_size,
        const_bytes=gen.const_bytes, layers=gen.layers,
        io_offsets={"inputs": [plan.offsets[i] for i in model.inputs],
                    "outputs": [plan.offsets[i] for i in model.outputs]},
        tensor_offsets=dict(plan.offsets))
