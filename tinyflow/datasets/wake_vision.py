"""Wake Vision in its published on-disk format: one CSV per split next to the images.

`WakeVision(root).split("test")` reads `wake_vision_test.csv` (or `test.csv`), checks the
columns and that every image exists, and returns a `WakeVisionSplit` with the file paths,
labels (`person`) and every fine-grained attribute column present. `images(...)` decodes
and preprocesses them the way the zoo model expects (centre crop, resize, grey or RGB,
`pixel / 127.5 - 1`). Train CSVs carry only `filename, person, depiction, body_part`;
validation and test carry all twenty columns (see `datasets/wake_vision.toml`).

When `tensorflow_datasets` and its `wake_vision` builder are installed, `from_tfds()`
reads the same data from TFDS instead (not a dependency of tinyflow).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.datasets import describe
from tinyflow.errors import TinyflowError

_FMT = describe("wake_vision")["format"]
COLUMNS: list[str] = _FMT["columns"]
TRAIN_COLUMNS: list[str] = _FMT["train_columns"]
SPLITS: list[str] = _FMT["splits"]


@dataclass
class WakeVisionSplit:
    name: str
    paths: list[Path]
    labels: np.ndarray                                   # int32, 1 = person
    attributes: dict[str, np.ndarray] = field(default_factory=dict)  # column → int8 (-1 missing)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, column: str) -> np.ndarray:
        """Boolean mask of the rows where `column` is 1."""
        if column not in self.attributes:
            raise TinyflowError(f"split {self.name} has no column {column!r}; it has "
                                f"{', '.join(self.attributes) or 'only the label'}")
        return self.attributes[column] == 1

    def images(self, resolution: int, channels: int = 1, limit: int | None = None) -> np.ndarray:
        """Decode and preprocess → float32 (n, resolution, resolution, channels) in [-1, 1]."""
        paths = self.paths[:limit] if limit else self.paths
        out = np.empty((len(paths), resolution, resolution, channels), np.float32)
        for i, p in enumerate(paths):
            out[i] = load_image(p, resolution, channels)
        return out


def load_image(path: str | Path, resolution: int, channels: int = 1) -> np.ndarray:
    """One image: centre-crop to a square, resize, grey (ITU-R 601 luma) or RGB, to [-1, 1]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((resolution, resolution), Image.Resampling.BILINEAR)
            arr = np.asarray(im, np.float32)
    except FileNotFoundError:
        raise TinyflowError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise TinyflowError(f"image {path} is corrupt or not an image: {e}",
                            hint="re-download it or remove its row from the CSV") from None
    if channels == 1:
        arr = arr[:, :, None]
    return arr / np.float32(127.5) - np.float32(1.0)


class WakeVision:
    """A Wake Vision folder: `wake_vision_<split>.csv` files plus images."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise TinyflowError(f"Wake Vision folder {self.root} does not exist",
                                hint="make a synthetic one: "
                                     "tinyflow data synth wake-vision --out DIR")

    def csv_path(self, split: str) -> Path:
        # The published training CSVs are train_quality / train_large; "train" finds them.
        names = [split] + (["train_quality", "train_large"] if split == "train" else [])
        for name in names:
            for pat in _FMT["csv_names"]:
                p = self.root / pat.format(split=name)
                if p.is_file():
                    return p
        found = sorted(p.name for p in self.root.glob("*.csv"))
        raise TinyflowError(f"no CSV for split {split!r} in {self.root} (looked for "
                            f"{', '.join(pat.format(split=split) for pat in _FMT['csv_names'])}; "
                            f"found: {', '.join(found) or 'none'})")

    def available_splits(self) -> list[str]:
        out = []
        for s in SPLITS + ["train_quality", "train_large"]:
            try:
                self.csv_path(s)
                out.append(s)
            except TinyflowError:
                pass
        return out

    def _image_path(self, split: str, filename: str, alias: str) -> Path | None:
        for d in _FMT["image_dirs"]:
            for name in dict.fromkeys((split, alias)):
                p = self.root / d.format(split=name) / filename
                if p.is_file():
                    return p
        return None

    def split(self, split: str, check_files: bool = True) -> WakeVisionSplit:
        path = self.csv_path(split)
        alias = path.stem.removeprefix("wake_vision_")  # e.g. train_quality for "train"
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in TRAIN_COLUMNS if c not in header]
            if missing:
                raise TinyflowError(f"{path}: missing column(s) {', '.join(missing)}; a Wake "
                                    f"Vision CSV has at least {', '.join(TRAIN_COLUMNS)}")
            rows = list(reader)
        if not rows:
            raise TinyflowError(f"{path} has no rows")
        attrs = [c for c in COLUMNS if c in header and c not in ("filename", "person")]
        paths, labels = [], np.empty(len(rows), np.int32)
        values = {c: np.empty(len(rows), np.int8) for c in attrs}
        missing_files = []
        for i, r in enumerate(rows):
            try:
                labels[i] = _binary(r["person"], path, i, "person")
                for c in attrs:
                    values[c][i] = _binary(r[c], path, i, c, allow_missing=True)
            except TinyflowError:
                raise
            p = self._image_path(split, r["filename"], alias) if check_files else None
            if p is None:
                if check_files:
                    missing_files.append(r["filename"])
                p = self.root / split / r["filename"]
            paths.append(p)
        if missing_files:
            raise TinyflowError(f"{len(missing_files)} image(s) of {path.name} not found, e.g. "
                                f"{', '.join(missing_files[:3])} (looked in "
                                f"{', '.join(d.format(split=split) for d in _FMT['image_dirs'])} "
                                f"under {self.root})")
        return WakeVisionSplit(split, paths, labels, values)


def _binary(v: str | None, path: Path, i: int, col: str, allow_missing: bool = False) -> int:
    v = (v or "").strip()
    if v in ("0", "1"):
        return int(v)
    if allow_missing and v in ("", "-1"):
        return -1
    raise TinyflowError(f"{path}: row {i + 2}, column {col}: {v!r} is not 0 or 1")


def from_tfds(split: str, data_dir: str | None = None):
    """The TFDS `wake_vision` builder's split, if tensorflow_datasets is installed."""
    try:
        import tensorflow_datasets as tfds  # type: ignore[import-not-found]
    except ImportError:
        raise TinyflowError("tensorflow_datasets is not installed",
                            hint="pip install tensorflow-datasets, or use the CSV layout") from None
    return tfds.load("wake_vision", split=split, data_dir=data_dir)
