"""Firmware build: board file + model C sources -> ELF, BIN, HEX, map and a JSON manifest.

`build_firmware()` renders main.c, the linker script and an SConstruct into
`build/<board>/<model>/`, then runs SCons with arm-none-eabi-gcc. Rendered files are only
rewritten when their content changes, and SCons decides by content, so a second build with
nothing changed does no compiling or linking.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.boards import Board, get_board
from tinyflow.errors import TinyflowError

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
TEMPLATES = REPO / "templates"
TOOL_PREFIX = "arm-none-eabi-"
OPT_LEVELS = ("O0", "O1", "O2", "O3", "Os", "Oz")
# What main() runs: the tinyflow protocol (firmware/protocol/, docs/protocol.md) or the
# MLPerf Tiny / EEMBC text protocol (firmware/mlperf/, docs/evaluation.md).
APPS = {"tfp": "protocol", "mlperf": "mlperf"}
MLPERF_MODEL_IDS = ("vww01", "kws01", "ic01", "ad01")

# -mcpu/-mfpu/-mfloat-abi per core; the FPU string comes from the board file.
_CPU = {
    "cortex-m0plus": "cortex-m0plus",
    "cortex-m3": "cortex-m3",
    "cortex-m4": "cortex-m4",
    "cortex-m7": "cortex-m7",
    "cortex-m33": "cortex-m33",
    "cortex-m55": "cortex-m55",
}


@dataclass
class BuildResult:
    board: str
    model: str
    out_dir: Path
    elf: Path
    bin: Path
    hex: Path
    map: Path
    manifest: Path
    seconds: float
    rebuilt: bool                       # False when SCons found everything up to date
    sizes: dict[str, Any] = field(default_factory=dict)   # memreport summary
    warnings: list[str] = field(default_factory=list)     # compiler/linker warnings

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


def core_flags(board: Board) -> list[str]:
    """Compiler flags that select the board's core, FPU and extensions."""
    cpu = _CPU[board.core]
    if board.core == "cortex-m55" and not board.mve:
        cpu += "+nomve"
    if board.core == "cortex-m33" and not board.dsp:
        cpu += "+nodsp"
    flags = ["-mthumb", f"-mcpu={cpu}"]
    if board.has_fpu:
        if board.core != "cortex-m55":  # the M55's FPU/MVE come with -mcpu
            flags.append(f"-mfpu={board.fpu}")
        flags.append("-mfloat-abi=hard")
    else:
        flags.append("-mfloat-abi=soft")
    return flags


def board_defines(board: Board) -> list[str]:
    c = board.console
    defs = [
        f"TF_CLOCK_HZ={board.clock_hz}u",
        f"TF_CONSOLE_BASE=0x{c.base:08X}u",
        f"TF_CONSOLE_IRQ={c.irq}",
        f"TF_CONSOLE_BAUD={c.baud}u",
        f"TF_VIRTUAL={1 if board.is_virtual else 0}",
        f"TF_CORE_{board.core.upper().replace('-', '_')}=1",
    ]
    if c.clock_hz is not None:
        defs.append(f"TF_CONSOLE_CLOCK_HZ={c.clock_hz}u")
    if board.is_virtual and board.qemu is not None:
        # QEMU's virtual clock runs 2^shift ns per instruction: the MLPerf mode's
        # microsecond counter converts with it (the TFP host side does it in Python).
        defs.append(f"TF_ICOUNT_SHIFT={board.qemu.icount_shift}")
    return defs


def family_dir(board: Board) -> Path:
    d = FIRMWARE / "boards" / board.family
    if not d.is_dir():
        known = sorted(p.name for p in (FIRMWARE / "boards").iterdir()
                       if p.is_dir() and p.name not in ("cortex_m", "drivers"))
        raise TinyflowError(f"{board.path}: field 'family': no firmware for family "
                            f"{board.family!r} in firmware/boards/",
                            hint=f"known families: {', '.join(known)}")
    return d


def find_toolchain() -> str:
    gcc = shutil.which(TOOL_PREFIX + "gcc")
    if not gcc:
        raise TinyflowError("arm-none-eabi-gcc not found on PATH",
                            hint="install it: sudo apt-get install gcc-arm-none-eabi "
                                 "libnewlib-arm-none-eabi (or run `make setup`)")
    return gcc


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _render(name: str, **ctx: Any) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template(name).render(**ctx)


def _model_sources(model: Path | Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(C sources, include dirs) of the model: a generated folder or a list of files."""
    if isinstance(model, (str, Path)):
        p = Path(model)
        if p.is_dir():
            srcs = sorted(p.glob("*.c"))
            if not srcs:
                raise TinyflowError(f"no .c files in model folder {p}")
            return srcs, [p]
        model = [p]
    srcs = [Path(s) for s in model]
    for s in srcs:
        if not s.is_file():
            raise TinyflowError(f"model source {s} does not exist")
    return srcs, sorted({s.parent for s in srcs})


def _uses_kernels(srcs: list[Path]) -> bool:
    return any('#include "tf_' in s.read_text(errors="replace") for s in srcs)


def default_out_dir(board: Board, model_name: str) -> Path:
    return Path.cwd() / "build" / board.name / model_name


def build_firmware(board: Board | str, model: Path | Sequence[Path],
                   out_dir: Path | None = None, *, model_name: str | None = None,
                   opt: str = "O2", lto: bool = False, jobs: int = 2, verbose: bool = False,
                   kernels: bool | None = None, extra_defines: Sequence[str] = (),
                   report: bool = True, app: str = "tfp",
                   mlperf_model_id: str = "vww01",
                   mlperf_db_bytes: int | None = None) -> BuildResult:
    """Build the firmware for `board` around the model C code in `model` (a folder of
    generated sources, or a list of .c files).

    opt is one of O0 O1 O2 O3 Os Oz; lto enables -flto. Firmware kernels
    (firmware/kernels) are compiled in when the model includes them (kernels=None) or when
    asked. Raises TinyflowError with the compiler's or linker's message on failure.

    app="mlperf" builds the MLPerf Tiny / EEMBC mode instead of the tinyflow protocol:
    firmware/mlperf/ in place of firmware/protocol/, with `mlperf_model_id` ("vww01"...)
    as the id the runner keys its scripts on and a db buffer of the model input's size.
    """
    board = get_board(board)
    if app not in APPS:
        raise TinyflowError(f"unknown firmware app {app!r}", hint=f"use one of {', '.join(APPS)}")
    if app == "mlperf" and not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", mlperf_model_id):
        raise TinyflowError(f"MLPerf model id {mlperf_model_id!r}: letters, digits, '_.-' only",
                            hint=f"the runner knows {', '.join(MLPERF_MODEL_IDS)}")
    if opt not in OPT_LEVELS:
        raise TinyflowError(f"unknown optimisation level {opt!r}",
                            hint=f"use one of {', '.join(OPT_LEVELS)}")
    find_toolchain()
    fam = family_dir(board)
    srcs, model_incs = _model_sources(model)
    model_name = model_name or (Path(model).name if isinstance(model, (str, Path))
                                else srcs[0].stem)
    out = (Path(out_dir) if out_dir else default_out_dir(board, model_name)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # One build per folder at a time: two processes (parallel tests, a second terminal)
    # building the same board and model would otherwise race inside SCons.
    with _folder_lock(out):
        t0 = time.monotonic()

        use_kernels = _uses_kernels(srcs) if kernels is None else kernels
        fw_srcs = sorted((FIRMWARE / "boards" / "cortex_m").glob("*.c")) + sorted(fam.glob("*.c"))
        app_dir = FIRMWARE / APPS[app]
        fw_srcs += sorted(app_dir.glob("*.c"))       # not recursive: mlperf/host/ is a PC harness
        if use_kernels:
            fw_srcs += sorted((FIRMWARE / "kernels").glob("*.c"))
        objects: list[tuple[str, str]] = [("main.c", "obj/main.o")]
        for s in fw_srcs:
            objects.append((str(s), "obj/fw/" + str(s.relative_to(FIRMWARE).with_suffix(".o"))))
        for s in srcs:
            objects.append((str(s.resolve()), f"obj/model/{s.stem}.o"))

        cflags_core = core_flags(board)
        ccflags = cflags_core + [
            f"-{opt}", "-g", "-ffunction-sections", "-fdata-sections", "-fno-common",
            "-ffreestanding", "-fno-math-errno", "-fstack-usage", "-Wall", "-Wextra",
        ] + (["-flto"] if lto else ["-fcallgraph-info=su"])
        cflags = ["-std=gnu99"]
        include_dirs = [str(FIRMWARE / "include"), str(FIRMWARE / "boards"),
                        str(app_dir), str(FIRMWARE / "kernels")]
        include_dirs += [str(p.resolve()) for p in model_incs]
        defines = board_defines(board)
        if app == "mlperf":
            defines += [f'TF_MLPERF_MODEL_ID="{mlperf_model_id}"',
                        f"TF_MLPERF_DB_BYTES={mlperf_db_bytes or _model_input_bytes(srcs)}"]
        # An extra define replaces a default of the same name (no "redefined" warning).
        given = {d.split("=", 1)[0] for d in extra_defines}
        defines = [d for d in defines if d.split("=", 1)[0] not in given] + list(extra_defines)
        linkflags = cflags_core + [
            f"-{opt}", "-T", "linker.ld", "-nostartfiles", "--specs=nano.specs",
            "-Wl,--gc-sections", "-Wl,-Map=firmware.map", "-Wl,--no-warn-rwx-segments",
        ] + (["-flto"] if lto else [])
        libs = ["c", "m", "gcc"]

        boot = fam / "boot.ld"
        post_link = fam / "post_link.py"
        summary = f"-{opt}{' -flto' if lto else ''}"
        _write_if_changed(out / "main.c", _render("main.c.j2", board=board, model_name=model_name,
                                                  build_summary=summary, app=app))
        _write_if_changed(out / "linker.ld", _render(
            "linker.ld.j2", board=board, regions=board.regions, roles=board.roles,
            stack_bytes=board.stack_bytes, heap_bytes=board.heap_bytes,
            boot_sections=boot.read_text().rstrip() if boot.exists() else ""))
        _write_if_changed(out / "SConstruct", _render(
            "SConstruct.j2", board_name=board.name, model_name=model_name, out_dir=str(out),
            tool_prefix=TOOL_PREFIX, ccflags=ccflags, cflags=cflags, include_dirs=include_dirs,
            # SCons runs the compiler through the shell: string defines keep their quotes
            defines=[d.replace('"', '\\"') for d in defines], linkflags=linkflags, libs=libs,
            objects=objects, jobs=jobs, verbose=verbose,
            post_link=post_link.read_text().rstrip() if post_link.exists() else ""))

        cmd = [sys.executable, "-m", "SCons", "-Q", "-C", str(out)]
        elf = out / "firmware.elf"
        before = elf.stat().st_mtime_ns if elf.exists() else None
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
        if proc.returncode != 0:
            overflow = _overflow_message(proc.stdout + proc.stderr, board, out / "obj")
            if overflow:
                raise TinyflowError(overflow, hint="see `tinyflow check` for the budget; use "
                                    "a board with more memory, or a smaller model (resolution, "
                                    "width)")
            raise TinyflowError(f"firmware build for {board.name} failed:\n"
                                + _trim(proc.stdout + proc.stderr),
                                hint=f"rerun by hand: scons -Q -C {out}")
        if verbose and proc.stdout.strip():
            print(proc.stdout.rstrip(), file=sys.stderr)
        rebuilt = before is None or elf.stat().st_mtime_ns != before
        uf2 = out / "firmware.uf2"
        if board.runner.uf2_family is not None and (rebuilt or not uf2.exists()):
            uf2.write_bytes(bin_to_uf2((out / "firmware.bin").read_bytes(),
                                       board.region_for("code").base, board.runner.uf2_family))
        seconds = time.monotonic() - t0

        result = BuildResult(board=board.name, model=model_name, out_dir=out, elf=elf,
                             bin=out / "firmware.bin", hex=out / "firmware.hex",
                             map=out / "firmware.map", manifest=out / "manifest.json",
                             seconds=round(seconds, 3), rebuilt=rebuilt,
                             warnings=[ln for ln in (proc.stdout + proc.stderr).splitlines()
                                       if "warning:" in ln])
        if report:
            from tinyflow.memreport import memory_report

            result.sizes = memory_report(elf, board, obj_dir=out / "obj").summary()
        manifest = {
            "tinyflow_manifest": 1,
            "board": board.name, "board_file": str(board.path), "model": model_name,
            "app": app, "opt": opt, "lto": lto, "ccflags": ccflags, "linkflags": linkflags,
            "defines": defines, "compiler": _compiler_version(),
            "model_sources": [str(s) for s in srcs],
            "artifacts": {k: {"path": p.name, "sha256": _sha256(p)}
                          for k, p in (("elf", elf), ("bin", result.bin), ("hex", result.hex))},
            "build_seconds": result.seconds, "rebuilt": rebuilt,
            "sizes": result.sizes,
        }
        if rebuilt or not result.manifest.exists():
            result.manifest.write_text(json.dumps(manifest, indent=2) + "\n")
        return result


_INPUT_BYTES = re.compile(r"tf_inputs\[\d+\]\s*=\s*\{[^{]*\{[^}]*?\.bytes\s*=\s*(\d+)", re.S)


def _model_input_bytes(srcs: list[Path]) -> int:
    """The model's first input in bytes, for the MLPerf db buffer: read from the generated
    model C (its tf_inputs table); MLPerf's 96x96x3 when no source has one."""
    for s in srcs:
        m = _INPUT_BYTES.search(s.read_text(errors="replace"))
        if m:
            return int(m.group(1))
    return 27648


@contextlib.contextmanager
def _folder_lock(folder: Path):
    import fcntl

    fd = os.open(folder / ".build.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


def _overflow_message(output: str, board: Board, obj_dir: Path) -> str | None:
    """Say which region overflowed, by how much, and what fills it, before the linker's
    own lines (which name neither the board nor the consumers)."""
    hits = {m.group(1): int(m.group(2)) for m in _OVERFLOW.finditer(output)}
    if not hits:
        return None
    lines = []
    for name, over in hits.items():
        region = next((r for r in board.regions if r.name.upper() == name), None)
        size = f" of {region.size:,} B" if region else ""
        roles = [k for k, v in board.roles.items() if region and v == region.name]
        lines.append(f"the firmware does not fit on {board.name}: region {name.lower()}{size} "
                     f"({', '.join(roles)}) overflowed by {over:,} B")
    lines.append("largest inputs to the link (bytes in object files, before --gc-sections):")
    for obj, n in _largest_objects(obj_dir)[:5]:
        lines.append(f"  {n:>10,}  {obj}")
    lines.append("linker: " + "; ".join(m.group(0) for m in _OVERFLOW.finditer(output)))
    return "\n".join(lines)


def _largest_objects(obj_dir: Path) -> list[tuple[str, int]]:
    from elftools.elf.elffile import ELFFile

    sizes = []
    for o in Path(obj_dir).rglob("*.o"):
        with open(o, "rb") as fh:
            n = sum(s["sh_size"] for s in ELFFile(fh).iter_sections()
                    if s["sh_flags"] & 2)  # SHF_ALLOC
        sizes.append((str(o.relative_to(obj_dir)), n))
    return sorted(sizes, key=lambda t: -t[1])


def bin_to_uf2(data: bytes, base: int, family: int) -> bytes:
    """A flat image as UF2 (github.com/microsoft/uf2): 512-byte blocks carrying 256 bytes
    each, with the family id flag set so a boot loader can reject a wrong image."""
    magic0, magic1, magic_end, flag_family = 0x0A324655, 0x9E5D5157, 0x0AB16F30, 0x2000
    chunks = [data[i:i + 256] for i in range(0, len(data), 256)] or [b""]
    out = bytearray()
    for n, chunk in enumerate(chunks):
        head = struct.pack("<8I", magic0, magic1, flag_family, base + 256 * n, 256, n,
                           len(chunks), family)
        out += head + chunk.ljust(476, b"\x00") + struct.pack("<I", magic_end)
    return bytes(out)


def _trim(text: str, lines: int = 40) -> str:
    ls = [x for x in text.splitlines() if x.strip()]
    return "\n".join(ls[-lines:])


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


_COMPILER: str | None = None


def _compiler_version() -> str:
    global _COMPILER
    if _COMPILER is None:
        out = subprocess.run([TOOL_PREFIX + "gcc", "--version"], capture_output=True,
                             text=True, check=False)
        _COMPILER = out.stdout.splitlines()[0] if out.stdout else "unknown"
    return _COMPILER
