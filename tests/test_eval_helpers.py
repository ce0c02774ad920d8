"""Shared by the eval, report and MLPerf tests: tiny real int8 models and tiny datasets.

The models are real TFLite full-int8 conversions of tiny Keras models (seconds to build,
so they are cached under build/test-cache/ by a content key). The datasets are written
in the exact on-disk layouts the loaders read: a Wake Vision CSV with all twenty columns
next to PNG images, and a SER manifest of 16 kHz WAVs.
"""

from __future__ import annotations

import csv
import hashlib
import os
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "test-cache"

WV_COLUMNS = ["filename", "person", "depiction", "body_part", "predominantly_female",
              "predominantly_male", "gender_unknown", "young", "middle_age", "older",
              "age_unknown", "near", "medium_distance", "far", "dark", "normal_lighting",
              "bright", "person_depiction", "non-person_depiction", "non-person_non-depiction"]

PERSON_RES = 12
SER_SECONDS = 0.25      # LogMelParams(seconds=0.25) → 61 frames x 26 mels


def _cached(name: str, recipe: str, build) -> Path:
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    path = CACHE / f"{name}-{key}.tflite"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        data = build()
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)          # atomic: parallel test workers may race here
    return path


def _convert(model, shape, n_rep: int = 16, lo: float = -1.0, hi: float = 1.0) -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(0)

    def rep():
        for _ in range(n_rep):
            yield [rng.uniform(lo, hi, (1, *shape)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def person_model() -> Path:
    """(1, 12, 12, 1) int8 → 2-class softmax, like the zoo's person_det."""
    recipe = f"person v1 res{PERSON_RES}"

    def build():
        import keras

        keras.utils.set_random_seed(3)
        i = keras.Input((PERSON_RES, PERSON_RES, 1), batch_size=1)
        x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu",
                                bias_initializer="random_uniform")(i)
        x = keras.layers.GlobalAveragePooling2D()(x)
        x = keras.layers.Dense(2, activation="softmax", bias_initializer="random_uniform")(x)
        return _convert(keras.Model(i, x), (PERSON_RES, PERSON_RES, 1))

    return _cached("person", recipe, build)


def ser_model() -> Path:
    """(1, 61, 26, 1) int8 log-mel → 3 sigmoid outputs (arousal, dominance, valence)."""
    from tinyflow.features import LogMelParams

    frames, mels = LogMelParams(seconds=SER_SECONDS).shape
    recipe = f"ser v1 {frames}x{mels}"

    def build():
        import keras

        keras.utils.set_random_seed(4)
        i = keras.Input((frames, mels, 1), batch_size=1)
        x = keras.layers.Conv2D(3, 3, strides=4, activation="relu",
                                bias_initializer="random_uniform")(i)
        x = keras.layers.GlobalAveragePooling2D()(x)
        x = keras.layers.Dense(3, activation="sigmoid", bias_initializer="random_uniform")(x)
        return _convert(keras.Model(i, x), (frames, mels, 1), lo=-60.0, hi=40.0)

    return _cached("ser", recipe, build)


def write_wake_vision(root: Path, n: int = 40, seed: int = 0, split: str = "test") -> Path:
    """A Wake Vision split in the published layout: CSV with all 20 columns + images."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    img_dir = root / split
    img_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(n):
        person = int(k % 2 == 0)
        light = ("dark", "normal_lighting", "bright")[k % 3]
        level = {"dark": 40, "normal_lighting": 128, "bright": 210}[light]
        arr = np.clip(rng.normal(level, 25, (20, 24)), 0, 255).astype(np.uint8)
        name = f"img_{k:04d}.png"
        Image.fromarray(arr, "L").save(img_dir / name)
        row = dict.fromkeys(WV_COLUMNS, 0)
        row["filename"], row["person"], row[light] = name, person, 1
        if person:
            row[("near", "medium_distance", "far")[(k // 2) % 3]] = 1
            row[("predominantly_female", "predominantly_male", "gender_unknown")[k % 5 % 3]] = 1
            row[("young", "middle_age", "older", "age_unknown")[k % 7 % 4]] = 1
        else:
            dep = ("person_depiction", "non-person_depiction",
                   "non-person_non-depiction")[k % 5 % 3]
            row[dep] = 1
            row["depiction"] = int(dep != "non-person_non-depiction")
        rows.append(row)
    with open(root / f"wake_vision_{split}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return root


def write_ser(root: Path, n: int = 12, seed: int = 0, split: str = "test") -> Path:
    """A SER manifest (path, arousal, dominance, valence, split) with 16 kHz WAVs."""
    rng = np.random.default_rng(seed)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    lines = ["path,arousal,dominance,valence,split"]
    sr = 16000
    t = np.arange(int(SER_SECONDS * sr)) / sr
    for k in range(n):
        a, d, v = rng.uniform(0.05, 0.95, 3)
        x = 0.3 * a * np.sin(2 * np.pi * (200 + 600 * v) * t) + 0.05 * rng.normal(size=t.size)
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
        rel = f"wav/clip_{k:03d}.wav"
        with wave.open(str(root / rel), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(pcm.tobytes())
        lines.append(f"{rel},{a:.4f},{d:.4f},{v:.4f},{split}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root
