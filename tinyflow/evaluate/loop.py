"""The eval loop: workers pull batches of samples, run them on their target, append results.

One worker per target (a board on a port, a QEMU instance, or a host target). Workers
share one queue of pending samples, so a fast target takes more of them; every worker
also runs the reference targets (host engine, tflite-micro) on the same inputs, so each
record carries all outputs needed for the fidelity check. Records go to the results
file a batch at a time (`ResultsStore.append` flushes and fsyncs), so a kill loses at
most the batches in flight, and `--resume` redoes exactly those.

If one worker fails (a board stops answering), its batch goes back to the queue and the
others carry on; the run fails only if no worker is left, with a hint to resume.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError
from tinyflow.evaluate.data import EvalDataset, Sample
from tinyflow.evaluate.store import Results, ResultsStore, read_results
from tinyflow.evaluate.targets import Inference, Target, host_target
from tinyflow.ir import Model


@dataclass
class EvalJob:
    run_dir: Path
    model_path: Path
    model: Model
    dataset: EvalDataset
    selection: list[Sample]
    workers: list[Callable[[], Target]]          # one factory per worker, called in its thread
    primary: str = "host"                        # role of the workers' targets
    references: tuple[str, ...] = ("tflm",)      # host roles run on every sample too
    board: dict[str, Any] | None = None
    cycle_unit: str = "cycles"                   # or "instructions" on a virtual board
    shard: tuple[int, int] | None = None
    batch: int = 8
    resume: bool = False
    progress: bool = True
    argv: list[str] = field(default_factory=list)


def tensor_info(model: Model, indices: Sequence[int]) -> list[dict[str, Any]]:
    out = []
    for i in indices:
        t = model.tensors[i]
        out.append({"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                    "bytes": int(t.nbytes),
                    "scale": float(t.quant.scale[0]) if t.quant is not None else 1.0,
                    "zero_point": int(t.quant.zero_point[0]) if t.quant is not None else 0})
    return out


def make_header(job: EvalJob) -> dict[str, Any]:
    from tinyflow import __version__

    m = job.model
    h: dict[str, Any] = {
        "tinyflow": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "task": job.dataset.task,
        "model": {"name": m.name, "path": str(job.model_path), "sha256": m.sha256,
                  "inputs": tensor_info(m, m.inputs), "outputs": tensor_info(m, m.outputs)},
        "board": job.board,
        "cycle_unit": job.cycle_unit,
        "dataset": job.dataset.describe(),
        "selection": {"shard": list(job.shard) if job.shard else None, "n": len(job.selection)},
        "primary": job.primary,
        "references": [r for r in job.references if r != job.primary],
    }
    if job.dataset.task == "speech_emotion":
        h["dims"] = ["arousal", "dominance", "valence"]
    else:
        h["classes"] = ["no_person", "person"]
    return h


class _Queue:
    """Pending samples; a failed batch goes back to the front."""

    def __init__(self, samples: Sequence[Sample]):
        self._q = deque(samples)
        self._lock = threading.Lock()

    def take(self, n: int) -> list[Sample]:
        with self._lock:
            return [self._q.popleft() for _ in range(min(n, len(self._q)))]

    def give_back(self, batch: Sequence[Sample]) -> None:
        with self._lock:
            self._q.extendleft(reversed(batch))

    def __len__(self) -> int:
        return len(self._q)


def _flat(outputs: Sequence[np.ndarray]) -> list[list[int]]:
    return [np.asarray(o).astype(np.int64).ravel().tolist() for o in outputs]


def _record(s: Sample, worker: str, outs: dict[str, list[list[int]]],
            inf: Inference) -> dict[str, Any]:
    r: dict[str, Any] = {"type": "sample", "id": s.id, "i": s.index,
                         "y": s.label if isinstance(s.label, int) else list(s.label),
                         "tags": list(s.tags), "out": outs, "w": worker, "t": time.time()}
    if inf.cycles is not None:
        r["cycles"] = int(inf.cycles)
    if inf.stack_bytes is not None:
        r["stack"] = int(inf.stack_bytes)
    if inf.host_us is not None:
        r["us"] = round(float(inf.host_us), 1)
    return r


def _run_refs(refs: Sequence[Target], inputs: Sequence[Sequence[np.ndarray]]
              ) -> list[dict[str, list[list[int]]]]:
    return [{ref.role: _flat(ref.run([x])[0].outputs) for ref in refs} for x in inputs]


def run(job: EvalJob) -> Results:
    """Evaluate `job.selection` (minus what the results file already holds)."""
    from tinyflow.ui import Progress, status

    store = ResultsStore(job.run_dir)
    previous = store.open(make_header(job), resume=job.resume,
                          session_info={"targets": len(job.workers), "argv": job.argv,
                                        "batch": job.batch, "selected": len(job.selection)})
    done = previous.ids() if previous else set()
    pending = [s for s in job.selection if s.id not in done]
    if previous:
        status(f"resuming {job.run_dir}: {len(done)} samples done, {len(pending)} to go")
    queue = _Queue(pending)
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()
    counts = {"n": 0}
    bar = Progress(len(pending), "eval", "samples") if job.progress else None
    t0 = time.monotonic()
    ready: list[float] = []    # when each worker finished its set-up (QEMU boot, compile)

    # Set by each worker as its very last act. Waiting on these instead of Thread.join:
    # a join interrupted by Ctrl-C can later return while the thread still runs (CPython).
    finished = [threading.Event() for _ in job.workers]

    def work(k: int, factory: Callable[[], Target]) -> None:
        target = None
        name = f"worker{k}"
        refs: list[Target] = []
        ref_job = None
        pool = ThreadPoolExecutor(1, thread_name_prefix=f"eval-ref-{k}")
        try:
            target = factory()
            name = getattr(target, "name", f"worker{k}")
            measure = getattr(target, "measure_link", None)
            if measure is not None and len(queue):
                store.append([{"type": "link", "session": store.session, "w": name,
                               **measure()}])
            refs = [host_target(r, job.model_path) for r in job.references if r != job.primary]
            with lock:
                ready.append(time.monotonic())
            while not stop.is_set():
                batch = queue.take(job.batch)
                if not batch:
                    break
                ref_job = None
                try:
                    inputs = [job.dataset.inputs(s) for s in batch]
                    # The references need only the inputs: they run beside the target
                    # (a board mostly waits on its serial port meanwhile).
                    ref_job = pool.submit(_run_refs, refs, inputs) if refs else None
                    if getattr(target, "raw_audio", False):
                        # The board computes the features itself from the clip's audio;
                        # the references keep the host front end's (same C, same bits).
                        infs = target.run([job.dataset.audio(s) for s in batch])
                    else:
                        infs = target.run(inputs)
                    ref_outs = ref_job.result() if ref_job else [{} for _ in inputs]
                    if len(infs) != len(batch):
                        raise TinyflowError(f"{name} returned {len(infs)} results for "
                                            f"{len(batch)} samples")
                    recs = [_record(s, name, {job.primary: _flat(inf.outputs), **r}, inf)
                            for s, inf, r in zip(batch, infs, ref_outs)]
                except BaseException:
                    if ref_job is not None:
                        ref_job.cancel()
                    queue.give_back(batch)
                    raise
                store.append(recs)
                with lock:
                    counts["n"] += len(recs)
                    if bar is not None:
                        bar.update(len(recs))
        except BaseException as e:  # noqa: BLE001 - reported after the join
            with lock:
                errors.append(e)
        finally:
            final = getattr(target, "final_stats", None)
            if final is not None:
                try:
                    store.append([{"type": "link", "session": store.session, "w": name,
                                   "final": True, **final()}])
                except Exception:  # noqa: BLE001 - statistics must not hide the cause
                    pass
            pool.shutdown(wait=True)
            for t in [target, *refs]:
                if t is not None:
                    try:
                        t.close()
                    except Exception:  # noqa: BLE001 - closing must not hide the cause
                        pass
            finished[k].set()

    threads = [threading.Thread(target=work, args=(k, f), name=f"eval-{k}", daemon=True)
               for k, f in enumerate(job.workers)]
    for t in threads:
        t.start()
    state = "complete"
    try:
        for ev in finished:
            while not ev.wait(0.2):
                pass
    except KeyboardInterrupt:
        stop.set()
        state = "interrupted"
        deadline = time.monotonic() + 30     # let each worker finish its batch
        for ev in finished:
            ev.wait(max(0.0, deadline - time.monotonic()))
        status(f"interrupted after {counts['n']} samples; they are saved in {store.path}. "
               "Continue with the same command and --resume")
        raise
    finally:
        if bar is not None:
            bar.close()
        if state == "complete" and len(queue):
            state = "failed"
        start = min(ready, default=t0)
        store.close({"status": state, "elapsed_s": round(time.monotonic() - start, 3),
                     "setup_s": round(start - t0, 3),
                     "samples": counts["n"],
                     "errors": [f"{type(e).__name__}: {e}" for e in errors][:5]})
    if len(queue):
        first = errors[0] if errors else None
        msg = f"evaluation stopped with {len(queue)} samples to go"
        if isinstance(first, TinyflowError):
            raise TinyflowError(f"{msg}: {first.message}",
                                hint=f"fix the cause, then continue with --resume "
                                     f"(results so far are in {store.path})") from first
        raise TinyflowError(f"{msg}: {type(first).__name__}: {first}",
                            hint=f"continue with --resume (results so far are in "
                                 f"{store.path})") from first
    return read_results(store.path)
