"""`tinyflow eval` on a QEMU virtual board over a real pty: person detection on a synthetic
Wake Vision set and speech emotion on a synthetic SER set, bit-exact with the host engine;
several QEMU instances at once; a run killed midway resumes without loss or repetition."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_eval_helpers import ROOT, person_model, ser_model

pytestmark = [pytest.mark.xdist_group("qemu_eval"),
              pytest.mark.skipif(not any((Path(p) / "qemu-system-arm").exists()
                                         for p in os.environ.get("PATH", "").split(":")),
                                 reason="qemu-system-arm not installed")]

BOARD = "qemu-m7"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _eval(*args: str, timeout: float = 300) -> dict:
    r = subprocess.run([sys.executable, "-m", "tinyflow.cli", "eval", "-b", BOARD, "--json",
                        "--no-html", *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def synth_wv(tmp_path_factory) -> Path:
    from tinyflow.datasets.synth_wake_vision import generate

    out = tmp_path_factory.mktemp("swv")
    generate(out, n=48, seed=0, size=32, splits={"test": 1.0})
    return out


@pytest.fixture(scope="module")
def synth_ser(tmp_path_factory) -> Path:
    from tinyflow.datasets.synth_ser import generate

    out = tmp_path_factory.mktemp("sser")
    generate(out, n=16, seed=0, seconds=0.25, splits={"test": 1.0})
    return out


def _ids(run: Path) -> list[str]:
    return [json.loads(x)["id"] for x in (run / "results.jsonl").read_text().splitlines()
            if '"type":"sample"' in x]


def test_person_det_on_qemu_every_subset_and_bit_exact(synth_wv, tmp_path):
    s = _eval("-m", str(person_model()), "-d", str(synth_wv), "-o", str(tmp_path / "run"))
    assert s["progress"]["complete"] and s["progress"]["done"] == 48
    subsets = s["quality"]["device"]["subsets"]
    assert {r["subset"] for r in subsets} == {
        "dark", "normal_lighting", "bright", "near", "medium_distance", "far",
        "predominantly_female", "predominantly_male", "gender_unknown", "young", "middle_age",
        "older", "age_unknown", "person_depiction", "non-person_depiction",
        "non-person_non-depiction"}
    pairs = {(p["a"], p["b"]): p for p in s["fidelity"]}
    for pair in (("device", "host"), ("device", "tflm")):
        assert pairs[pair]["rate"] == 1.0 and pairs[pair]["n"] == 48, pairs[pair]
    lat = s["latency"]["device"]
    assert lat["unit"] == "instructions" and lat["p50"] > 0 and lat["ms"]["p50"] > 0
    assert 0 < s["latency"]["stack_bytes_max"] < 16384
    (tp,) = s["throughput"]
    assert tp["raw_up_Bps"] > 0 and tp["samples_per_s"] > 0
    assert _header(tmp_path / "run")["board"]["input_path"] == "semihosting"


def _header(run: Path) -> dict:
    return json.loads((run / "results.jsonl").read_text().splitlines()[0])


def test_ser_on_qemu_ccc_and_bit_exact(synth_ser, tmp_path):
    s = _eval("-m", str(ser_model()), "-d", str(synth_ser), "-o", str(tmp_path / "run"))
    q = s["quality"]["device"]
    assert q["n"] == 16 and all(f"ccc_{d}" in q for d in ("arousal", "dominance", "valence"))
    assert all(p["rate"] == 1.0 for p in s["fidelity"])


def test_two_qemu_instances_share_the_work(synth_wv, tmp_path):
    run = tmp_path / "run"
    # --uart: the serial upload path of a real board, through two QEMUs at once
    s = _eval("-m", str(person_model()), "-d", str(synth_wv), "-o", str(run), "-j", "2",
              "--batch", "4", "--reference", "host", "--uart")
    assert _header(run)["board"]["input_path"] == "uart"
    ids = _ids(run)
    assert len(ids) == len(set(ids)) == 48 and s["progress"]["complete"]
    # Both QEMU instances connected; how the queue split between them depends on timing.
    finals = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()
              if '"final":true' in x]
    ends = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()
            if '"type":"end"' in x]
    assert len({f["w"] for f in finals}) == 2, ends
    assert s["fidelity"][0]["rate"] == 1.0


def test_killed_qemu_run_resumes_without_loss_or_repeats(synth_wv, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "tinyflow.cli", "eval", "-b", BOARD, "-m", str(person_model()),
           "-d", str(synth_wv), "-o", str(run), "--batch", "1", "--reference", "none",
           "--no-html", "--json"]
    # Its own process group, so QEMU dies with it (as with Ctrl-C or a closed terminal).
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    results = run / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and results.read_bytes().count(b'"type":"sample"') >= 5:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _ids(run)
    assert 5 <= len(before) < 48
    r = subprocess.run(cmd + ["--resume"], cwd=ROOT, env=ENV, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    after = _ids(run)
    assert after[:len(before)] == before and len(after) == len(set(after)) == 48


def test_port_of_a_running_board_and_a_wrong_board_name(synth_wv, tmp_path):
    from tinyflow.boards import get_board
    from tinyflow.evaluate.board import firmware_for
    from tinyflow.runners import get_runner

    board = get_board(BOARD)
    elf = firmware_for(board, person_model(), ROOT / "build" / BOARD / "eval-port-test")
    session = get_runner(board).start(elf)
    try:
        s = _eval("-m", str(person_model()), "-d", str(synth_wv), "-o", str(tmp_path / "run"),
                  "--port", session.port, "--limit", "8", "--reference", "host")
        assert s["progress"]["done"] == 8 and s["fidelity"][0]["rate"] == 1.0
        assert s["latency"]["device"]["unit"] == "instructions"
        r = subprocess.run([sys.executable, "-m", "tinyflow.cli", "eval", "-b", "qemu-m4",
                            "-m", str(person_model()), "-d", str(synth_wv), "--port",
                            session.port, "-o", str(tmp_path / "wrong"), "--limit", "2"],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
        assert r.returncode != 0
        assert "built for board qemu-m7, not qemu-m4" in r.stderr
    finally:
        session.stop()
