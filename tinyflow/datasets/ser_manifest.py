"""Speech-emotion data as a manifest: CSV of 16 kHz WAV paths with A/D/V targets.

Columns `path, arousal, dominance, valence` (targets in [0, 1], e.g. a teacher model's
outputs over MSP-Podcast) and an optional `split` (train / validation / test). Paths are
relative to the manifest's folder. Without a `split` column, rows are assigned
deterministically from a hash of their path: 70 % train, 15 % validation, 15 % test.
"""

from __future__ import annotations

import csv
import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.datasets import describe
from tinyflow.errors import TinyflowError

_FMT = describe("ser")["format"]
TARGETS = ("arousal", "dominance", "valence")


@dataclass
class SerSplit:
    name: str
    paths: list[Path]
    targets: np.ndarray   # (n, 3) float32: arousal, dominance, valence

    def __len__(self) -> int:
        return len(self.paths)

    def waves(self) -> list[np.ndarray]:
        return [load_wav(p) for p in self.paths]

    def features(self, params=None) -> np.ndarray:
        """Log-mel features (n, frames, mels, 1) with `tinyflow.features` and `params`."""
        from tinyflow.features import LogMel

        fe = LogMel(params)
        out = np.empty((len(self.paths), *fe.params.shape, 1), np.float32)
        for i, p in enumerate(self.paths):
            out[i, :, :, 0] = fe(load_wav(p))
        return out


def load_wav(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """A PCM WAV as float32 mono in [-1, 1]; other sample rates are refused."""
    try:
        with wave.open(str(path), "rb") as w:
            sr, ch, width, nframes = (w.getframerate(), w.getnchannels(), w.getsampwidth(),
                                      w.getnframes())
            raw = w.readframes(nframes)
    except FileNotFoundError:
        raise TinyflowError(f"audio file {path} does not exist") from None
    except (wave.Error, EOFError, OSError) as e:
        raise TinyflowError(f"audio file {path} is corrupt or not a PCM WAV: {e}") from None
    if sr != sample_rate:
        raise TinyflowError(f"{path}: sample rate {sr} Hz, the front end needs {sample_rate} Hz",
                            hint=f"resample first, e.g. sox in.wav -r {sample_rate} out.wav")
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}.get(width)
    if dtype is None:
        raise TinyflowError(f"{path}: {8 * width}-bit samples are not supported (8/16/32-bit PCM)")
    x = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if x.size == 0:
        raise TinyflowError(f"audio file {path} has no samples")
    if x.size % ch:
        raise TinyflowError(f"audio file {path} is truncated")
    x = x.reshape(-1, ch).mean(axis=1)
    if width == 1:
        return (x - 128.0) / 128.0
    return x / float(2 ** (8 * width - 1))


def _hash_split(path: str) -> str:
    h = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) / 2**32
    return "train" if h < 0.7 else "validation" if h < 0.85 else "test"


class SerManifest:
    """A manifest file (or a folder holding `manifest.csv`)."""

    def __init__(self, path: str | Path, check_files: bool = True):
        p = Path(path)
        if p.is_dir():
            cands = [p / n for n in _FMT["manifest_names"] if (p / n).is_file()]
            if not cands:
                raise TinyflowError(f"no manifest.csv in {p}",
                                    hint="make a synthetic set: tinyflow data synth ser --out DIR")
            p = cands[0]
        if not p.is_file():
            raise TinyflowError(f"manifest {p} does not exist")
        self.path = p
        self.root = p.parent
        with open(p, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in _FMT["columns"] if c not in header]
            if missing:
                raise TinyflowError(f"{p}: missing column(s) {', '.join(missing)}; a manifest "
                                    f"has {', '.join(_FMT['columns'])} and optionally split")
            rows = list(reader)
        if not rows:
            raise TinyflowError(f"{p} has no rows")
        self.rows: list[tuple[Path, np.ndarray, str]] = []
        missing_files = []
        for i, r in enumerate(rows):
            vals = []
            for c in TARGETS:
                try:
                    v = float(r[c])
                except (TypeError, ValueError):
                    raise TinyflowError(f"{p}: row {i + 2}, {c}={r[c]!r} is not a number") from None
                if not 0.0 <= v <= 1.0:
                    raise TinyflowError(f"{p}: row {i + 2}, {c}={v} is outside [0, 1]",
                                        hint="targets must be normalised to [0, 1]")
                vals.append(v)
            rel = r["path"]
            ap = Path(rel) if Path(rel).is_absolute() else self.root / rel
            if check_files and not ap.is_file():
                missing_files.append(rel)
            split = (r.get("split") or "").strip() or _hash_split(rel)
            self.rows.append((ap, np.array(vals, np.float32), split))
        if missing_files:
            raise TinyflowError(f"{len(missing_files)} audio file(s) in {p.name} not found, e.g. "
                                f"{', '.join(missing_files[:3])}")

    def splits(self) -> list[str]:
        return sorted({s for _, _, s in self.rows})

    def split(self, name: str) -> SerSplit:
        sel = [(p, t) for p, t, s in self.rows if s == name]
        if not sel:
            raise TinyflowError(f"{self.path}: no rows in split {name!r}; splits: "
                                f"{', '.join(self.splits())}")
        return SerSplit(name, [p for p, _ in sel], np.stack([t for _, t in sel]))
