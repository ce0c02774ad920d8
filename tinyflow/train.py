"""Training: Keras fit on tf.data pipelines, into a run directory.

`train(model, dataset, run_dir)` builds the zoo model (or loads a `.keras` file), reads
the dataset in its real format (Wake Vision CSV + images for `person_det`, an SER
manifest for `ser`), trains, and writes to the run directory:

    model.keras      the trained float model (batch size free)
    config.json      model name + options, dataset, training settings, seeds, versions,
                     and for `ser` the front-end parameters the device must reproduce
    metrics.json     validation metrics, per-epoch history and seconds per epoch
    checkpoint.keras the last epoch's model; backup/ holds the resume state while a run
                     is unfinished (keras.callbacks.BackupAndRestore)

A run interrupted part-way resumes from `backup/` when started again with the same run
directory (unless `resume=False`). Person detection trains with cross-entropy and
flip/translate/contrast augmentation; speech emotion with 1 - mean CCC over the three
dimensions, the usual loss for teacher A/D/V regression. Multi-device training goes
through a `tf.distribute` strategy (`strategy="mirrored"` or `"multiworker"`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RUNS_DIR = Path("runs")


@dataclass
class RunResult:
    run_dir: Path
    model_path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    seconds_per_epoch: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "model_path": str(self.model_path),
                "config": self.config, "metrics": self.metrics,
                "seconds_per_epoch": self.seconds_per_epoch}


def default_run_dir(spec: Any) -> Path:
    return RUNS_DIR / spec.name / spec.config_name


# -- data ------------------------------------------------------------------------------

@dataclass
class SplitIndex:
    """One split as file paths + targets, and how to load one preprocessed input."""

    paths: list[Path]
    y: np.ndarray
    load_one: Any            # Callable[[Path], np.ndarray]
    input_shape: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.paths)

    def load(self) -> np.ndarray:
        out = np.empty((len(self.paths), *self.input_shape), np.float32)
        for i, p in enumerate(self.paths):
            out[i] = self.load_one(p)
        return out


def split_index(spec: Any, dataset: str | Path, split: str, limit: int | None = None,
                seed: int | None = None) -> SplitIndex:
    """The files and targets of one split, checked, without decoding them yet."""
    if spec.entry.dataset == "wake_vision":
        from tinyflow.datasets.wake_vision import WakeVision, load_image

        s = WakeVision(dataset).split(split)
        idx = _pick(len(s), limit, seed)
        r, c = spec.options["resolution"], spec.options["channels"]
        return SplitIndex([s.paths[i] for i in idx], s.labels[idx].astype(np.int32),
                          lambda p: load_image(p, r, c), (r, r, c))
    if spec.entry.dataset == "ser":
        from tinyflow.datasets.ser_manifest import SerManifest, load_wav
        from tinyflow.features import LogMel
        from tinyflow.zoo.ser import feature_params

        s = SerManifest(dataset).split(split)
        idx = _pick(len(s), limit, seed)
        fe = LogMel(feature_params(spec.options))
        return SplitIndex([s.paths[i] for i in idx], s.targets[idx],
                          lambda p: fe(load_wav(p))[:, :, None], (*fe.params.shape, 1))
    raise TinyflowError(f"no loader for dataset kind {spec.entry.dataset!r}")


def load_split(spec: Any, dataset: str | Path, split: str, limit: int | None = None,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one split, preprocessed for `spec`, in memory. `limit` with `seed` takes
    a seeded random subset (e.g. the representative set); without a seed, the first rows."""
    index = split_index(spec, dataset, split, limit, seed)
    return index.load(), index.y


def _streamed(index: SplitIndex, seed: int | None):
    """A tf.data pipeline that decodes files on the fly (for splits too big for memory),
    with exactly the in-memory preprocessing (the same Python loader)."""
    import tensorflow as tf

    paths = np.array([str(p) for p in index.paths])
    ds = tf.data.Dataset.from_tensor_slices((paths, index.y))
    if seed is not None:
        ds = ds.shuffle(min(len(paths), 50_000), seed=seed, reshuffle_each_iteration=True)

    def load(p):
        return index.load_one(Path(p.decode())).astype(np.float32)

    def fn(p, y):
        x = tf.numpy_function(load, [p], tf.float32)
        x.set_shape(index.input_shape)
        return x, y

    return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE)


STREAM_ABOVE = 20_000   # examples; above this a split is decoded on the fly, not held in RAM


def _pick(n: int, limit: int | None, seed: int | None) -> np.ndarray:
    if not limit or limit >= n:
        return np.arange(n)
    if seed is None:
        return np.arange(limit)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def synthetic_inputs(spec: Any, n: int, seed: int = 0) -> np.ndarray:
    """`n` model inputs made in memory by the synthetic generators (no files)."""
    if spec.entry.dataset == "wake_vision":
        from PIL import Image

        from tinyflow.datasets.synth_wake_vision import render

        r, c = spec.options["resolution"], spec.options["channels"]
        out = np.empty((n, r, r, c), np.float32)
        for i in range(n):
            rng = np.random.default_rng([seed, i])
            kind = "person" if i % 2 == 0 else "non_person"
            arr, _ = render(rng, r, kind, ["dark", "normal", "bright"][i % 3],
                            "medium", "male", "middle")
            im = Image.fromarray(arr).convert("L" if c == 1 else "RGB")
            a = np.asarray(im, np.float32)
            out[i] = (a[:, :, None] if c == 1 else a) / 127.5 - 1.0
        return out
    if spec.entry.dataset == "ser":
        from tinyflow.datasets.synth_ser import synth_clip
        from tinyflow.features import LogMel
        from tinyflow.zoo.ser import feature_params

        p = feature_params(spec.options)
        fe = LogMel(p)
        waves = []
        for i in range(n):
            rng = np.random.default_rng([seed, i])
            waves.append(synth_clip(rng, *rng.uniform(0.05, 0.95, 3), seconds=p.seconds))
        return fe.batch(waves)
    raise TinyflowError(f"no synthetic inputs for {spec.entry.dataset!r}")


# -- losses ----------------------------------------------------------------------------

def _register_loss():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="tinyflow", name="ccc_loss")
    def ccc_loss(y_true, y_pred):
        """1 - mean over dimensions of the batch CCC (population variances)."""
        y_true = ops.cast(y_true, y_pred.dtype)
        mt, mp = ops.mean(y_true, axis=0), ops.mean(y_pred, axis=0)
        vt, vp = ops.var(y_true, axis=0), ops.var(y_pred, axis=0)
        cov = ops.mean((y_true - mt) * (y_pred - mp), axis=0)
        ccc = 2.0 * cov / (vt + vp + ops.square(mt - mp) + 1e-7)
        return 1.0 - ops.mean(ccc)

    return ccc_loss


def spec_of_run(cfg: dict) -> Any:
    """The `ModelSpec` a run's config.json recorded."""
    from tinyflow import zoo

    return zoo.spec_from_dict(cfg["model"])


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    import tinyflow

    return {"tinyflow": tinyflow.__version__, "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _augmenter(seed: int):
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 1),
        # value_range matters: the default (0, 255) clips our [-1, 1] inputs at 0.
        layers.RandomContrast(0.2, value_range=(-1.0, 1.0), seed=seed + 2),
    ], name="augment")


def train(model: Any, dataset: str | Path, run_dir: str | Path | None = None,
          epochs: int | None = None, batch_size: int | None = None,
          learning_rate: float | None = None, seed: int = 0, resume: bool | None = None,
          strategy: str | None = None, augment: bool = True, verbose: int | str = "auto",
          limit: int | None = None, callbacks: list | None = None,
          stream: bool | None = None) -> RunResult:
    """Train a zoo model (name, `ModelSpec`) on `dataset`; returns the run's result.

    `resume=None` resumes an interrupted run found in `run_dir`; False starts over.
    `limit` caps the training split (for quick runs). `callbacks` are extra Keras
    callbacks (e.g. a custom progress display). `stream` decodes files on the fly
    instead of loading the split into memory (default: above STREAM_ABOVE examples).
    """
    import keras
    import tensorflow as tf

    from tinyflow import zoo
    from tinyflow.quantize import evaluate

    spec = zoo.resolve(model) if isinstance(model, (str, Path)) else model
    if isinstance(spec, zoo.ModelFile):
        raise TinyflowError("train builds a zoo model; to fine-tune your own .keras use "
                            "the Python API with a ModelSpec", hint="see tinyflow models")
    dataset = Path(dataset)
    td = spec.entry.train_defaults
    epochs = int(epochs or td.get("epochs", 10))
    batch_size = int(batch_size or td.get("batch_size", 32))
    lr = float(learning_rate or td.get("learning_rate", 1e-3))
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise TinyflowError("epochs and batch size must be >= 1 and the learning rate > 0")
    run_dir = Path(run_dir) if run_dir else default_run_dir(spec)
    run_dir.mkdir(parents=True, exist_ok=True)
    backup = run_dir / "backup"
    if resume is False and backup.exists():
        shutil.rmtree(backup)

    keras.utils.set_random_seed(seed)
    tr_index = split_index(spec, dataset, "train", limit=limit, seed=seed if limit else None)
    va_index = split_index(spec, dataset, "validation")
    if stream is None:
        stream = len(tr_index) > STREAM_ABOVE

    config: dict[str, Any] = {
        "model": spec.to_dict(),
        "dataset": {"path": str(dataset.resolve()), "kind": spec.entry.dataset,
                    "n_train": len(tr_index), "n_validation": len(va_index),
                    "streamed": bool(stream)},
        "training": {"epochs": epochs, "batch_size": batch_size, "learning_rate": lr,
                     "seed": seed, "augment": bool(augment and spec.task == "person_detection"),
                     "strategy": strategy or "default",
                     "loss": "1 - mean CCC" if spec.task == "speech_emotion"
                     else "sparse categorical cross-entropy"},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    if spec.entry.dataset == "ser":
        from tinyflow.zoo.ser import feature_params

        config["features"] = feature_params(spec.options).to_dict()
    else:
        config["preprocessing"] = {"crop": "centre square", "resize": "bilinear",
                                   "grey": "ITU-R 601 luma", "scale": 1 / 127.5, "offset": -1.0}
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))

    strat = _strategy(strategy)
    steps = max(1, int(np.ceil(len(tr_index) / batch_size)))
    with strat.scope():
        net = spec.build()
        sched = keras.optimizers.schedules.CosineDecay(lr, decay_steps=epochs * steps,
                                                       alpha=0.05)
        if spec.task == "speech_emotion":
            loss, mets = _register_loss(), ["mae"]
        else:
            loss, mets = "sparse_categorical_crossentropy", ["accuracy"]
        net.compile(optimizer=keras.optimizers.Adam(sched), loss=loss, metrics=mets)

    if stream:
        ds = _streamed(tr_index, seed).batch(batch_size)
        val = _streamed(va_index, None).batch(batch_size * 2)
        y_va = va_index.y
    else:
        x_tr = tr_index.load()
        ds = tf.data.Dataset.from_tensor_slices((x_tr, tr_index.y))
        ds = ds.shuffle(len(x_tr), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
        x_va, y_va = va_index.load(), va_index.y
        val = tf.data.Dataset.from_tensor_slices((x_va, y_va)).batch(batch_size * 2)
    if config["training"]["augment"]:
        aug = _augmenter(seed)
        ds = ds.map(lambda x, y: (aug(x, training=True), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.prefetch(tf.data.AUTOTUNE)

    timer = _make_timer()
    callbacks = [keras.callbacks.BackupAndRestore(str(backup)),
                 keras.callbacks.ModelCheckpoint(str(run_dir / "checkpoint.keras")),
                 timer, *(callbacks or [])]
    if backup.exists():
        from tinyflow.ui import status

        status(f"resuming the interrupted run in {run_dir}")
    try:
        hist = net.fit(ds, validation_data=val, epochs=epochs, callbacks=callbacks, shuffle=False,
                       verbose=verbose)
    except tf.errors.OpError as e:
        raise TinyflowError(f"training failed in TensorFlow: {e.message.splitlines()[0]}") from None

    net.save(run_dir / "model.keras")
    y_pred = net.predict(val.map(lambda x, y: x), verbose=0)
    val_metrics = evaluate(spec.task, y_va, y_pred)
    metrics = {"validation": val_metrics,
               "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
               "seconds_per_epoch": timer.seconds, "epochs": epochs,
               "params": int(net.count_params())}
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return RunResult(run_dir, run_dir / "model.keras", config, metrics, timer.seconds)


def _strategy(name: str | None):
    import tensorflow as tf

    if name in (None, "", "default"):
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise TinyflowError(f"unknown strategy {name!r}; use default, mirrored or multiworker")


def _make_timer():
    """A callback recording wall seconds per epoch (made lazily: keras is heavy)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(round(time.monotonic() - self._t0, 2))

    return EpochTimer()
