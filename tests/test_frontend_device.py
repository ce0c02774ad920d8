"""The C audio front end on virtual boards (QEMU over a pty), against its host build.

Same C, same bits: the features computed on qemu-m4/m7/m55 must equal
tinyflow.frontend.HostFrontend's bit for bit, in float and in int8; the whole SER app
(front end + generated network) must give the host pipeline's A/D/V, in clip, stream and
feature-upload modes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyflow.datasets.synth_ser import synth_clip
from tinyflow.errors import TinyflowError
from tinyflow.features import LogMelParams
from tinyflow.frontend import (
    FRONTEND_DIR,
    HostFrontend,
    firmware_sources,
    frontend_budget,
    linked_sizes,
    stage,
    to_pcm16,
)
from tinyflow.ser_app import SerDevice, build_ser_firmware, stage_app

sys.path.insert(0, str(Path(__file__).parent))
from _fw import VIRTUAL, virtual_board  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCALE, ZP = 0.3444388, 18
CORES = {"cortex-m4": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
         "cortex-m7": ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
         "cortex-m55": ["-mcpu=cortex-m55", "-mfloat-abi=hard"]}


def pcm_clip(seed: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng([11, seed])
    x = synth_clip(rng, *rng.uniform(0.05, 0.95, 3), seconds=seconds)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("core", sorted(CORES))
def test_cross_compiles_warning_free_in_c99(core, tmp_path):
    p = LogMelParams()
    srcs, _ = stage_app(p, None, root=tmp_path, board_name="warn")
    cmd = ["arm-none-eabi-gcc", "-mthumb", *CORES[core], "-std=c99", "-O2", "-Wall", "-Wextra",
           "-Werror", "-ffreestanding", "-c", f"-I{stage(p)}", f"-I{FRONTEND_DIR}",
           f"-I{srcs[-1].parent}", f"-I{ROOT / 'firmware' / 'include'}",
           f"-I{ROOT / 'firmware' / 'boards'}", *map(str, srcs)]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    assert len(firmware_sources(p)) == 12 + 1 + 1   # CMSIS-DSP wrappers, tables, engine


@pytest.mark.parametrize("board", VIRTUAL)
def test_device_features_equal_host_bit_for_bit(board, tmp_path):
    fe = HostFrontend()
    res = build_ser_firmware(board, float_out=True, out_dir=tmp_path / "fw")
    # one chunk (zero-padded), three chunks, longer than the window (cropped) with DC offset
    clips = [pcm_clip(0, 0.2), pcm_clip(3, 0.55), (0.2 * pcm_clip(1, 1.3) + 3000).astype(np.int16)]
    with virtual_board(board, res.elf) as (link, _):
        dev = SerDevice(link)
        for pcm in clips:
            q, f = dev.features(pcm, SCALE, ZP, float_out=True)
            assert np.array_equal(f.view(np.uint32), fe.clip(pcm).view(np.uint32))
            assert np.array_equal(q, fe.clip_q8(pcm, SCALE, ZP))
        # about 3.1-3.2 M instructions for one second of audio (icount, shift=0)
        assert 1e6 < dev.last["instructions"] < 1e7
        with pytest.raises(TinyflowError, match=r"at most 160000 \(10.00 s\) are accepted"):
            dev.features(np.zeros(160001, np.int16), SCALE, ZP)


@pytest.mark.slow
def test_ser_app_clip_stream_and_feature_upload_match_host(tmp_path):
    """Raw audio in, A/D/V out on qemu-m55, equal to the host pipeline (HostFrontend +
    HostEngine) for a clip, every window of a stream, and the feature-upload path."""
    from test_eval_helpers import SER_SECONDS, ser_model

    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import load_model

    p = LogMelParams(seconds=SER_SECONDS)
    net = load_model(ser_model())
    t = net.tensors[net.inputs[0]]
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    fe, eng = HostFrontend(p), HostEngine(net)

    def host_adv(q8: np.ndarray) -> np.ndarray:
        return eng.invoke(q8.reshape(t.shape))[0].ravel()

    res = build_ser_firmware("qemu-m55", p, model=net, out_dir=tmp_path / "fw")
    # the budget the host predicts is what the linker kept
    linked, budget = linked_sizes(res.map), frontend_budget(p)
    assert linked["frontend"]["const"] == budget["tables"] + budget["fft_tables"]
    assert linked["app"]["ram"] == budget["state"] + budget["audio"] + budget["app"]
    assert abs(linked["frontend"]["code"] - budget["code"]) < 0.1 * budget["code"]
    audio = np.concatenate([pcm_clip(k, 0.5) for k in range(3)])      # 1.5 s
    hop = 25 * p.hop_length                                          # 0.1 s
    with virtual_board("qemu-m55", res.elf) as (link, _):
        dev = SerDevice(link, p)
        clip = audio[:3000]                                          # shorter: zero-padded
        assert np.array_equal(dev.clip(clip), host_adv(fe.clip_q8(clip, s, z)))
        q8 = fe.clip_q8(audio[5000:], s, z)                           # longer: cropped
        assert np.array_equal(dev.from_features(q8), host_adv(q8))
        wins = dev.stream(audio, hop, chunk=1500)
    host = fe.stream(audio, hop, quant=(s, z))
    assert len(wins) == len(host) == 1 + (audio.size - p.n_samples) // hop
    outs = set()
    for w, h in zip(wins, host):
        assert np.array_equal(w.adv, host_adv(h)), w.index
        assert w.fe_cycles > 0 and w.net_cycles > 0
        outs.add(bytes(w.adv))
    # Per-window front-end cost counts all the window's new frames, across chunk INVOKEs:
    # the first window has a whole window of frames, later ones a hop's worth, all alike.
    later = [w.fe_cycles for w in wins[1:]]
    assert wins[0].fe_cycles > 1.5 * max(later)      # measured 1.73x at these sizes
    assert max(later) < 1.1 * min(later)
    assert sum(w.fe_cycles for w in wins) <= dev.stream_totals["fe_cycles"]
    assert len(outs) > 1   # the estimates move as the window slides


@pytest.mark.slow
def test_invoke_wav_and_eval_target_on_qemu_m4(tmp_path):
    """The hooks for `tinyflow invoke --board B --input clip.wav` and raw-audio eval."""
    from test_eval_helpers import SER_SECONDS, ser_model

    from tinyflow.boards import get_board
    from tinyflow.datasets.ser_manifest import load_wav
    from tinyflow.datasets.synth_ser import write_wav
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import load_model
    from tinyflow.runners import get_runner
    from tinyflow.ser_app import invoke_wav, make_audio_target

    p = LogMelParams(seconds=SER_SECONDS)
    path = ser_model()
    net = load_model(path)
    t, o = net.tensors[net.inputs[0]], net.tensors[net.outputs[0]]
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    fe, eng = HostFrontend(p), HostEngine(net)
    wav = tmp_path / "clip.wav"
    write_wav(wav, synth_clip(np.random.default_rng(5), 0.8, 0.3, 0.6, seconds=0.3))
    pcm = load_wav(wav)
    host = eng.invoke(fe.clip_q8(pcm, s, z).reshape(t.shape))[0].ravel()

    r = invoke_wav("qemu-m4", path, wav, p)
    assert r["raw"] == host.tolist()
    assert r["arousal"] == pytest.approx((host[0] - o.quant.zero_point[0]) * o.quant.scale[0])
    assert r["frontend_instructions"] > 0 and r["network_instructions"] > 0

    board = get_board("qemu-m4")
    elf = build_ser_firmware(board, p, model=net).elf   # what board_workers would pass
    session = get_runner(board).start(elf)
    target = make_audio_target(session.port, net.sha256, "qemu-m4#0", p,
                               icount_shift=board.qemu.icount_shift, session=session)
    try:
        q8 = fe.clip_q8(pcm, s, z).reshape(t.shape)
        infs = target.run([[to_pcm16(pcm)], [q8]])
        assert target.info()["mode"] == "raw-audio"
    finally:
        target.close()
    for inf in infs:
        assert inf.outputs[0].ravel().tolist() == host.tolist()
        assert inf.cycles > 0
    assert infs[0].cycles > infs[1].cycles     # raw audio adds the front end


def test_helium_front_end_on_m55_is_close_and_cheaper(tmp_path):
    """CMSIS-DSP's MVE code: not bit-identical (other summation orders), but close, and
    fewer instructions. The portable build is the default for that reason."""
    fe = HostFrontend()
    res = build_ser_firmware("qemu-m55", float_out=True, helium=True, out_dir=tmp_path / "fw")
    with virtual_board("qemu-m55", res.elf) as (link, _):
        dev = SerDevice(link)
        pcm = pcm_clip(2, 1.0)
        q, f = dev.features(pcm, SCALE, ZP, float_out=True)
        helium = dev.last["instructions"]
    assert np.abs(f - fe.clip(pcm)).max() < 1e-3          # measured 2.3e-5 dB
    assert np.abs(q.astype(int) - fe.clip_q8(pcm, SCALE, ZP)).max() <= 1
    assert helium < 0.75 * 3.0e6                           # portable: 3.06 M; measured 1.89 M
    with pytest.raises(TinyflowError, match="no Helium"):
        build_ser_firmware("qemu-m4", helium=True)


@pytest.mark.slow
def test_listen_command_streams_a_wav(tmp_path, capsys):
    """`tinyflow listen` (tinyflow/commands/listen.py) on qemu-m4: one line per window,
    equal to the host pipeline on the same windows."""
    import argparse
    import json

    from test_eval_helpers import SER_SECONDS, ser_model

    from tinyflow.commands import listen
    from tinyflow.datasets.ser_manifest import load_wav
    from tinyflow.datasets.synth_ser import write_wav
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import load_model

    p = LogMelParams(seconds=SER_SECONDS)
    (tmp_path / "config.json").write_text(json.dumps({"features": p.to_dict()}))
    wav = tmp_path / "talk.wav"
    write_wav(wav, synth_clip(np.random.default_rng(8), 0.2, 0.9, 0.4, seconds=0.7))
    path = ser_model()
    parser = argparse.ArgumentParser()
    listen.configure(parser)
    args = parser.parse_args(["-b", "qemu-m4", "-m", str(path), "-i", str(wav), "--hop", "0.1",
                              "--features", str(tmp_path / "config.json"), "--json"])
    assert listen.run(args) == 0
    out = json.loads(capsys.readouterr().out)

    net = load_model(path)
    t = net.tensors[net.inputs[0]]
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    eng = HostEngine(net)
    host = HostFrontend(p).stream(load_wav(wav), out["hop_samples"], quant=(s, z))
    assert out["hop_samples"] == 1600 and len(out["windows"]) == len(host) == 5
    for w, h in zip(out["windows"], host):
        assert w["raw"] == eng.invoke(h.reshape(t.shape))[0].ravel().tolist()
        assert w["frontend"] > 0 and w["network"] > 0
