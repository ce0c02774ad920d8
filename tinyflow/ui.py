"""Terminal output: tables, JSON, progress. No third-party dependency, so --help stays fast."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, Self


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None) -> str:
    """Render rows as an aligned text table. `align` is one char per column: 'l' or 'r'."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "".join("r" if _numeric(rows, i) else "l" for i in range(len(headers)))
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                             for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _numeric(rows: Sequence[Sequence[Any]], i: int) -> bool:
    vals = [r[i] for r in rows if r[i] not in (None, "")]
    return bool(vals) and all(isinstance(v, (int, float)) for v in vals)


def emit_json(obj: Any, stream=None) -> None:
    json.dump(obj, stream or sys.stdout, indent=2, default=_json_default)
    (stream or sys.stdout).write("\n")


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def human_bytes(n: float) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@contextlib.contextmanager
def quiet_c_output():
    """Silence what C/C++ code (TensorFlow's converter) writes to fds 1 and 2, which
    Python's redirect_stdout cannot catch. Off with TINYFLOW_DEBUG=1."""
    if os.environ.get("TINYFLOW_DEBUG"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def status(msg: str) -> None:
    """A progress/stage line on stderr, so stdout stays clean for --json."""
    print(msg, file=sys.stderr, flush=True)


class Progress:
    """A minimal progress bar on stderr with rate and ETA; silent when stderr is not a TTY
    except for a final summary line (so CI logs stay readable)."""

    def __init__(self, total: int | None, label: str = "", unit: str = "it", stream=None):
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.n = 0
        self.t0 = time.monotonic()
        self._last = 0.0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, k: int = 1, extra: str = "") -> None:
        self.n += k
        now = time.monotonic()
        if self.tty and (now - self._last > 0.1 or self.n == self.total):
            self._last = now
            self.stream.write("\r" + self._line(extra))
            self.stream.flush()

    def _line(self, extra: str = "") -> str:
        dt = max(time.monotonic() - self.t0, 1e-9)
        rate = self.n / dt
        if self.total:
            frac = self.n / self.total
            bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
            eta = (self.total - self.n) / rate if rate > 0 else float("inf")
            return (f"{self.label} [{bar}] {self.n}/{self.total} {rate:.2f} {self.unit}/s "
                    f"ETA {eta:.0f}s {extra}")
        return f"{self.label} {self.n} {rate:.2f} {self.unit}/s {extra}"

    def close(self, extra: str = "") -> None:
        self.stream.write(("\r" if self.tty else "") + self._line(extra) + "\n")
        self.stream.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_progress(items: Iterable, total: int | None, label: str, unit: str = "it"):
    with Progress(total, label, unit) as p:
        for x in items:
            yield x
            p.update()
