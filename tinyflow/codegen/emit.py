"""Lowering context and the model-wide state the template renders.

A lowering sees one operator through `LayerCtx`: typed access to its tensors and options,
pointers into the arena (from the memory plan) or into flash (constant arrays), and
methods to declare constant arrays, parameter structs and the kernel call. It never
formats C by hand beyond the call itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyflow.codegen.registry import Unsupported
from tinyflow.ir import Model, Operator, Tensor

CTYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
          "uint8": "uint8_t", "float32": "float", "bool": "uint8_t"}
DTYPE_ENUM = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "int16": 7, "int8": 9}


def c_comment(text: str) -> str:
    """Text safe to put inside /* */ on one line."""
    return re.sub(r"[^\x20-\x7e]", "?", text).replace("*/", "* /")


class Raw(str):
    """A C expression emitted as is (e.g. the name of a constant array)."""


def c_value(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return float(v).hex()  # C99 hexadecimal float: exact
    if isinstance(v, (list, tuple, np.ndarray)):
        return "{" + ", ".join(c_value(x) for x in v) + "}"
    raise TypeError(f"cannot emit {type(v).__name__} as C")


@dataclass
class ConstArray:
    name: str
    ctype: str
    values: np.ndarray
    comment: str

    @property
    def nbytes(self) -> int:
        return int(self.values.size * self.values.dtype.itemsize)

    def body(self, per_line: int = 24) -> str:
        flat = self.values.reshape(-1)
        if self.ctype == "float":
            items = [float(x).hex() for x in flat.tolist()]
        else:
            items = [str(x) for x in flat.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return ",\n    ".join(lines) if lines else "0"


@dataclass
class ParamStruct:
    name: str
    ctype: str
    fields: dict[str, Any]

    def body(self) -> str:
        return ",\n    ".join(f".{k} = {c_value(v)}" for k, v in self.fields.items())

    @property
    def nbytes(self) -> int:  # close enough for reporting: every field a 32-bit word
        n = 0
        for v in self.fields.values():
            n += 4 * (len(v) if isinstance(v, (list, tuple, np.ndarray)) else 1)
        return n


@dataclass
class LayerInfo:
    """One operator as generated: what runs, what it costs, where its output lives."""

    index: int
    op: str
    output: str                 # name of the (first) output tensor
    output_tensors: list[int]
    macs: int
    const_bytes: int            # weights, biases, multipliers and params this layer adds
    statements: list[str] = field(default_factory=list)
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "op": self.op, "output": self.output, "macs": self.macs,
                "const_bytes": self.const_bytes}


class Generation:
    """Everything emitted for one model, in order."""

    def __init__(self, model: Model, offsets: dict[int, int]):
        self.model = model
        self.offsets = offsets
        self.arrays: list[ConstArray] = []
        self.structs: list[ParamStruct] = []
        self.tensor_arrays: dict[int, str] = {}
        self.tensor_arrays_by_key: dict[str, Any] = {}  # arrays shared by several layers
        self.layers: list[LayerInfo] = []
        self._names: set[str] = set()

    def unique(self, name: str) -> str:
        base, n = name, 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def add_array(self, name: str, values: np.ndarray, ctype: str, comment: str) -> ConstArray:
        arr = ConstArray(self.unique(name), ctype, np.ascontiguousarray(values), comment)
        self.arrays.append(arr)
        return arr

    @property
    def const_bytes(self) -> int:
        return sum(a.nbytes for a in self.arrays) + sum(s.nbytes for s in self.structs)


class LayerCtx:
    """What a lowering sees of its operator."""

    def __init__(self, gen: Generation, op: Operator):
        self.gen = gen
        self.model = gen.model
        self.op = op
        self.opts = op.options
        self.prefix = f"L{op.index}"
        self.statements: list[str] = []
        self.const_bytes = 0

    # -- tensors -------------------------------------------------------------------------
    def inp(self, i: int) -> Tensor | None:
        if i >= len(self.op.inputs) or self.op.inputs[i] < 0:
            return None
        return self.model.tensors[self.op.inputs[i]]

    def req(self, i: int) -> Tensor:
        t = self.inp(i)
        if t is None:
            raise Unsupported(f"input {i} is missing")
        return t

    def out(self, i: int = 0) -> Tensor:
        return self.model.tensors[self.op.outputs[i]]

    def ptr(self, t: Tensor, const: bool = False) -> str:
        """C expression for a tensor's data: an arena address or a flash array."""
        ctype = CTYPES.get(t.dtype)
        if ctype is None:
            raise Unsupported(f"tensor '{t.name}' has type {t.dtype}")
        if t.is_const:
            return self.const_tensor(t)
        off = self.gen.offsets.get(t.index)
        if off is None:
            raise Unsupported(f"tensor '{t.name}' has no place in the memory plan")
        q = "const " if const else ""
        return f"(({q}{ctype} *)&tf_arena[{off}])"

    def const_tensor(self, t: Tensor, values: np.ndarray | None = None) -> str:
        """The flash array holding a constant tensor (emitted once per tensor)."""
        if values is None and t.index in self.gen.tensor_arrays:
            return self.gen.tensor_arrays[t.index]
        data = t.data if values is None else values
        arr = self.gen.add_array(f"c{t.index}", np.asarray(data), CTYPES[t.dtype],
                                 f"{t.name} {list(t.shape)} {t.dtype}")
        self.const_bytes += arr.nbytes
        if values is None:
            self.gen.tensor_arrays[t.index] = arr.name
        return arr.name

    # -- declarations --------------------------------------------------------------------
    def array(self, suffix: str, values: Any, ctype: str = "int32_t", comment: str = "") -> str:
        np_t = {"int32_t": np.int32, "int8_t": np.int8, "int16_t": np.int16, "float": np.float32,
                "uint8_t": np.uint8, "int64_t": np.int64}[ctype]
        arr = self.gen.add_array(f"{self.prefix}_{suffix}", np.asarray(values, dtype=np_t),
                                 ctype, comment or suffix)
        self.const_bytes += arr.nbytes
        return arr.name

    def params(self, ctype: str, **fields: Any) -> str:
        s = ParamStruct(self.gen.unique(f"{self.prefix}_params"), ctype, fields)
        self.gen.structs.append(s)
        self.const_bytes += s.nbytes
        return f"&{s.name}"

    def call(self, fn: str, *args: str) -> None:
        self.statements.append(f"{fn}({', '.join(args)});")

    def stmt(self, text: str) -> None:
        self.statements.append(text)

    # -- checks --------------------------------------------------------------------------
    def int_range(self, t: Tensor) -> tuple[int, int]:
        return (-32768, 32767) if t.dtype == "int16" else (-128, 127)

    def need_dtype(self, t: Tensor | None, *dtypes: str, role: str = "tensor") -> None:
        if t is not None and t.dtype not in dtypes:
            raise Unsupported(f"{role} '{t.name}' is {t.dtype}; this op supports "
                              f"{' or '.join(dtypes)}",
                              hint="tinyflow runs full-int8 models (int8 activations, int8 "
                                   "weights, int32 biases)")

    def need_quant(self, t: Tensor, role: str = "tensor") -> tuple[float, int]:
        """(scale, zero_point) of a per-tensor quantized tensor."""
        if t.quant is None:
            raise Unsupported(f"{role} '{t.name}' has no quantization parameters")
        if t.quant.per_channel and role != "filter":
            raise Unsupported(f"{role} '{t.name}' is quantized per channel")
        return float(t.quant.scale[0]), int(t.quant.zero_point[0])

    def const_values(self, t: Tensor | None, role: str) -> np.ndarray:
        if t is None or not t.is_const:
            raise Unsupported(f"{role} must be a constant tensor (it is computed at run time)",
                              hint="convert with fixed shapes so the converter folds it")
        return np.asarray(t.data)


def pad_dims(shape: tuple[int, ...] | list[int], n: int = 6) -> list[int]:
    shape = [int(d) for d in shape]
    if len(shape) > n:
        raise Unsupported(f"rank {len(shape)} > {n}")
    return [1] * (n - len(shape)) + shape


def strides_of(dims: list[int]) -> list[int]:
    s, out = 1, [0] * len(dims)
    for d in range(len(dims) - 1, -1, -1):
        out[d] = s
        s *= dims[d]
    return out
