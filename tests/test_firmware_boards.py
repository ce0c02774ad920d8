"""Every shipped board's firmware compiles and links warning-free, around the fake model and
a real generated zoo model; builds are incremental."""

from __future__ import annotations

import time

import pytest
from _fw import build_fake

from tinyflow.boards import board_names, get_board

BOARDS = board_names()


@pytest.mark.parametrize("board", BOARDS)
def test_fake_model_links_on_every_board(board, tmp_path):
    b = get_board(board)
    res = build_fake(board, tmp_path)
    assert res.elf.is_file() and res.bin.stat().st_size > 0 and res.hex.is_file()
    assert res.warnings == []
    regions = {r["region"]: r for r in res.sizes["regions"]}
    assert regions[b.roles["code"]]["sections"][".text"] > 0
    assert regions[b.roles["stack"]]["sections"][".stack"] == b.stack_bytes
    # the vector table sits at the start of the code region (after boot2 on the RP2040)
    from elftools.elf.elffile import ELFFile

    with open(res.elf, "rb") as f:
        sym = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("tf_vectors")[0]
    code = b.region_for("code")
    assert sym["st_value"] in (code.base, code.base + 0x100)


def test_incremental_build(tmp_path):
    first = build_fake("qemu-m7", tmp_path)
    assert first.rebuilt
    t0 = time.monotonic()
    again = build_fake("qemu-m7", tmp_path)
    assert not again.rebuilt
    assert time.monotonic() - t0 < 3.0
    lto = build_fake("qemu-m7", tmp_path, opt="Os", lto=True)
    assert lto.rebuilt and lto.warnings == []
    assert lto.sizes["text"] < first.sizes["text"]


def test_rp2040_boot2_crc(tmp_path):
    res = build_fake("rpi-pico", tmp_path)
    data = res.bin.read_bytes()
    crc = 0xFFFFFFFF
    for byte in data[:252]:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    assert int.from_bytes(data[252:256], "little") == crc


def test_link_overflow_is_explained(tmp_path):
    from tinyflow.build import build_firmware
    from tinyflow.errors import TinyflowError

    src = tmp_path / "big_model.c"   # 2.5 MB of weights that the model really reads
    src.write_text("""#include "tinyflow_model.h"
static const int8_t weights[2500000] = {1};
static int8_t arena[64] __attribute__((section(".tf_arena")));
static const tf_tensor_info_t io[1] = {{TF_DTYPE_INT8, 1, {4, 0, 0, 0, 0, 0}, 4, 1.0f, 0}};
const tf_model_info_t tf_model_info = {"big", "0000000000000000", 64, 1, 1, 1, io, io};
void *tf_model_input(int i) { (void)i; return arena; }
void *tf_model_output(int i) { (void)i; return arena; }
int tf_model_invoke(void) { arena[0] = weights[arena[1] * 9999]; return 0; }
""")
    with pytest.raises(TinyflowError) as e:
        build_firmware("rpi-pico", [src], tmp_path / "out", model_name="big")
    msg = str(e.value)
    assert msg.startswith("the firmware does not fit on rpi-pico: region flash of 2,097,152 B")
    assert "model/big_model.o" in msg.splitlines()[2]


def test_rp2040_uf2(tmp_path):
    import struct

    res = build_fake("rpi-pico", tmp_path)
    uf2 = (res.out_dir / "firmware.uf2").read_bytes()
    image = res.bin.read_bytes()
    blocks = [uf2[i:i + 512] for i in range(0, len(uf2), 512)]
    assert len(blocks) == (len(image) + 255) // 256
    payload = b""
    for n, blk in enumerate(blocks):
        m0, m1, flags, addr, size, no, total, fam = struct.unpack_from("<8I", blk)
        assert (m0, m1, flags, size, no, total, fam) == (
            0x0A324655, 0x9E5D5157, 0x2000, 256, n, len(blocks), 0xE48BFF56)
        assert addr == 0x10000000 + 256 * n
        assert struct.unpack_from("<I", blk, 508)[0] == 0x0AB16F30
        payload += blk[32:32 + 256]
    assert payload[:len(image)] == image
