"""The DSP depthwise kernel's unrolled assembly is what scripts/gen_dw_asm.py generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_depthwise_assembly_matches_its_generator():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_dw_asm.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
