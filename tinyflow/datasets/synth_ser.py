"""Synthetic speech-emotion clips: speech-like sound whose prosody follows known A/D/V.

Each clip is a sequence of syllables: a voiced source (harmonics of a pitch contour,
spectrally tilted) shaped by vowel formants, with pauses, breath noise and a background
noise floor. The targets drive the prosody through separate cues, so each dimension is
learnable on its own (the real teacher's dimensions are correlated; these are not):

| cue                              | arousal ↑ | dominance ↑ | valence ↑ |
|----------------------------------|-----------|-------------|-----------|
| pitch range (semitones)          | wider     |             |           |
| speaking rate (syllables/s)      | faster    |             |           |
| spectral tilt (harmonic rolloff) | flatter   |             |           |
| pitch level                      |           | lower       |           |
| level above the noise floor      |           | louder      |           |
| pause fraction                   |           | fewer       |           |
| formant frequencies ("smile")    |           |             | higher    |
| pitch slope within a syllable    |           |             | rising    |
| breathiness / jitter             |           |             | less      |

The waveform is normalised per clip by the front end, so absolute loudness carries no
information; loudness is expressed relative to the noise floor. Clips are 16 kHz mono
PCM-16 WAV; lengths vary ±20 % around `seconds` to exercise cropping and padding.
Deterministic: clip i uses `default_rng([seed, i])`.
"""

from __future__ import annotations

import csv
import json
import wave
from pathlib import Path

import numpy as np

from tinyflow.datasets import describe, split_counts
from tinyflow.errors import TinyflowError

GENERATOR = "tinyflow-synth-ser-v1"
SR = 16000
# (F1, F2, F3) Hz of five vowels, adult average.
VOWELS = ((730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410),
          (300, 870, 2240))
BANDWIDTHS = (90.0, 110.0, 170.0)


def synth_clip(rng: np.random.Generator, arousal: float, dominance: float, valence: float,
               seconds: float = 1.0) -> np.ndarray:
    """One clip as float32 in [-1, 1]."""
    n = int(seconds * SR)
    a, d, v = arousal, dominance, valence
    f0_base = 230.0 - 120.0 * d * rng.uniform(0.9, 1.1)
    pitch_range = 1.0 + 9.0 * a          # semitones, syllable-to-syllable
    rate = 2.5 + 5.0 * a                 # syllables per second
    tilt = 2.0 - 1.4 * a                 # harmonic k amplitude ~ k^-tilt
    pause = 0.45 - 0.35 * d              # fraction of each syllable slot that is silent
    snr_db = 6.0 + 26.0 * d
    smile = 0.85 + 0.3 * v               # formant scaling
    slope = (v - 0.5) * 8.0              # semitones over a syllable
    breath = 0.25 * (1.0 - v)
    jitter = 0.02 * (1.0 - v)

    f0 = np.zeros(n, np.float64)
    env = np.zeros(n, np.float64)
    formants = np.zeros((n, 3), np.float64)
    t = int(rng.uniform(0, 0.15) * SR)
    while t < n:
        slot = int(SR / rate * rng.uniform(0.75, 1.25))
        voiced = max(int(slot * (1.0 - pause)), 160)
        end = min(t + voiced, n)
        m = end - t
        if m <= 0:
            break
        u = np.linspace(0.0, 1.0, m)
        semis = pitch_range * rng.uniform(-0.5, 0.5) + slope * (u - 0.5)
        f0[t:end] = f0_base * 2.0 ** (semis / 12.0) * (1 + jitter * rng.standard_normal(m))
        env[t:end] = np.sin(np.pi * u) ** 0.6 * rng.uniform(0.7, 1.0)
        formants[t:end] = np.array(VOWELS[rng.integers(len(VOWELS))]) * smile
        t += slot
    voiced_mask = env > 0
    phase = 2 * np.pi * np.cumsum(f0) / SR
    k = np.arange(1, 41)[:, None]
    fk = k * f0[None, :]
    amp = k.astype(np.float64) ** (-tilt) * (fk < 7600)
    reson = sum(1.0 / (1.0 + ((fk - formants[None, :, j]) / bw) ** 2)
                for j, bw in enumerate(BANDWIDTHS))
    voice = (amp * (0.15 + reson) * np.sin(k * phase[None, :])).sum(axis=0)
    voice = voice / (np.abs(voice).max() + 1e-9)
    voice += breath * rng.standard_normal(n) * voiced_mask
    speech = voice * env
    rms = np.sqrt(np.mean(speech[voiced_mask] ** 2)) if voiced_mask.any() else 1.0
    noise = rng.standard_normal(n)
    noise = np.convolve(noise, [0.5, 0.5], mode="same")   # slightly pink
    noise *= rms / (np.sqrt(np.mean(noise ** 2)) + 1e-12) * 10 ** (-snr_db / 20)
    x = speech + noise
    x = x / (np.abs(x).max() + 1e-9) * rng.uniform(0.3, 0.9)
    return x.astype(np.float32)


def write_wav(path: str | Path, x: np.ndarray, sr: int = SR) -> None:
    pcm = np.clip(np.round(np.asarray(x) * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def generate(out: str | Path, n: int = 600, seed: int = 0, seconds: float = 1.0,
             splits: dict[str, float] | None = None) -> dict:
    """Write `n` WAV clips under `out/wav/` and `out/manifest.csv`; return a summary."""
    if not 0.25 <= seconds <= 30:
        raise TinyflowError(f"--seconds {seconds} is outside 0.25..30")
    cfg = describe("ser")["synth"]
    splits = splits or cfg["split_fractions"]
    if n < len(splits):
        raise TinyflowError(f"synth ser needs --n >= {len(splits)} (one clip per split)")
    out = Path(out)
    (out / "wav").mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng([seed, 2**31 - 1]).permutation(n)
    names = list(splits)
    split_of = [""] * n
    start = 0
    for name, k in zip(names, split_counts(n, splits)):
        for j in order[start:start + k]:
            split_of[j] = name
        start += k
    rows = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        adv = rng.uniform(0.05, 0.95, 3)
        dur = seconds * rng.uniform(0.8, 1.2)
        x = synth_clip(rng, *adv, seconds=dur)
        rel = f"wav/{i:06d}.wav"
        write_wav(out / rel, x)
        rows.append({"path": rel, "arousal": f"{adv[0]:.4f}", "dominance": f"{adv[1]:.4f}",
                     "valence": f"{adv[2]:.4f}", "split": split_of[i]})
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "arousal", "dominance", "valence", "split"])
        w.writeheader()
        w.writerows(rows)
    summary = {"generator": GENERATOR, "seed": seed, "n": n, "seconds": seconds,
               "sample_rate": SR, "splits": {k: split_of.count(k) for k in names}}
    (out / "synth_ser.json").write_text(json.dumps(summary, indent=1))
    return summary
