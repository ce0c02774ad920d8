"""The results file: append-only JSON lines, so a long run never loses what it measured.

`RUN_DIR/results.jsonl` holds one JSON object per line, each with a `type`:

- `header` (first line, once): format version, task, model hash, board, dataset
  fingerprint, the selection (shard), target roles, output quantization.
- `session` (each start or resume): session number, time, targets, command line.
- `link` (optional, per worker and session): raw link throughput measured in that session.
- `sample` (one per sample): `id`, `i` (row in the split), `y` (label), `tags`,
  `out` {role: [[int, ...] per output]}, `cycles`, `stack`, `us`, `s` (session), `w`
  (worker), `t` (unix time it was written).
- `end` (when a session stops): elapsed seconds, samples written, status.

Records are written a batch at a time, flushed and fsync'd, so after a kill the file holds
every completed batch and at most one partial last line. Reading ignores that partial
line; resuming cuts it off before appending, and skips every sample id already present.
Reading also drops repeated sample ids (keeping the first), so even a file assembled by
hand from overlapping shards yields each sample once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.errors import TinyflowError

FORMAT = 1
FILENAME = "results.jsonl"
# Header fields that must agree for two result sets to describe the same experiment.
IDENTITY = (("task",), ("model", "sha256"), ("dataset", "fingerprint"), ("board", "name"))


@dataclass
class Results:
    """Everything in one (or several merged) results files."""

    header: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)   # unique ids, file order
    sessions: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0          # repeated sample ids that were dropped
    partial_lines: int = 0       # torn lines (a killed writer), ignored
    sources: list[str] = field(default_factory=list)

    def ids(self) -> set[str]:
        return {r["id"] for r in self.samples}


def _get(d: dict, path: tuple[str, ...]) -> Any:
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None  # type: ignore[assignment]
    return d


def read_results(path: str | Path) -> Results:
    """Parse a results file (or the results file of a run folder)."""
    p = Path(path)
    if p.is_dir():
        p = p / FILENAME
    if not p.is_file():
        raise TinyflowError(f"no results file at {p}",
                            hint="run an evaluation first: tinyflow eval --model M --dataset D")
    header: dict[str, Any] | None = None
    res = Results({}, sources=[str(p)])
    seen: set[str] = set()
    with open(p, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[-1]:
        # No newline at the end: the writer died mid-line. Even if the fragment happens to
        # parse, it is not a committed record (resume cuts it off), so ignore it here too.
        res.partial_lines += 1
    for n, raw in enumerate(lines[:-1]):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            raise TinyflowError(f"{p}: line {n + 1} is not valid JSON",
                                hint="the file was edited or two writers shared it") from None
        kind = rec.get("type")
        if kind == "header":
            if header is not None:
                raise TinyflowError(f"{p}: a second header on line {n + 1}")
            header = rec
        elif kind == "sample":
            if rec["id"] in seen:
                res.duplicates += 1
                continue
            seen.add(rec["id"])
            res.samples.append(rec)
        elif kind == "session":
            res.sessions.append(rec)
        elif kind == "link":
            res.links.append(rec)
        elif kind == "end":
            res.ends.append(rec)
    if header is None:
        raise TinyflowError(f"{p}: no header record", hint="is this a tinyflow results file?")
    if header.get("format", 0) > FORMAT:
        raise TinyflowError(f"{p}: results format {header['format']} is newer than this "
                            f"tinyflow reads ({FORMAT})", hint="upgrade tinyflow")
    res.header = header
    return res


def merge(parts: Iterable[Results]) -> Results:
    """Union of several results (shards, or runs on different ports) of one experiment."""
    parts = list(parts)
    if not parts:
        raise TinyflowError("nothing to merge")
    first = parts[0]
    out = Results(dict(first.header), sources=[])
    seen: set[str] = set()
    for k, part in enumerate(parts):
        for key in IDENTITY:
            a, b = _get(first.header, key), _get(part.header, key)
            if a != b:
                raise TinyflowError(
                    f"cannot merge {part.sources[0]} with {first.sources[0]}: "
                    f"{'.'.join(key)} differs ({b} vs {a})",
                    hint="merge only shards of the same model, board and dataset")
        for r in part.samples:
            if r["id"] in seen:
                out.duplicates += 1
                continue
            seen.add(r["id"])
            out.samples.append(dict(r, part=k))
        for lst, src in ((out.sessions, part.sessions), (out.links, part.links),
                         (out.ends, part.ends)):
            lst.extend(dict(x, part=k) for x in src)
        out.duplicates += part.duplicates
        out.partial_lines += part.partial_lines
        out.sources += part.sources
    shards = {tuple(p.header.get("selection", {}).get("shard") or ()) for p in parts}
    if len(parts) > 1:
        out.header["selection"] = dict(out.header.get("selection", {}),
                                       shard=None, merged_shards=sorted(s for s in shards if s))
    return out


class ResultsStore:
    """The writer. One per run folder; thread-safe `append`."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / FILENAME
        self._lock = threading.Lock()
        self._f = None
        self._lockf = None
        self.session = 0

    def open(self, header: dict[str, Any], resume: bool = False,
             session_info: dict[str, Any] | None = None) -> Results | None:
        """Start writing. Returns the results already on disk when resuming, else None.

        Without `resume`, an existing non-empty results file is an error (never
        overwritten silently). With `resume`, the header on disk must describe the same
        experiment; a torn last line is cut off before anything is appended.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock_run_dir()
        try:
            return self._open(header, resume, session_info)
        except BaseException:
            self._unlock()
            raise

    def _open(self, header: dict[str, Any], resume: bool,
              session_info: dict[str, Any] | None) -> Results | None:
        previous = None
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists and not resume:
            raise TinyflowError(f"{self.path} already holds results",
                                hint="add --resume to continue that run, --fresh to start "
                                     "over, or --out for a new folder")
        if exists:
            previous = read_results(self.path)
            for key in IDENTITY + (("selection", "shard"),):
                a, b = _get(previous.header, key), _get(header, key)
                if a != b:
                    raise TinyflowError(
                        f"cannot resume {self.run_dir}: {'.'.join(key)} was {a}, now {b}",
                        hint="resume with the same model, board, dataset and --shard, or "
                             "use --out for a new run")
            _cut_torn_tail(self.path)
            self.session = 1 + max((s.get("session", 0) for s in previous.sessions), default=0)
        self._f = open(self.path, "a", encoding="utf-8")
        if not exists:
            self._write([{"type": "header", "format": FORMAT, **header}])
        self._write([{"type": "session", "session": self.session, "time": time.time(),
                      "resumed": exists, **(session_info or {})}])
        return previous

    def _lock_run_dir(self) -> None:
        """One writer per run folder: two evals appending to one file would each skip only
        the ids they saw at start, and could record a sample twice."""
        import fcntl

        self._lockf = open(self.run_dir / ".lock", "w")
        try:
            fcntl.flock(self._lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lockf.close()
            self._lockf = None
            raise TinyflowError(f"another tinyflow eval is writing {self.run_dir}",
                                hint="wait for it, or use --out for a separate run "
                                     "(shards can be merged: tinyflow report A B)") from None

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        self._write([dict(r, s=self.session) for r in records])

    def _write(self, records: list[dict[str, Any]]) -> None:
        if self._f is None:
            raise RuntimeError("ResultsStore.open() first")
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        with self._lock:
            self._f.write(text)
            self._f.flush()
            os.fsync(self._f.fileno())

    def _unlock(self) -> None:
        if self._lockf is not None:
            self._lockf.close()       # releases the flock
            self._lockf = None

    def close(self, end: dict[str, Any] | None = None) -> None:
        if self._f is None:
            self._unlock()
            return
        if end is not None:
            self._write([dict(end, type="end", session=self.session, time=time.time())])
        self._f.close()
        self._f = None
        self._unlock()


def _cut_torn_tail(path: Path) -> None:
    """Drop a partial last line (a writer killed mid-write) so appends start clean."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with open(path, "r+b") as f:
        f.truncate(keep)
