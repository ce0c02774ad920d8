"""Synthetic Wake Vision: procedurally drawn scenes, written in the real CSV + JPEG layout.

Every fine-grained attribute is set by construction, so every Wake Vision subset is
populated and means what its name says:
- person (person=1): a filled, shaded figure (head, hair, torso, arms, legs) in a
  cluttered scene. Distance = bounding-box area / image area (far 0.05-0.1, medium
  0.1-0.6, near >= 0.6: a close-up of head and shoulders). Perceived gender: long hair +
  dress with narrow shoulders (female), short hair + broad shoulders + trousers (male),
  or a hooded, neutral silhouette (unknown). Perceived age: child proportions (big head,
  short limbs; young), adult (middle_age), grey hair and stooped posture with a cane
  (older), or a face hidden under a hat brim (age_unknown).
- non-person (person=0): the same clutter without a figure; some (body_part=1) show a
  hand and forearm entering from an edge.
- depictions (person=0, depiction=1): a framed line drawing on paper, of a person
  (person_depiction) or of an object (non-person_depiction).
- lighting: the rendered scene is mapped to a target mean grey drawn inside the Wake
  Vision class (dark < 85, normal 85-170, bright >= 170), independently of the label,
  and re-checked after JPEG encoding: brightness carries no label information.

Clutter (poles, boxes, balls, trees) shares the figures' colours and sizes so a model
must learn the shape. Deterministic: image i uses `default_rng([seed, i])`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.datasets import describe, split_counts
from tinyflow.errors import TinyflowError

GENERATOR = "tinyflow-synth-wake-vision-v1"
_CFG = describe("wake_vision")
COLUMNS: list[str] = _CFG["format"]["columns"]
TRAIN_COLUMNS: list[str] = _CFG["format"]["train_columns"]
SKIN = [(255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36),
        (92, 56, 30)]
HAIR = [(20, 15, 10), (70, 45, 20), (150, 110, 60), (220, 190, 120), (110, 30, 10)]
GREY_HAIR = [(200, 200, 200), (235, 235, 230), (160, 160, 160)]


@dataclass
class Scene:
    """What was drawn: the CSV row plus generator-only facts (bbox, mean grey)."""

    row: dict[str, int] = field(default_factory=dict)
    bbox: tuple[int, int, int, int] | None = None   # x0, y0, x1, y1 of the person, clipped
    area: float = 0.0
    mean_grey: float = 0.0
    kind: str = ""


def _color(rng: np.random.Generator, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi + 1, 3))


def _grey_of(c: tuple[int, int, int]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _visible(rng: np.random.Generator, bg: float, lo: int = 10, hi: int = 245,
             min_contrast: float = 45.0) -> tuple[int, int, int]:
    """A random colour whose grey level differs from the background's by `min_contrast`.

    Applied alike to figures and clutter, so it makes objects visible in greyscale
    without telling persons from non-persons.
    """
    for _ in range(50):
        c = _color(rng, lo, hi)
        if abs(_grey_of(c) - bg) >= min_contrast:
            return c
    return (lo, lo, lo) if bg > 127 else (hi, hi, hi)


def _clutter(draw, rng: np.random.Generator, s: int, n: int, bg: float = 128.0) -> None:
    """Non-person objects with person-like colours and sizes, including upright poles."""
    for _ in range(n):
        kind = rng.choice(["pole", "box", "ball", "tree", "blob"])
        c = _visible(rng, bg)
        x, y = rng.uniform(0, s), rng.uniform(0.2 * s, s)
        h = rng.uniform(0.1, 0.6) * s
        if kind == "pole":
            w = rng.uniform(0.02, 0.08) * s
            draw.rectangle([x, y - h, x + w, y], fill=c)
        elif kind == "box":
            w = rng.uniform(0.1, 0.4) * s
            draw.rectangle([x, y - h * 0.6, x + w, y], fill=c)
        elif kind == "ball":
            r = rng.uniform(0.03, 0.12) * s
            draw.ellipse([x - r, y - r, x + r, y + r], fill=c)
        elif kind == "tree":
            w = rng.uniform(0.1, 0.3) * s
            draw.rectangle([x - w * 0.1, y - h * 0.4, x + w * 0.1, y], fill=(90, 60, 30))
            draw.polygon([(x - w / 2, y - h * 0.4), (x + w / 2, y - h * 0.4), (x, y - h)],
                         fill=(int(c[0] * 0.3), int(80 + c[1] * 0.5), int(c[2] * 0.3)))
        else:
            w = rng.uniform(0.05, 0.3) * s
            draw.ellipse([x, y - h * 0.3, x + w, y], fill=c)


def _figure(draw, rng: np.random.Generator, box: tuple[float, float, float, float],
            gender: str, age: str, near: bool, outline: bool, bg: float = 128.0) -> None:
    """A person in `box` (x0, y0, x1, y1). `outline` draws a line drawing instead."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    skin = SKIN[rng.integers(len(SKIN))]
    hair = GREY_HAIR[rng.integers(3)] if age == "older" else HAIR[rng.integers(len(HAIR))]
    top, bottom = _visible(rng, bg), _visible(rng, bg)
    ink = (20, 20, 20)
    lw = max(1, int(round(min(w, h) * 0.04)))

    def shape(kind, xy, fill):
        if outline:
            if kind == "ellipse":
                draw.ellipse(xy, outline=ink, width=lw)
            elif kind == "polygon":
                draw.polygon(xy, outline=ink, width=lw)
            else:
                draw.line(xy, fill=ink, width=lw)
        else:
            if kind == "ellipse":
                draw.ellipse(xy, fill=fill)
            elif kind == "polygon":
                draw.polygon(xy, fill=fill)
            else:
                draw.line(xy, fill=fill, width=lw * 2)

    if near:  # head and shoulders filling the box
        hr = 0.22 * h if age != "young" else 0.27 * h
        hy = y0 + hr * 1.1
        sh = 0.95 * w if gender == "male" else 0.7 * w if gender == "female" else 0.82 * w
        shape("polygon", [(cx - sh / 2, y1), (cx - sh / 2.4, hy + hr * 1.3),
                          (cx + sh / 2.4, hy + hr * 1.3), (cx + sh / 2, y1)], top)
        if gender == "female":
            shape("ellipse", [cx - hr * 1.25, hy - hr * 1.1, cx + hr * 1.25, hy + hr * 1.8], hair)
        shape("ellipse", [cx - hr * 0.45, hy + hr * 0.6, cx + hr * 0.45, hy + hr * 1.5], skin)
        shape("ellipse", [cx - hr * 0.85, hy - hr, cx + hr * 0.85, hy + hr], skin)
        _head_top(shape, cx, hy, hr, gender, age, hair, rng)
        return

    stoop = 0.08 * w if age == "older" else 0.0
    head_frac = 0.2 if age == "young" else 0.13
    hr = head_frac * h / 2
    hy = y0 + hr
    neck = y0 + 2 * hr
    hip = y0 + h * (0.55 if gender == "female" else 0.52)
    sw = w * (0.62 if gender == "male" else 0.42 if gender == "female" else 0.5)
    hw = w * (0.32 if gender == "male" else 0.4 if gender == "female" else 0.34)
    if gender == "female" and age != "young":  # long hair behind the head
        hx = cx + stoop
        shape("ellipse", [hx - hr * 1.2, hy - hr, hx + hr * 1.2, hy + hr * 2.2], hair)
    # legs
    leg_w = w * 0.12
    for side in (-1, 1):
        lx = cx + side * hw * 0.45
        shape("polygon", [(lx - leg_w / 2, hip), (lx + leg_w / 2, hip),
                          (lx + leg_w / 2 + side * w * 0.05, y1),
                          (lx - leg_w / 2 + side * w * 0.05, y1)], bottom)
    # torso: a dress flares out below the hips, a jacket is a trapezoid
    if gender == "female":
        shape("polygon", [(cx + stoop - sw / 2, neck), (cx + stoop + sw / 2, neck),
                          (cx + hw * 0.9, y0 + h * 0.75), (cx - hw * 0.9, y0 + h * 0.75)], top)
    else:
        shape("polygon", [(cx + stoop - sw / 2, neck), (cx + stoop + sw / 2, neck),
                          (cx + hw / 2, hip), (cx - hw / 2, hip)], top)
    # arms, in a random pose
    for side in (-1, 1):
        ang = rng.uniform(-0.4, 0.9)
        ax, ay = cx + stoop + side * sw / 2, neck + h * 0.03
        ln = h * (0.3 if age == "young" else 0.36)
        ex, ey = ax + side * ln * math.sin(ang) * 0.8, ay + ln * math.cos(ang)
        shape("line", [(ax, ay), (ex, ey)], top)
        if age == "older" and side == 1:  # a cane
            shape("line", [(ex, ey), (ex + w * 0.05, y1)], (60, 40, 20))
    shape("ellipse", [cx + stoop - hr * 0.85, hy - hr, cx + stoop + hr * 0.85, hy + hr], skin)
    _head_top(shape, cx + stoop, hy, hr, gender, age, hair, rng)


def _head_top(shape, cx, hy, hr, gender, age, hair, rng) -> None:
    if age == "unknown":  # a wide hat brim hides the face
        shape("polygon", [(cx - hr * 1.5, hy - hr * 0.1), (cx + hr * 1.5, hy - hr * 0.1),
                          (cx + hr * 0.8, hy - hr * 0.5), (cx - hr * 0.8, hy - hr * 0.5)],
              (40, 40, 40))
        shape("ellipse", [cx - hr * 0.8, hy - hr * 1.3, cx + hr * 0.8, hy - hr * 0.3], (40, 40, 40))
    elif gender == "unknown":  # a hood
        shape("ellipse", [cx - hr * 1.05, hy - hr * 1.15, cx + hr * 1.05, hy - hr * 0.05], hair)
    else:
        shape("ellipse", [cx - hr * 0.9, hy - hr * 1.1, cx + hr * 0.9, hy - hr * 0.2], hair)


def _object_drawing(draw, rng, box, ink) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    lw = max(1, int(min(w, h) * 0.03))
    kind = rng.choice(["house", "car", "sun", "tree"])
    if kind == "house":
        draw.rectangle([x0 + w * 0.2, y0 + h * 0.45, x1 - w * 0.2, y1 - h * 0.1],
                       outline=ink, width=lw)
        draw.polygon([(x0 + w * 0.15, y0 + h * 0.45), (x1 - w * 0.15, y0 + h * 0.45),
                      ((x0 + x1) / 2, y0 + h * 0.15)], outline=ink, width=lw)
    elif kind == "car":
        draw.rectangle([x0 + w * 0.1, y0 + h * 0.45, x1 - w * 0.1, y0 + h * 0.7],
                       outline=ink, width=lw)
        for fx in (0.3, 0.7):
            r = w * 0.09
            cx = x0 + w * fx
            wy = y0 + h * 0.7
            draw.ellipse([cx - r, wy - r, cx + r, wy + r], outline=ink, width=lw)
    elif kind == "sun":
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, min(w, h) * 0.2
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=lw)
        for k in range(8):
            a = k * math.pi / 4
            draw.line([(cx + 1.3 * r * math.cos(a), cy + 1.3 * r * math.sin(a)),
                       (cx + 1.9 * r * math.cos(a), cy + 1.9 * r * math.sin(a))],
                      fill=ink, width=lw)
    else:
        mx = (x0 + x1) / 2
        draw.line([(mx, y1 - h * 0.1), (mx, y0 + h * 0.5)], fill=ink, width=lw * 2)
        draw.ellipse([x0 + w * 0.25, y0 + h * 0.15, x1 - w * 0.25, y0 + h * 0.6],
                     outline=ink, width=lw)


def _hand(draw, rng, s: int) -> None:
    """A forearm and hand entering from the bottom edge (body_part, no person)."""
    skin = SKIN[rng.integers(len(SKIN))]
    x = rng.uniform(0.2, 0.8) * s
    w = rng.uniform(0.1, 0.18) * s
    top = rng.uniform(0.25, 0.5) * s
    draw.rectangle([x - w / 2, top + w, x + w / 2, s], fill=_color(rng, 10, 245))
    draw.ellipse([x - w * 0.7, top, x + w * 0.7, top + w * 1.6], fill=skin)
    for k in range(4):
        fx = x - w * 0.5 + k * w / 3
        draw.line([(fx, top + w * 0.3), (fx, top - w * 0.5)], fill=skin, width=max(1, int(w / 5)))


def _relight(img: np.ndarray, target: float) -> np.ndarray:
    """Map intensities so the mean grey hits `target` (a few affine+clip iterations)."""
    out = img.astype(np.float32)
    for _ in range(6):
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        g = float(grey.mean())
        if abs(g - target) < 1.0:
            break
        spread = float(grey.std()) + 1e-3
        contrast = min(1.0, 45.0 / spread) if target < 85 or target >= 170 else 1.0
        out = np.clip((out - g) * contrast + target, 0, 255)
    return out


def render(rng: np.random.Generator, size: int, kind: str, lighting: str,
           distance: str = "", gender: str = "", age: str = "") -> tuple[np.ndarray, Scene]:
    """Draw one scene; returns (uint8 HxWx3 image, Scene with bbox and row fields)."""
    from PIL import Image, ImageDraw

    ss = 2  # supersample for anti-aliasing
    s = size * ss
    sc = Scene(kind=kind)
    sky, ground = _color(rng, 40, 230), _color(rng, 30, 200)
    grad = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
    horizon = rng.uniform(0.4, 0.75)
    base = np.where(grad < horizon, (1 - grad) * np.array(sky) + grad * np.array(sky) * 0.8,
                    np.array(ground, np.float32))
    img = Image.fromarray(np.broadcast_to(base, (s, s, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    depiction = kind in ("person_depiction", "non_person_depiction")
    bg = (_grey_of(sky) + _grey_of(ground)) / 2
    _clutter(draw, rng, s, int(rng.integers(2, 7)), bg)
    if kind == "body_part":
        _hand(draw, rng, s)
    if depiction:  # a framed sheet of paper with a line drawing on it
        fw = rng.uniform(0.6, 0.95) * s
        fx, fy = rng.uniform(0, s - fw), rng.uniform(0, s - fw)
        paper = tuple(int(v) for v in rng.integers(215, 256, 3))
        draw.rectangle([fx - 3 * ss, fy - 3 * ss, fx + fw + 3 * ss, fy + fw + 3 * ss],
                       fill=_color(rng, 20, 120))
        draw.rectangle([fx, fy, fx + fw, fy + fw], fill=paper)
        inner = (fx + fw * 0.1, fy + fw * 0.08, fx + fw * 0.9, fy + fw * 0.95)
        if kind == "person_depiction":
            iw = (inner[2] - inner[0]) * 0.45
            cx = (inner[0] + inner[2]) / 2
            _figure(draw, rng, (cx - iw / 2, inner[1], cx + iw / 2, inner[3]),
                    str(rng.choice(["female", "male", "unknown"])), "middle", False, True)
        else:
            _object_drawing(draw, rng, inner, (20, 20, 20))
    if kind == "person":
        lo, hi = {"far": (0.055, 0.095), "medium": (0.12, 0.55), "near": (0.64, 0.9)}[distance]
        area = rng.uniform(lo, hi)
        ar = rng.uniform(0.7, 1.0) if distance == "near" else rng.uniform(0.35, 0.5)
        h = math.sqrt(area / ar) * s
        w = ar * h
        if h > s:
            h = s
            w = area * s * s / h
        w = min(w, s)
        x0 = rng.uniform(0, s - w)
        y0 = s - h if distance == "near" else rng.uniform(0, s - h)
        box = (x0, y0, x0 + w, y0 + h)
        _figure(draw, rng, box, gender, age, distance == "near", False, bg)
        sc.bbox = tuple(int(round(v / ss)) for v in box)  # type: ignore[assignment]
        sc.area = (w * h) / (s * s)
    img = img.resize((size, size), Image.Resampling.BOX)
    arr = np.asarray(img, np.float32)
    if not depiction:  # photo-like: sensor noise
        arr = arr + rng.normal(0, 5.0, arr.shape).astype(np.float32)
    lo, hi = _CFG["synth"]["lighting_targets"][lighting]
    arr = _relight(np.clip(arr, 0, 255), rng.uniform(lo, hi))
    return np.clip(np.round(arr), 0, 255).astype(np.uint8), sc


def _row(kind: str, lighting: str, distance: str, gender: str, age: str) -> dict[str, int]:
    row = {c: 0 for c in COLUMNS if c != "filename"}
    row["person"] = int(kind == "person")
    row["depiction"] = int(kind in ("person_depiction", "non_person_depiction"))
    row["body_part"] = int(kind == "body_part")
    row[{"dark": "dark", "normal": "normal_lighting", "bright": "bright"}[lighting]] = 1
    if kind == "person":
        row[{"near": "near", "medium": "medium_distance", "far": "far"}[distance]] = 1
        row[{"female": "predominantly_female", "male": "predominantly_male",
             "unknown": "gender_unknown"}[gender]] = 1
        row[{"young": "young", "middle": "middle_age", "older": "older",
             "unknown": "age_unknown"}[age]] = 1
    elif kind == "person_depiction":
        row["person_depiction"] = 1
    elif kind == "non_person_depiction":
        row["non-person_depiction"] = 1
    else:
        row["non-person_non-depiction"] = 1
    return row


def _grey_mean(jpeg: bytes) -> float:
    from PIL import Image

    return float(np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), np.float32).mean())


def _lighting_of(grey: float) -> str:
    d = _CFG["definitions"]
    return "dark" if grey < d["dark_below"] else "bright" if grey >= d["bright_from"] else "normal"


def generate(out: str | Path, n: int = 600, seed: int = 0, size: int = 128,
             splits: dict[str, float] | None = None, mix: dict[str, float] | None = None,
             distances: tuple[str, ...] = ("near", "medium", "far")) -> dict:
    """Write `n` images and the split CSVs under `out`; return a summary dict.

    `mix` (scene kind → fraction; default from datasets/wake_vision.toml) and `distances`
    tune the difficulty, e.g. `mix={"person": 1, "non_person": 1}, distances=("near",
    "medium")` for a quick sanity-check set without depictions or far figures.
    """
    from PIL import Image

    if not 16 <= size <= 1024:
        raise TinyflowError(f"image size {size} is outside 16..1024")
    cfg = _CFG["synth"]
    splits = splits or cfg["split_fractions"]
    if n < len(splits):
        raise TinyflowError(f"synth wake-vision needs --n >= {len(splits)} (one image per split)")
    out = Path(out)
    mix = mix or cfg["mix"]
    unknown = set(mix) - set(cfg["mix"]) or set(distances) - {"near", "medium", "far"}
    if unknown:
        raise TinyflowError(f"unknown scene kind or distance {sorted(unknown)}; kinds: "
                            f"{', '.join(cfg['mix'])}; distances: near, medium, far")
    kinds = list(mix)
    probs = np.array([mix[k] for k in kinds], np.float64)
    probs /= probs.sum()
    # Deterministic split assignment: contiguous blocks after a seeded permutation.
    order = np.random.default_rng([seed, 2**31 - 1]).permutation(n)
    names = list(splits)
    split_of = np.empty(n, dtype=object)
    start = 0
    for name, k in zip(names, split_counts(n, splits)):
        split_of[order[start:start + k]] = name
        start += k
    rows: dict[str, list[dict]] = {k: [] for k in names}
    meta = {}
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        kind = str(rng.choice(kinds, p=probs))
        lighting = str(rng.choice(["dark", "normal", "bright"]))
        distance = str(rng.choice(list(distances))) if kind == "person" else ""
        gender = str(rng.choice(["female", "male", "unknown"])) if kind == "person" else ""
        age = str(rng.choice(["young", "middle", "older", "unknown"])) if kind == "person" else ""
        arr, sc = render(rng, size, kind, lighting, distance, gender, age)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=int(cfg["jpeg_quality"]))
        jpeg = buf.getvalue()
        grey = _grey_mean(jpeg)
        if _lighting_of(grey) != lighting:  # JPEG moved the mean across a bound: retarget
            arr = np.clip(arr.astype(np.float32) + (np.mean(cfg["lighting_targets"][lighting])
                                                    - grey), 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format="JPEG", quality=int(cfg["jpeg_quality"]))
            jpeg = buf.getvalue()
            grey = _grey_mean(jpeg)
            lighting = _lighting_of(grey)
        split = str(split_of[i])
        fname = f"{i:06d}.jpg"
        (out / split).mkdir(parents=True, exist_ok=True)
        (out / split / fname).write_bytes(jpeg)
        row = _row(kind, lighting, distance, gender, age)
        rows[split].append({"filename": fname, **row})
        meta[f"{split}/{fname}"] = {"kind": kind, "bbox": sc.bbox, "area": round(sc.area, 5),
                                    "mean_grey": round(grey, 3)}
    for split, rs in rows.items():
        cols = TRAIN_COLUMNS if split == "train" else COLUMNS
        with open(out / f"wake_vision_{split}.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
            w.writeheader()
            w.writerows(rs)
    summary = {"generator": GENERATOR, "seed": seed, "n": n, "size": size, "mix": mix,
               "distances": list(distances),
               "splits": {k: len(v) for k, v in rows.items()},
               "person": int(sum(r["person"] for rs in rows.values() for r in rs))}
    (out / "synth_wake_vision.json").write_text(json.dumps({**summary, "images": meta}, indent=1))
    return summary
