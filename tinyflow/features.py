"""The speech-emotion front end: 16 kHz waveform → log-mel spectrogram, defined once.

This module is THE definition. Training, quantization, evaluation and (in a later issue)
the C code on the device must compute the same numbers from the same `LogMelParams`,
which every trained run records in `config.json` under `"features"`.

Why outside the int8 network: a LOG inside a full-int8 TFLite model converts but fails
at invoke in tflite-micro (its LOG kernel is float-only), and a linear power spectrum
does not fit in int8 anyway. So the device computes these features in float32 and
quantizes them with the model's input scale and zero point.

The algorithm, step by step (all float32; every step maps to one CMSIS-DSP call or a
short loop, noted in brackets):

1. Fix the length to `n_samples = round(seconds * sample_rate)`: crop the tail or pad
   with zeros. The device always sees a full window of samples.
2. Per-clip normalisation (Wav2Small's pre-norm): `mean = Σx/N`,
   `var = Σ(x-mean)²/N` (population, not CMSIS `arm_var_f32`'s N-1),
   `x = (x - mean) / sqrt(var + norm_eps)`. [arm_mean_f32, loop, arm_sqrt_f32]
3. Frames: `n_frames = 1 + (N - n_fft) // hop_length` (no centre padding); frame `t`
   starts at sample `t * hop_length`.
4. Multiply by a periodic Hann window `w[k] = 0.5 - 0.5 cos(2πk / n_fft)`.
   [arm_mult_f32 with a precomputed table]
5. Real FFT of `n_fft` points; power `P[k] = re² + im²` for `k = 0 … n_fft/2`.
   [arm_rfft_fast_f32; note it packs the Nyquist real part into out[1];
   arm_cmplx_mag_squared_f32 for the rest]
6. Mel energies `M[m] = Σ_k P[k] · W[m, k]`, with triangular filters on the HTK mel
   scale `mel(f) = 2595 log10(1 + f/700)`, peak 1, no area normalisation, band edges
   equally spaced in mel between `fmin` and `fmax`. The matrix is sparse: each filter
   is stored as `(first_bin, weights…)`, see `MelFilterbank.sparse()`.
7. `dB[m] = 10 · log10(max(M[m], floor))`. [arm_vlog_f32 gives ln: multiply by
   10 / ln 10]

Output shape `(n_frames, n_mels)`; the model input adds a channel axis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class LogMelParams:
    sample_rate: int = 16000
    seconds: float = 1.0         # fixed analysis window the model sees
    n_fft: int = 128             # 8 ms window: a power of two that arm_rfft_fast_f32 supports
    hop_length: int = 64         # 4 ms hop → 249 frames per second
    n_mels: int = 26             # as Wav2Small
    fmin: float = 0.0
    fmax: float = 8000.0
    floor: float = 1e-6          # power floor before the log: -60 dB
    norm_eps: float = 1e-5       # keeps silence finite in the per-clip normalisation

    def __post_init__(self) -> None:
        if self.n_fft & (self.n_fft - 1) or not 32 <= self.n_fft <= 4096:
            raise ValueError(f"n_fft must be a power of two in 32..4096 (CMSIS rfft), "
                             f"got {self.n_fft}")
        if not 0 < self.hop_length <= self.n_fft:
            raise ValueError(f"hop_length must be in 1..n_fft, got {self.hop_length}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= fmin < fmax <= sample_rate/2, "
                             f"got {self.fmin}, {self.fmax}")
        if self.n_samples < self.n_fft:
            raise ValueError(f"{self.seconds} s is shorter than one FFT window")

    @property
    def n_samples(self) -> int:
        return int(round(self.seconds * self.sample_rate))

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def n_frames(self) -> int:
        return 1 + (self.n_samples - self.n_fft) // self.hop_length

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_frames, self.n_mels)

    def to_dict(self) -> dict:
        return {"algorithm": "tinyflow-logmel-v1", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> LogMelParams:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (the FFT-friendly variant), float32."""
    k = np.arange(n, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2 * math.pi * k / n)).astype(np.float32)


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


@dataclass(frozen=True)
class MelFilterbank:
    matrix: np.ndarray   # (n_bins, n_mels) float32, mostly zeros

    def sparse(self) -> list[tuple[int, np.ndarray]]:
        """Per mel band: (first non-zero bin, the run of weights from there). For C tables."""
        out = []
        for m in range(self.matrix.shape[1]):
            nz = np.nonzero(self.matrix[:, m])[0]
            if nz.size == 0:
                out.append((0, np.zeros(0, np.float32)))
            else:
                out.append((int(nz[0]), self.matrix[nz[0]:nz[-1] + 1, m].copy()))
        return out


def mel_filterbank(p: LogMelParams) -> MelFilterbank:
    """Triangular filters on the HTK mel scale, peak 1 (no area normalisation).

    With n_fft=128 the lowest bands are narrower than one FFT bin (125 Hz); a band that
    would catch no bin gets the nearest bin with weight 1 instead of staying empty, so no
    mel channel is a constant.
    """
    freqs = np.arange(p.n_bins) * p.sample_rate / p.n_fft
    edges = mel_to_hz(np.linspace(hz_to_mel(p.fmin), hz_to_mel(p.fmax), p.n_mels + 2))
    w = np.zeros((p.n_bins, p.n_mels), np.float64)
    for m in range(p.n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        w[:, m] = np.clip(np.minimum(up, down), 0.0, None)
        if not w[:, m].any():
            w[int(np.argmin(np.abs(freqs - mid))), m] = 1.0
    return MelFilterbank(w.astype(np.float32))


def fix_length(wave: np.ndarray, n: int) -> np.ndarray:
    wave = np.asarray(wave, np.float32).ravel()
    if wave.size >= n:
        return wave[:n]
    return np.concatenate([wave, np.zeros(n - wave.size, np.float32)])


def normalize(wave: np.ndarray, eps: float) -> np.ndarray:
    """Zero mean, unit (population) variance; float32 arithmetic."""
    x = np.asarray(wave, np.float32)
    mean = np.float32(x.sum(dtype=np.float32) / np.float32(x.size))
    d = x - mean
    var = np.float32((d * d).sum(dtype=np.float32) / np.float32(x.size))
    return d / np.sqrt(var + np.float32(eps))


class LogMel:
    """A reusable front end: precomputes the window and filterbank for `params`."""

    def __init__(self, params: LogMelParams | None = None):
        self.params = params or LogMelParams()
        self.window = hann_window(self.params.n_fft)
        self.filterbank = mel_filterbank(self.params)

    def __call__(self, wave: np.ndarray) -> np.ndarray:
        """One clip (any length, 16 kHz mono float) → (n_frames, n_mels) float32 dB."""
        p = self.params
        x = normalize(fix_length(wave, p.n_samples), p.norm_eps)
        idx = np.arange(p.n_fft)[None, :] + p.hop_length * np.arange(p.n_frames)[:, None]
        frames = x[idx] * self.window
        spec = np.fft.rfft(frames, n=p.n_fft, axis=1)
        power = (spec.real.astype(np.float32) ** 2 + spec.imag.astype(np.float32) ** 2)
        mel = power @ self.filterbank.matrix
        db = np.float32(10.0) * np.log10(np.maximum(mel, np.float32(p.floor)))
        return db.astype(np.float32)

    def batch(self, waves: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Many clips → (n, n_frames, n_mels, 1) float32, the model's input layout."""
        p = self.params
        out = np.empty((len(waves), p.n_frames, p.n_mels, 1), np.float32)
        for i, w in enumerate(waves):
            out[i, :, :, 0] = self(w)
        return out


def log_mel(wave: np.ndarray, params: LogMelParams | None = None) -> np.ndarray:
    """Convenience: features of one clip with `params` (default: the zoo's)."""
    return LogMel(params)(wave)
