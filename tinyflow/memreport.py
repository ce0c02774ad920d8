"""Post-link memory report: what the linked ELF really uses, region by region.

Section sizes come from the ELF's section headers (pyelftools); each allocated section is
charged to the board region holding its run address (VMA), and an initialised .data also to
the region holding its load image (LMA). Stack need comes from GCC's -fstack-usage files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from tinyflow.boards import Board, Region


@dataclass
class SectionUse:
    name: str
    region: str
    addr: int
    size: int
    load: bool          # occupies space in the image (PROGBITS), not just RAM


@dataclass
class RegionUse:
    region: Region
    used: int = 0
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def free(self) -> int:
        return self.region.size - self.used

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region.name, "kind": self.region.kind, "size": self.region.size,
                "used": self.used, "free": self.free,
                "percent": round(100.0 * self.used / self.region.size, 2),
                "sections": dict(self.sections)}


@dataclass
class MemoryReport:
    board: str
    regions: list[RegionUse]
    sections: list[SectionUse]
    symbols: list[tuple[str, str, int]]     # (name, section, size), largest first
    stack_functions: list[tuple[str, int, str]]  # (function, bytes, qualifier), largest first
    arena_bytes: int
    code_bytes: int                          # .text
    const_bytes: int                         # .rodata
    data_bytes: int                          # .data + .bss
    stack: StackBound | None = None          # static worst case from the call graph

    def summary(self) -> dict[str, Any]:
        return {
            "regions": [r.to_dict() for r in self.regions if r.used],
            "text": self.code_bytes, "rodata": self.const_bytes, "data_bss": self.data_bytes,
            "arena": self.arena_bytes,
            "largest_symbols": [{"name": n, "section": s, "size": z}
                                for n, s, z in self.symbols[:10]],
            "deepest_frames": [{"function": f, "bytes": b, "kind": q}
                               for f, b, q in self.stack_functions[:5]],
            "stack_bound": self.stack.to_dict() if self.stack else None,
        }


def _region_of(board: Board, addr: int, size: int) -> Region | None:
    for r in board.regions:
        if r.base <= addr and addr + size <= r.end:
            return r
    return None


def memory_report(elf: Path, board: Board, obj_dir: Path | None = None) -> MemoryReport:
    """Sizes from a linked ELF, charged to the board's regions."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    uses = {r.name: RegionUse(r) for r in board.regions}
    sections: list[SectionUse] = []
    symbols: list[tuple[str, str, int]] = []
    sizes = {"text": 0, "rodata": 0, "data": 0, "arena": 0}
    with open(elf, "rb") as fh:
        ef = ELFFile(fh)
        # LMA of each section from the program headers (a .data image lives in flash).
        segs = [(s["p_vaddr"], s["p_paddr"], s["p_memsz"]) for s in ef.iter_segments()
                if s["p_type"] == "PT_LOAD"]
        names = {}
        for idx, sec in enumerate(ef.iter_sections()):
            names[idx] = sec.name
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            addr, size = sec["sh_addr"], sec["sh_size"]
            load = sec["sh_type"] != "SHT_NOBITS"
            reg = _region_of(board, addr, size)
            rname = reg.name if reg else "?"
            sections.append(SectionUse(sec.name, rname, addr, size, load))
            if reg:
                uses[rname].used += size
                uses[rname].sections[sec.name] = size
            if load:
                for v, p, m in segs:
                    if v <= addr < v + m and p != v:
                        lreg = _region_of(board, p + (addr - v), size)
                        if lreg and lreg.name != rname:
                            uses[lreg.name].used += size
                            uses[lreg.name].sections[sec.name + " (load)"] = size
            key = {".text": "text", ".rodata": "rodata", ".data": "data", ".bss": "data",
                   ".tf_arena": "arena"}.get(sec.name)
            if key:
                sizes[key] += size
        symtab = ef.get_section_by_name(".symtab")
        if symtab is not None:
            for sym in symtab.iter_symbols():
                if sym["st_size"] and sym["st_info"]["type"] in ("STT_OBJECT", "STT_FUNC"):
                    sh = sym["st_shndx"]
                    sec = names.get(sh, "?") if isinstance(sh, int) else str(sh)
                    symbols.append((sym.name, sec, sym["st_size"]))
    symbols.sort(key=lambda s: -s[2])
    return MemoryReport(board=board.name, regions=list(uses.values()), sections=sections,
                        symbols=symbols, stack_functions=stack_usage(obj_dir) if obj_dir else [],
                        arena_bytes=sizes["arena"], code_bytes=sizes["text"],
                        const_bytes=sizes["rodata"], data_bytes=sizes["data"],
                        stack=stack_bound(obj_dir, fpu=board.has_fpu) if obj_dir else None)


_SU = re.compile(r"^(?P<loc>.*?):(?P<func>[^:\s]+)\s+(?P<bytes>\d+)\s+(?P<kind>\S+)$")


def stack_usage(obj_dir: Path) -> list[tuple[str, int, str]]:
    """Per-function frame sizes from the -fstack-usage (.su) files, largest first.
    kind is static, dynamic or dynamic,bounded as GCC reports it."""
    out: dict[str, tuple[int, str]] = {}
    for su in Path(obj_dir).rglob("*.su"):
        for line in su.read_text(errors="replace").splitlines():
            m = _SU.match(line.strip())
            if m:
                f, b = m["func"], int(m["bytes"])
                if b > out.get(f, (-1, ""))[0]:
                    out[f] = (b, m["kind"])
    return sorted(((f, b, k) for f, (b, k) in out.items()), key=lambda t: -t[1])


# ------------------------------------------------------------------ static stack bound

_CI_NODE = re.compile(r'node: \{ title: "(?P<title>[^"]+)" label: "(?P<label>[^"]*)"')
_CI_EDGE = re.compile(r'edge: \{ sourcename: "(?P<src>[^"]+)" targetname: "(?P<dst>[^"]+)"')
_CI_BYTES = re.compile(r"\\n(\d+) bytes \((static|dynamic|dynamic,bounded)\)")

# Interrupt handlers the firmware enables; each can nest on top of the deepest thread frame.
ISR_ROOTS = ("bsp_console_irq", "tf_systick_isr")


@dataclass
class StackBound:
    bytes: int                 # worst case: deepest call chain from reset + ISRs
    path: list[str]            # the deepest thread-mode chain
    isr_bytes: int             # deepest interrupt handler chain, with its exception frame
    unknown: list[str]         # callees without stack information (libc, assembly)
    unbounded: list[str]       # functions with dynamic frames or in recursion

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "path": self.path, "isr_bytes": self.isr_bytes,
                "unknown_callees": self.unknown, "unbounded": self.unbounded}


_OBJ_FUNC = re.compile(r"^[0-9a-f]+ <(?P<name>[^>]+)>:$")
_PUSH = re.compile(r"\s(?:push(?:\.w)?|stmdb(?:\.w)?\s+sp!,)\s*\{(?P<regs>[^}]*)\}")
_VPUSH = re.compile(r"\svpush\s*\{(?P<regs>[^}]*)\}")
_SUB_SP = re.compile(r"\ssub(?:\.w|w)?\s+sp,\s*(?:sp,\s*)?#(?P<n>\d+)")
_CALL_RELOC = re.compile(r"R_ARM_THM_(?:CALL|JUMP24)\s+(?P<dst>[A-Za-z_.$][\w.$]*)")


def _asm_frames(obj: Path, names: set[str]) -> dict[str, tuple[int, set[str]]]:
    """For functions GCC reports without a frame (naked functions: their prologue is
    hand-written assembly), the bytes their own PUSH/VPUSH/SUB SP take and the functions
    they BL to, read from the object's disassembly. Empty when objdump is missing."""
    import shutil
    import subprocess

    tool = shutil.which("arm-none-eabi-objdump")
    if not tool or not names:
        return {}
    try:
        text = subprocess.run([tool, "-dr", "--no-show-raw-insn", str(obj)], check=True,
                              capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[str, tuple[int, set[str]]] = {}
    cur = None
    for line in text.splitlines():
        m = _OBJ_FUNC.match(line.strip())
        if m:
            cur = m["name"] if m["name"] in names else None
            if cur:
                out[cur] = (0, set())
            continue
        if cur is None:
            continue
        b, calls = out[cur]
        if (m := _PUSH.search(line)):
            b += 4 * len(m["regs"].split(","))
        elif (m := _VPUSH.search(line)):
            b += 8 * len(m["regs"].split(","))   # d registers
        elif (m := _SUB_SP.search(line)):
            b += int(m["n"])
        elif (m := _CALL_RELOC.search(line)):
            calls.add(m["dst"])
        out[cur] = (b, calls)
    return out


def stack_bound(obj_dir: Path, root: str = "tf_reset_c", fpu: bool = True) -> StackBound | None:
    """Worst-case stack from GCC's call graphs (-fcallgraph-info=su .ci files): the deepest
    chain from `root` plus the deepest interrupt handler chain and its exception frame.
    Functions GCC reports with no frame (naked ones, whose pushes and calls are assembly)
    get theirs from the object's disassembly. Indirect calls and functions without a .ci
    (libc) count as 0 and are listed in `unknown`. None when the build has no .ci files
    (LTO builds)."""
    frames: dict[str, int] = {}
    edges: dict[str, set[str]] = {}
    unbounded: set[str] = set()
    files = list(Path(obj_dir).rglob("*.ci"))
    if not files:
        return None
    for ci in files:
        for line in ci.read_text(errors="replace").splitlines():
            m = _CI_NODE.search(line)
            if m:
                b = _CI_BYTES.search(m["label"])
                if b:
                    frames[m["title"]] = int(b.group(1))
                    if b.group(2) == "dynamic":
                        unbounded.add(m["title"])
                continue
            m = _CI_EDGE.search(line)
            if m:
                edges.setdefault(m["src"], set()).add(m["dst"])
        # frameless functions of this object: measure their hand-written prologues
        local = {t.rsplit(":", 1)[-1]: t for t in frames if frames[t] == 0 and
                 (":" not in t or Path(t.rsplit(":", 1)[0]).stem == ci.stem)}
        obj = ci.with_suffix(".o")
        for name, (b, calls) in _asm_frames(obj, set(local)).items() if obj.is_file() else ():
            title = local[name]
            frames[title] += b
            for dst in calls:
                edges.setdefault(title, set()).add(dst)
    # a call written in assembly names the symbol; GCC titles static functions file:name
    by_name = {t.rsplit(":", 1)[-1]: t for t in frames}
    for src, dsts in edges.items():
        edges[src] = {d if d in frames else by_name.get(d, d) for d in dsts}
    unknown: set[str] = set()
    memo: dict[str, tuple[int, list[str]]] = {}
    active: set[str] = set()

    def deepest(f: str) -> tuple[int, list[str]]:
        if f in memo:
            return memo[f]
        if f in active:              # recursion: no static bound
            unbounded.add(f)
            return 0, [f + " (recursive)"]
        if f not in frames:
            unknown.add(f)
            return 0, [f]
        active.add(f)
        best: tuple[int, list[str]] = (0, [])
        for callee in edges.get(f, ()):
            d = deepest(callee)
            if d[0] > best[0]:
                best = d
        active.discard(f)
        memo[f] = (frames[f] + best[0], [f] + best[1])
        return memo[f]

    if root not in frames:
        return None
    total, path = deepest(root)
    exc_frame = 104 if fpu else 32   # stacked registers, with the FP context when lazy-saved
    isr = max((deepest(r)[0] for r in ISR_ROOTS if r in frames), default=0) + exc_frame
    short = [p.rsplit(":", 1)[-1] for p in path]
    return StackBound(total + isr, short, isr, sorted(u.rsplit(":", 1)[-1] for u in unknown),
                      sorted(u.rsplit(":", 1)[-1] for u in unbounded))


# ------------------------------------------------------------------ sizes by object file

def sizes_by_object(elf: Path, obj_dir: Path) -> dict[str, dict[str, int]]:
    """Linked bytes per object file (relative path under obj_dir, without .o), split into
    code (functions) and data (objects: constants, .data, .bss, arena). Symbols are matched
    by name, so a static function defined in two objects is charged to both."""
    from elftools.elf.elffile import ELFFile

    def symbols(path: Path) -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        with open(path, "rb") as fh:
            st = ELFFile(fh).get_section_by_name(".symtab")
            for s in st.iter_symbols() if st else ():
                kind = s["st_info"]["type"]
                if kind in ("STT_FUNC", "STT_OBJECT") and s["st_shndx"] != "SHN_UNDEF":
                    out[s.name] = (kind, s["st_size"])
        return out

    linked = symbols(elf)
    result: dict[str, dict[str, int]] = {}
    for obj in sorted(Path(obj_dir).rglob("*.o")):
        code = data = 0
        for name, (kind, _) in symbols(obj).items():
            if name in linked:
                size = linked[name][1]
                if kind == "STT_FUNC":
                    code += size
                else:
                    data += size
        result[str(obj.relative_to(obj_dir).with_suffix(""))] = {"code": code, "data": data}
    return result


def runtime_sizes(board: Board | str, out_root: Path | None = None) -> dict[str, int]:
    """What the firmware itself costs on `board`, without any model: a reference build
    around the small stand-in model, minus that model's own symbols. Returns code (the code
    region), rodata (the constants region, which is where the linker script puts all
    .rodata) and data (.data/.bss in RAM) in bytes. Cached: the second
    call is an up-to-date SCons run (well under a second)."""
    from tinyflow.boards import get_board
    from tinyflow.build import REPO, build_firmware

    board = get_board(board)
    stand_in = REPO / "tests" / "fixtures" / "fake_model.c"
    out = (out_root or Path.cwd() / "build") / board.name / "_runtime"
    res = build_firmware(board, [stand_in], out, model_name="runtime", report=False)
    rep = memory_report(res.elf, board)
    model = sizes_by_object(res.elf, out / "obj").get("model/fake_model",
                                                      {"code": 0, "data": 0})
    # the stand-in's arena is in .tf_arena, not in .data/.bss
    return {"code": rep.code_bytes - model["code"],
            "rodata": rep.const_bytes - _model_rodata(res.elf),
            "data": rep.data_bytes}


def _model_rodata(elf: Path) -> int:
    """Constant data of the stand-in model (its tensor descriptions), named in fake_model.c."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        st = ELFFile(fh).get_section_by_name(".symtab")
        return sum(s["st_size"] for s in st.iter_symbols()
                   if s.name in ("tf_model_info", "inputs", "outputs"))


def kernel_sizes(board: Board | str, functions: Sequence[str],
                 out_root: Path | None = None) -> dict[str, int]:
    """Linked code and constants of exactly the engine kernels `functions` (C entry points
    such as tf_conv2d_s8) on `board`: a reference build around the stand-in model that
    also keeps a table of pointers to those functions, so --gc-sections links what a real
    model using them links, helpers and tables included. Cached per board and function set.
    Returns {"code", "data"} bytes charged to the kernel object files; their data is
    constant tables (.rodata), which the linker script places in the constants region."""
    import hashlib

    from tinyflow.boards import get_board
    from tinyflow.build import REPO, build_firmware

    board = get_board(board)
    names = sorted(set(functions))
    key = hashlib.sha256(" ".join(names).encode()).hexdigest()[:12]
    out = (out_root or Path.cwd() / "build") / board.name / "_kernels" / key
    out.mkdir(parents=True, exist_ok=True)
    refs = out / "kernel_refs.c"
    decls = "".join(f"extern void {n}(void);\n" for n in names)
    table = ", ".join(f"(void (*)(void)){n}" for n in names) or "0"
    # Declared without their real prototypes on purpose: only the addresses are taken. The
    # table sits in .vectors, which the linker script KEEPs, so --gc-sections cannot drop
    # it (this image is measured, never run).
    text = (f"{decls}__attribute__((section(\".vectors\"), used))\n"
            f"void (*const tf_kernel_refs[])(void) = {{{table}}};\n")
    if not refs.exists() or refs.read_text() != text:
        refs.write_text(text)
    stand_in = REPO / "tests" / "fixtures" / "fake_model.c"
    res = build_firmware(board, [stand_in, refs], out, model_name="kernels", report=False,
                         kernels=True)
    sizes = sizes_by_object(res.elf, out / "obj")
    code = sum(v["code"] for k, v in sizes.items() if k.startswith("fw/kernels/"))
    data = sum(v["data"] for k, v in sizes.items() if k.startswith("fw/kernels/"))
    return {"code": code, "data": data}
