"""Evaluation on the host targets: selection, results store, resume after a kill, shards,
parallel workers, Wake Vision subset F1 and SER CCC against hand computations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_eval_helpers import ROOT, person_model, ser_model, write_ser, write_wake_vision

from tinyflow.errors import TinyflowError
from tinyflow.evaluate import evaluate, read_results, select, summarize
from tinyflow.evaluate.data import Sample, parse_shard
from tinyflow.evaluate.summary import f1_from_rates, wake_vision_subsets
from tinyflow.evaluate.targets import TflmTarget


@pytest.fixture(scope="module")
def wv(tmp_path_factory) -> Path:
    return write_wake_vision(tmp_path_factory.mktemp("wv"), n=48)


@pytest.fixture(scope="module")
def person() -> Path:
    return person_model()


def _raw_ids(run: Path) -> list[str]:
    ids = []
    for line in (run / "results.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "sample":
            ids.append(rec["id"])
    return ids


def test_shards_partition_and_interleave():
    samples = [Sample(f"s{i}", i, i % 2) for i in range(10)]
    shards = [select(samples, parse_shard(f"{k}/3")) for k in (1, 2, 3)]
    assert sorted(s.id for sh in shards for s in sh) == sorted(s.id for s in samples)
    assert [s.index for s in shards[1]] == [1, 4, 7]
    assert [s.index for s in select(samples, (2, 3), limit=2)] == [1, 4]
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(TinyflowError, match="shard"):
            parse_shard(bad)


def test_subset_f1_follows_wake_vision_definitions():
    # 4 dark persons (3 found), 2 dark non-persons (1 false alarm), 2 bright non-persons
    # (no false alarm), 1 bright person (missed), 2 person depictions (1 wrongly "person").
    y = [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    p = [1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0]
    tags = [["dark", "near"]] * 4 + [["dark"]] * 2 + [["bright"]] * 2 + [["bright", "far"]] \
        + [["person_depiction"]] * 2
    rows = {r["subset"]: r for r in wake_vision_subsets(np.array(y), np.array(p), tags)}
    dark = rows["dark"]
    assert (dark["n"], dark["n_reference"]) == (4, 2)
    # TPR 3/4, FPR from same-lighting non-persons 1/2, FNR 1/4.
    assert dark["f1"] == pytest.approx(2 * 0.75 / (2 * 0.75 + 0.5 + 0.25))
    # Distance uses every non-person (6 of them, 2 false alarms) as the reference set.
    near = rows["near"]
    assert (near["n"], near["n_reference"]) == (4, 6)
    assert near["f1"] == pytest.approx(f1_from_rates(0.75, 2 / 6))
    assert rows["far"]["f1"] == pytest.approx(0.0)
    # Depictions: accuracy on the depiction set, FP rate from the person images (2/5 missed).
    dep = rows["person_depiction"]
    assert (dep["n"], dep["n_reference"]) == (2, 5)
    assert dep["f1"] == pytest.approx(f1_from_rates(0.5, 2 / 5))
    assert rows["older"]["f1"] is None and rows["older"]["n"] == 0


def test_person_eval_on_host_engine_is_bit_exact_with_tflm(wv, person, tmp_path):
    res = evaluate(person, wv, tmp_path / "run", references=("tflm",), progress=False)
    s = summarize(res)
    assert s["progress"] == {**s["progress"], "done": 48, "selected": 48, "complete": True}
    q = s["quality"]["host"]
    assert q["n"] == 48 and q["tp"] + q["fp"] + q["tn"] + q["fn"] == 48
    subsets = {r["subset"]: r for r in q["subsets"]}
    assert len(subsets) == 16
    assert sum(subsets[c]["n"] for c in ("dark", "normal_lighting", "bright")) == 24
    assert sum(subsets[c]["n"] for c in ("near", "medium_distance", "far")) == 24
    (pair,) = s["fidelity"]
    assert (pair["a"], pair["b"], pair["n"], pair["rate"], pair["max_abs_diff"]) == \
        ("host", "tflm", 48, 1.0, 0)
    # The record is self-contained: labels, tags and raw outputs of both targets.
    rec = res.samples[0]
    assert set(rec["out"]) == {"host", "tflm"} and "tags" in rec and rec["y"] in (0, 1)


def test_resume_after_sigkill_loses_and_repeats_nothing(tmp_path, person):
    data = write_wake_vision(tmp_path / "wv", n=400, seed=1)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "tinyflow.cli", "eval", "-m", str(person), "-d", str(data),
           "-o", str(run), "--target", "tflm", "--reference", "none", "--batch", "1",
           "--no-html", "--json"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    results = run / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and results.read_bytes().count(b'"type":"sample"') >= 20:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _raw_ids(run)
    assert 20 <= len(before) < 400, "the run should have been killed midway"
    r = subprocess.run(cmd + ["--resume"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    after = _raw_ids(run)
    assert after[:len(before)] == before                 # nothing rewritten
    assert len(after) == len(set(after)) == 400          # nothing repeated, nothing lost
    summary = json.loads(r.stdout)
    assert summary["progress"]["complete"] and summary["throughput"][0]["status"] == "killed"


def test_torn_last_line_is_ignored_then_cut_on_resume(wv, person, tmp_path):
    run = tmp_path / "run"
    evaluate(person, wv, run, target="tflm", references=(), limit=10, progress=False)
    path = run / "results.jsonl"
    whole = path.read_bytes()
    last = whole.rstrip(b"\n").rsplit(b"\n", 1)[1]
    torn = whole + last[: len(last) // 2]         # a writer killed mid-line
    path.write_bytes(torn)
    assert len(read_results(run).samples) == 10 and read_results(run).partial_lines == 1
    res = evaluate(person, wv, run, target="tflm", references=(), limit=20, resume=True,
                   progress=False)
    assert len(res.samples) == 20 and res.partial_lines == 0
    assert path.read_bytes().startswith(whole)
    # Even a fragment that happens to be valid JSON is not a committed record.
    fragment = json.dumps(dict(json.loads(last), id="not-committed")).encode()
    path.write_bytes(path.read_bytes() + fragment)
    again = read_results(run)
    assert len(again.samples) == 20 and again.partial_lines == 1
    assert "not-committed" not in again.ids()


def test_existing_results_are_never_overwritten_or_mixed(wv, person, tmp_path):
    run = tmp_path / "run"
    evaluate(person, wv, run, target="tflm", references=(), limit=4, progress=False)
    with pytest.raises(TinyflowError, match="already holds results"):
        evaluate(person, wv, run, target="tflm", references=(), limit=4, progress=False)
    with pytest.raises(TinyflowError, match="shard"):
        evaluate(person, wv, run, target="tflm", references=(), shard="1/2", resume=True,
                 progress=False)
    other = write_wake_vision(tmp_path / "other", n=8, seed=5)
    with pytest.raises(TinyflowError, match="dataset.fingerprint"):
        evaluate(person, other, run, target="tflm", references=(), resume=True,
                 progress=False)
    res = evaluate(person, wv, run, target="tflm", references=(), limit=6, fresh=True,
                   progress=False)
    assert len(res.samples) == 6 and (run / "results.jsonl.old").exists()


def test_parallel_workers_and_merged_shards_cover_each_sample_once(wv, person, tmp_path):
    from tinyflow.report import load_runs

    full = evaluate(person, wv, tmp_path / "full", target="tflm", references=(),
                    workers=[lambda: TflmTarget(person) for _ in range(3)], batch=2,
                    progress=False)
    ids = _raw_ids(tmp_path / "full")
    assert len(ids) == len(set(ids)) == 48
    assert len({r["w"] for r in full.samples}) >= 1
    for k in (1, 2):
        evaluate(person, wv, tmp_path / f"shard{k}", target="tflm", references=(),
                 shard=f"{k}/2", progress=False)
    merged = load_runs([tmp_path / "shard1", tmp_path / "shard2"])
    assert sorted(merged.ids()) == sorted(ids)
    a, b = summarize(full), summarize(merged)
    assert a["quality"]["tflm"] == b["quality"]["tflm"]
    assert b["progress"]["complete"] and b["progress"]["selected"] == 48


class _DiesAfterOneBatch(TflmTarget):
    """A target that stops answering after its first batch, like an unplugged board."""

    name = "flaky"

    def __init__(self, model_path):
        super().__init__(model_path)
        self.calls = 0

    def run(self, batch):
        self.calls += 1
        if self.calls > 1:
            raise TinyflowError("board stopped answering")
        return super().run(batch)


def test_a_failing_worker_hands_its_batch_to_the_others(wv, person, tmp_path):
    res = evaluate(person, wv, tmp_path / "run", target="tflm", references=(),
                   workers=[lambda: _DiesAfterOneBatch(person), lambda: TflmTarget(person)],
                   batch=4, progress=False)
    ids = _raw_ids(tmp_path / "run")
    assert len(ids) == len(set(ids)) == 48 and len(res.samples) == 48
    with pytest.raises(TinyflowError, match="--resume|resume"):
        evaluate(person, wv, tmp_path / "run2", target="tflm", references=(),
                 workers=[lambda: _DiesAfterOneBatch(person)], batch=4, progress=False)
    assert len(read_results(tmp_path / "run2").samples) == 4
    assert read_results(tmp_path / "run2").ends[-1]["status"] == "failed"


def test_ser_eval_ccc_uses_population_variance_over_the_whole_set(tmp_path):
    from tinyflow.evaluate.summary import decode

    data = write_ser(tmp_path / "ser", n=12)
    res = evaluate(ser_model(), data, tmp_path / "run", references=("tflm",), progress=False)
    s = summarize(res)
    q = s["quality"]["host"]
    quant = res.header["model"]["outputs"]
    y = np.array([r["y"] for r in res.samples])
    p = np.stack([decode(r["out"]["host"], quant) for r in res.samples])
    for k, dim in enumerate(("arousal", "dominance", "valence")):
        a, b = y[:, k], p[:, k]
        cov = ((a - a.mean()) * (b - b.mean())).mean()
        expect = 2 * cov / (a.var(ddof=0) + b.var(ddof=0) + (a.mean() - b.mean()) ** 2)
        assert q[f"ccc_{dim}"] == pytest.approx(expect)
        assert q[f"mae_{dim}"] == pytest.approx(np.abs(a - b).mean())
    assert s["fidelity"][0]["rate"] == 1.0


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, person):
    data = write_wake_vision(tmp_path / "wv", n=400, seed=3)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "tinyflow.cli", "eval", "-m", str(person), "-d", str(data),
           "-o", str(run), "--target", "tflm", "--reference", "none", "--batch", "1",
           "--no-html"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results = run / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and results.read_bytes().count(b'"type":"sample"') >= 10:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in err
    res = read_results(run)
    assert res.ends[-1]["status"] == "interrupted" and res.ends[-1]["samples"] == len(res.samples)


def test_one_writer_per_run_folder(tmp_path):
    from tinyflow.evaluate.store import ResultsStore

    header = {"task": "person_detection", "model": {"sha256": "x"}, "dataset": {},
              "board": None, "selection": {"shard": None}}
    first = ResultsStore(tmp_path)
    first.open(header)
    with pytest.raises(TinyflowError, match="another tinyflow eval is writing"):
        ResultsStore(tmp_path).open(header, resume=True)
    first.close({"status": "complete"})
    again = ResultsStore(tmp_path)
    assert again.open(header, resume=True) is not None    # free once the first is closed
    again.close()


def test_host_engine_workers_in_parallel_stay_bit_exact(person, tmp_path):
    """Host engines of one model share one dlopen'ed library; parallel workers must not
    interleave their invocations (a real bug once: 1-4% of samples came out wrong)."""
    from tinyflow.evaluate.targets import HostEngineTarget

    data = write_wake_vision(tmp_path / "wv", n=200, seed=4)
    res = evaluate(person, data, tmp_path / "run", target="host", references=("tflm",),
                   workers=[lambda: HostEngineTarget(person) for _ in range(3)], batch=1,
                   progress=False)
    (pair,) = summarize(res)["fidelity"]
    assert pair["rate"] == 1.0, pair


def test_host_engines_of_one_model_are_thread_safe_without_a_caller_lock(person):
    """HostEngine itself serialises engines sharing a library, for every threaded user."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from tinyflow.hostengine import HostEngine

    engines = [HostEngine(person) for _ in range(3)]
    assert engines[0].lock is engines[1].lock
    shape = engines[0].model.tensors[engines[0].model.inputs[0]].shape
    xs = [np.random.default_rng(k).integers(-128, 128, shape).astype(np.int8) for k in range(90)]
    want = [engines[0].invoke(x)[0] for x in xs]
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(lambda kx: engines[kx[0] % 3].invoke(kx[1])[0], enumerate(xs)))
    assert all(np.array_equal(a, b) for a, b in zip(want, got))
