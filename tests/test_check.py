"""`tinyflow check` and `tinyflow inspect` through the real CLI entry point."""

import json

from tinyflow.boards import get_board
from tinyflow.budget import check_budget, constant_bytes
from tinyflow.cli import main
from tinyflow.ir import load_model


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_small_model_passes_on_nucleo_h7_with_tflm_arena(capsys, small_cnn_model):
    _, path = small_cnn_model
    code, out, _ = run_cli(capsys, "check", "--board", "nucleo-h7", "--model", str(path))
    assert code == 0, out
    assert "PASS" in out and "tflite-micro:" in out
    code, out, _ = run_cli(capsys, "check", "-b", "nucleo-h7", "-m", str(path), "--json")
    d = json.loads(out)
    assert d["verdict"] == "PASS"
    assert d["tflm_arena"]["total"] > d["tflm_arena"]["head"] > 0
    regions = {r["name"]: r for r in d["regions"]}
    assert regions["axisram"]["used"] == d["arena_bytes"]  # nucleo-h7 puts the arena there
    assert regions["flash"]["used"] >= constant_bytes(load_model(path))


def test_big_model_fails_on_small_board_with_consumers(capsys, big_model):
    _, path = big_model
    code, out, _ = run_cli(capsys, "check", "-b", "arduino-nano-33-ble", "-m", str(path),
                           "--no-tflm")
    assert code == 1
    assert "FAIL" in out and "OVER" in out
    assert "biggest consumers" in out and "live at the peak" in out
    assert "suggestion:" in out and "resolution" in out
    code, out, _ = run_cli(capsys, "check", "-b", "arduino-nano-33-ble", "-m", str(path),
                           "--no-tflm", "--json")
    d = json.loads(out)
    assert d["verdict"] == "FAIL"
    over = [r for r in d["regions"] if not r["ok"]]
    assert over and over[0]["used"] > over[0]["size"]
    top = d["biggest_consumers"]["live_at_peak"][0]
    assert top["bytes"] == 160 * 160 * 32


def test_budget_lines_sum_per_region(small_cnn_model):
    m = load_model(small_cnn_model[1])
    for name in ("nucleo-h7", "qemu-m7", "rpi-pico", "nucleo-l4r5zi"):
        b = check_budget(m, get_board(name))
        for r in b.regions:
            assert r.used == sum(ln.bytes for ln in r.lines)
            assert r.size == get_board(name).region(r.name).size
        assert b.ok


def test_unknown_board_and_model_are_clear_errors(capsys, small_cnn_model, tmp_path):
    code, _, err = run_cli(capsys, "check", "-b", "nucleo-h8", "-m", str(small_cnn_model[1]))
    assert code == 2 and "did you mean 'nucleo-h7'" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "check", "-b", "nucleo-h7", "-m", str(tmp_path / "x.tflite"))
    assert code == 2 and "not found" in err
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(small_cnn_model[1].read_bytes()[:500])
    code, _, err = run_cli(capsys, "inspect", str(bad))
    assert code == 2 and "corrupt or truncated" in err


def test_inspect_reports_ops_macs_and_totals(capsys, small_cnn_model):
    keras_model, path = small_cnn_model
    from foundation_models import keras_macs

    code, out, _ = run_cli(capsys, "inspect", str(path), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["totals"]["macs"] == keras_macs(keras_model)
    assert [o["op"] for o in d["operators"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    assert d["operators"][0]["macs"] == 12 * 12 * 8 * 3 * 3 * 3
    code, out, _ = run_cli(capsys, "inspect", str(path))
    assert "DEPTHWISE_CONV_2D" in out and "MACs" in out and "planned arena" in out


def test_log_mel_model_budget_includes_the_audio_front_end(capsys, small_cnn_model, tmp_path):
    """A model whose training run records log-mel features is deployed with the on-device
    front end: its code, tables and buffers appear in the budget."""
    from tinyflow.features import LogMelParams

    run = tmp_path / "run"
    run.mkdir()
    (run / "model_int8.tflite").write_bytes(small_cnn_model[1].read_bytes())
    (run / "config.json").write_text(json.dumps({"model": {"name": "tiny_ser"},
                                                 "features": LogMelParams().to_dict()}))
    code, out, _ = run_cli(capsys, "check", "-b", "nucleo-l4r5zi", "-m",
                           str(run / "model_int8.tflite"), "--no-tflm", "--json")
    assert code == 0
    d = json.loads(out)
    fe = [ln for ln in d["lines"] if "audio" in ln["what"]]
    assert len(fe) == 4 and all(ln["bytes"] > 0 for ln in fe)
    assert d["model"] == "tiny_ser"
    plain = check_budget(load_model(small_cnn_model[1]), get_board("nucleo-l4r5zi"))
    assert d["ram_bytes"] > plain.ram_bytes


def test_toolchain_free_code_estimate_bounds_the_linked_kernels(small_cnn_model, tmp_path):
    """Without an Arm compiler `check` estimates the engine's code per kernel set (DSP,
    Helium, portable). Each estimate must cover what the real compiler links for the same
    model on that core, without inflating it past recognition."""
    from tinyflow.budget import code_estimate, kernel_functions, kernel_set
    from tinyflow.memreport import kernel_sizes

    m = load_model(small_cnn_model[1])
    sets = {}
    for name in ("qemu-m4", "qemu-m55", "rpi-pico"):
        board = get_board(name)
        est = code_estimate(m, board)
        est.pop("invoke")
        linked = kernel_sizes(board, kernel_functions(m), tmp_path)
        linked = linked["code"] + linked["data"]
        assert linked <= sum(est.values()) <= 1.5 * linked, (name, est, linked)
        sets[kernel_set(board)] = sum(est.values())
    assert sets["portable"] < sets["mve"] < sets["dsp"]
