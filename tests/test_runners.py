"""Runners: the registry, the command lines they would run, and their errors. Flashing a
real board needs a probe, so these check the argv (as Zephyr's runner tests do) and the
messages a user sees without one."""

from __future__ import annotations

import pytest

from tinyflow.boards import get_board
from tinyflow.errors import TinyflowError
from tinyflow.runners import RUNNERS, OpenOcdRunner, PyOcdRunner, QemuRunner, get_runner


def test_registry_and_defaults():
    assert set(RUNNERS) == {"qemu", "pyocd", "openocd", "uf2"}
    assert isinstance(get_runner(get_board("qemu-m7")), QemuRunner)
    assert isinstance(get_runner(get_board("nucleo-h7")), PyOcdRunner)
    assert isinstance(get_runner(get_board("nucleo-l4r5zi")), OpenOcdRunner)
    assert isinstance(get_runner(get_board("nucleo-h7"), "openocd"), OpenOcdRunner)
    with pytest.raises(TinyflowError, match="unknown runner 'jlink'"):
        get_runner(get_board("nucleo-h7"), "jlink")
    with pytest.raises(TinyflowError, match="cannot drive board 'qemu-m4'"):
        get_runner(get_board("qemu-m4"), "pyocd")


@pytest.mark.parametrize("board,argv", [
    ("nucleo-h7", ["pyocd", "load", "--target", "stm32h743xx", "--format", "elf", "fw.elf"]),
    ("arduino-nano-33-ble", ["pyocd", "load", "--target", "nrf52840", "--format", "elf",
                             "fw.elf"]),
])
def test_pyocd_command(board, argv):
    assert PyOcdRunner(get_board(board)).command("fw.elf") == argv


@pytest.mark.parametrize("board,cfgs", [
    ("nucleo-h7", ["board/st_nucleo_h743zi.cfg"]),
    ("nucleo-l4r5zi", ["interface/stlink.cfg", "target/stm32l4x.cfg"]),
    ("rpi-pico", ["interface/cmsis-dap.cfg", "target/rp2040.cfg"]),
])
def test_openocd_command(board, cfgs):
    argv = OpenOcdRunner(get_board(board)).command("fw.elf")
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "-f"]
    assert argv[0] == "openocd" and files == cfgs
    assert argv[-2:] == ["-c", "program fw.elf verify reset exit"]


def test_qemu_command():
    b = get_board("qemu-m55")
    argv = QemuRunner(b).command("fw.elf")
    assert argv[:5] == ["qemu-system-arm", "-M", "mps3-an547", "-kernel", "fw.elf"]
    assert "shift=0,sleep=off" in argv and "-no-reboot" in argv
    assert "enable=on,target=native" in argv and argv[argv.index("-serial") + 1] == "pty"


def test_failure_hints():
    r = PyOcdRunner(get_board("nucleo-h7"))
    assert "plug in nucleo-h7" in r.failure_hint("0000 C No available debug probes are connected")
    o = OpenOcdRunner(get_board("rpi-pico"))
    assert "plug in rpi-pico" in o.failure_hint("Error: unable to open CMSIS-DAP device; "
                                                "open failed")


def test_missing_elf_for_qemu(tmp_path):
    with pytest.raises(TinyflowError, match="does not exist"):
        QemuRunner(get_board("qemu-m4")).start(tmp_path / "none.elf")


def test_uf2_runner(tmp_path, monkeypatch):
    from tinyflow.runners import Uf2Runner
    from tinyflow.runners import uf2 as uf2mod

    with pytest.raises(TinyflowError, match="no UF2 boot loader"):
        Uf2Runner(get_board("nucleo-h7")).start(tmp_path / "fw.elf")
    (tmp_path / "fw.uf2").write_bytes(b"U" * 512)
    monkeypatch.setattr(uf2mod, "MOUNT_ROOTS", (str(tmp_path / "media"),))
    r = Uf2Runner(get_board("rpi-pico"))
    with pytest.raises(TinyflowError, match="no UF2 boot loader drive"):
        r.start(tmp_path / "fw.elf")
    drive = tmp_path / "media" / "user" / "RPI-RP2"
    drive.mkdir(parents=True)
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nBoard-ID: RPI-RP2\n")
    r.start(tmp_path / "fw.elf")
    assert (drive / "fw.uf2").read_bytes() == b"U" * 512
