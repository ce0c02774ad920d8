"""The chain behind `tinyflow build`: a `--model` argument to an int8 model that fits.

    zoo name ─(synthesise data if needed)─ train ─ quantize ─┐
    .keras ───────────────────────────────────── quantize ──┤
    .tflite ────────────────────────────────────────────────┴─ parse ─ check ─ generate

Each stage reuses what an earlier run left: a zoo model with a quantized run is not
retrained; one with a trained but unquantized run is only quantized. Stages print one
line each on stderr so the user sees where the time goes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyflow.errors import TinyflowError
from tinyflow.ui import status

DATA_DIR = Path("data")  # beside runs/, in the working directory
DEFAULT_DATA = {"person_detection": ("wake-vision", "wake-vision-synth"),
                "speech_emotion": ("ser", "ser-synth")}


@dataclass
class Prepared:
    """An int8 model ready for code generation, and where it came from."""

    tflite: Path
    name: str
    source: str                 # "tflite", "keras" or "zoo"
    run_dir: Path | None = None
    trained: bool = False       # this call trained it
    quantized: bool = False     # this call quantized it


class Stage:
    """Prints `[n/N] label ...` and the seconds it took."""

    def __init__(self, label: str, n: int | None = None, total: int | None = None):
        self.label = f"[{n}/{total}] {label}" if n and total else label

    def __enter__(self) -> Stage:
        self.t0 = time.monotonic()
        status(f"{self.label} ...")
        return self

    def __exit__(self, exc_type, *_: Any) -> None:
        if exc_type is None:
            status(f"{self.label}: done in {time.monotonic() - self.t0:.1f} s")


def default_dataset(task: str, seed: int = 0, n: int | None = None) -> Path:
    """The synthetic dataset for a task under data/, generated on first use."""
    kind, folder = DEFAULT_DATA[task]
    out = DATA_DIR / f"{folder}-{seed}" if n is None else DATA_DIR / f"{folder}-{seed}-{n}"
    marker = out / ".complete"
    if marker.exists():
        return out
    from tinyflow.datasets import describe

    with Stage(f"synthesise a {kind} dataset in {out}"):
        if kind == "wake-vision":
            from tinyflow.datasets.synth_wake_vision import generate

            d = describe("wake_vision")["synth"]
            generate(out, n=n or d["n"], seed=seed, size=d["size"])
        else:
            from tinyflow.datasets.synth_ser import generate

            generate(out, n=n or describe("ser")["synth"]["n"], seed=seed)
    marker.write_text("ok\n")
    return out


def prepare_model(spec: str | Path, options: dict[str, Any] | None = None,
                  dataset: str | Path | None = None, epochs: int | None = None,
                  seed: int = 0, retrain: bool = False) -> Prepared:
    """Resolve `--model` to an int8 `.tflite`, training and quantizing only when needed."""
    p = Path(spec)
    if p.suffix.lower() == ".tflite":
        if not p.is_file():
            raise TinyflowError(f"model file not found: {p}")
        return Prepared(p, p.stem, "tflite")
    from tinyflow import zoo
    from tinyflow.quantize import quantize_run
    from tinyflow.train import default_run_dir, train

    resolved = zoo.resolve(spec, **(options or {}))
    if isinstance(resolved, zoo.ModelFile):
        raise TinyflowError(f"{p} is a Keras model without training data attached",
                            hint=f"quantize it with a representative dataset first: "
                                 f"tinyflow quantize --model {p} --data DIR")
    run_dir = default_run_dir(resolved)
    tflite = run_dir / "model_int8.tflite"
    out = Prepared(tflite, resolved.name, "zoo", run_dir)
    if tflite.is_file() and not retrain:
        status(f"using the quantized run {run_dir}")
        return out
    if retrain or not (run_dir / "model.keras").is_file():
        data = Path(dataset) if dataset else default_dataset(resolved.task, seed)
        with Stage(f"train {resolved.name} ({resolved.config_name}) on {data}"):
            # one line per epoch unless a person watches a terminal
            train(resolved, data, run_dir, epochs=epochs, seed=seed,
                  resume=None if not retrain else False,
                  verbose="auto" if sys.stderr.isatty() else 2)
        out.trained = True
    with Stage(f"quantize {resolved.name} to full int8"):
        quantize_run(run_dir, tflite)
    out.quantized = True
    return out
