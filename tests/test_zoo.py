"""Zoo registry, option validation, and the built models' shapes and sizes."""

import pytest

from tinyflow import zoo
from tinyflow.cli import main
from tinyflow.errors import TinyflowError


def test_resolve_defaults_and_options():
    s = zoo.resolve("person_det")
    assert s.options == {"width": 0.25, "resolution": 96, "channels": 1, "dropout": 0.1}
    assert s.config_name == "w0.25-r96-c1"
    s = zoo.resolve("person_det", width="0.5", resolution="64", channels=3)
    assert s.options["width"] == 0.5 and s.options["resolution"] == 64
    assert s.input_spec.shape == (64, 64, 3)
    assert zoo.resolve("ser").input_spec.shape == (249, 26, 1)


@pytest.mark.parametrize("name, opts, msg", [
    ("person_det", {"width": 2}, "outside"),
    ("person_det", {"channels": 2}, "one of 1, 3"),
    ("person_det", {"resolution": "big"}, "not a int"),
    ("person_det", {"resolution": 96.5}, "must be an integer"),
    ("person_det", {"seconds": 1}, "valid options: width, resolution, channels, dropout"),
    ("ser", {"width": 0.5}, "valid options: seconds, filters, layers, pool_after"),
    ("nope", {}, "the zoo has: person_det, ser"),
])
def test_bad_names_and_options(name, opts, msg):
    with pytest.raises(TinyflowError, match=msg):
        zoo.resolve(name, **opts)


def test_resolve_paths(tmp_path):
    p = tmp_path / "m.tflite"
    p.write_bytes(b"x")
    f = zoo.resolve(str(p))
    assert isinstance(f, zoo.ModelFile) and f.kind == "tflite"
    with pytest.raises(TinyflowError, match="does not exist"):
        zoo.resolve(str(tmp_path / "missing.keras"))
    with pytest.raises(TinyflowError, match="apply to zoo models"):
        zoo.resolve(str(p), width=0.5)


def test_person_det_head_scales_with_width():
    m = zoo.resolve("person_det", width=0.25, resolution=32).build()
    assert m.get_layer("head_conv").filters == 320   # keras.applications keeps 1280
    assert m.output_shape == (None, 2)
    bns = [layer for layer in m.layers if layer.__class__.__name__ == "BatchNormalization"]
    assert bns and all(b.momentum == 0.9 for b in bns)


def test_ser_param_count_within_wav2small_budget():
    m = zoo.resolve("ser").build()
    assert m.output_shape == (None, 3)
    assert m.count_params() == 10988 <= 72_000
    assert m.get_layer("adv").input.shape[-1] == 2 * 13 * 13  # pooled + Gram, as Wav2Small


def test_models_cli(capsys):
    assert main(["models", "--no-params"]) == 0
    out = capsys.readouterr().out
    assert "person_det" in out and "ser" in out and "96x96x1" in out
    assert main(["models", "ser", "--width", "0.5"]) == 2
    assert "valid options" in capsys.readouterr().err


def test_ser_pool_position_is_an_option():
    s = zoo.resolve("ser", pool_after=1)
    assert s.config_name == "s1-f13-l7-p1" and zoo.resolve("ser").config_name == "s1-f13-l7"
    m = s.build()
    assert m.count_params() == 10988
    assert m.get_layer("conv1").input.shape[1] == 125  # pooled after the first conv
