"""Resolve a `--model` argument to an int8 `.tflite`: a path, or a zoo model's latest run."""

from __future__ import annotations

from pathlib import Path

from tinyflow.errors import TinyflowError
from tinyflow.ir import Model, load_model


def tflite_path(spec: str | Path) -> Path:
    p = Path(spec)
    if p.suffix.lower() == ".tflite":
        if not p.is_file():
            raise TinyflowError(f"model file not found: {p}")
        return p
    if p.suffix.lower() in (".keras", ".h5"):
        raise TinyflowError(f"{p} is a float Keras model",
                            hint=f"quantize it first: tinyflow quantize --model {p}")
    try:
        from tinyflow import zoo
    except ImportError:
        zoo = None
    if zoo is not None and hasattr(zoo, "find_quantized"):
        found = zoo.find_quantized(str(spec))
        if found is not None:
            return Path(found)
        raise TinyflowError(f"zoo model {spec!r} has no quantized run yet",
                            hint=f"tinyflow train --model {spec} && "
                                 f"tinyflow quantize --model {spec}")
    raise TinyflowError(f"{spec!r} is neither a .tflite file nor a known zoo model",
                        hint="see `tinyflow models`, or pass a path to an int8 .tflite")


def resolve_tflite(spec: str | Path) -> Model:
    return load_model(tflite_path(spec))
