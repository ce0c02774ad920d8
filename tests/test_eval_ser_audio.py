"""`tinyflow eval` of speech emotion in raw-audio mode on qemu-m4, qemu-m7 and qemu-m55:
16 kHz int16 clips go over the pty, the board runs the C front end and the network, and
the CCC per dimension equals the host pipeline's (HostFrontend + host engine: the same C
front end, bit-identical on every board, and the bit-exact network)."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from test_eval_helpers import SER_SECONDS, ser_model

from tinyflow.cli import main

pytestmark = [pytest.mark.skipif(shutil.which("qemu-system-arm") is None
                                 or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]
DIMS = ("arousal", "dominance", "valence")


@pytest.fixture(scope="module")
def ser_run(tmp_path_factory):
    """A SER model in a run folder whose config.json records the features, and a dozen
    synthetic 0.3 s clips (the device crops them to the 0.25 s window, as the host does)."""
    from tinyflow.features import LogMelParams

    root = tmp_path_factory.mktemp("ser_audio")
    model = root / "run" / "model_int8.tflite"
    model.parent.mkdir()
    shutil.copy(ser_model(), model)
    p = LogMelParams(seconds=SER_SECONDS)
    (model.parent / "config.json").write_text(json.dumps(
        {"model": {"name": "ser_test"}, "features": p.to_dict()}))
    from tinyflow.datasets.synth_ser import generate

    data = root / "data"
    generate(data, n=12, seed=1, seconds=0.3, splits={"test": 1.0})
    return model, data


@pytest.mark.slow
@pytest.mark.parametrize("board", ["qemu-m4", "qemu-m7", "qemu-m55"])
def test_raw_audio_eval_ccc_equals_host_pipeline(board, ser_run, tmp_path, capsys):
    model, data = ser_run
    assert main(["eval", "-b", board, "-m", str(model), "-d", str(data), "--json",
                 "--no-html", "-o", str(tmp_path / "run")]) == 0
    s = json.loads(capsys.readouterr().out)
    dev, host = s["quality"]["device"], s["quality"]["host"]
    assert dev["n"] == 12
    for d in DIMS:
        assert np.isfinite(dev[f"ccc_{d}"])
        assert dev[f"ccc_{d}"] == host[f"ccc_{d}"]          # same features, same network
    assert all(f["rate"] == 1.0 for f in s["fidelity"])      # every sample bit-exact
    header = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    assert header["board"]["input"] == "raw_audio"
    assert header["board"]["features"]["seconds"] == SER_SECONDS
    assert header["model"]["name"] == "ser_test"


def test_too_long_clip_is_refused_with_a_clear_message(ser_run, tmp_path):
    from tinyflow.datasets.synth_ser import write_wav
    from tinyflow.errors import TinyflowError
    from tinyflow.evaluate.data import open_dataset
    from tinyflow.ir import load_model

    model, data = ser_run
    long_dir = tmp_path / "long"
    shutil.copytree(data, long_dir)
    first = (long_dir / "manifest.csv").read_text().splitlines()[1].split(",")[0]
    write_wav(long_dir / first, np.zeros(16000 * 11, np.float32))
    ds = open_dataset(long_dir, load_model(model), model_path=model)
    sample = next(x for x in ds.samples if x.id == first)
    with pytest.raises(TinyflowError, match="accepts clips up to 10 s"):
        ds.audio(sample)
    assert ds.audio(ds.samples[1])[0].dtype == np.int16


def test_eval_refuses_clips_over_the_configured_maximum(ser_run, tmp_path, capsys):
    model, data = ser_run
    rc = main(["eval", "-b", "qemu-m4", "-m", str(model), "-d", str(data), "--no-html",
               "--reference", "none", "--max-clip-seconds", "0.2", "-o", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc != 0
    assert re.search(r"sample \S+\.wav: 0\.\d\d s of audio; the raw-audio firmware accepts "
                     r"clips up to 0\.2 s", err), err
