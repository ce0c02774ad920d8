"""Boards as data: every shipped board loads; bad files and names give clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyflow.boards import BOARDS_DIR, ROLES, get_board, list_boards, load_board
from tinyflow.errors import TinyflowError

SHIPPED = ["arduino-nano-33-ble", "nucleo-f746zg", "nucleo-h7", "nucleo-l4r5zi",
           "nucleo-u575zi", "qemu-m4", "qemu-m55", "qemu-m7", "rpi-pico"]

GOOD = """
name = "myboard"
mcu = "X"
core = "cortex-m4"
fpu = "fpv4-sp-d16"
clock_hz = 1000
family = "arm-mps"
[memory]
code = "flash"
const = "flash"
arena = "ram"
stack = "ram"
[[regions]]
name = "flash"
base = 0
size = 0x1000
kind = "flash"
[[regions]]
name = "ram"
base = 0x20000000
size = 0x1000
kind = "ram"
[console]
peripheral = "UART0"
base = 0x40004000
irq = 0
[runner]
default = "openocd"
openocd_config = ["target/x.cfg"]
"""


def write(tmp_path: Path, text: str, name: str = "myboard") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def test_every_shipped_board_loads():
    boards = {b.name: b for b in list_boards()}
    assert sorted(boards) == SHIPPED
    for b in boards.values():
        for role in ROLES:
            r = b.region_for(role)
            assert r.size > 0
        assert b.flash_bytes > 0 and b.sram_bytes > 0
        assert b.is_virtual == b.name.startswith("qemu-")
        json.dumps(b.to_dict())


def test_board_facts():
    h7 = get_board("nucleo-h7")
    assert (h7.core, h7.fpu, h7.clock_hz, h7.family) == ("cortex-m7", "fpv5-d16", 480_000_000,
                                                         "stm32h7")
    assert h7.region_for("code").base == 0x08000000 and h7.region_for("code").size == 2 << 20
    assert h7.region_for("arena").name == "axisram"
    assert h7.runner.pyocd_target == "stm32h743xx"
    m55 = get_board("qemu-m55")
    assert m55.mve and m55.qemu.machine == "mps3-an547" and m55.console.base == 0x49303000
    assert get_board("rpi-pico").fpu == "none"


def test_good_minimal_file(tmp_path):
    b = load_board(write(tmp_path, GOOD))
    assert b.region_for("data").name == "ram"  # data and heap default to the stack's region
    assert b.region_for("heap").name == "ram"
    assert b.console.baud == 115200 and not b.is_virtual
    assert b.console.clock_hz is None


def test_one_bsp_serves_all_three_virtual_boards():
    """The virtual boards differ in data only: one family, the UART's clock from the file."""
    from tinyflow.build import board_defines

    for name in ("qemu-m4", "qemu-m7", "qemu-m55"):
        b = get_board(name)
        assert b.family == "arm-mps" and b.console.clock_hz == 25_000_000
        assert "TF_CONSOLE_CLOCK_HZ=25000000u" in board_defines(b)
    assert not any(d.startswith("TF_CONSOLE_CLOCK_HZ") for d in
                   board_defines(get_board("nucleo-h7")))


@pytest.mark.parametrize("old,new,field", [
    ('core = "cortex-m4"', 'core = "cortex-m5"', "core"),
    ("clock_hz = 1000", "clock_hz = -1", "clock_hz"),
    ("clock_hz = 1000", 'clock_hz = "fast"', "clock_hz"),
    ('arena = "ram"', 'arena = "sram"', "memory.arena"),
    ('arena = "ram"', 'arena = "flash"', "memory.arena"),
    ('kind = "ram"', 'kind = "dram"', "regions[1].kind"),
    ("base = 0x20000000", "base = 0x800", "regions[1].base"),
    ('mcu = "X"', 'mcu = "X"\nmcuu = 1', "mcuu"),
    ('name = "myboard"', 'name = "other"', "name"),
    ('[console]\nperipheral = "UART0"\n', '[console]\n', "console.peripheral"),
    ('openocd_config = ["target/x.cfg"]', '', "runner.openocd_config"),
    ('default = "openocd"', 'default = "jlink"', "runner.default"),
    ('fpu = "fpv4-sp-d16"', "fpu = true", "fpu"),
    ("irq = 0", "irq = 0\nclock_hz = 0", "console.clock_hz"),
])
def test_malformed_file_names_file_and_field(tmp_path, old, new, field):
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TinyflowError) as e:
        load_board(p)
    msg = str(e.value)
    assert str(p) in msg and f"field '{field}'" in msg, msg


def test_invalid_toml(tmp_path):
    p = write(tmp_path, "name = [")
    with pytest.raises(TinyflowError, match="not valid TOML"):
        load_board(p)


def test_unknown_board_lists_close_matches():
    with pytest.raises(TinyflowError) as e:
        get_board("nucleo-h743")
    assert "did you mean 'nucleo-h7'" in str(e.value)
    for name in SHIPPED:
        assert name in e.value.hint


def test_user_folder_and_env(tmp_path, monkeypatch):
    write(tmp_path, GOOD)
    assert get_board("myboard", [tmp_path]).mcu == "X"
    with pytest.raises(TinyflowError):
        get_board("myboard")
    monkeypatch.setenv("TINYFLOW_BOARDS", str(tmp_path))
    assert "myboard" in [b.name for b in list_boards()]
    # a user file with a shipped name overrides the shipped board
    write(tmp_path, GOOD.replace("myboard", "qemu-m4"), "qemu-m4")
    assert get_board("qemu-m4").mcu == "X"
    monkeypatch.setenv("TINYFLOW_BOARDS", str(tmp_path / "nope"))
    with pytest.raises(TinyflowError, match="does not exist"):
        list_boards()


def test_cli_boards_json_and_error():
    py = [sys.executable, "-m", "tinyflow.cli"]
    out = subprocess.run(py + ["boards", "--json"], check=False, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert sorted(b["name"] for b in data) == SHIPPED
    assert all(b["regions"] for b in data)
    bad = subprocess.run(py + ["boards", "qemu-m9"], check=False, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "unknown board 'qemu-m9'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_shipped_dir_is_repo_boards():
    assert BOARDS_DIR.name == "boards" and (BOARDS_DIR / "nucleo-h7.toml").is_file()
