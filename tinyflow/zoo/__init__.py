"""The model zoo: a registry of small models built for microcontrollers.

Each entry (`ZooEntry`) is data plus a builder: a name, the task, typed options with
defaults and ranges, the input the model expects, and `build(options, batch_size)` that
returns an untrained Keras model. Entries live one per module (`person_det.py`,
`ser.py`) and register themselves in `REGISTRY` below. This package imports only the
standard library at import time; Keras is imported inside the builders.

`resolve("person_det", width=0.25)` → `ModelSpec` (entry + validated options);
`resolve("path/model.keras")` or a `.tflite` path → `ModelFile`.
An unknown name or option raises `TinyflowError` listing the valid ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.errors import TinyflowError


@dataclass(frozen=True)
class Option:
    """One model option: `--width 0.25` on the command line, `width=0.25` in Python."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None

    def parse(self, value: Any, model: str) -> Any:
        if isinstance(value, float) and self.type is int and not value.is_integer():
            raise TinyflowError(f"{model}: option {self.name}={value} must be an integer")
        try:
            v = self.type(value)
        except (TypeError, ValueError):
            raise TinyflowError(f"{model}: option {self.name}={value!r} is not a "
                                f"{self.type.__name__}") from None
        if self.choices is not None and v not in self.choices:
            raise TinyflowError(f"{model}: option {self.name}={v} is not one of "
                                f"{', '.join(map(str, self.choices))}")
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise TinyflowError(f"{model}: option {self.name}={v} is outside "
                                f"[{self.min}, {self.max}]")
        return v

    def describe(self) -> str:
        rng = (f"one of {'/'.join(map(str, self.choices))}" if self.choices
               else f"{self.min}..{self.max}" if self.min is not None else "")
        flag = "--" + self.name.replace("_", "-")
        return f"{flag} {self.default} ({self.help}{'; ' + rng if rng else ''})"


@dataclass(frozen=True)
class InputSpec:
    shape: tuple[int, ...]        # without the batch axis
    dtype: str                    # of the float model; the int8 model quantizes it
    description: str              # what one input is and how it is preprocessed
    value_range: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "dtype": self.dtype,
                "description": self.description,
                "range": list(self.value_range) if self.value_range else None}


@dataclass(frozen=True)
class ZooEntry:
    name: str
    task: str                     # "person_detection" | "speech_emotion"
    summary: str
    options: tuple[Option, ...]
    outputs: tuple[str, ...]      # one name per output value
    dataset: str                  # dataset kind it trains on: "wake_vision" | "ser"
    builder: Callable[..., Any]   # (options: dict, batch_size: int | None) -> keras.Model
    input_spec_fn: Callable[[dict], InputSpec]
    config_name_fn: Callable[[dict], str]
    train_defaults: dict = field(default_factory=dict)  # epochs, batch_size, lr

    @property
    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True)
class ModelSpec:
    """A zoo entry with every option resolved (defaults filled in)."""

    entry: ZooEntry
    options: dict[str, Any]

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def task(self) -> str:
        return self.entry.task

    @property
    def input_spec(self) -> InputSpec:
        return self.entry.input_spec_fn(self.options)

    @property
    def config_name(self) -> str:
        """Short, readable and unique per option set, e.g. `w0.25-r96-c1`."""
        return self.entry.config_name_fn(self.options)

    def build(self, batch_size: int | None = None, keras_module: Any = None):
        """An untrained Keras model; batch_size=1 for conversion (no REDUCE_PROD).
        `keras_module` builds it with another Keras (tf_keras for QAT)."""
        if keras_module is not None:
            return self.entry.builder(self.options, batch_size, keras_module=keras_module)
        return self.entry.builder(self.options, batch_size)

    def to_dict(self) -> dict:
        return {"name": self.name, "task": self.task, "options": dict(self.options),
                "input": self.input_spec.to_dict(), "outputs": list(self.entry.outputs)}

    def digest(self) -> str:
        blob = json.dumps({"name": self.name, "options": self.options}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class ModelFile:
    """A user's own model file: `.keras` (trainable, quantizable) or `.tflite` (int8)."""

    path: Path
    kind: str   # "keras" | "tflite"

    @property
    def name(self) -> str:
        return self.path.stem


REGISTRY: dict[str, ZooEntry] = {}


def register(entry: ZooEntry) -> ZooEntry:
    REGISTRY[entry.name] = entry
    return entry


def entries() -> list[ZooEntry]:
    _load()
    return list(REGISTRY.values())


def get(name: str) -> ZooEntry:
    _load()
    key = name.replace("-", "_")
    if key not in REGISTRY:
        raise TinyflowError(f"unknown zoo model {name!r}; the zoo has: {', '.join(REGISTRY)}",
                            hint="or pass a path to a .keras or .tflite file")
    return REGISTRY[key]


def _load() -> None:
    if not REGISTRY:
        from tinyflow.zoo import person_det, ser  # noqa: F401  (they register themselves)


def resolve(name_or_path: str | Path, **options: Any) -> ModelSpec | ModelFile:
    """A zoo name with options, or a model file path.

    Options whose value is None are ignored (so argparse defaults can be passed through).
    """
    options = {k: v for k, v in options.items() if v is not None}
    s = str(name_or_path)
    if s.endswith((".keras", ".tflite")) or "/" in s or Path(s).is_file():
        p = Path(s)
        if p.suffix not in (".keras", ".tflite"):
            raise TinyflowError(f"{s}: a model file must end in .keras or .tflite")
        if not p.is_file():
            raise TinyflowError(f"model file {s} does not exist")
        if options:
            raise TinyflowError(f"options {', '.join(sorted(options))} apply to zoo models, "
                                f"not to the file {s}")
        return ModelFile(p, p.suffix[1:])
    entry = get(s)
    resolved = entry.defaults
    for k, v in options.items():
        opt = entry.option(k.replace("-", "_"))
        if opt is None:
            valid = ", ".join(o.name for o in entry.options)
            raise TinyflowError(f"{entry.name} has no option {k!r}; valid options: {valid}")
        resolved[opt.name] = opt.parse(v, entry.name)
    return ModelSpec(entry, resolved)


def spec_from_dict(d: dict) -> ModelSpec:
    """Inverse of `ModelSpec.to_dict()` (as recorded in a run's config.json)."""
    spec = resolve(d["name"], **d.get("options", {}))
    assert isinstance(spec, ModelSpec)
    return spec


def all_options() -> dict[str, Option]:
    """Every option of every entry, by name (for the shared CLI flags)."""
    out: dict[str, Option] = {}
    for e in entries():
        for o in e.options:
            out.setdefault(o.name, o)
    return out


def param_count(spec: ModelSpec) -> int:
    return int(spec.build().count_params())


def quick_tflite(name: str, out_path: str | Path | None = None, seed: int = 0,
                 **options: Any) -> Path:
    """Write a small, untrained full-int8 `.tflite` of a zoo model, checked in tflite-micro.

    For the engine's bit-exactness tests: random weights and BN statistics, calibrated on
    a few synthetic samples so activations have realistic ranges. Default output:
    `build/zoo/<name>-<config>.tflite`.
    """
    from tinyflow.quantize import quantize_untrained

    spec = resolve(name, **options)
    if not isinstance(spec, ModelSpec):
        raise TinyflowError("quick_tflite needs a zoo model name")
    out = Path(out_path or Path("build/zoo") / f"{spec.name}-{spec.config_name}.tflite")
    return quantize_untrained(spec, out, seed=seed).path
