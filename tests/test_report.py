"""Reports are views of the results file: terminal text, JSON and a self-contained HTML."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_eval_helpers import ROOT, person_model, ser_model, write_ser, write_wake_vision

from tinyflow.evaluate import evaluate, summarize
from tinyflow.report import render_html, render_text


@pytest.fixture(scope="module")
def person_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("rep")
    data = write_wake_vision(tmp / "wv", n=36)
    run = tmp / "run"
    evaluate(person_model(), data, run, references=("tflm",), progress=False)
    return run


def test_text_report_lists_every_subset_with_sizes(person_run):
    from tinyflow.report import load_runs

    s = summarize(load_runs([person_run]))
    text = render_text(s)
    for sub in ("lighting/dark", "distance/far", "gender/predominantly_male", "age/older",
                "depiction/non-person_non-depiction"):
        assert sub in text
    assert "host vs tflm" in text and "100.0%" in text
    assert "samples: 36/36 complete" in text


def test_report_command_rerenders_json_and_self_contained_html(person_run, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "tinyflow.cli", "report", str(person_run),
                        "-o", str(out), "--json"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    assert len(summary["quality"]["host"]["subsets"]) == 16
    html = (out / "report.html").read_text()
    # Self-contained: no external resources; every figure is an embedded PNG.
    assert not re.search(r"(src|href)=['\"]https?:", html)
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(pngs) == 4       # subset F1, confusion matrix, latency, fidelity
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)
    for caption in ("Per-subset F1", "Confusion matrix", "Latency histogram", "Fidelity"):
        assert caption in html


def test_ser_report_has_ccc_scatter(tmp_path):
    data = write_ser(tmp_path / "ser", n=10)
    res = evaluate(ser_model(), data, tmp_path / "run", references=(), progress=False)
    s = summarize(res)
    html = render_html(s, res)
    assert "CCC per dimension" in html
    text = render_text(s)
    assert all(d in text for d in ("arousal", "dominance", "valence"))
