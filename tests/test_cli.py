"""The CLI shape: fast start, consistent errors."""

import subprocess
import sys


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from tinyflow.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('tensorflow', 'keras', 'numpy', 'tflite_micro', 'serial', "
            "'jinja2', 'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "tinyflow.cli", "--help"], capture_output=True,
                         text=True, check=True)
    for cmd in ("boards", "inspect", "check"):
        assert cmd in out.stdout


def test_errors_have_no_traceback_unless_debug(tmp_path):
    bad = tmp_path / "m.tflite"
    bad.write_bytes(b"garbage")
    r = subprocess.run([sys.executable, "-m", "tinyflow.cli", "inspect", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "tinyflow.cli", "--debug", "inspect", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr
