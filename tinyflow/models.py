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
    from tinyflow import zoo
    from tinyflow.train import default_run_dir

    try:
        spec_ = zoo.resolve(str(spec))
    except TinyflowError as e:
        raise TinyflowError(f"{spec!r} is neither a .tflite file nor a zoo model ({e.message})",
                            hint="see `tinyflow models`, or pass a path to an int8 .tflite"
                            ) from None
    found = default_run_dir(spec_) / "model_int8.tflite"
    if found.is_file():
        return found
    raise TinyflowError(f"zoo model {spec!r} has no quantized run yet ({found} is missing)",
                        hint=f"tinyflow build --model {spec} trains and quantizes it, or run "
                             f"tinyflow train / tinyflow quantize yourself")


def resolve_tflite(spec: str | Path) -> Model:
    return load_model(tflite_path(spec))
