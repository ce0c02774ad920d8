"""`tinyflow invoke`: single and stacked inputs, float input, both engines, --compare and
--layers, JSON, and the error for a wrong input shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers_tflite import cached_tflite

from tinyflow.cli import main

pytestmark = pytest.mark.xdist_group("tf")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    def build() -> bytes:
        import sys

        sys.path.insert(0, str(Path(__file__).parent))
        from foundation_models import small_cnn

        return small_cnn()[1]

    p = tmp_path_factory.mktemp("inv") / "cnn.tflite"
    p.write_bytes(cached_tflite("foundation small_cnn v1", build))
    return p


def _x(shape, n=None, seed=0):
    rng = np.random.default_rng(seed)
    full = shape if n is None else (n, *shape)
    return rng.integers(-128, 128, full).astype(np.int8)


def test_single_input_writes_output(model_path, tmp_path, capsys):
    np.save(tmp_path / "x.npy", _x((1, 24, 24, 3)))
    assert main(["invoke", "-m", str(model_path), "-i", str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (1, 2) and y.dtype == np.int8
    assert "wrote" in capsys.readouterr().out


def test_stacked_inputs_match_tflm_and_stack_outputs(model_path, tmp_path):
    np.save(tmp_path / "x.npy", _x((1, 24, 24, 3), n=5))
    for eng in ("tinyflow", "tflm"):
        assert main(["invoke", "-m", str(model_path), "-i", str(tmp_path / "x.npy"),
                     "--engine", eng, "-o", str(tmp_path / f"{eng}.npy")]) == 0
    a, b = np.load(tmp_path / "tinyflow.npy"), np.load(tmp_path / "tflm.npy")
    assert a.shape == (5, 1, 2)
    assert np.array_equal(a, b)


def test_compare_with_layers_json(model_path, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.default_rng(1).uniform(-1, 1, (3, 24, 24, 3))
            .astype(np.float32))  # float input: quantized with the model's input parameters
    assert main(["invoke", "-m", str(model_path), "-i", str(tmp_path / "x.npy"), "--compare",
                 "--layers", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["compare"]["differing_bytes"] == 0 and rep["inputs"] == 3
    assert rep["layers"]["first_differing"] is None
    assert len(rep["layers"]["per_layer"]) == 10
    assert set(rep["inferences_per_s"]) == {"tinyflow", "tflm"}


def test_compare_text_report(model_path, tmp_path, capsys):
    np.save(tmp_path / "x.npy", _x((24, 24, 3), n=2))
    assert main(["invoke", "-m", str(model_path), "-i", str(tmp_path / "x.npy"),
                 "--compare"]) == 0
    out = capsys.readouterr().out
    assert "PASS: bit-exact" in out and "inferences/s" in out


def test_wrong_shape_is_a_clear_error(model_path, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((7, 7), np.int8))
    assert main(["invoke", "-m", str(model_path), "-i", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "shape [7, 7] is neither the input shape [1, 24, 24, 3] nor a stack" in err
    assert "hint:" in err


def test_two_inputs_two_outputs_npz(tmp_path, capsys):
    """One --input per model input; several outputs go to an .npz."""
    from kernel_cases import build
    from test_kernels_shape import SPECS, make_shape_case

    from tinyflow.ir import parse_model

    data = build("shape", SPECS["pad"], make_shape_case)
    model_path = tmp_path / "two.tflite"
    model_path.write_bytes(data)
    model = parse_model(data)
    args = ["invoke", "-m", str(model_path)]
    for k, ti in enumerate(model.inputs):
        np.save(tmp_path / f"x{k}.npy", _x(model.tensors[ti].shape, n=3, seed=k))
        args += ["-i", str(tmp_path / f"x{k}.npy")]
    assert main([*args, "-o", str(tmp_path / "y.npz"), "--compare"]) == 0
    ys = np.load(tmp_path / "y.npz")
    assert sorted(ys.files) == ["output0", "output1"]
    assert all(ys[f].shape[0] == 3 for f in ys.files)
    assert main(args[:5]) == 2  # one input file for a two-input model
    assert "pass --input once per model input" in capsys.readouterr().err
