"""The C audio front end (firmware/frontend, CMSIS-DSP) against tinyflow.features.

Host side only: the C is compiled with the host gcc and called through ctypes
(tinyflow.frontend.HostFrontend). test_frontend_device.py runs the same C on QEMU.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.datasets.synth_ser import synth_clip
from tinyflow.errors import TinyflowError
from tinyflow.features import LogMel, LogMelParams, mel_filterbank
from tinyflow.frontend import HostFrontend, frontend_budget, stage

# The untrained zoo `ser` model's input quantization (build/zoo/ser-s1-f13-l7.tflite).
SCALE, ZP = 0.3444388, 18
PARAMS = [LogMelParams(),
          # n_fft 256, a hop that does not divide the window (partial block), fmin > 0
          LogMelParams(n_fft=256, hop_length=160, n_mels=40, fmin=50.0, seconds=0.77),
          # a window that is not a whole number of hops (4000 = 62.5 x 64)
          LogMelParams(seconds=0.25)]


def clips(p: LogMelParams, n: int, seed: int = 7) -> list[np.ndarray]:
    """Synthetic speech-like PCM-16 clips of varying length, plus silence and a DC offset."""
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        x = synth_clip(rng, *rng.uniform(0.05, 0.95, 3), seconds=p.seconds * rng.uniform(0.8, 1.2))
        if i == 0:
            x = np.zeros(1000)
        elif i == 1:
            x = 0.1 * x + 0.3
        out.append(np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16))
    return out


def quantize(x: np.ndarray) -> np.ndarray:
    """As tinyflow.evaluate.data.quantize_input."""
    q = np.round(x.astype(np.float32) / np.float32(SCALE)) + ZP
    return np.clip(q, -128, 127).astype(np.int8)


@pytest.mark.parametrize("p", PARAMS, ids=["default", "n256-hop160", "0.25s"])
def test_c_matches_numpy_definition(p):
    fe, ref = HostFrontend(p), LogMel(p)
    worst, lsb, total = 0.0, 0, 0
    for pcm in clips(p, 24):
        a = ref(pcm.astype(np.float32) / 32768)    # what load_wav gives the numpy path
        b = fe.clip(pcm)
        assert b.shape == a.shape == p.shape
        worst = max(worst, float(np.abs(a - b).max()))
        d = np.abs(quantize(a).astype(int) - fe.clip_q8(pcm, SCALE, ZP).astype(int))
        assert d.max() <= 1
        lsb += int((d > 0).sum())
        total += d.size
    # Measured: 1.7e-4 dB max and 1 value in 388,440 off by one LSB (60 clips, default).
    assert worst < 1e-3
    assert lsb / total < 1e-4


def test_c_quantizer_is_numpys():
    fe = HostFrontend()
    for pcm in clips(LogMelParams(), 4, seed=3):
        assert np.array_equal(fe.clip_q8(pcm, SCALE, ZP), quantize(fe.clip(pcm)))


def test_db_is_close_to_log10():
    fe = HostFrontend()
    x = np.float32(10.0) ** np.linspace(-6, 6, 2001, dtype=np.float32)
    err = np.abs(fe.db(x) - (10 * np.log10(x.astype(np.float64))))
    assert err.max() < 2e-5


def test_silence_is_the_floor():
    p = LogMelParams()
    out = HostFrontend(p).clip(np.zeros(p.n_samples, np.int16))
    # -60 exactly: 10·log10(float32(1e-6)) rounds to -60.0f (numpy's float32 log10 gives
    # -60.000004, one ULP off; the C log is within 2e-5 dB, see test_db_is_close_to_log10)
    assert np.all(out == np.float32(10 * np.log10(np.float64(np.float32(p.floor)))))


@pytest.mark.parametrize("p", PARAMS, ids=["default", "n256-hop160", "0.25s"])
def test_stream_windows_equal_clips_bit_for_bit(p):
    """Streaming computes each FFT frame once; every window must still equal the clip
    front end run on that window's samples, for any chunking of the input."""
    fe = HostFrontend(p)
    rng = np.random.default_rng(1)
    audio = np.concatenate([synth_clip(rng, *rng.uniform(0.05, 0.95, 3), seconds=1.0)
                            for _ in range(3)])
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    hop = 50 * p.hop_length
    wins = fe.stream(pcm, hop, chunk=997)
    n_expected = 1 + (pcm.size - p.n_samples) // hop
    assert len(wins) == n_expected
    for j in (0, 1, n_expected // 2, n_expected - 1):
        assert np.array_equal(wins[j], fe.clip(pcm[j * hop: j * hop + p.n_samples])), j
    assert np.array_equal(fe.stream(pcm[:p.n_samples + 3 * hop], hop, chunk=1), wins[:4])
    q = fe.stream(pcm, hop, chunk=4096, quant=(SCALE, ZP))
    assert np.array_equal(q, quantize(wins))


def test_stream_rejects_a_hop_off_the_frame_grid():
    with pytest.raises(TinyflowError, match="multiple of hop_length=64"):
        HostFrontend().stream(np.zeros(20000, np.int16), hop=100)


def test_float_input_round_trips_pcm():
    fe = HostFrontend()
    pcm = clips(LogMelParams(), 3)[2]
    assert np.array_equal(fe.clip(pcm.astype(np.float32) / 32768), fe.clip(pcm))


def test_host_build_is_warning_free_and_cached():
    p = LogMelParams()
    HostFrontend(p)
    d = stage(p)
    assert (d / "host" / "warnings.txt").read_text() == ""
    assert stage(p) == d


def test_budget_state_is_sizeof():
    for p in PARAMS:
        assert frontend_budget(p, pointer_bytes=8)["state"] == HostFrontend(p).state_bytes
    b = frontend_budget()
    n_weights = sum(len(w) for _, w in mel_filterbank(LogMelParams()).sparse())
    assert b["tables"] == 4 * 128 + 4 * n_weights + 6 * 26
    # twiddleCoef_64 and twiddleCoef_rfft_128 (128 floats each), 56 bit-reversal u16
    assert b["fft_tables"] == 4 * 128 + 4 * 128 + 2 * 56 + 16
    assert b["ram"] == b["state"] + 2 * 4096 + b["app"]


def test_budget_lines_land_in_the_board_regions():
    from tinyflow.boards import get_board
    from tinyflow.frontend import frontend_budget_lines

    board = get_board("qemu-m4")
    lines = frontend_budget_lines(LogMelParams(), board)
    b = frontend_budget()
    assert sum(ln.bytes for ln in lines if ln.kind == "flash") == b["flash"]
    assert sum(ln.bytes for ln in lines if ln.kind == "ram") == b["ram"]
    assert {ln.region for ln in lines} <= {r.name for r in board.regions}


def test_stream_with_gaps_and_with_the_smallest_hop():
    p = LogMelParams(seconds=0.25)
    fe = HostFrontend(p)
    pcm = clips(LogMelParams(seconds=1.5), 3, seed=9)[2]
    for hop in (70 * p.hop_length, p.hop_length):     # 4480 > window 4000; one frame
        wins = fe.stream(pcm, hop, chunk=333)
        assert len(wins) == 1 + (pcm.size - p.n_samples) // hop
        for j in (0, len(wins) // 2, len(wins) - 1):
            assert np.array_equal(wins[j], fe.clip(pcm[j * hop: j * hop + p.n_samples])), (hop, j)


@pytest.mark.parametrize("p", [
    LogMelParams(n_fft=32, hop_length=16, n_mels=8, seconds=0.1),              # smallest FFT
    LogMelParams(n_fft=64, hop_length=64, n_mels=10, fmax=4000.0, seconds=0.3),  # no overlap
    LogMelParams(n_fft=4096, hop_length=1000, n_mels=64, fmin=20.0, floor=1e-10),
], ids=["n32", "n64-no-overlap", "n4096-floor1e-10"])
def test_other_parameters_follow_the_definition(p):
    fe, ref = HostFrontend(p), LogMel(p)
    rng = np.random.default_rng(4)
    x = synth_clip(rng, 0.5, 0.5, 0.5, seconds=p.seconds * 1.1)
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    assert np.abs(ref(pcm.astype(np.float32) / 32768) - fe.clip(pcm)).max() < 1e-3
    hop = 3 * p.hop_length
    wins = fe.stream(pcm, hop, chunk=77)
    for j, w in enumerate(wins):
        assert np.array_equal(w, fe.clip(pcm[j * hop: j * hop + p.n_samples]))
