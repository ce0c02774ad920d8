"""Evaluate a model on a dataset through one or more targets, into an append-only results file.

    from tinyflow.evaluate import evaluate
    res = evaluate("person_det.tflite", "data/wv", run_dir="runs/eval/x", limit=100)
    summary = summarize(res)

Pieces, one job each:
- `data`: dataset folder → samples (id, label, tags) and their int8 inputs; shard/limit.
- `targets`: the target interface and the host engine / tflite-micro targets.
- `board`: the board target (firmware over the serial link).
- `store`: the results file (append, resume, merge).
- `loop`: workers, queue, progress.
- `summary`: metrics, fidelity, latency, throughput from the records alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tinyflow.evaluate.data import EvalDataset, Sample, open_dataset, parse_shard, select
from tinyflow.evaluate.store import Results, ResultsStore, merge, read_results
from tinyflow.evaluate.summary import summarize
from tinyflow.evaluate.targets import Inference, Target, host_target

__all__ = ["EvalDataset", "Inference", "Results", "ResultsStore", "Sample", "Target",
           "evaluate", "host_target", "merge", "open_dataset", "parse_shard", "read_results",
           "select", "summarize"]


def evaluate(model_path: str | Path, dataset: str | Path, run_dir: str | Path, *,
             split: str = "test", target: str = "host", references: Sequence[str] = ("tflm",),
             workers: Sequence[Callable[[], Target]] | None = None,
             board: dict[str, Any] | None = None, cycle_unit: str = "cycles",
             limit: int | None = None, shard: str | tuple[int, int] | None = None,
             batch: int = 8, resume: bool = False, fresh: bool = False,
             features: dict[str, Any] | None = None, progress: bool = True,
             argv: list[str] | None = None, max_clip_seconds: float | None = None) -> Results:
    """Run (or resume) an evaluation and return everything in its results file.

    `target` is the role of the evaluated target: "host" (engine on this machine), "tflm",
    or "device" with `workers` (one factory per board/port, see `evaluate.board`).
    `references` are host roles run on every sample too, for the fidelity check.
    `max_clip_seconds`: raw-audio SER targets refuse longer clips (default 10 s).
    """
    from tinyflow.evaluate.loop import EvalJob, run
    from tinyflow.ir import load_model

    model_path = Path(model_path)
    model = load_model(model_path)
    ds = open_dataset(dataset, model, split, features=features, model_path=model_path)
    ds.max_clip_seconds = max_clip_seconds      # raw audio: the board's limit
    sh = parse_shard(shard) if isinstance(shard, str) or shard is None else tuple(shard)
    chosen = select(ds.samples, sh, limit)  # type: ignore[arg-type]
    if workers is None:
        if target == "device":
            raise ValueError("target='device' needs worker factories (see evaluate.board)")
        workers = [lambda: host_target(target, model_path)]
    run_dir = Path(run_dir)
    if fresh and (run_dir / "results.jsonl").exists():
        shutil.move(run_dir / "results.jsonl", run_dir / "results.jsonl.old")
    job = EvalJob(run_dir=run_dir, model_path=model_path, model=model, dataset=ds,
                  selection=chosen, workers=list(workers), primary=target,
                  references=tuple(r for r in references if r != target), board=board,
                  cycle_unit=cycle_unit, shard=sh, batch=batch, resume=resume,  # type: ignore[arg-type]
                  progress=progress, argv=list(argv or []))
    return run(job)
