"""Post-link memory report: what the linked ELF really uses, region by region.

Section sizes come from the ELF's section headers (pyelftools); each allocated section is
charged to the board region holding its run address (VMA), and an initialised .data also to
the region holding its load image (LMA). Stack need comes from GCC's -fstack-usage files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
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

    def summary(self) -> dict[str, Any]:
        return {
            "regions": [r.to_dict() for r in self.regions if r.used],
            "text": self.code_bytes, "rodata": self.const_bytes, "data_bss": self.data_bytes,
            "arena": self.arena_bytes,
            "largest_symbols": [{"name": n, "section": s, "size": z}
                                for n, s, z in self.symbols[:10]],
            "deepest_frames": [{"function": f, "bytes": b, "kind": q}
                               for f, b, q in self.stack_functions[:5]],
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
                        const_bytes=sizes["rodata"], data_bytes=sizes["data"])


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
