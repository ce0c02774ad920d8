"""The model IR: a `.tflite` parsed once into tensors and operators in execution order.

Every later stage (planner, budget, code generator, inspect, fidelity checks) reads this;
nothing else parses `.tflite` bytes. The parser is the flatbuffer schema that ships with
the tflite-micro package, so it follows the same schema TFLM itself reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError

_DTYPES = {  # TFLite TensorType -> (name, numpy dtype)
    0: ("float32", np.float32), 1: ("float16", np.float16), 2: ("int32", np.int32),
    3: ("uint8", np.uint8), 4: ("int64", np.int64), 6: ("bool", np.bool_),
    7: ("int16", np.int16), 9: ("int8", np.int8), 10: ("float64", np.float64),
    12: ("uint64", np.uint64), 15: ("uint32", np.uint32), 16: ("uint16", np.uint16),
}
DTYPE_SIZE = {name: np.dtype(t).itemsize for name, t in _DTYPES.values()}

# Ops whose output is the input reinterpreted (same bytes): planners may alias them.
RESHAPE_LIKE = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema_fb
    return schema_fb


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray        # float32, shape (n,)
    zero_point: np.ndarray   # int64, shape (n,)
    axis: int = 0            # the quantized dimension when per-channel

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"scale": [float(s) for s in self.scale],
                             "zero_point": [int(z) for z in self.zero_point]}
        if self.per_channel:
            d["axis"] = self.axis
        return d


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None   # constant contents, shaped; None for activations
    is_variable: bool = False

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * DTYPE_SIZE.get(self.dtype, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "shape": list(self.shape),
                "dtype": self.dtype, "bytes": self.nbytes, "const": self.is_const,
                "quant": self.quant.to_dict() if self.quant else None}


@dataclass
class Operator:
    index: int
    opcode: str
    inputs: list[int]     # tensor indices; -1 marks an absent optional input
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "op": self.opcode, "inputs": self.inputs,
                "outputs": self.outputs, "options": self.options, "version": self.version}


@dataclass
class Model:
    name: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    sha256: str
    size_bytes: int
    description: str = ""

    # -- lookups -------------------------------------------------------------------------
    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def constants(self) -> list[Tensor]:
        return [t for t in self.tensors if t.is_const]

    @property
    def activations(self) -> list[Tensor]:
        return [t for t in self.tensors if not t.is_const]

    # -- figures -------------------------------------------------------------------------
    def macs(self, op: Operator) -> int:
        """Multiply-accumulates of one operator (0 for ops without a weight contraction)."""
        ins, out = self.op_inputs(op), self.op_outputs(op)[0]
        if op.opcode == "CONV_2D":          # filter [Cout, KH, KW, Cin]
            _, kh, kw, cin = ins[1].shape
            return out.size * kh * kw * cin
        if op.opcode == "DEPTHWISE_CONV_2D":  # filter [1, KH, KW, Cout]
            _, kh, kw, _ = ins[1].shape
            return out.size * kh * kw
        if op.opcode == "FULLY_CONNECTED":    # weights [units, depth]
            return out.size * ins[1].shape[-1]
        if op.opcode == "TRANSPOSE_CONV":     # filter [Cout, KH, KW, Cin], input is ins[2]
            cout, kh, kw, _ = ins[1].shape
            return ins[2].size * kh * kw * cout
        if op.opcode == "BATCH_MATMUL":
            a = ins[0].shape
            k = a[-2] if op.options.get("adj_x") else a[-1]
            return out.size * k
        return 0

    @property
    def total_macs(self) -> int:
        return sum(self.macs(op) for op in self.operators)

    @property
    def weight_bytes(self) -> int:
        return sum(t.nbytes for t in self.constants)

    @property
    def param_count(self) -> int:
        return sum(t.size for t in self.constants)


# -- parsing ------------------------------------------------------------------------------

def load_model(path: str | Path) -> Model:
    path = Path(path)
    if not path.exists():
        raise TinyflowError(f"model file not found: {path}")
    if path.suffix.lower() != ".tflite":
        raise TinyflowError(f"{path}: expected a .tflite file",
                            hint="quantize a Keras model first: tinyflow quantize --model ...")
    return parse_model(path.read_bytes(), name=_model_name(path), source=str(path))


def _model_name(path: Path) -> str:
    """A training run's model name (runs/<model>/<config>/model_int8.tflite), else the stem."""
    cfg = path.parent / "config.json"
    if cfg.is_file():
        import json

        try:
            name = json.loads(cfg.read_text()).get("model", {}).get("name")
        except (ValueError, AttributeError):
            name = None
        if isinstance(name, str) and name:
            return name
    return path.stem


def parse_model(data: bytes, name: str = "model", source: str | None = None) -> Model:
    """Parse `.tflite` bytes into the IR. Rejects corrupt, float and dynamic-shape models."""
    where = source or name
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise TinyflowError(f"{where}: not a TFLite flatbuffer (missing the 'TFL3' identifier; "
                            f"{len(data)} bytes)",
                            hint="is the file truncated or of another format?")
    schema = _schema()
    try:
        raw = schema.Model.GetRootAsModel(bytearray(data), 0)
        m = schema.ModelT.InitFromObj(raw)
        sg = m.subgraphs[0] if m.subgraphs else None
    except Exception as e:  # flatbuffers raises assorted errors on corrupt offsets
        raise TinyflowError(_corrupt(where, e)) from e
    if sg is None:
        raise TinyflowError(f"{where}: the model has no subgraph")
    if m.subgraphs and len(m.subgraphs) > 1:
        raise TinyflowError(f"{where}: {len(m.subgraphs)} subgraphs (control flow) are not "
                            "supported", hint="export a model without tf.cond/tf.while_loop")
    try:
        tensors = [_tensor(i, t, m.buffers, data, where) for i, t in enumerate(sg.tensors or [])]
        ops = [_operator(i, o, m.operatorCodes, schema, len(tensors))
               for i, o in enumerate(sg.operators or [])]
    except TinyflowError:
        raise
    except Exception as e:
        raise TinyflowError(_corrupt(where, e)) from e
    model = Model(name=name, tensors=tensors, operators=ops,
                  inputs=[int(i) for i in sg.inputs], outputs=[int(i) for i in sg.outputs],
                  sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
                  description=_text(m.description))
    _validate(model, where)
    return model


def _corrupt(where: str, e: Exception) -> str:
    return f"{where}: corrupt or truncated .tflite ({type(e).__name__}: {e})"


def _text(s: Any) -> str:
    if s is None:
        return ""
    return s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s)


def _tensor(i: int, t: Any, buffers: list, data: bytes, where: str) -> Tensor:
    if t.type not in _DTYPES:
        raise TinyflowError(f"{where}: tensor {i} has unsupported element type {t.type}")
    dname, npt = _DTYPES[t.type]
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if t.shapeSignature is not None and any(int(d) < 0 for d in t.shapeSignature):
        sig = [int(d) for d in t.shapeSignature]
        raise TinyflowError(f"{where}: tensor {i} '{_text(t.name)}' has a dynamic shape {sig}",
                            hint="convert with a fixed batch of 1: keras.Input(shape, batch_size=1)"
                                 " (tinyflow quantize does this for you)")
    quant = None
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0] * len(q.scale),
                        dtype=np.int64)
        quant = Quant(np.asarray(q.scale, dtype=np.float32), zp, int(q.quantizedDimension))
    arr = None
    if 0 < t.buffer < len(buffers):
        b = buffers[t.buffer]
        raw: bytes | None = None
        if b.data is not None and len(b.data) > 0:
            raw = bytes(np.asarray(b.data, dtype=np.uint8))
        elif b.offset and b.offset > 1:  # large models keep buffers after the flatbuffer
            if b.offset + b.size > len(data):
                raise TinyflowError(f"{where}: buffer of tensor {i} lies past the end of the file")
            raw = data[b.offset:b.offset + b.size]
        if raw is not None:
            want = int(np.prod(shape, dtype=np.int64)) * np.dtype(npt).itemsize
            if len(raw) != want:
                raise TinyflowError(f"{where}: tensor {i} '{_text(t.name)}' has {len(raw)} bytes "
                                    f"of data, its shape {list(shape)} needs {want}")
            arr = np.frombuffer(raw, dtype=npt).reshape(shape).copy()
    return Tensor(i, _text(t.name) or f"t{i}", shape, dname, quant, arr, bool(t.isVariable))


_ENUM_CACHE: dict[str, dict[int, str]] = {}


def _enum_names(schema: Any, cls: str) -> dict[int, str]:
    if cls not in _ENUM_CACHE:
        c = getattr(schema, cls)
        _ENUM_CACHE[cls] = {v: k for k, v in vars(c).items() if not k.startswith("_")
                            and isinstance(v, int)}
    return _ENUM_CACHE[cls]


_ENUM_FIELDS = {"padding": "Padding", "fused_activation_function": "ActivationFunctionType",
                "weights_format": "FullyConnectedOptionsWeightsFormat"}


def _snake(name: str) -> str:
    """camelCase schema fields to TFLite's snake_case (dilationWFactor -> dilation_w_factor)."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z])([A-Z][a-z])", r"\1_\2", s).lower()


def _operator(i: int, o: Any, codes: list, schema: Any, ntensors: int) -> Operator:
    from tflite_micro.python.tflite_micro.runtime import get_builtin_code_from_operator_code
    if o.opcodeIndex >= len(codes):
        raise TinyflowError(f"operator {i} refers to missing operator code {o.opcodeIndex}")
    code = codes[o.opcodeIndex]
    builtin = get_builtin_code_from_operator_code(code)
    opname = _enum_names(schema, "BuiltinOperator").get(builtin, f"BUILTIN_{builtin}")
    if opname == "CUSTOM":
        opname = f"CUSTOM:{_text(code.customCode)}"
    opts: dict[str, Any] = {}
    if o.builtinOptions is not None:
        for k, v in vars(o.builtinOptions).items():
            key = _snake(k)
            if key in _ENUM_FIELDS and isinstance(v, int):
                v = _enum_names(schema, _ENUM_FIELDS[key]).get(v, v)
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            opts[key] = v
    ins = [int(x) for x in (o.inputs if o.inputs is not None else [])]
    outs = [int(x) for x in (o.outputs if o.outputs is not None else [])]
    for x in ins + outs:
        if x >= ntensors or x < -1:
            raise TinyflowError(f"operator {i} ({opname}) refers to tensor {x}, "
                                f"the model has {ntensors}")
    return Operator(i, opname, ins, outs, opts, int(code.version or 1))


_FLOAT = ("float32", "float16", "float64")
_CONVERSION_OPS = {"QUANTIZE", "DEQUANTIZE"}


def _validate(model: Model, where: str) -> None:
    """Full-int8 only: float may appear at the model's edges (QUANTIZE in, DEQUANTIZE out),
    never inside the computation."""
    for op in model.operators:
        if op.opcode in _CONVERSION_OPS:
            continue
        used = [model.tensors[x] for x in op.inputs + op.outputs if x >= 0]
        bad = [t for t in used if t.dtype in _FLOAT]
        if bad:
            raise TinyflowError(
                f"{where}: a float model: operator {op.index} ({op.opcode}) computes in float "
                f"(tensor '{bad[0].name}' is {bad[0].dtype}); tinyflow runs full-int8 models",
                hint="quantize it: tinyflow quantize --model MODEL.keras (full-int8 with a "
                     "representative dataset)")
