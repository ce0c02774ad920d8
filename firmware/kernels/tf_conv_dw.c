/*
 * DEPTHWISE_CONV_2D, int8, depth multiplier 1, 3x3 window, stride 1 or 2, channels a
 * multiple of 4, on cores with the DSP extension and no Helium.
 *
 * Output pixels go in raster order in blocks of four along a row (three for the last 3
 * or 6 of a row; fewer are computed as four and only those stored). For each block and
 * each chunk of up to DW_CG channels, the block's input window (3 rows of 3 + 3 * stride
 * pixels) is first copied into a stack buffer with LDM/STM, zero-point bytes where it
 * falls in the padding: a padding tap then adds zp * w, which cancels the folded
 * input_offset * w of the effective bias exactly. The chunk's 3x3 filter taps sit in the
 * same buffer, three more "columns" per row, so one pointer addresses everything with
 * immediate offsets. Then, per four channels, the dw_mac* loops (generated assembly)
 * run two passes (channels 0,2 from SXTB16 of a word, channels 1,3 from the word one
 * byte further on), each with 2 channels x 4 pixels of accumulators in registers,
 * streaming the window's columns: every unpacked column feeds all the pixels whose
 * window contains it, one SMLABB/SMLATT per multiply-accumulate; tf_dw_rqg requantizes
 * the 16 sums with per-channel constants prepared once per chunk (dw_tab), straight into
 * the output (or into a 4x4 tile when the block is short or the activation clamps
 * further). A block's window is read entirely before any of its output is written.
 *
 * Requantization is tf_requant.h's in fewer instructions, equal to the bit: with
 * acc2 = 2 * acc (no overflow: |ebias| <= DW_EB_MAX is checked, |sum x*w| <= 9 * 2^14),
 *   tf_rq_h(acc, m) = floor((acc2 * m + 2^31) / 2^32)            (SMMULR)
 * and when every multiplier m > 2^30, h < 0 exactly when acc < 0, so
 *   h + (h >> 31) + rnd = SMMLAR(acc2, m, rnd + (acc2 >> 31)),
 * then ASR by e, SSAT: six instructions an output with the store. Layers where that does
 * not hold are declined, and the general kernels in tf_conv.c run.
 *
 * The assembly is generated (unrolled: column offsets are immediates) by
 * scripts/gen_dw_asm.py, which --check compares with this file (a test runs it); the layout
 * constants below are baked into it.
 */
#include "tf_conv_fast.h"

#if TF_CONV_FAST
#include "tf_requant.h"

/* the layout the assembly below is generated for: do not change one without the other */
#define DW_CG 32                           /* channels per chunk */
#define DW_NC 9                            /* input columns of 4 pixels at stride 2 */
#define DW_RS ((DW_NC + 3) * DW_CG)        /* bytes per buffer row: input, then 3 taps */
#define DW_EB_MAX ((1 << 30) - (1 << 19))  /* |ebias| bound that keeps 2 * acc in int32 */

/* The context of the loops over the groups of four channels of a chunk. */
typedef struct {
    const int32_t *q;  /* the group's requantization constants (dw_tab) */
    int8_t *out;       /* its first output byte */
    int32_t stride;    /* bytes between output pixels 0, 1, 2 */
    int32_t off3;      /* offset of output pixel 3 from pixel 0 */
    const uint8_t *g;  /* the buffer plus the group's offset in the chunk */
    int32_t count;     /* groups left */
    int32_t acc[16];   /* sums without the bias, [pass][lane][pixel]: channels 0, 2, 1, 3 */
} dw_ctx_t;

/* For each group: the 16 sums of 4 channels x 4 pixels (3 for dw_mac3_*) into ctx->acc,
 * then tf_dw_rqg. */
static void __attribute__((naked, noinline)) dw_mac_s1(dw_ctx_t *ctx) {
    (void)ctx;
    __asm__ volatile(
        "push {r4-r11, lr}\n"
        "push {r0}\n"
        "2:\n"
        "ldr r1, [sp]\n"
        "ldr r0, [r1, #16]\n"
        "add r1, r1, #24\n"
        "1:\n"
        "ldr r10, [r0, #288]\n"
        "ldr r11, [r0, #320]\n"
        "ldr r12, [r0, #352]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #0]\n"
        "sxtb16 lr, lr\n"
        "smulbb r2, lr, r10\n"
        "smultt r6, lr, r10\n"
        "ldr lr, [r0, #32]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smulbb r3, lr, r10\n"
        "smultt r7, lr, r10\n"
        "ldr lr, [r0, #64]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smulbb r4, lr, r10\n"
        "smultt r8, lr, r10\n"
        "ldr lr, [r0, #96]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "smulbb r5, lr, r10\n"
        "smultt r9, lr, r10\n"
        "ldr lr, [r0, #128]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #160]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "ldr r10, [r0, #672]\n"
        "ldr r11, [r0, #704]\n"
        "ldr r12, [r0, #736]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #384]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #416]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #448]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #480]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "smlabb r5, lr, r10, r5\n"
        "smlatt r9, lr, r10, r9\n"
        "ldr lr, [r0, #512]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #544]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "ldr r10, [r0, #1056]\n"
        "ldr r11, [r0, #1088]\n"
        "ldr r12, [r0, #1120]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #768]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #800]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #832]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #864]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "smlabb r5, lr, r10, r5\n"
        "smlatt r9, lr, r10, r9\n"
        "ldr lr, [r0, #896]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #928]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "stmia r1!, {r2-r9}\n"
        "tst r0, #1\n"
        "add r0, r0, #1\n"
        "beq 1b\n"
        "bl tf_dw_rqg\n"
        "bne 2b\n"
        "pop {r0}\n"
        "pop {r4-r11, pc}\n"
    );
}

static void __attribute__((naked, noinline)) dw_mac_s2(dw_ctx_t *ctx) {
    (void)ctx;
    __asm__ volatile(
        "push {r4-r11, lr}\n"
        "push {r0}\n"
        "2:\n"
        "ldr r1, [sp]\n"
        "ldr r0, [r1, #16]\n"
        "add r1, r1, #24\n"
        "1:\n"
        "ldr r10, [r0, #288]\n"
        "ldr r11, [r0, #320]\n"
        "ldr r12, [r0, #352]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #0]\n"
        "sxtb16 lr, lr\n"
        "smulbb r2, lr, r10\n"
        "smultt r6, lr, r10\n"
        "ldr lr, [r0, #32]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #64]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smulbb r3, lr, r10\n"
        "smultt r7, lr, r10\n"
        "ldr lr, [r0, #96]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #128]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smulbb r4, lr, r10\n"
        "smultt r8, lr, r10\n"
        "ldr lr, [r0, #160]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #192]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smulbb r5, lr, r10\n"
        "smultt r9, lr, r10\n"
        "ldr lr, [r0, #224]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #256]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "ldr r10, [r0, #672]\n"
        "ldr r11, [r0, #704]\n"
        "ldr r12, [r0, #736]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #384]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #416]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #448]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #480]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #512]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #544]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #576]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smlabb r5, lr, r10, r5\n"
        "smlatt r9, lr, r10, r9\n"
        "ldr lr, [r0, #608]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #640]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "ldr r10, [r0, #1056]\n"
        "ldr r11, [r0, #1088]\n"
        "ldr r12, [r0, #1120]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #768]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #800]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #832]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #864]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #896]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #928]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #960]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "smlabb r5, lr, r10, r5\n"
        "smlatt r9, lr, r10, r9\n"
        "ldr lr, [r0, #992]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r11, r5\n"
        "smlatt r9, lr, r11, r9\n"
        "ldr lr, [r0, #1024]\n"
        "sxtb16 lr, lr\n"
        "smlabb r5, lr, r12, r5\n"
        "smlatt r9, lr, r12, r9\n"
        "stmia r1!, {r2-r9}\n"
        "tst r0, #1\n"
        "add r0, r0, #1\n"
        "beq 1b\n"
        "bl tf_dw_rqg\n"
        "bne 2b\n"
        "pop {r0}\n"
        "pop {r4-r11, pc}\n"
    );
}

/* the same for blocks of three pixels (the fourth is stored to out + off3 regardless) */
static void __attribute__((naked, noinline)) dw_mac3_s1(dw_ctx_t *ctx) {
    (void)ctx;
    __asm__ volatile(
        "push {r4-r11, lr}\n"
        "push {r0}\n"
        "2:\n"
        "ldr r1, [sp]\n"
        "ldr r0, [r1, #16]\n"
        "add r1, r1, #24\n"
        "1:\n"
        "ldr r10, [r0, #288]\n"
        "ldr r11, [r0, #320]\n"
        "ldr r12, [r0, #352]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #0]\n"
        "sxtb16 lr, lr\n"
        "smulbb r2, lr, r10\n"
        "smultt r6, lr, r10\n"
        "ldr lr, [r0, #32]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smulbb r3, lr, r10\n"
        "smultt r7, lr, r10\n"
        "ldr lr, [r0, #64]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smulbb r4, lr, r10\n"
        "smultt r8, lr, r10\n"
        "ldr lr, [r0, #96]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #128]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "ldr r10, [r0, #672]\n"
        "ldr r11, [r0, #704]\n"
        "ldr r12, [r0, #736]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #384]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #416]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #448]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #480]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #512]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "ldr r10, [r0, #1056]\n"
        "ldr r11, [r0, #1088]\n"
        "ldr r12, [r0, #1120]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #768]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #800]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #832]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #864]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #896]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "stmia r1!, {r2-r9}\n"
        "tst r0, #1\n"
        "add r0, r0, #1\n"
        "beq 1b\n"
        "bl tf_dw_rqg\n"
        "bne 2b\n"
        "pop {r0}\n"
        "pop {r4-r11, pc}\n"
    );
}

static void __attribute__((naked, noinline)) dw_mac3_s2(dw_ctx_t *ctx) {
    (void)ctx;
    __asm__ volatile(
        "push {r4-r11, lr}\n"
        "push {r0}\n"
        "2:\n"
        "ldr r1, [sp]\n"
        "ldr r0, [r1, #16]\n"
        "add r1, r1, #24\n"
        "1:\n"
        "ldr r10, [r0, #288]\n"
        "ldr r11, [r0, #320]\n"
        "ldr r12, [r0, #352]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #0]\n"
        "sxtb16 lr, lr\n"
        "smulbb r2, lr, r10\n"
        "smultt r6, lr, r10\n"
        "ldr lr, [r0, #32]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #64]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smulbb r3, lr, r10\n"
        "smultt r7, lr, r10\n"
        "ldr lr, [r0, #96]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #128]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smulbb r4, lr, r10\n"
        "smultt r8, lr, r10\n"
        "ldr lr, [r0, #160]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #192]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "ldr r10, [r0, #672]\n"
        "ldr r11, [r0, #704]\n"
        "ldr r12, [r0, #736]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #384]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #416]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #448]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #480]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #512]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #544]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #576]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "ldr r10, [r0, #1056]\n"
        "ldr r11, [r0, #1088]\n"
        "ldr r12, [r0, #1120]\n"
        "sxtb16 r10, r10\n"
        "sxtb16 r11, r11\n"
        "sxtb16 r12, r12\n"
        "ldr lr, [r0, #768]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r10, r2\n"
        "smlatt r6, lr, r10, r6\n"
        "ldr lr, [r0, #800]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r11, r2\n"
        "smlatt r6, lr, r11, r6\n"
        "ldr lr, [r0, #832]\n"
        "sxtb16 lr, lr\n"
        "smlabb r2, lr, r12, r2\n"
        "smlatt r6, lr, r12, r6\n"
        "smlabb r3, lr, r10, r3\n"
        "smlatt r7, lr, r10, r7\n"
        "ldr lr, [r0, #864]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r11, r3\n"
        "smlatt r7, lr, r11, r7\n"
        "ldr lr, [r0, #896]\n"
        "sxtb16 lr, lr\n"
        "smlabb r3, lr, r12, r3\n"
        "smlatt r7, lr, r12, r7\n"
        "smlabb r4, lr, r10, r4\n"
        "smlatt r8, lr, r10, r8\n"
        "ldr lr, [r0, #928]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r11, r4\n"
        "smlatt r8, lr, r11, r8\n"
        "ldr lr, [r0, #960]\n"
        "sxtb16 lr, lr\n"
        "smlabb r4, lr, r12, r4\n"
        "smlatt r8, lr, r12, r8\n"
        "stmia r1!, {r2-r9}\n"
        "tst r0, #1\n"
        "add r0, r0, #1\n"
        "beq 1b\n"
        "bl tf_dw_rqg\n"
        "bne 2b\n"
        "pop {r0}\n"
        "pop {r4-r11, pc}\n"
    );
}

/* Requantizes one group and steps the context to the next: called by the loops above
 * (a branch with link, not a C call) with the context at [sp, #4] once it pushed lr.
 * Per channel in acc's order, q holds {m, 2 * ebias, rnd, e}; the four channels of
 * pixels 0, 1, 2 go to out, out + stride, out + 2 * stride and of pixel 3 to out + off3,
 * saturated to int8. Returns with Z set after the last group. Not static: the assembly
 * calls it by name. */
void __attribute__((naked, noinline, used)) tf_dw_rqg(void) {
    __asm__ volatile(
        "push {lr}\n"
        "ldr lr, [sp, #4]\n"
        "add r0, lr, #24\n"
        "ldm lr, {r1, r2, r3, r12}\n"
        "ldmia r1!, {r4-r7}\n"
        "ldmia r0!, {r8-r11}\n"
        "add r8, r5, r8, lsl #1\n"
        "add lr, r6, r8, asr #31\n"
        "smmlar r8, r8, r4, lr\n"
        "asr r8, r8, r7\n"
        "ssat r8, #8, r8\n"
        "strb r8, [r2]\n"
        "add r9, r5, r9, lsl #1\n"
        "add lr, r6, r9, asr #31\n"
        "smmlar r9, r9, r4, lr\n"
        "asr r9, r9, r7\n"
        "ssat r9, #8, r9\n"
        "strb r9, [r2, r3]\n"
        "add r10, r5, r10, lsl #1\n"
        "add lr, r6, r10, asr #31\n"
        "smmlar r10, r10, r4, lr\n"
        "asr r10, r10, r7\n"
        "ssat r10, #8, r10\n"
        "strb r10, [r2, r3, lsl #1]\n"
        "add r11, r5, r11, lsl #1\n"
        "add lr, r6, r11, asr #31\n"
        "smmlar r11, r11, r4, lr\n"
        "asr r11, r11, r7\n"
        "ssat r11, #8, r11\n"
        "strb r11, [r2, r12]\n"
        "ldmia r1!, {r4-r7}\n"
        "ldmia r0!, {r8-r11}\n"
        "add r2, r2, #2\n"
        "add r8, r5, r8, lsl #1\n"
        "add lr, r6, r8, asr #31\n"
        "smmlar r8, r8, r4, lr\n"
        "asr r8, r8, r7\n"
        "ssat r8, #8, r8\n"
        "strb r8, [r2]\n"
        "add r9, r5, r9, lsl #1\n"
        "add lr, r6, r9, asr #31\n"
        "smmlar r9, r9, r4, lr\n"
        "asr r9, r9, r7\n"
        "ssat r9, #8, r9\n"
        "strb r9, [r2, r3]\n"
        "add r10, r5, r10, lsl #1\n"
        "add lr, r6, r10, asr #31\n"
        "smmlar r10, r10, r4, lr\n"
        "asr r10, r10, r7\n"
        "ssat r10, #8, r10\n"
        "strb r10, [r2, r3, lsl #1]\n"
        "add r11, r5, r11, lsl #1\n"
        "add lr, r6, r11, asr #31\n"
        "smmlar r11, r11, r4, lr\n"
        "asr r11, r11, r7\n"
        "ssat r11, #8, r11\n"
        "strb r11, [r2, r12]\n"
        "ldmia r1!, {r4-r7}\n"
        "ldmia r0!, {r8-r11}\n"
        "sub r2, r2, #1\n"
        "add r8, r5, r8, lsl #1\n"
        "add lr, r6, r8, asr #31\n"
        "smmlar r8, r8, r4, lr\n"
        "asr r8, r8, r7\n"
        "ssat r8, #8, r8\n"
        "strb r8, [r2]\n"
        "add r9, r5, r9, lsl #1\n"
        "add lr, r6, r9, asr #31\n"
        "smmlar r9, r9, r4, lr\n"
        "asr r9, r9, r7\n"
        "ssat r9, #8, r9\n"
        "strb r9, [r2, r3]\n"
        "add r10, r5, r10, lsl #1\n"
        "add lr, r6, r10, asr #31\n"
        "smmlar r10, r10, r4, lr\n"
        "asr r10, r10, r7\n"
        "ssat r10, #8, r10\n"
        "strb r10, [r2, r3, lsl #1]\n"
        "add r11, r5, r11, lsl #1\n"
        "add lr, r6, r11, asr #31\n"
        "smmlar r11, r11, r4, lr\n"
        "asr r11, r11, r7\n"
        "ssat r11, #8, r11\n"
        "strb r11, [r2, r12]\n"
        "ldmia r1!, {r4-r7}\n"
        "ldmia r0!, {r8-r11}\n"
        "add r2, r2, #2\n"
        "add r8, r5, r8, lsl #1\n"
        "add lr, r6, r8, asr #31\n"
        "smmlar r8, r8, r4, lr\n"
        "asr r8, r8, r7\n"
        "ssat r8, #8, r8\n"
        "strb r8, [r2]\n"
        "add r9, r5, r9, lsl #1\n"
        "add lr, r6, r9, asr #31\n"
        "smmlar r9, r9, r4, lr\n"
        "asr r9, r9, r7\n"
        "ssat r9, #8, r9\n"
        "strb r9, [r2, r3]\n"
        "add r10, r5, r10, lsl #1\n"
        "add lr, r6, r10, asr #31\n"
        "smmlar r10, r10, r4, lr\n"
        "asr r10, r10, r7\n"
        "ssat r10, #8, r10\n"
        "strb r10, [r2, r3, lsl #1]\n"
        "add r11, r5, r11, lsl #1\n"
        "add lr, r6, r11, asr #31\n"
        "smmlar r11, r11, r4, lr\n"
        "asr r11, r11, r7\n"
        "ssat r11, #8, r11\n"
        "strb r11, [r2, r12]\n"
        "ldr lr, [sp, #4]\n"
        "add r2, r2, #1\n"
        "ldr r0, [lr, #16]\n"
        "ldr r3, [lr, #20]\n"
        "add r0, r0, #4\n"
        "str r0, [lr, #16]\n"
        "stm lr, {r1, r2}\n"
        "subs r3, r3, #1\n"
        "str r3, [lr, #20]\n"
        "pop {pc}\n"
    );
}

/* Columns of a window into the buffer: cnt = (n << 16) | count columns of n bytes (a
 * multiple of 4, at most DW_CG), from s, C bytes apart (C = 0: the same block each time),
 * to d, DW_CG bytes apart; LDM/STM for 32, 16 and 8 bytes, a word loop otherwise. */
static void __attribute__((naked, noinline)) dw_cols(uint32_t *d, const int8_t *s, int32_t C,
                                                     uint32_t cnt) {
    (void)d, (void)s, (void)C, (void)cnt;
    __asm__ volatile(
        "push {r4-r11}\n"
        "lsr r12, r3, #16\n"
        "uxth r3, r3\n"
        "cbz r3, 9f\n"
        "cmp r12, #32\n"
        "beq 32f\n"
        "cmp r12, #16\n"
        "beq 16f\n"
        "cmp r12, #8\n"
        "beq 8f\n"
        "1:\n"
        "mov r4, #0\n"
        "2:\n"
        "ldr r5, [r1, r4]\n"
        "str r5, [r0, r4]\n"
        "add r4, r4, #4\n"
        "cmp r4, r12\n"
        "bne 2b\n"
        "add r0, r0, #32\n"
        "add r1, r1, r2\n"
        "subs r3, r3, #1\n"
        "bne 1b\n"
        "b 9f\n"
        "32:\n"
        "ldm r1, {r4-r11}\n"
        "stmia r0!, {r4-r11}\n"
        "add r1, r1, r2\n"
        "subs r3, r3, #1\n"
        "bne 32b\n"
        "b 9f\n"
        "16:\n"
        "ldm r1, {r4-r7}\n"
        "stm r0, {r4-r7}\n"
        "add r0, r0, #32\n"
        "add r1, r1, r2\n"
        "subs r3, r3, #1\n"
        "bne 16b\n"
        "b 9f\n"
        "8:\n"
        "ldrd r4, r5, [r1]\n"
        "strd r4, r5, [r0], #32\n"
        "add r1, r1, r2\n"
        "subs r3, r3, #1\n"
        "bne 8b\n"
        "9:\n"
        "pop {r4-r11}\n"
        "bx lr\n");
}

/* The 3 rows of a window of 6 or 9 columns inside the input when C == 8 (each row one
 * contiguous run), as dw_cols would copy them, with fewer instructions. */
static void __attribute__((naked, noinline)) dw_win8(uint32_t *d, const int8_t *s, int32_t WC,
                                                     int32_t ncols) {
    (void)d, (void)s, (void)WC, (void)ncols;
    __asm__ volatile(
        "push {r4-r11}\n"
        "mov r12, #3\n"
        "1:\n"
        "ldm r1, {r4-r11}\n"
        "strd r4, r5, [r0]\n"
        "strd r6, r7, [r0, #32]\n"
        "strd r8, r9, [r0, #64]\n"
        "strd r10, r11, [r0, #96]\n"
        "ldrd r4, r5, [r1, #32]\n"
        "ldrd r6, r7, [r1, #40]\n"
        "strd r4, r5, [r0, #128]\n"
        "strd r6, r7, [r0, #160]\n"
        "cmp r3, #6\n"
        "beq 2f\n"
        "ldrd r4, r5, [r1, #48]\n"
        "ldrd r6, r7, [r1, #56]\n"
        "ldrd r8, r9, [r1, #64]\n"
        "strd r4, r5, [r0, #192]\n"
        "strd r6, r7, [r0, #224]\n"
        "strd r8, r9, [r0, #256]\n"
        "2:\n"
        "add r1, r1, r2\n"
        "add r0, r0, #384\n"
        "subs r12, r12, #1\n"
        "bne 1b\n"
        "pop {r4-r11}\n"
        "bx lr\n");
}

/* the requantization constants of ngroups groups of four channels, in dw_rq's order:
 * {m, 2 * ebias, rnd = (2 * zp + 1) << (e - 1), e} for channels 0, 2, 1, 3; q[0] and
 * q[1] hold 2 * zp + 1 and ngroups on entry */
static void __attribute__((naked, noinline)) dw_tab(int32_t *q, const int32_t *mult,
                                                    const int32_t *ebias, const int8_t *shift) {
    (void)q, (void)mult, (void)ebias, (void)shift;
    __asm__ volatile(
        "push {r4-r9}\n"
        "ldrd r4, r5, [r0]\n"
        "1:\n"
        "ldr r6, [r1, #0]\n"
        "ldr r7, [r2, #0]\n"
        "ldrsb r9, [r3, #0]\n"
        "lsl r7, r7, #1\n"
        "mvn r8, r9\n"
        "lsl r8, r4, r8\n"
        "rsb r9, r9, #0\n"
        "stmia r0!, {r6-r9}\n"
        "ldr r6, [r1, #8]\n"
        "ldr r7, [r2, #8]\n"
        "ldrsb r9, [r3, #2]\n"
        "lsl r7, r7, #1\n"
        "mvn r8, r9\n"
        "lsl r8, r4, r8\n"
        "rsb r9, r9, #0\n"
        "stmia r0!, {r6-r9}\n"
        "ldr r6, [r1, #4]\n"
        "ldr r7, [r2, #4]\n"
        "ldrsb r9, [r3, #1]\n"
        "lsl r7, r7, #1\n"
        "mvn r8, r9\n"
        "lsl r8, r4, r8\n"
        "rsb r9, r9, #0\n"
        "stmia r0!, {r6-r9}\n"
        "ldr r6, [r1, #12]\n"
        "ldr r7, [r2, #12]\n"
        "ldrsb r9, [r3, #3]\n"
        "lsl r7, r7, #1\n"
        "mvn r8, r9\n"
        "lsl r8, r4, r8\n"
        "rsb r9, r9, #0\n"
        "stmia r0!, {r6-r9}\n"
        "add r1, r1, #16\n"
        "add r2, r2, #16\n"
        "add r3, r3, #4\n"
        "subs r5, r5, #1\n"
        "bne 1b\n"
        "pop {r4-r9}\n"
        "bx lr\n"
    );
}

/* the groups of a chunk with dw_mac_s1, dw_mac_s2, dw_mac3_s1 or dw_mac3_s2 (v 0..3) */
static inline __attribute__((always_inline)) void dw_run(int v, dw_ctx_t *X) {
    if (v == 0) {
        dw_mac_s1(X);
    } else if (v == 1) {
        dw_mac_s2(X);
    } else if (v == 2) {
        dw_mac3_s1(X);
    } else {
        dw_mac3_s2(X);
    }
}

/* byte-wise max(x, lo) and min(x, hi) */
static inline uint32_t dw_clamp8(uint32_t x, uint32_t lo, uint32_t hi) {
    uint32_t t;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(t) : "r"(x), "r"(lo) : "cc");
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(x) : "r"(t), "r"(hi) : "cc");
    return x;
}

/* the driver is not the hot part: optimized for size */
__attribute__((optimize("Os"))) int
tf_depthwise_s8_fast(const tf_conv_params_t *pp, const int8_t *input, const int8_t *filter,
                     const int32_t *ebias, const int32_t *mult, const int8_t *shift,
                     int8_t *output) {
    const tf_conv_params_t P = *pp, *p = &P;
    const int32_t C = p->in_c, S = p->stride_w;
    if (p->rq_fast != 1 || p->depth_multiplier != 1 || p->k_h != 3 || p->k_w != 3 ||
        p->dil_h != 1 || p->dil_w != 1 || (S != 1 && S != 2) || p->stride_h != S ||
        (C & 3) != 0 || (((uintptr_t)input | (uintptr_t)filter) & 3) != 0) {
        return 0;
    }
    for (int32_t c = 0; c < C; c++) {
        if (mult[c] <= (1 << 30) || shift[c] >= 0 || ebias[c] > DW_EB_MAX ||
            ebias[c] < -DW_EB_MAX) {
            return 0;
        }
    }
    const int32_t H = p->in_h, W = p->in_w, OH = p->out_h, OW = p->out_w, WC = W * C;
    const int32_t zp = p->output_offset;
    const int full = p->act_min == -128 && p->act_max == 127;
    const uint32_t lo = 0x01010101u * (uint8_t)p->act_min, hi = 0x01010101u * (uint8_t)p->act_max;
    uint32_t gbuf[(3 * DW_RS + 4) / 4] = {0}; /* +4: the odd pass reads one byte further */
    int32_t rq[4 * DW_CG];
    dw_ctx_t X;
    uint32_t tile[4], spill[DW_CG / 4 + 1]; /* spill: pixel 3 of blocks of 3 */
    const uint32_t zw = 0x01010101u * (uint8_t)(-p->input_offset);
    uint32_t zpb[DW_CG / 4];
    for (int32_t i = 0; i < DW_CG / 4; i++) {
        zpb[i] = zw;
    }
    const int8_t *const zsrc = (const int8_t *)(const void *)zpb;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (ptrdiff_t)b * H * W * C;
        for (int32_t oy = 0; oy < OH; oy++) {
            const int32_t iy0 = oy * S - p->pad_top;
            for (int32_t ox0 = 0, np; ox0 < OW; ox0 += np) {
                /* blocks of 4, and of 3 for the last 3 or 6 pixels of a row */
                np = OW - ox0 == 3 || OW - ox0 == 6 ? 3 : tf_min_i32(4, OW - ox0);
                const int v = (np == 3) * 2 + (S == 2); /* which dw_mac* */
                int8_t *out_b = output + (((ptrdiff_t)b * OH + oy) * OW + ox0) * C;
                const int32_t ncols = (np - 1) * S + 3;
                const int32_t ix0 = ox0 * S - p->pad_left;
                for (int32_t c0 = 0; c0 < C; c0 += DW_CG) {
                    const int32_t n = tf_min_i32(DW_CG, C - c0);
                    const uint32_t nk = (uint32_t)n << 16; /* dw_cols' column size */
                    if (C > DW_CG || (b | oy | ox0) == 0) { /* the chunk's taps, constants */
                        for (int32_t ky = 0; ky < 3; ky++) {
                            dw_cols(gbuf + (ky * DW_RS + DW_NC * DW_CG) / 4,
                                    filter + 3 * ky * C + c0, C, nk | 3);
                        }
                        rq[0] = 2 * zp + 1;
                        rq[1] = n / 4;
                        dw_tab(rq, mult + c0, ebias + c0, shift + c0);
                    }
                    /* the window of channels [c0, c0 + n): zero points (copied with stride
                     * 0 from zpb), input, zero points */
                    const int32_t j0 = tf_min_i32(tf_max_i32(-ix0, 0), ncols);
                    const int32_t j1 = tf_max_i32(tf_min_i32(W - ix0, ncols), j0);
                    if (j0 == 0 && j1 == ncols && iy0 >= 0 && iy0 + 3 <= H) {
                        const int8_t *rp = in_b + ((ptrdiff_t)iy0 * W + ix0) * C + c0;
                        if (C == 8 && (ncols == 6 || ncols == 9)) {
                            dw_win8(gbuf, rp, WC, ncols);
                        } else for (int32_t ky = 0; ky < 3; ky++, rp += WC) {
                            dw_cols(gbuf + ky * (DW_RS / 4), rp, C, nk | ncols);
                        }
                    } else for (int32_t ky = 0; ky < 3; ky++) {
                        const int32_t iy = iy0 + ky;
                        uint32_t *d = gbuf + ky * (DW_RS / 4);
                        if (iy < 0 || iy >= H) {
                            dw_cols(d, zsrc, 0, nk | ncols);
                            continue;
                        }
                        dw_cols(d, zsrc, 0, nk | j0);
                        dw_cols(d + j0 * (DW_CG / 4), in_b + ((ptrdiff_t)iy * W + ix0 + j0) * C + c0,
                                C, nk | (j1 - j0));
                        dw_cols(d + j1 * (DW_CG / 4), zsrc, 0, nk | (ncols - j1));
                    }
                    X.g = (const uint8_t *)gbuf;
                    X.q = rq;
                    if (np >= 3 && full) { /* straight into the output */
                        X.out = out_b + c0;
                        X.stride = C;
                        X.off3 = np == 4 ? 3 * C : (int32_t)((uintptr_t)spill - (uintptr_t)X.out);
                        X.count = n / 4;
                        dw_run(v, &X);
                        continue;
                    }
                    for (int32_t k = 0; k < n; k += 4) { /* through a 4x4 tile */
                        X.out = (int8_t *)tile;
                        X.stride = 4;
                        X.off3 = 12;
                        X.count = 1;
                        dw_run(v, &X);
                        int8_t *o = out_b + c0 + k;
                        for (int32_t q = 0; q < np; q++, o += C) {
                            *(tf_u32_unaligned *)(void *)o = full ? tile[q]
                                                                  : dw_clamp8(tile[q], lo, hi);
                        }
                    }
                }
            }
        }
    }
    return 1;
}
#else
typedef int tf_conv_dw_unused;
#endif
