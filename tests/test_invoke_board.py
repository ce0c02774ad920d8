"""`tinyflow invoke --board B` on a QEMU virtual board over a real pty: outputs, instructions,
arena and stack, --compare against the host engine and tflite-micro, --layers from a
profiled build; a speech-emotion model with a .wav prints arousal, dominance, valence."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_eval_helpers import SER_SECONDS, person_model, ser_model

from tinyflow.cli import main

pytestmark = [pytest.mark.xdist_group("qemu_invoke"),
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None
                                 or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]


def test_invoke_on_qemu_compare_and_layers_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)            # the firmware goes to ./build/qemu-m4/...
    x = np.random.default_rng(0).integers(-128, 128, (3, 1, 12, 12, 1)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    argv = ["invoke", "-b", "qemu-m4", "-m", str(person_model()), "-i", str(tmp_path / "x.npy"),
            "-o", str(tmp_path / "y.npy"), "--compare", "--layers", "--json"]
    assert main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["engine"] == ["board", "tinyflow", "tflm"]
    assert all(c["differing_bytes"] == 0 and c["total_bytes"] == 6
               for c in r["compare"].values())
    d = r["device"]
    assert d["unit"] == "instructions" and len(d["per_inference"]) == 3
    assert min(d["per_inference"]) > 1000
    assert d["arena_bytes"] > 0 and 0 < d["stack_used"] <= d["stack_bytes"]
    assert [ly["op"] for ly in d["layers"]][:1] == ["CONV_2D"]
    # Per-layer instructions add up to about the whole inference (one SysTick tick each).
    assert abs(sum(ly["instructions"] for ly in d["layers"]) - d["per_inference"][0]) \
        <= 40 * (len(d["layers"]) + 1)
    from tinyflow.hostengine import HostEngine

    host = [HostEngine(person_model()).invoke(xi)[0] for xi in x]
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.stack(host))

    # Plain text, without --compare: the same numbers for a person.
    assert main(argv[:7]) == 0
    out = capsys.readouterr().out
    assert "instructions per inference" in out and "stack high-water" in out


@pytest.mark.slow
def test_invoke_wav_prints_arousal_dominance_valence(tmp_path, capsys):
    from tinyflow.datasets.ser_manifest import load_wav
    from tinyflow.datasets.synth_ser import synth_clip, write_wav
    from tinyflow.features import LogMelParams
    from tinyflow.frontend import HostFrontend
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import load_model

    model = tmp_path / "run" / "model_int8.tflite"
    model.parent.mkdir()
    shutil.copy(ser_model(), model)
    p = LogMelParams(seconds=SER_SECONDS)
    (model.parent / "config.json").write_text(json.dumps({"features": p.to_dict()}))
    wav = tmp_path / "clip.wav"
    write_wav(wav, synth_clip(np.random.default_rng(2), 0.7, 0.2, 0.5, seconds=0.3))
    assert main(["invoke", "-b", "qemu-m4", "-m", str(model), "-i", str(wav), "--json",
                 "--compare"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["compare"]["bit_exact"]
    net = load_model(model)
    t = net.tensors[net.inputs[0]]
    q8 = HostFrontend(p).clip_q8(load_wav(wav), float(t.quant.scale[0]),
                                 int(t.quant.zero_point[0]))
    host = HostEngine(net).invoke(q8.reshape(t.shape))[0].ravel()
    assert r["raw"] == host.tolist()
    assert r["network_instructions"] > 0 and r["frontend_instructions"] > 0
    assert main(["invoke", "-b", "qemu-m4", "-m", str(model), "-i", str(wav)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("arousal ") and "dominance" in line and "valence" in line
