"""Synthetic generators (attributes hold by construction), loaders and bad-input errors."""

import csv
import json
import wave

import numpy as np
import pytest

from tinyflow.cli import main
from tinyflow.datasets import ser_manifest, synth_ser, synth_wake_vision, wake_vision
from tinyflow.errors import TinyflowError
from tinyflow.features import LogMel, LogMelParams, mel_filterbank


@pytest.fixture(scope="module")
def wv_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("wv")
    synth_wake_vision.generate(d, n=120, seed=3, size=64,
                               splits={"train": 0.5, "validation": 0.25, "test": 0.25})
    return d


@pytest.fixture(scope="module")
def ser_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ser")
    synth_ser.generate(d, n=12, seed=3)
    return d


def _grey(path):
    from PIL import Image

    return float(np.asarray(Image.open(path).convert("L"), np.float32).mean())


def test_wake_vision_layout_and_attributes(wv_dir):
    wv = wake_vision.WakeVision(wv_dir)
    assert wv.available_splits() == ["train", "validation", "test"]
    with open(wv_dir / "wake_vision_train.csv") as f:
        assert next(csv.reader(f)) == wake_vision.TRAIN_COLUMNS
    with open(wv_dir / "wake_vision_test.csv") as f:
        assert next(csv.reader(f)) == wake_vision.COLUMNS
    meta = json.loads((wv_dir / "synth_wake_vision.json").read_text())["images"]
    seen = set()
    for split in ("validation", "test"):
        s = wv.split(split)
        for i, p in enumerate(s.paths):
            a = {c: int(v[i]) for c, v in s.attributes.items()}
            g = _grey(p)  # measured on the decoded JPEG, as Wake Vision defines it
            lighting = (a["dark"], a["normal_lighting"], a["bright"])
            assert lighting == (g < 85, 85 <= g < 170, g >= 170)
            m = meta[f"{split}/{p.name}"]
            if s.labels[i] == 1:
                assert a["depiction"] == 0
                assert a["near"] + a["medium_distance"] + a["far"] == 1
                assert sum(a[c] for c in ("predominantly_female", "predominantly_male",
                                          "gender_unknown")) == 1
                assert sum(a[c] for c in ("young", "middle_age", "older", "age_unknown")) == 1
                area = m["area"]
                if a["far"]:
                    assert 0.05 <= area < 0.1
                elif a["medium_distance"]:
                    assert 0.1 <= area < 0.6
                else:
                    assert area >= 0.6
            else:
                assert a["near"] + a["medium_distance"] + a["far"] == 0
                assert a["person_depiction"] + a["non-person_depiction"] + \
                    a["non-person_non-depiction"] == 1
                assert a["depiction"] == a["person_depiction"] + a["non-person_depiction"]
            seen.update(c for c, v in a.items() if v == 1)
    # Every fine-grained subset is populated even in this small set.
    assert {"dark", "normal_lighting", "bright", "near", "medium_distance", "far",
            "person_depiction", "non-person_depiction"} <= seen


def test_wake_vision_lighting_is_independent_of_label(wv_dir):
    s = wake_vision.WakeVision(wv_dir).split("train")
    grey = np.array([_grey(p) for p in s.paths])
    gap = abs(grey[s.labels == 1].mean() - grey[s.labels == 0].mean())
    assert gap < 25  # brightness alone must not give the label away


def test_synth_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synth_wake_vision.generate(a, n=6, seed=7, size=32)
    synth_wake_vision.generate(b, n=6, seed=7, size=32)
    for f in sorted(a.rglob("*.jpg")):
        assert f.read_bytes() == (b / f.relative_to(a)).read_bytes()
    synth_ser.generate(a / "s", n=3, seed=7)
    synth_ser.generate(b / "s", n=3, seed=7)
    assert (a / "s/manifest.csv").read_text() == (b / "s/manifest.csv").read_text()
    assert (a / "s/wav/000001.wav").read_bytes() == (b / "s/wav/000001.wav").read_bytes()


def test_images_are_preprocessed_for_the_model(wv_dir):
    x = wake_vision.WakeVision(wv_dir).split("test").images(32, 1)
    assert x.shape[1:] == (32, 32, 1) and x.dtype == np.float32
    assert -1.0 <= x.min() and x.max() <= 1.0
    rgb = wake_vision.WakeVision(wv_dir).split("test").images(40, 3, limit=2)
    assert rgb.shape == (2, 40, 40, 3)


def test_wake_vision_bad_inputs(wv_dir, tmp_path):
    with pytest.raises(TinyflowError, match="does not exist"):
        wake_vision.WakeVision(tmp_path / "nope")
    with pytest.raises(TinyflowError, match="no CSV for split 'train'"):
        wake_vision.WakeVision(tmp_path).split("train")
    (tmp_path / "wake_vision_train.csv").write_text("filename,person\na.jpg,1\n")
    with pytest.raises(TinyflowError, match="missing column.*depiction, body_part"):
        wake_vision.WakeVision(tmp_path).split("train")
    (tmp_path / "wake_vision_train.csv").write_text(
        "filename,person,depiction,body_part\na.jpg,1,0,0\nb.jpg,2,0,0\n")
    with pytest.raises(TinyflowError, match="row 3, column person: '2'"):
        wake_vision.WakeVision(tmp_path).split("train")
    (tmp_path / "wake_vision_train.csv").write_text(
        "filename,person,depiction,body_part\na.jpg,1,0,0\n")
    with pytest.raises(TinyflowError, match="1 image.*not found, e.g. a.jpg"):
        wake_vision.WakeVision(tmp_path).split("train")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    s = wake_vision.WakeVision(tmp_path).split("train")
    with pytest.raises(TinyflowError, match="a.jpg is corrupt"):
        s.images(32)


def test_ser_manifest_and_features(ser_dir):
    m = ser_manifest.SerManifest(ser_dir)
    assert m.splits() == ["test", "train", "validation"]
    tr = m.split("train")
    assert tr.targets.shape == (len(tr), 3)
    assert ((0 <= tr.targets) & (tr.targets <= 1)).all()
    f = tr.features()
    assert f.shape == (len(tr), 249, 26, 1) and np.isfinite(f).all()
    assert f.min() >= -60.001 and f.std() > 5


def _write_wav(path, sr=16000, n=1600, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(sr)
        w.writeframes(b"\x00" * n * width)


@pytest.mark.parametrize("rows, msg", [
    ("path,arousal,dominance,valence\na.wav,0.5,1.2,0.1\n", "dominance=1.2 is outside"),
    ("path,arousal,dominance,valence\na.wav,0.5,x,0.1\n", "not a number"),
    ("path,arousal,valence\na.wav,0.5,0.1\n", "missing column.*dominance"),
    ("path,arousal,dominance,valence\nmissing.wav,0.5,0.5,0.1\n", "not found, e.g. missing.wav"),
    ("path,arousal,dominance,valence\n", "has no rows"),
])
def test_ser_manifest_bad_inputs(tmp_path, rows, msg):
    _write_wav(tmp_path / "a.wav")
    (tmp_path / "manifest.csv").write_text(rows)
    with pytest.raises(TinyflowError, match=msg):
        ser_manifest.SerManifest(tmp_path / "manifest.csv")


def test_bad_audio_files(tmp_path):
    (tmp_path / "c.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(TinyflowError, match="corrupt or not a PCM WAV"):
        ser_manifest.load_wav(tmp_path / "c.wav")
    _write_wav(tmp_path / "r.wav", sr=8000)
    with pytest.raises(TinyflowError, match="8000 Hz.*needs 16000"):
        ser_manifest.load_wav(tmp_path / "r.wav")
    _write_wav(tmp_path / "e.wav", n=0)
    with pytest.raises(TinyflowError, match="no samples"):
        ser_manifest.load_wav(tmp_path / "e.wav")
    with pytest.raises(TinyflowError, match="does not exist"):
        ser_manifest.load_wav(tmp_path / "none.wav")


def test_manifest_without_split_column_is_split_by_hash(tmp_path):
    rows = ["path,arousal,dominance,valence"]
    for i in range(40):
        _write_wav(tmp_path / f"{i}.wav")
        rows.append(f"{i}.wav,0.5,0.5,0.5")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    m = ser_manifest.SerManifest(tmp_path)
    assert set(m.splits()) == {"train", "validation", "test"}
    assert len(m.split("train")) > len(m.split("test"))


def test_logmel_definition():
    p = LogMelParams()
    assert p.shape == (249, 26) and p.n_bins == 65
    fb = mel_filterbank(p)
    assert (fb.matrix.max(axis=0) > 0).all()  # no empty (constant) band
    assert fb.matrix.max() <= 1.0
    sparse = fb.sparse()
    assert sum(len(w) for _, w in sparse) < fb.matrix.size / 4  # sparse enough for C tables
    fe = LogMel(p)
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 1000 * t)
    f = fe(tone)
    assert np.isfinite(f).all()
    peak_band = int(np.argmax(f.mean(axis=0)))
    centre = fb.matrix[:, peak_band].argmax() * 16000 / 128
    assert abs(centre - 1000) < 250
    # Scale invariance from the per-clip normalisation; silence stays finite.
    np.testing.assert_allclose(fe(0.2 * tone), f, atol=0.05)
    np.testing.assert_allclose(fe(np.zeros(100)), 10 * np.log10(p.floor), atol=1e-4)
    with pytest.raises(ValueError, match="power of two"):
        LogMelParams(n_fft=100)
    assert LogMelParams.from_dict(p.to_dict()) == p


def test_data_cli(tmp_path, capsys):
    assert main(["data", "synth", "wake-vision", "--out", str(tmp_path / "wv"), "--n", "9",
                 "--size", "32"]) == 0
    assert main(["data", "check", "wake-vision", str(tmp_path / "wv")]) == 0
    assert "train:" in capsys.readouterr().out
    assert main(["data", "synth", "ser", "--out", str(tmp_path / "ser"), "--n", "4",
                 "--seconds", "0.5"]) == 0
    assert main(["data", "check", "ser", str(tmp_path / "ser")]) == 0
    assert main(["data", "check", "ser", str(tmp_path / "wv")]) == 2
    assert "no manifest.csv" in capsys.readouterr().err
    assert main(["data", "synth", "ser", "--out", str(tmp_path / "x"), "--n", "1"]) == 2


def test_published_training_csv_name_is_found(tmp_path):
    (tmp_path / "wake_vision_train_quality.csv").write_text(
        "filename,person,depiction,body_part\na.jpg,1,0,0\n")
    (tmp_path / "train_quality").mkdir()
    from PIL import Image

    Image.new("RGB", (20, 10), (90, 90, 90)).save(tmp_path / "train_quality" / "a.jpg")
    s = wake_vision.WakeVision(tmp_path).split("train")
    assert s.paths[0].parent.name == "train_quality"
    assert s.images(8).shape == (1, 8, 8, 1)  # non-square: centre-cropped
