"""Firmware on the virtual boards: real arm-none-eabi-gcc, real QEMU, a real pty."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _fw import VIRTUAL, build_fake, fake_reference, virtual_board

from tinyflow.boards import get_board
from tinyflow.memreport import memory_report


@pytest.fixture(scope="module", params=VIRTUAL)
def fw(request, tmp_path_factory):
    board = request.param
    return board, build_fake(board, tmp_path_factory.mktemp(board))


def test_handshake_run_and_determinism(fw):
    board, res = fw
    b = get_board(board)
    rng = np.random.default_rng(1)
    xs = [rng.integers(-128, 128, 128, dtype=np.int8) for _ in range(4)]
    with virtual_board(board, res.elf) as (link, _):
        info = link.info
        assert (info.board, info.core, info.model, info.model_hash) == \
            (board, b.core, "fake", "0123456789abcdef")
        assert info.virtual and info.clock_hz == b.clock_hz and info.protocol == 1
        assert info.inputs[0].shape == (1, 8, 8, 2) and info.inputs[0].zero_point == -3
        assert info.outputs[0].bytes == 10 and info.outputs[0].scale == 0.25
        assert info.stack_bytes == b.stack_bytes and info.arena_bytes == 256
        runs = [link.run([x.tobytes()], profile=True) for x in xs + xs[:1]]
        for x, r in zip(xs + xs[:1], runs):
            assert np.array_equal(np.frombuffer(r.outputs[0], np.int8), fake_reference(x))
            assert 0 < r.stack_used < r.stack_size == b.stack_bytes
            assert len(r.layer_cycles) == 4
            assert sum(r.layer_cycles) <= r.cycles
        # -icount makes cost exact: the same work costs the same virtual time
        assert len({r.cycles for r in runs}) == 1 and runs[0].cycles > 0
        assert runs[0].instructions == round(
            runs[0].cycles * 1e9 / b.clock_hz / (1 << b.qemu.icount_shift))
        st = link.stats()
        assert st["crc_errors"] == 0 and st["rx_overflows"] == 0


def test_instruction_count_matches_across_processes(fw):
    board, res = fw
    x = np.arange(-64, 64, dtype=np.int8)
    cycles = []
    for _ in range(2):
        with virtual_board(board, res.elf) as (link, _):
            cycles.append(link.run([x.tobytes()]).cycles)
    assert cycles[0] == cycles[1]


def test_exit_code_reaches_qemu(fw):
    board, res = fw
    with virtual_board(board, res.elf) as (link, session):
        link.exit(7)
        assert session.wait(10) == 7


def test_manifest_and_memory_report(fw):
    board, res = fw
    b = get_board(board)
    m = json.loads(res.manifest.read_text())
    assert m["board"] == board and m["opt"] == "O2"
    assert all((res.out_dir / a["path"]).is_file() for a in m["artifacts"].values())
    rep = memory_report(res.elf, b, res.out_dir / "obj")
    by = {r.region.name: r for r in rep.regions}
    assert by[b.roles["code"]].sections[".text"] == rep.code_bytes > 1000
    assert by[b.roles["arena"]].sections[".tf_arena"] == 256
    assert by[b.roles["stack"]].sections[".stack"] == b.stack_bytes
    assert all(s.region != "?" for s in rep.sections)
    assert rep.stack_functions and rep.stack_functions[0][1] > 0


NAKED_SRC = r"""
#include <stdint.h>
volatile int32_t sink;
__attribute__((noinline)) void leaf(void) { volatile int32_t a[10]; a[3] = 1; sink = a[3]; }
__attribute__((naked, noinline)) void asm_routine(void) {
    __asm__("push {r4-r11, lr}\n\tsub sp, sp, #24\n\tbl leaf\n\tadd sp, sp, #24\n\t"
            "pop {r4-r11, pc}");
}
void tf_reset_c(void) { asm_routine(); }
"""


def test_stack_bound_counts_naked_assembly_frames(tmp_path):
    """GCC reports naked functions (hand-written prologues, as in tf_conv_dw.c) with no
    frame and cannot see their BLs; the bound reads both from the object's disassembly."""
    import subprocess

    from tinyflow.memreport import stack_bound, stack_usage

    src = tmp_path / "naked.c"
    src.write_text(NAKED_SRC)
    subprocess.run(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m4", "-O2", "-c",
                    "-fstack-usage", "-fcallgraph-info=su", str(src), "-o",
                    str(tmp_path / "naked.o")], check=True, cwd=tmp_path)
    frames = dict((f.rsplit(":", 1)[-1], b) for f, b, _ in stack_usage(tmp_path))
    assert frames["asm_routine"] == 0          # what GCC alone would count
    sb = stack_bound(tmp_path, fpu=False)
    # reset's own frame + 9 pushed registers + 24 bytes + leaf's frame, and no ISRs
    expect = frames["tf_reset_c"] + 36 + 24 + frames["leaf"] + 32
    assert sb.bytes == expect, (sb.bytes, expect, sb.path)
    assert sb.path[-2:] == ["asm_routine", "leaf"]
