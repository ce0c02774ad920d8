"""Datasets: loaders of the real on-disk formats and synthetic generators that write them.

- `wake_vision`: Wake Vision CSV + image folder (person detection, fine-grained subsets).
- `ser_manifest`: a CSV manifest of 16 kHz WAV clips with arousal/dominance/valence.
- `synth_wake_vision`, `synth_ser`: deterministic generators of small datasets in
  exactly those formats, for tests, demos and benchmarks.

Dataset descriptions and generator defaults live as data in the top-level `datasets/`
folder (`wake_vision.toml`, `ser.toml`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "datasets"


def describe(name: str) -> dict:
    """The dataset description file `datasets/<name>.toml` as a dict ({} if absent)."""
    p = DATA_DIR / f"{name}.toml"
    return tomllib.loads(p.read_text()) if p.is_file() else {}


def split_counts(n: int, fractions: dict[str, float]) -> list[int]:
    """Items per split, in the order given: every split gets at least one item (when
    n allows), the first split takes the rounding remainder."""
    names = list(fractions)
    total = sum(fractions.values())
    counts = [max(1, round(n * fractions[k] / total)) for k in names[1:]]
    first = n - sum(counts)
    if first < 1 and len(names) > 1:
        raise ValueError(f"{n} items cannot fill {len(names)} splits")
    return [first, *counts]
