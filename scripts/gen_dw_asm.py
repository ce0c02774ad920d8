"""Generates the unrolled assembly of firmware/kernels/tf_conv_dw.c (DSP depthwise).

    python scripts/gen_dw_asm.py            # print every routine's asm lines as C strings
    python scripts/gen_dw_asm.py --check    # exit 1 if tf_conv_dw.c differs from them

The column offsets are immediates, so the loops are written out in full; this is what
writes them. The layout constants must match DW_CG / DW_RS in tf_conv_dw.c. Routines:
dw_mac_s1 = mac(1), dw_mac_s2 = mac(2), dw_mac3_s1 = mac(1, 3), dw_mac3_s2 = mac(2, 3),
tf_dw_rqg = rq(), dw_tab = tab(). tests/test_generated_asm.py runs --check.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

C_FILE = Path(__file__).resolve().parent.parent / "firmware" / "kernels" / "tf_conv_dw.c"

CG, RS, WOFF = 32, 12 * 32, 9 * 32  # DW_CG, DW_RS, offset of the taps


def mac(S, P=4):                              # r0 g, r1 acc, r2-r9 sums, r10-r12 taps
    L = ["push {r4-r11, lr}", "push {r0}", "2:", "ldr r1, [sp]", "ldr r0, [r1, #16]",
         "add r1, r1, #24", "1:"]
    seen = set()
    for ky in range(3):
        L += [f"ldr r{10+kx}, [r0, #{ky*RS+WOFF+kx*CG}]" for kx in range(3)]
        L += [f"sxtb16 r{10+kx}, r{10+kx}" for kx in range(3)]
        for j in range(3 + (P - 1) * S):
            L += [f"ldr lr, [r0, #{ky*RS+j*CG}]", "sxtb16 lr, lr"]
            for p in range(P):
                kx = j - S * p
                if 0 <= kx < 3:
                    a, b, w = 2 + p, 6 + p, 10 + kx
                    if p in seen:
                        L += [f"smlabb r{a}, lr, r{w}, r{a}", f"smlatt r{b}, lr, r{w}, r{b}"]
                    else:
                        L += [f"smulbb r{a}, lr, r{w}", f"smultt r{b}, lr, r{w}"]
                        seen.add(p)
    return L + ["stmia r1!, {r2-r9}", "tst r0, #1", "add r0, r0, #1", "beq 1b",
                "bl tf_dw_rqg", "bne 2b", "pop {r0}", "pop {r4-r11, pc}"]


def rq():
    L = ["push {lr}", "ldr lr, [sp, #4]", "add r0, lr, #24", "ldm lr, {r1, r2, r3, r12}"]
    prev = 0
    for ch in (0, 2, 1, 3):
        L += ["ldmia r1!, {r4-r7}", "ldmia r0!, {r8-r11}"]
        if ch != prev:
            L.append(f"add r2, r2, #{ch-prev}" if ch > prev else f"sub r2, r2, #{prev-ch}")
            prev = ch
        for p, st in enumerate(["[r2]", "[r2, r3]", "[r2, r3, lsl #1]", "[r2, r12]"]):
            r = 8 + p
            L += [f"add r{r}, r5, r{r}, lsl #1", f"add lr, r6, r{r}, asr #31",
                  f"smmlar r{r}, r{r}, r4, lr", f"asr r{r}, r{r}, r7",
                  f"ssat r{r}, #8, r{r}", f"strb r{r}, {st}"]
    return L + ["ldr lr, [sp, #4]", "add r2, r2, #1", "ldr r0, [lr, #16]",
                "ldr r3, [lr, #20]", "add r0, r0, #4", "str r0, [lr, #16]",
                "stm lr, {r1, r2}", "subs r3, r3, #1", "str r3, [lr, #20]", "pop {pc}"]


def tab():
    L = ["push {r4-r9}", "ldrd r4, r5, [r0]", "1:"]
    for ch in (0, 2, 1, 3):
        L += [f"ldr r6, [r1, #{4*ch}]", f"ldr r7, [r2, #{4*ch}]", f"ldrsb r9, [r3, #{ch}]",
              "lsl r7, r7, #1", "mvn r8, r9", "lsl r8, r4, r8", "rsb r9, r9, #0",
              "stmia r0!, {r6-r9}"]
    return L + ["add r1, r1, #16", "add r2, r2, #16", "add r3, r3, #4", "subs r5, r5, #1",
                "bne 1b", "pop {r4-r9}", "bx lr"]


ROUTINES = {"dw_mac_s1": lambda: mac(1), "dw_mac_s2": lambda: mac(2),
            "dw_mac3_s1": lambda: mac(1, 3), "dw_mac3_s2": lambda: mac(2, 3),
            "tf_dw_rqg": rq, "dw_tab": tab}


def as_c(lines: list[str]) -> list[str]:
    return [f'        "{ln}\\n"' for ln in lines]


def in_file(text: str, name: str) -> list[str]:
    """The string lines of `name`'s asm statement in the C file."""
    m = re.search(r"\b" + name + r"\([^)]*\)\s*\{.*?__asm__ volatile\(\n(.*?)\n\s*\);",
                  text, re.S)
    if not m:
        raise SystemExit(f"{name}: no asm statement found in {C_FILE}")
    return [ln for ln in m.group(1).splitlines() if ln.strip().startswith('"')]


def main() -> int:
    if "--check" in sys.argv[1:]:
        text = C_FILE.read_text()
        bad = [n for n, gen in ROUTINES.items() if in_file(text, n) != as_c(gen())]
        for n in bad:
            print(f"{n}: tf_conv_dw.c differs from the generator", file=sys.stderr)
        return 1 if bad else 0
    for n, gen in ROUTINES.items():
        print(f"/* {n} */")
        print("\n".join(as_c(gen())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
