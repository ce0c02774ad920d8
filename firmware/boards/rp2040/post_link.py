# RP2040 (inserted into the generated SConstruct): the boot ROM runs boot2 only if the
# CRC-32 (polynomial 0x04C11DB7, MSB first, initial 0xFFFFFFFF, no final xor) of the first
# 252 bytes of flash matches the word after them. Patch it into the ELF after linking.
def _rp2040_boot2_crc(target, source, env):
    from elftools.elf.elffile import ELFFile

    path = str(target[0])
    with open(path, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        offset = text["sh_offset"]
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(252)
        crc = 0xFFFFFFFF
        for byte in data:
            crc ^= byte << 24
            for _ in range(8):
                crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
        f.seek(offset + 252)
        f.write(crc.to_bytes(4, "little"))


env.AddPostAction(elf, _rp2040_boot2_crc)
