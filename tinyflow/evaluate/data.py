"""What an evaluation iterates over: samples with stable ids, labels and subset tags.

A dataset folder is recognised by its files: Wake Vision (`wake_vision_<split>.csv` +
images, person detection) or a SER manifest (`manifest.csv` + WAVs, speech emotion).
Both are read with the zoo helper's loaders (`tinyflow.datasets`); this module only adds
what evaluation needs on top:

- a stable **sample id** (the CSV's `filename`, the manifest's `path`) so a results file
  can be resumed and merged without relying on row order;
- the **label** and, for Wake Vision, the **tags** (the attribute columns that are 1), so
  the results file alone is enough to compute every metric later;
- a **fingerprint** of the split (the CSV rows and the preprocessing), so a resumed run
  refuses to mix results from a different dataset;
- `inputs(sample)`: the int8 tensors the model takes, quantized with the model's own
  input scale and zero point, exactly as `tinyflow.quantize.Int8Runner` does. For speech
  emotion the log-mel features come from `tinyflow.frontend.HostFrontend`: the device's
  C front end compiled for the host, so host features equal the board's bit for bit;
- `audio(sample)`: the clip as 16 kHz int16 samples, for boards that compute the
  features themselves (raw-audio mode).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError
from tinyflow.ir import Model

PERSON_TASK = "person_detection"
SER_TASK = "speech_emotion"
SER_DIMS = ("arousal", "dominance", "valence")


@dataclass(frozen=True)
class Sample:
    id: str                                  # stable across runs: filename or manifest path
    index: int                               # row in the split, for a stable report order
    label: int | tuple[float, ...]           # person 0/1, or (arousal, dominance, valence)
    tags: tuple[str, ...] = ()               # Wake Vision attribute columns equal to 1


@dataclass
class EvalDataset:
    kind: str                                # "wake_vision" | "ser"
    task: str                                # PERSON_TASK | SER_TASK
    path: Path
    split: str
    samples: list[Sample]
    fingerprint: str
    preprocessing: dict[str, Any]
    _files: dict[str, Path] = field(default_factory=dict, repr=False)
    _model: Model | None = field(default=None, repr=False)
    _frontend: Any = field(default=None, repr=False)      # HostFrontend (SER)
    params: Any = None                                     # LogMelParams (SER)
    max_clip_seconds: float | None = None                  # raw audio: longer is refused
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "task": self.task, "path": str(self.path),
                "split": self.split, "n_total": len(self.samples),
                "fingerprint": self.fingerprint, "preprocessing": self.preprocessing}

    def inputs(self, sample: Sample) -> list[np.ndarray]:
        """The model's int8 input tensors for one sample (shaped like the model input)."""
        assert self._model is not None
        t = self._model.tensors[self._model.inputs[0]]
        path = self._files[sample.id]
        if self.kind == "wake_vision":
            from tinyflow.datasets.wake_vision import load_image

            _, res, _, ch = _nhwc(t.shape)
            x = load_image(path, res, ch)
        else:
            from tinyflow.datasets.ser_manifest import load_wav

            _check_int8(t)
            wave = load_wav(path, self.params.sample_rate)
            with self._lock:      # one front-end state per dataset; workers are threads
                q8 = self._frontend.clip_q8(wave, float(t.quant.scale[0]),
                                            int(t.quant.zero_point[0]))
            return [q8.reshape(t.shape)]
        return [quantize_input(x, self._model)]

    def audio(self, sample: Sample) -> list[np.ndarray]:
        """A speech-emotion sample as the device's raw-audio input: 16 kHz int16 samples.
        Clips longer than the board accepts are refused here, naming the sample."""
        from tinyflow.datasets.ser_manifest import load_wav
        from tinyflow.frontend import to_pcm16
        from tinyflow.ser_app import MAX_CLIP_SECONDS

        if self.kind != "ser":
            raise TinyflowError(f"{self.path} holds images; raw audio is for speech emotion")
        pcm = to_pcm16(load_wav(self._files[sample.id], self.params.sample_rate))
        sr = self.params.sample_rate
        limit = self.max_clip_seconds or MAX_CLIP_SECONDS
        if pcm.size > limit * sr:
            raise TinyflowError(f"sample {sample.id}: {pcm.size / sr:.2f} s of audio; the "
                                f"raw-audio firmware accepts clips up to {limit:g} s",
                                hint="trim the clip, raise --max-clip-seconds, or evaluate "
                                     "with --features-upload")
        return [pcm]


def _check_int8(t: Any) -> None:
    if t.dtype != "int8" or t.quant is None:
        raise TinyflowError(f"input '{t.name}' is {t.dtype}; evaluation feeds int8 inputs",
                            hint="quantize with int8 inputs: tinyflow quantize")


def quantize_input(x: np.ndarray, model: Model) -> np.ndarray:
    """float → the model's int8 input: clip(round(x / scale) + zero_point)."""
    t = model.tensors[model.inputs[0]]
    _check_int8(t)
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    q = np.clip(np.round(np.asarray(x, np.float32) / np.float32(s)) + z, -128, 127)
    return q.astype(np.int8).reshape(t.shape)


def _nhwc(shape: Sequence[int]) -> tuple[int, int, int, int]:
    if len(shape) != 4 or shape[1] != shape[2]:
        raise TinyflowError(f"a person-detection model takes one square image (1, H, W, C); "
                            f"this one takes {list(shape)}")
    return tuple(shape)  # type: ignore[return-value]


def detect_kind(path: Path) -> str:
    if (path / "manifest.csv").is_file() or (path.is_file() and path.suffix == ".csv"
                                              and "manifest" in path.name):
        return "ser"
    if path.is_dir() and (any(path.glob("wake_vision_*.csv")) or (path / "test.csv").is_file()
                          or (path / "validation.csv").is_file()):
        return "wake_vision"
    raise TinyflowError(
        f"{path} is neither a Wake Vision folder (wake_vision_<split>.csv + images) nor a "
        "speech-emotion manifest (manifest.csv + WAVs)",
        hint="make a synthetic one: tinyflow data synth wake-vision --out DIR")


def open_dataset(path: str | Path, model: Model, split: str = "test",
                 features: dict[str, Any] | None = None,
                 model_path: str | Path | None = None) -> EvalDataset:
    """Open a dataset folder for evaluating `model` on `split`.

    `features`: log-mel parameters for a SER model (as recorded under "features" in a
    training run's config.json); by default they are read from a config.json beside the
    model, else the zoo's defaults are used if their shape matches the model input.
    """
    path = Path(path)
    if not path.exists():
        raise TinyflowError(f"dataset {path} does not exist",
                            hint="make a synthetic one: tinyflow data synth wake-vision --out DIR")
    kind = detect_kind(path)
    return _open_wake_vision(path, model, split) if kind == "wake_vision" else \
        _open_ser(path, model, split, features or _features_beside(model_path))


def _open_wake_vision(path: Path, model: Model, split: str) -> EvalDataset:
    from tinyflow.datasets.wake_vision import WakeVision

    wv = WakeVision(path)
    sp = wv.split(split)
    _, res, _, ch = _nhwc(model.tensors[model.inputs[0]].shape)
    if ch not in (1, 3):
        raise TinyflowError(f"the model input has {ch} channels; Wake Vision images are "
                            "grey (1) or RGB (3)")
    samples, files = [], {}
    for i, p in enumerate(sp.paths):
        sid = p.name
        if sid in files:
            raise TinyflowError(f"{wv.csv_path(split)}: filename {sid} appears twice; sample "
                                "ids must be unique for results to be resumable")
        tags = tuple(c for c, v in sp.attributes.items() if v[i] == 1)
        samples.append(Sample(sid, i, int(sp.labels[i]), tags))
        files[sid] = p
    pre = {"resolution": res, "channels": ch, "crop": "centre", "resize": "bilinear",
           "scale": "pixel/127.5-1"}
    fp = _fingerprint(wv.csv_path(split).read_bytes(), split, pre)
    return EvalDataset("wake_vision", PERSON_TASK, path, split, samples, fp, pre, files, model)


def _open_ser(path: Path, model: Model, split: str,
              features: dict[str, Any] | None) -> EvalDataset:
    from tinyflow.datasets.ser_manifest import SerManifest
    from tinyflow.features import LogMelParams
    from tinyflow.frontend import HostFrontend

    man = SerManifest(path)
    sp = man.split(split)
    shape = tuple(model.tensors[model.inputs[0]].shape)
    if features:
        params = LogMelParams.from_dict(features)
    else:
        # No training config: the zoo varies only the clip length; recover it from the
        # model's frame count (a config, when there is one, always wins).
        d = LogMelParams()
        params = LogMelParams(seconds=((shape[1] - 1) * d.hop_length + d.n_fft) / d.sample_rate)
    if shape[1:3] != params.shape:
        raise TinyflowError(f"the model takes {list(shape)} but the log-mel front end gives "
                            f"{list(params.shape)} frames x mels",
                            hint="pass --features config.json of the training run")
    samples, files = [], {}
    for i, (p, t) in enumerate(zip(sp.paths, sp.targets)):
        sid = p.relative_to(man.root).as_posix() if p.is_relative_to(man.root) else str(p)
        samples.append(Sample(sid, i, tuple(float(v) for v in t)))
        files[sid] = p
    # the C front end (device bits), not features.py: part of the fingerprint
    pre = {**params.to_dict(), "frontend": "c"}
    fp = _fingerprint(man.path.read_bytes(), split, pre)
    return EvalDataset("ser", SER_TASK, path, split, samples, fp, pre, files, model,
                       HostFrontend(params), params)


def _features_beside(model_path: str | Path | None) -> dict[str, Any] | None:
    """The log-mel parameters a training run recorded in config.json next to its model."""
    if model_path is None:
        return None
    try:
        return json.loads((Path(model_path).parent / "config.json").read_text()).get("features")
    except (OSError, ValueError, AttributeError):
        return None


def _fingerprint(table: bytes, split: str, pre: dict[str, Any]) -> str:
    h = hashlib.sha256(table)
    h.update(split.encode())
    h.update(json.dumps(pre, sort_keys=True).encode())
    return h.hexdigest()[:16]


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """'2/4' → (2, 4): the second of four interleaved shards (1-based, like CI runners)."""
    if not spec:
        return None
    try:
        i, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise TinyflowError(f"--shard {spec!r}: expected I/N, e.g. 1/4") from None
    if n < 1 or not 1 <= i <= n:
        raise TinyflowError(f"--shard {spec}: I must be in 1..N (here 1..{max(n, 1)})")
    return i, n


def select(samples: Sequence[Sample], shard: tuple[int, int] | None = None,
           limit: int | None = None) -> list[Sample]:
    """The samples a run covers: every N-th from shard I (interleaved, so every shard gets
    a similar mix of subsets), then the first `limit` of those."""
    out = list(samples)
    if shard is not None:
        i, n = shard
        out = out[i - 1::n]
    if limit is not None:
        if limit < 0:
            raise TinyflowError(f"--limit {limit}: must be >= 0")
        out = out[:limit]
    return out
