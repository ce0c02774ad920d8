"""Boards as data: one TOML file per board in `boards/`, loaded and validated here.

Code asks the `Board` for its core, memory regions, console and runner; nothing else in
tinyflow knows a board by name. A user adds a board by dropping a file into `boards/`, into a
folder passed with `--boards-dir`, or into a folder listed in `$TINYFLOW_BOARDS`
(':'-separated). The file format is described in docs/boards.md.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.errors import TinyflowError

BOARDS_DIR = Path(__file__).resolve().parent.parent / "boards"
ENV_VAR = "TINYFLOW_BOARDS"

CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16")
KINDS = ("flash", "ram", "rom")
ROLES = ("code", "const", "data", "arena", "stack", "heap")
WRITABLE_ROLES = ("data", "arena", "stack", "heap")
RUNNERS = ("qemu", "pyocd", "openocd", "uf2")


@dataclass(frozen=True)
class Region:
    name: str
    base: int
    size: int
    kind: str  # flash | ram | rom

    @property
    def end(self) -> int:
        return self.base + self.size

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "base": self.base, "size": self.size, "kind": self.kind}


@dataclass(frozen=True)
class Console:
    peripheral: str
    base: int
    irq: int
    baud: int = 115200
    clock_hz: int | None = None  # the UART's input clock, for BSPs that take it from here

    def to_dict(self) -> dict[str, Any]:
        return {"peripheral": self.peripheral, "base": self.base, "irq": self.irq,
                "baud": self.baud, "clock_hz": self.clock_hz}


@dataclass(frozen=True)
class QemuConfig:
    machine: str
    icount_shift: int = 0
    args: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "icount_shift": self.icount_shift,
                "args": list(self.args)}


@dataclass(frozen=True)
class RunnerConfig:
    default: str
    pyocd_target: str | None = None
    openocd_config: tuple[str, ...] = ()
    uf2_family: int | None = None       # build also writes firmware.uf2 (drag-and-drop)

    def to_dict(self) -> dict[str, Any]:
        return {"default": self.default, "pyocd_target": self.pyocd_target,
                "openocd_config": list(self.openocd_config), "uf2_family": self.uf2_family}


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    mcu: str
    core: str
    fpu: str
    dsp: bool
    mve: bool
    clock_hz: int
    family: str
    regions: tuple[Region, ...]
    roles: dict[str, str]          # role -> region name
    stack_bytes: int
    heap_bytes: int
    console: Console
    runner: RunnerConfig
    qemu: QemuConfig | None
    usb: tuple[int, int] | None    # (vid, pid)
    path: Path = field(compare=False)

    @property
    def is_virtual(self) -> bool:
        return self.qemu is not None

    @property
    def has_fpu(self) -> bool:
        return self.fpu != "none"

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    def region_for(self, role: str) -> Region:
        """The region holding `role`: code, const (weights), data (.data/.bss), arena,
        stack or heap."""
        if role not in ROLES:
            raise ValueError(f"unknown memory role {role!r}; expected one of {', '.join(ROLES)}")
        return self.region(self.roles[role])

    @property
    def flash_bytes(self) -> int:
        """Size of the non-volatile memory that holds code and constants."""
        names = {self.roles["code"], self.roles["const"]}
        return sum(r.size for r in self.regions if r.name in names)

    @property
    def sram_bytes(self) -> int:
        """Total RAM the firmware may use for data, arena, stack and heap."""
        return sum(r.size for r in self.regions
                   if r.kind == "ram" and r.name not in (self.roles["code"], self.roles["const"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "mcu": self.mcu,
            "core": self.core, "fpu": self.fpu, "dsp": self.dsp, "mve": self.mve,
            "clock_hz": self.clock_hz, "family": self.family, "virtual": self.is_virtual,
            "flash_bytes": self.flash_bytes, "sram_bytes": self.sram_bytes,
            "regions": [r.to_dict() for r in self.regions],
            "roles": dict(self.roles),
            "stack_bytes": self.stack_bytes, "heap_bytes": self.heap_bytes,
            "console": self.console.to_dict(),
            "runner": self.runner.to_dict(),
            "qemu": self.qemu.to_dict() if self.qemu else None,
            "usb": {"vid": self.usb[0], "pid": self.usb[1]} if self.usb else None,
            "path": str(self.path),
        }


# --------------------------------------------------------------------------- loading

def board_dirs(extra_dirs: list[str | Path] | None = None) -> list[Path]:
    """Folders searched for board files, highest priority first: --boards-dir, then
    $TINYFLOW_BOARDS, then the shipped boards/."""
    dirs = [Path(d) for d in (extra_dirs or [])]
    env = os.environ.get(ENV_VAR, "")
    dirs += [Path(d) for d in env.split(os.pathsep) if d]
    for d in dirs:
        if not d.is_dir():
            raise TinyflowError(f"boards folder {d} does not exist",
                                hint=f"check --boards-dir and ${ENV_VAR}")
    return dirs + [BOARDS_DIR]


def _board_files(extra_dirs: list[str | Path] | None) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for d in reversed(board_dirs(extra_dirs)):  # later (higher priority) folders win
        for p in sorted(d.glob("*.toml")):
            files[p.stem] = p
    return files


def list_boards(extra_dirs: list[str | Path] | None = None) -> list[Board]:
    """Every board file found, loaded and validated, sorted by name."""
    return [load_board(p) for _, p in sorted(_board_files(extra_dirs).items())]


def board_names(extra_dirs: list[str | Path] | None = None) -> list[str]:
    return sorted(_board_files(extra_dirs))


def get_board(name: str | Board, extra_dirs: list[str | Path] | None = None) -> Board:
    """The board called `name` (a board file's stem), or a board file path."""
    if isinstance(name, Board):
        return name
    if name.endswith(".toml") and Path(name).is_file():
        return load_board(Path(name))
    files = _board_files(extra_dirs)
    if name in files:
        return load_board(files[name])
    close = difflib.get_close_matches(name, list(files), n=3, cutoff=0.5)
    msg = f"unknown board {name!r}"
    if close:
        msg += f"; did you mean {' or '.join(repr(c) for c in close)}?"
    raise TinyflowError(msg, hint=f"known boards: {', '.join(sorted(files))} "
                                  "(add your own with --boards-dir or $TINYFLOW_BOARDS)")


class _Fields:
    """Typed access to one table of a board file; every error names the file and field."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str = ""):
        self.path, self.table, self.prefix = path, table, prefix
        self.used: set[str] = set()

    def error(self, key: str, what: str) -> TinyflowError:
        return TinyflowError(f"{self.path}: field '{self.prefix}{key}': {what}",
                             hint="see docs/boards.md for the board file format")

    def get(self, key: str, typ: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.error(key, "missing")
            return default
        v = self.table[key]
        # bool is an int in Python; do not let `true` pass as a size, nor 1 as a flag
        if (isinstance(v, bool) and typ is not bool) or (typ is bool and not isinstance(v, bool)) \
                or not isinstance(v, typ):
            want = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise self.error(key, f"expected {want}, got {type(v).__name__} {v!r}")
        return v

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        v = self.get(key, str, default)
        if v not in choices:
            raise self.error(key, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def positive(self, key: str, default: Any = ..., zero_ok: bool = False) -> int:
        v = self.get(key, int, default)
        if v < 0 or (v == 0 and not zero_ok):
            raise self.error(key, f"must be {'>= 0' if zero_ok else '> 0'}, got {v}")
        return v

    def sub(self, key: str, required: bool = True) -> _Fields | None:
        self.used.add(key)
        if key not in self.table:
            if required:
                raise self.error(key, "missing table")
            return None
        v = self.table[key]
        if not isinstance(v, dict):
            raise self.error(key, f"expected a table, got {type(v).__name__}")
        return _Fields(self.path, v, f"{self.prefix}{key}.")

    def check_unknown(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.error(extra[0], "unknown field (typo?)")


def load_board(path: Path) -> Board:
    """Load and validate one board file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise TinyflowError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise TinyflowError(f"{path}: cannot read: {e.strerror}") from None
    f = _Fields(path, data)

    name = f.get("name", str, path.stem)
    if name != path.stem:
        raise f.error("name", f"{name!r} must match the file name {path.stem!r}")
    core = f.choice("core", CORES)
    fpu = f.choice("fpu", FPUS)
    if core == "cortex-m0plus" and fpu != "none":
        raise f.error("fpu", "a Cortex-M0+ has no FPU")
    mve = f.get("mve", bool, False)
    if mve and core != "cortex-m55":
        raise f.error("mve", "MVE (Helium) exists only on Cortex-M55 here")

    regions: list[Region] = []
    raw_regions = f.get("regions", list)
    for i, r in enumerate(raw_regions):
        if not isinstance(r, dict):
            raise f.error(f"regions[{i}]", "expected a table ([[regions]])")
        rf = _Fields(path, r, f"regions[{i}].")
        reg = Region(rf.get("name", str), rf.positive("base", zero_ok=True),
                     rf.positive("size"), rf.choice("kind", KINDS))
        rf.check_unknown()
        if any(o.name == reg.name for o in regions):
            raise rf.error("name", f"duplicate region name {reg.name!r}")
        for o in regions:
            if reg.base < o.end and o.base < reg.end:
                raise rf.error("base", f"region {reg.name!r} overlaps region {o.name!r}")
        regions.append(reg)
    if not regions:
        raise f.error("regions", "at least one region is needed")
    by_name = {r.name: r for r in regions}

    m = f.sub("memory")
    roles: dict[str, str] = {}
    for role in ROLES:
        default = m.table.get("stack", ...) if role in ("data", "heap") else ...
        rn = m.get(role, str, default)
        if rn not in by_name:
            raise m.error(role, f"names region {rn!r}, which is not defined "
                                f"(regions: {', '.join(by_name)})")
        if role in WRITABLE_ROLES and by_name[rn].kind != "ram":
            raise m.error(role, f"region {rn!r} is {by_name[rn].kind}; {role} needs ram")
        roles[role] = rn
    stack_bytes = m.positive("stack_bytes", 8192)
    heap_bytes = m.positive("heap_bytes", 0, zero_ok=True)
    m.check_unknown()

    c = f.sub("console")
    console = Console(c.get("peripheral", str), c.positive("base"),
                      c.positive("irq", zero_ok=True), c.positive("baud", 115200),
                      c.positive("clock_hz") if "clock_hz" in c.table else None)
    c.check_unknown()

    q = f.sub("qemu", required=False)
    qemu = None
    if q is not None:
        args = q.get("args", list, [])
        if not all(isinstance(a, str) for a in args):
            raise q.error("args", "expected a list of strings")
        qemu = QemuConfig(q.get("machine", str), q.positive("icount_shift", 0, zero_ok=True),
                          tuple(args))
        q.check_unknown()

    rr = f.sub("runner")
    default_runner = rr.choice("default", RUNNERS)
    ocd = rr.get("openocd_config", list, [])
    if not all(isinstance(a, str) for a in ocd):
        raise rr.error("openocd_config", "expected a list of strings")
    runner = RunnerConfig(default_runner, rr.get("pyocd_target", str, None), tuple(ocd),
                          rr.get("uf2_family", int, None))
    rr.check_unknown()
    if (default_runner == "qemu") != (qemu is not None):
        raise rr.error("default", "a board has a [qemu] table exactly when its runner is qemu")
    if default_runner == "pyocd" and not runner.pyocd_target:
        raise rr.error("pyocd_target", "missing (the default runner is pyocd)")
    if default_runner == "openocd" and not runner.openocd_config:
        raise rr.error("openocd_config", "missing (the default runner is openocd)")
    if default_runner == "uf2" and runner.uf2_family is None:
        raise rr.error("uf2_family", "missing (the default runner is uf2)")

    u = f.sub("usb", required=False)
    usb = None
    if u is not None:
        usb = (u.positive("vid"), u.positive("pid"))
        u.check_unknown()

    board = Board(
        name=name, description=f.get("description", str, name), mcu=f.get("mcu", str),
        core=core, fpu=fpu, dsp=f.get("dsp", bool, False), mve=mve,
        clock_hz=f.positive("clock_hz"), family=f.get("family", str),
        regions=tuple(regions), roles=roles, stack_bytes=stack_bytes, heap_bytes=heap_bytes,
        console=console, runner=runner, qemu=qemu, usb=usb, path=path,
    )
    f.check_unknown()
    return board
