"""Full-integer post-training quantization, checked in tflite-micro.

`quantize(model, rep_data, out_path, eval_data=..., task=...)` converts a Keras model to
a full-int8 `.tflite` (int8 input and output, per-channel weights), calibrated on a
representative sample of the training inputs, then loads it into the tflite-micro
interpreter and invokes it once: a model that converts can still fail at invoke (LOG and
SQRT convert to int8 but TFLM has only float kernels for them). With `eval_data` it also
reports float vs int8 quality on that held-out split, the int8 side computed by
tflite-micro itself (the golden reference for the device).

Always converts a copy rebuilt with a fixed batch of 1: with a dynamic batch, Keras 3
Dense-on-3D layers make the converter emit REDUCE_PROD, which TFLM lacks.

`quantize_run(run_dir)` does all of that for a `tinyflow train` run directory and writes
`model_int8.tflite` and `quant.json` there. `quantize_untrained(spec, out)` writes a small
untrained int8 model of a zoo entry, for engine tests.

QAT lives in `tinyflow.qat` (a tf_keras child process); `quantize(..., qat=True)` points
there.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class QuantResult:
    path: Path
    size_bytes: int
    ops: dict[str, int]
    arena_bytes: int                       # TFLM's own allocation on this 64-bit host
    input_quant: tuple[float, int]         # (scale, zero_point)
    output_quant: tuple[float, int]
    convert_seconds: float
    n_rep: int
    float_metrics: dict[str, Any] | None = None
    int8_metrics: dict[str, Any] | None = None
    n_eval: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # Float and int8 outputs on the eval split (not serialised).
    predictions: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("predictions")
        d["path"] = str(self.path)
        return d


def fixed_batch(model):
    """A copy of a functional/sequential Keras model with batch size 1, same weights."""
    import keras

    cfg = model.get_config()
    changed = False
    for layer in cfg.get("layers", []):
        if layer.get("class_name") == "InputLayer":
            c = layer["config"]
            key = "batch_shape" if "batch_shape" in c else "batch_input_shape"
            if key in c:
                c[key] = [1, *list(c[key])[1:]]
                changed = True
    if not changed:
        raise TinyflowError(f"cannot fix the batch size of model {model.name!r}",
                            hint="build it with keras.Input(shape, batch_size=1)")
    clone = type(model).from_config(cfg) if isinstance(model, keras.Sequential) \
        else keras.Model.from_config(cfg)
    clone.set_weights(model.get_weights())
    return clone


def int8_converter(conv, rep: np.ndarray):
    """Set a TFLiteConverter up for full int8 (int8 I/O, int8 builtins only) calibrated on
    `rep`, one batch-1 sample at a time. Shared with the QAT child, which runs tf_keras."""
    import tensorflow as tf

    def gen():
        for i in range(len(rep)):
            yield [rep[i:i + 1]]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv


def convert_int8(model, rep_data: np.ndarray, n_rep: int = 100) -> bytes:
    """Keras model → full-int8 TFLite bytes (int8 I/O), calibrated on `rep_data[:n_rep]`."""
    import tensorflow as tf

    if model.inputs[0].shape[0] != 1:
        model = fixed_batch(model)
    rep = np.asarray(rep_data[:n_rep], np.float32)
    if len(rep) == 0:
        raise TinyflowError("the representative dataset is empty")
    conv = int8_converter(tf.lite.TFLiteConverter.from_keras_model(model), rep)
    from tinyflow.ui import quiet_c_output

    # the exporter prints its signatures, the C++ calibrator its settings
    with contextlib.redirect_stdout(io.StringIO()), quiet_c_output(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        try:
            return bytes(conv.convert())
        except Exception as e:  # the converter's errors are long; keep the first line
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TinyflowError(f"int8 conversion failed: {msg}",
                                hint="every op must have an int8 TFLite kernel") from None


def op_counts(model_bytes: bytes) -> dict[str, int]:
    from tinyflow.ir import parse_model

    return dict(Counter(op.opcode for op in parse_model(model_bytes).operators))


# TFLM's int8 SOFTMAX turns beta * input_scale * 2^26 into a multiplier that must be > 1
# (QuantizeMultiplierGreaterThanOne, a TFLITE_CHECK): a smaller input scale aborts the
# process (SIGABRT, no exception). An untrained MobileNetV2 with fresh BN statistics gets
# there (its softmax input scale was 8e-9).
MIN_SOFTMAX_INPUT_SCALE = 2.0 ** -26
MIN_ACTIVATION_SCALE = 1e-9  # below this, activations have collapsed to ~0 anyway


def check_scales(model_bytes: bytes) -> None:
    """Refuse degenerate activation scales before TFLM sees them (it would abort)."""
    from tinyflow.ir import parse_model

    m = parse_model(model_bytes)

    def scale(i: int) -> float:
        t = m.tensors[i]
        return float(t.quant.scale.min()) if t.quant is not None and len(t.quant.scale) \
            else 1.0

    problems = [f"SOFTMAX input {m.tensors[op.inputs[0]].name!r} has scale "
                f"{scale(op.inputs[0]):.2e} < 2^-26, which TFLM cannot represent"
                for op in m.operators
                if op.opcode == "SOFTMAX" and scale(op.inputs[0]) < MIN_SOFTMAX_INPUT_SCALE]
    problems += [f"activation {t.name!r} has scale {scale(t.index):.2e}"
                 for t in m.activations if scale(t.index) < MIN_ACTIVATION_SCALE]
    if problems:
        raise TinyflowError(
            f"degenerate int8 model: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            + "; activations collapse to ~0",
            hint="an untrained model, or BatchNorm statistics never updated: train first")


def _io_quant(details: dict) -> tuple[float, int]:
    q = details["quantization_parameters"]
    return float(q["scales"][0]), int(q["zero_points"][0])


class Int8Runner:
    """Float in, float out through the int8 model in tflite-micro (quantize/dequantize)."""

    def __init__(self, model_bytes: bytes):
        from tinyflow.oracle import TflmOracle

        self.oracle = TflmOracle(model_bytes)
        self.in_q = _io_quant(self.oracle.input_details(0))
        self.out_q = _io_quant(self.oracle.output_details(0))

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        s, z = self.in_q
        return np.clip(np.round(x / s) + z, -128, 127).astype(np.int8)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x: (n, ...) float → (n, outputs) float."""
        s, z = self.out_q
        outs = []
        for i in range(len(x)):
            q = self.oracle.invoke(self.quantize_input(x[i:i + 1]))[0]
            outs.append((q.astype(np.float32).reshape(-1) - z) * s)
        return np.stack(outs)


def evaluate(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Task metrics: accuracy/F1 for person detection (argmax), CCC/MAE for emotion."""
    from tinyflow import metrics

    if task == "person_detection":
        pred = np.argmax(y_pred, axis=1) if y_pred.ndim == 2 and y_pred.shape[1] > 1 \
            else (y_pred.reshape(-1) >= 0.5).astype(int)
        return metrics.classification_report(y_true, pred)
    if task == "speech_emotion":
        return metrics.regression_report(y_true, y_pred)
    raise TinyflowError(f"unknown task {task!r}")


def _load_keras(path: Path):
    import keras

    import tinyflow.train  # noqa: F401  (registers the CCC loss for deserialisation)

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:
        raise TinyflowError(f"could not load Keras model {path}: {e}") from None


def quantize(model: Any, rep_data: np.ndarray, out_path: str | Path,
             eval_data: tuple[np.ndarray, np.ndarray] | None = None, task: str | None = None,
             n_rep: int = 100, qat: bool = False) -> QuantResult:
    """Convert, write, invoke once in tflite-micro, and optionally compare float vs int8.

    `model`: a Keras model or a `.keras` path. `eval_data`: (x, y) held-out floats;
    needs `task` ("person_detection" or "speech_emotion").
    """
    if qat:
        raise TinyflowError("QAT works on a training run, in a tf_keras process",
                            hint="tinyflow.qat.qat_run(run_dir) or tinyflow quantize --run DIR "
                                 "--qat")
    if isinstance(model, (str, Path)):
        model = _load_keras(Path(model))
    t0 = time.monotonic()
    data = convert_int8(model, rep_data, n_rep)
    seconds = time.monotonic() - t0
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    check_scales(data)
    runner = Int8Runner(data)  # loads it in TFLM
    runner(np.asarray(rep_data[:1], np.float32))  # and invokes once: the real test
    res = QuantResult(out, len(data), op_counts(data), runner.oracle.arena_bytes,
                      runner.in_q, runner.out_q, round(seconds, 2), min(n_rep, len(rep_data)))
    if eval_data is not None:
        if task is None:
            raise TinyflowError("evaluation needs the task")
        x, y = eval_data
        y_float = model.predict(x, batch_size=64, verbose=0)
        y_int8 = runner(x)
        res.float_metrics = evaluate(task, y, y_float)
        res.int8_metrics = evaluate(task, y, y_int8)
        res.n_eval = int(len(x))
        res.predictions = {"float": np.asarray(y_float), "int8": y_int8}
    return res


def quantize_run(run_dir: str | Path, out_path: str | Path | None = None, n_rep: int = 100,
                 eval_split: str = "test", max_eval: int | None = None) -> QuantResult:
    """Quantize a `tinyflow train` run: rep data from its train split, eval on `eval_split`."""
    from tinyflow import train as T

    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise TinyflowError(f"{run_dir} is not a training run (no config.json)",
                            hint="train first: tinyflow train --model NAME --data DIR")
    cfg = json.loads(cfg_path.read_text())
    spec = T.spec_of_run(cfg)
    dataset = cfg["dataset"]["path"]
    x_rep, _ = T.load_split(spec, dataset, "train", limit=n_rep, seed=cfg["training"]["seed"])
    try:
        x_ev, y_ev = T.load_split(spec, dataset, eval_split, limit=max_eval)
    except TinyflowError:
        x_ev, y_ev = T.load_split(spec, dataset, "validation", limit=max_eval)
        eval_split = "validation"
    out = Path(out_path) if out_path else run_dir / "model_int8.tflite"
    res = quantize(run_dir / "model.keras", x_rep, out, (x_ev, y_ev), spec.task, n_rep=n_rep)
    res.extra = {"eval_split": eval_split, "model": spec.to_dict()}
    for key in ("features", "preprocessing"):  # what the device must reproduce
        if key in cfg:
            res.extra[key] = cfg[key]
    if spec.entry.dataset == "wake_vision":
        res.extra["subsets"] = _subset_f1(dataset, eval_split, len(y_ev), res)
    (run_dir / "quant.json").write_text(json.dumps(res.to_dict(), indent=2))
    return res


def spec_like(model: Any) -> Any:
    """The zoo preprocessing that fits a Keras model's input and output shapes.

    (r, r, 1|3) → 2 outputs: person_det at that resolution and channel count;
    (frames, 26, 1) → 3 outputs: ser with the clip length those frames imply.
    """
    from tinyflow import zoo
    from tinyflow.features import LogMelParams

    shape = tuple(model.inputs[0].shape[1:])
    outs = model.outputs[0].shape[-1]
    if len(shape) == 3 and shape[0] == shape[1] and shape[2] in (1, 3) and outs == 2:
        return zoo.resolve("person_det", resolution=shape[0], channels=shape[2])
    p = LogMelParams()
    if len(shape) == 3 and shape[1:] == (p.n_mels, 1) and outs == 3:
        seconds = ((shape[0] - 1) * p.hop_length + p.n_fft) / p.sample_rate
        return zoo.resolve("ser", seconds=seconds)
    raise TinyflowError(f"cannot tell which dataset fits a model with input {list(shape)} "
                        f"and {outs} outputs",
                        hint="person detection: (r, r, 1|3) → 2; speech emotion: "
                             "(frames, 26, 1) → 3; or use the Python API quantize()")


def quantize_keras_file(path: str | Path, dataset: str | Path, out_path: str | Path | None = None,
                        n_rep: int = 100, eval_split: str = "test",
                        max_eval: int | None = None) -> QuantResult:
    """Quantize a user's `.keras` on a dataset in one of the supported formats.

    Writes `<stem>_int8.tflite` and `<stem>_quant.json` beside it unless `out_path` is set.
    """
    from tinyflow import train as T

    path = Path(path)
    model = _load_keras(path)
    spec = spec_like(model)
    x_rep, _ = T.load_split(spec, dataset, "train", limit=n_rep, seed=0)
    x_ev, y_ev = T.load_split(spec, dataset, eval_split, limit=max_eval)
    out = Path(out_path) if out_path else path.with_name(f"{path.stem}_int8.tflite")
    res = quantize(model, x_rep, out, (x_ev, y_ev), spec.task, n_rep=n_rep)
    res.extra = {"eval_split": eval_split, "preprocessing_like": spec.to_dict()}
    out.with_name(f"{out.stem.removesuffix('_int8')}_quant.json").write_text(
        json.dumps(res.to_dict(), indent=2))
    return res


def _subset_f1(dataset: str, split: str, n: int, res: QuantResult) -> list[dict[str, Any]]:
    """Wake Vision fine-grained F1 (float and int8) on the eval rows, when the split's
    CSV has the attribute columns (validation/test); [] otherwise."""
    from tinyflow.datasets.wake_vision import WakeVision
    from tinyflow.evaluate.summary import wake_vision_subsets

    s = WakeVision(dataset).split(split)
    if "dark" not in s.attributes or res.predictions is None:
        return []
    tags = [[c for c, v in s.attributes.items() if v[i] == 1] for i in range(n)]
    y = s.labels[:n]
    rows = {k: wake_vision_subsets(y, np.argmax(p, axis=1), tags)
            for k, p in res.predictions.items()}
    return [{"group": f["group"], "subset": f["subset"], "n": f["n"],
             "f1_float": f["f1"], "f1_int8": i["f1"]}
            for f, i in zip(rows["float"], rows["int8"])]


def quantize_untrained(spec: Any, out_path: str | Path, seed: int = 0, n_rep: int = 16
                       ) -> QuantResult:
    """An untrained zoo model (seeded weights), calibrated on a few synthetic inputs."""
    import keras

    from tinyflow.train import synthetic_inputs

    keras.utils.set_random_seed(seed)
    model = spec.build()
    rep = synthetic_inputs(spec, n_rep, seed)
    # Fresh BN statistics (mean 0, var 1) make activations shrink ~10x per block, down to
    # scales near 1e-8 where TFLM aborts the process. A few training-mode passes move the
    # moving statistics (momentum 0.9) to the real ones, as a trained model would have.
    for _ in range(30):
        model(rep, training=True)
    return quantize(model, rep, out_path, n_rep=n_rep)
