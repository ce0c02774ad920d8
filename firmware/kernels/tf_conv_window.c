/*
 * Small-window int8 CONV_2D for cores with the DSP extension and no Helium: a 3x3
 * stride-2 stem over one or three input channels and other layers whose whole window
 * (k_h * k_w * in_c taps, at most 64) is small, one group, the full int8 output clamp
 * (no activation, or one the output range already ends at, like ReLU and ReLU6 with
 * calibrated ranges). Anything else is declined, and tf_conv.c's kernels run.
 *
 * Once per call the weights and the requantization constants go into a table on the
 * stack in the order the kernel reads them; per output pixel the window is gathered
 * once (padding taps get the input zero point, which the folded bias cancels exactly) as
 * int16 pairs; then each output channel costs one SMLAD per pair of taps and a few
 * instructions of requantization:
 *
 *   With the accumulator doubled (weights or window, and bias, times two; the per-layer
 *   bound below makes sure it fits), SMMLAR(rnd, acc2, m) = rnd + floor((acc * m + 2^30)
 *   / 2^31) = rnd + h, tf_requant.h's h, in one instruction. tf_rq_apply also subtracts
 *   1 when h < 0; that changes the result only for an h < 0, where both values are at
 *   most the output zero point, so when act_min >= zero point (ReLU, ReLU6, ...) the
 *   clamp makes them equal and the correction is skipped. Otherwise it is done (SMMULR,
 *   two adds).
 *
 *   Fixed shift: when every channel's shift e lies in [E - 6, E - 1] for one of the E
 *   the code is built for (10, 15, 20), weights and bias are scaled by 2^(E - e + 1)
 *   instead (int16 lanes and the int32 accumulator are checked to hold them); then
 *   floor((h + rnd) / 2^e) = floor((SMMLA(a, acc', m)) / 2^E) with a = 2^(E-e-1) +
 *   2^(E-1) + zp 2^E, and SSAT's own shift does the division: SMMLA, SSAT, STRB.
 *
 * The 3x3 path (k_w * in_c == 3, k_h == 3, i.e. 3x3 over one channel or 3x1 over three)
 * keeps the window in five registers: per kernel row one unaligned word load gives bytes
 * 0,2 (SXTB16) and 1,3 (SXTB16 ror 8; byte 3 meets a zero weight), the first two rows'
 * middle bytes share a pair; each output channel then is one LDM of five weight pairs
 * and the bias, five SMLAD, one LDM of the requantization constants, the requantization
 * and a store, four channels per loop turn. Interior pixels load straight from the
 * input; pixels whose window touches the padding load from a padded strip of their three
 * rows on the stack, the right edge as a second segment of the same row loop.
 *
 * The general path keeps the window as doubled int16 pairs in memory and the weights as
 * int16 pairs when the table has room (per eight taps: one LDM of four window pairs, one
 * of four weight pairs, four SMLAD), else int8 (so 32 channels of a 3x3x3 window fit:
 * one LDM of two weight words, four SXTB16 more).
 *
 * Memory contract: every output pixel's window is read before any of its outputs is
 * written, pixels in raster order (a strip is read ahead of the pixels it serves, which
 * is always safe). The 3x3 path's word loads read one byte past a window row (inside the
 * input row, or in the strip); its weight is zero. Stack: at most about 1.9 KiB.
 */
#include "tf_conv_fast.h"

#include "tf_requant.h"

#if TF_CONV_FAST

#define TFW_TBL_WORDS 288 /* the 3x3 path's table: 1152 bytes */

/* Gathers the window of the output pixel whose top-left input is (iy0, ix0) into win
 * (tap order ky, kx, c), padding taps set to pad. */
static void tfw_gather(const tf_conv_params_t *p, const int8_t *in_b, int32_t iy0,
                       int32_t ix0, int8_t pad, int8_t *win) {
    const int32_t C = p->in_c;
    for (int32_t ky = 0; ky < p->k_h; ky++) {
        const int32_t iy = iy0 + p->dil_h * ky;
        for (int32_t kx = 0; kx < p->k_w; kx++) {
            const int32_t ix = ix0 + p->dil_w * kx;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                for (int32_t c = 0; c < C; c++) {
                    *win++ = pad;
                }
            } else {
                const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * C;
                for (int32_t c = 0; c < C; c++) {
                    *win++ = x[c];
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* 3x3 (L3 order), clamp to the full int8 range (no activation, or one the output range
 * already ends at). Table per channel: w0..w4, bias2, m, rnd, e (bit 31 set on the last
 * channel); in the fixed-shift form w0..w4, bias scaled by 2^(d+1), m, the SMMLA addend,
 * 0 (bit 31 on the last channel). */

#define TFW_RQ_FAST                                                                        \
    "smmlar lr, lr, r8, r9\n\t"                                                            \
    "asr lr, lr, r10\n\t"
#define TFW_RQ_CORR                                                                        \
    "smmulr lr, lr, r8\n\t"                                                                \
    "add lr, lr, lr, asr #31\n\t"                                                          \
    "add lr, lr, r9\n\t"                                                                   \
    "asr lr, lr, r10\n\t"
#define TFW_CL_SAT "ssat lr, #8, lr\n\t"
/* the fixed-shift form: SMMLA, then the shift inside SSAT */
#define TFW_RQ_FE "smmla lr, lr, r8, r9\n\t"
#define TFW_CL_FE(E) "ssat lr, #8, lr, asr #" E "\n\t"
#define TFW_NFE 3
static const int8_t tfw_fe[TFW_NFE] = {10, 15, 20}; /* as in tfw_row3's cases 4.. */
/* Runs of pixels of one output row: the window of each comes from three unaligned word
 * loads (rows p, p + rs, p + 2 rs), then the channels, four per loop turn (a count not a
 * multiple of four enters at a later one: that code address is worked out once per
 * call). Two segments: (p, rs) until the output reaches oend, then (p2, rs2) until oend2
 * (an edge strip; oend2 == oend when there is none). The loop state lives on the stack:
 * [sp] tbl, p, rs, step, entry, oend, p2, rs2, oend2. */
#define TFW_CH(LDQ, RQ, CL)                                                                \
    "ldm r6!, {r8, r9, r10, r11, r12, lr}\n\t"                                             \
    "smlad lr, r0, r8, lr\n\t"                                                             \
    "smlad lr, r1, r9, lr\n\t"                                                             \
    "smlad lr, r2, r10, lr\n\t"                                                            \
    "smlad lr, r3, r11, lr\n\t"                                                            \
    "smlad lr, r4, r12, lr\n\t" LDQ RQ CL "strb lr, [r5], #1\n\t"
#define TFW_ROW(LDQ, RQ, CL)                                                               \
    "adr r11, 10f\n\t"                                                                     \
    "cbz r4, 1f\n\t"                                                                       \
    "cmp r4, #1\n\t"                                                                       \
    "it eq\n\t"                                                                            \
    "adreq r11, 11f\n\t"                                                                   \
    "cmp r4, #2\n\t"                                                                       \
    "it eq\n\t"                                                                            \
    "adreq r11, 12f\n\t"                                                                   \
    "cmp r4, #3\n\t"                                                                       \
    "it eq\n\t"                                                                            \
    "adreq r11, 13f\n\t"                                                                   \
    "1:\n\t"                                                                               \
    "mov r4, r11\n\t"                                                                      \
    "push {r0, r1, r2, r3, r4, r6, r8, r9, r10}\n\t"                                       \
    "2:\n\t"                                                                               \
    "ldm sp, {r6, r8, r9, r10, r11}\n\t"                                                   \
    "add r10, r8, r10\n\t"                                                                 \
    "str r10, [sp, #4]\n\t"                                                                \
    "ldr r10, [r8, r9]\n\t"                                                                \
    "ldr r12, [r8, r9, lsl #1]\n\t"                                                        \
    "ldr r8, [r8]\n\t"                                                                     \
    "sxtb16 r0, r8\n\t"                                                                    \
    "sxtb16 r1, r10\n\t"                                                                   \
    "sxtb16 r2, r12\n\t"                                                                   \
    "sxtb16 r8, r8, ror #8\n\t"                                                            \
    "sxtb16 r10, r10, ror #8\n\t"                                                          \
    "sxtb16 r4, r12, ror #8\n\t"                                                           \
    "pkhbt r3, r8, r10, lsl #16\n\t"                                                       \
    "mov pc, r11\n\t"                                                                      \
    "10:\n\t" TFW_CH(LDQ, RQ, CL) "11:\n\t" TFW_CH(LDQ, RQ, CL)                            \
    "12:\n\t" TFW_CH(LDQ, RQ, CL) "13:\n\t" TFW_CH(LDQ, RQ, CL)                            \
    "cmp r10, #0\n\t"                                                                      \
    "bge 10b\n\t"                                                                          \
    "ldr lr, [sp, #20]\n\t"                                                                \
    "cmp r5, lr\n\t"                                                                       \
    "bne 2b\n\t"                                                                           \
    "ldr r8, [sp, #32]\n\t"                                                                \
    "cmp r5, r8\n\t"                                                                       \
    "beq 9f\n\t"                                                                           \
    "ldrd r9, r10, [sp, #24]\n\t"                                                          \
    "strd r9, r10, [sp, #4]\n\t"                                                           \
    "str r8, [sp, #20]\n\t"                                                                \
    "b 2b\n\t"                                                                             \
    "9:\n\t"                                                                               \
    "add sp, sp, #36\n\t"
#define TFW_LDQ3R "ldm r6!, {r8, r9, r10}\n\t"
#define TFW_ROW_LOOP(LDQ, RQ, CL)                                                          \
    __asm__ volatile(TFW_ROW(LDQ, RQ, CL)                                                  \
                     : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5),         \
                       "+r"(r6), "+r"(r8), "+r"(r9), "+r"(r10)                             \
                     :                                                                     \
                     : "r11", "r12", "lr", "cc", "memory")

typedef struct {
    const int8_t *p; /* the first pixel's window, row 0 */
    int32_t rs;      /* bytes between window rows */
    int8_t *oend;    /* where the segment's output ends */
} tfw_seg_t;

static void tfw_row3(int variant, const int32_t *tbl, int32_t skip, int32_t step, int8_t *o,
                     tfw_seg_t a, tfw_seg_t b) {
    register const int32_t *r0 __asm__("r0") = tbl;
    register const int8_t *r1 __asm__("r1") = a.p;
    register int32_t r2 __asm__("r2") = a.rs;
    register int32_t r3 __asm__("r3") = step;
    register int32_t r4 __asm__("r4") = skip; /* channel slots to skip: (4 - out_c % 4) % 4 */
    register int8_t *r5 __asm__("r5") = o;
    register int8_t *r6 __asm__("r6") = a.oend;
    register const int8_t *r8 __asm__("r8") = b.p;
    register int32_t r9 __asm__("r9") = b.rs;
    register int8_t *r10 __asm__("r10") = b.oend;
    switch (variant) {
    case 0: TFW_ROW_LOOP(TFW_LDQ3R, TFW_RQ_FAST, TFW_CL_SAT); break;
    case 1: TFW_ROW_LOOP(TFW_LDQ3R, TFW_RQ_CORR, TFW_CL_SAT); break;
    case 4: TFW_ROW_LOOP(TFW_LDQ3R, TFW_RQ_FE, TFW_CL_FE("10")); break;
    case 5: TFW_ROW_LOOP(TFW_LDQ3R, TFW_RQ_FE, TFW_CL_FE("15")); break;
    default: TFW_ROW_LOOP(TFW_LDQ3R, TFW_RQ_FE, TFW_CL_FE("20")); break;
    }
}

#define TFW_STRIP 64 /* bytes per kernel row of an edge strip */

/* Where n pixels from column ox find their bytes in an input row: from byte b0 of the row,
 * len bytes of which [lo, hi) are inside it. */
typedef struct {
    int32_t b0, len, lo, hi;
} tfw_span_t;

static tfw_span_t tfw_span(const tf_conv_params_t *p, int32_t ox, int32_t n) {
    const int32_t C = p->in_c, rowlen = p->in_w * C;
    tfw_span_t s;
    s.b0 = (ox * p->stride_w - p->pad_left) * C;
    s.len = (n - 1) * p->stride_w * C + 4; /* the word loads read one byte more */
    s.lo = tf_min_i32(tf_max_i32(-s.b0, 0), s.len);
    s.hi = tf_max_i32(tf_min_i32(rowlen - s.b0, s.len), s.lo);
    return s;
}

/* Fills strip with the three kernel rows of the span of an output row, padding where the
 * window leaves the input. */
static void tfw_fill(const tf_conv_params_t *p, const int8_t *in_b, int32_t iy0,
                     const tfw_span_t *sp, int8_t *strip) {
    const int32_t rowlen = p->in_w * p->in_c;
    const uint32_t padw = (uint32_t)(uint8_t)(-p->input_offset) * 0x01010101u;
    const int32_t len = sp->len, lo = sp->lo, hi = sp->hi;
    for (int32_t ky = 0; ky < 3; ky++) {
        const int32_t iy = iy0 + p->dil_h * ky;
        int8_t *d = strip + ky * TFW_STRIP;
        for (int32_t j = 0; j < len; j += 4) {
            *(tf_u32_unaligned *)(void *)(d + j) = padw;
        }
        if (iy >= 0 && iy < p->in_h) {
            const int8_t *r = in_b + (size_t)iy * rowlen + sp->b0;
            int32_t j = lo;
            for (; j + 4 <= hi; j += 4) {
                *(tf_u32_unaligned *)(void *)(d + j) =
                    *(const tf_u32_unaligned *)(const void *)(r + j);
            }
            for (; j < hi; j++) {
                d[j] = r[j];
            }
        }
    }
}

/* Pixels [ox, ox_end) of an output row through edge strips, a chunk at a time. */
static void tfw_strip3(const tf_conv_params_t *p, const int8_t *in_b, int32_t iy0,
                       int32_t ox, int32_t ox_end, const int32_t *tbl, int variant,
                       int8_t *o, int8_t *strip) {
    const int32_t OC = p->out_c, step = p->stride_w * p->in_c;
    const int32_t nmax = (TFW_STRIP - 4) / step + 1;
    while (ox < ox_end) {
        const int32_t n = tf_min_i32(nmax, ox_end - ox);
        const tfw_span_t sp = tfw_span(p, ox, n);
        tfw_fill(p, in_b, iy0, &sp, strip);
        const tfw_seg_t s = {strip, TFW_STRIP, o + (size_t)n * OC};
        tfw_row3(variant, tbl, (4 - OC % 4) % 4, step, o, s, s);
        o = s.oend;
        ox += n;
    }
}

__attribute__((noinline)) static void tfw_run3(const tf_conv_params_t *p,
                                               const int8_t *input, const int8_t *filter,
                                               const int32_t *ebias, const int32_t *mult,
                                               const int8_t *shift, int32_t fe, int variant,
                                               int8_t *output) {
    /* table per channel: w0..w4, bias (scaled), m, rnd or the SMMLA addend, e or 0 */
    int32_t tbl[TFW_TBL_WORDS];
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        static const int8_t lane_tap[10] = {0, 2, 3, 5, 6, 8, 1, 4, 7, -1};
        const int8_t *w = filter + (size_t)oc * 9;
        int32_t *t = tbl + oc * 9;
        int16_t *l = (int16_t *)(void *)t;
        const int32_t e = -shift[oc];
        const int32_t sc = fe ? 1 << (fe - e + 1) : 2; /* the accumulator's scale */
        for (int32_t j = 0; j < 10; j++) {
            l[j] = (int16_t)(lane_tap[j] < 0 ? 0 : sc * w[lane_tap[j]]);
        }
        t[5] = sc * ebias[oc];
        t[6] = mult[oc];
        if (fe) { /* SMMLA: 2^(d-1) + 2^(E-1) + zp 2^E */
            t[7] = (int32_t)(((uint32_t)1 << (fe - e - 1)) + ((uint32_t)1 << (fe - 1)) +
                             ((uint32_t)p->output_offset << fe));
            t[8] = 0;
        } else {
            t[7] = tf_rq_rnd(e, p->output_offset);
            t[8] = e;
        }
    }
    tbl[(p->out_c - 1) * 9 + 8] |= (int32_t)0x80000000u; /* the last channel */
    const int32_t C = p->in_c, OC = p->out_c, SW = p->stride_w;
    const int32_t rs = p->dil_h * p->in_w * C; /* between kernel rows */
    const int32_t span_h = 2 * p->dil_h;
    const int32_t nmax = (TFW_STRIP - 4) / (SW * C) + 1;
    /* interior columns: ix0 >= 0 and the word at ix0 * C inside the input row */
    int32_t ox_lo = (p->pad_left + SW - 1) / SW;
    int32_t ox_hi = 0; /* first ox past the interior */
    if (p->in_w * C >= 4) {
        ox_hi = ((p->in_w * C - 4) / C + p->pad_left) / SW + 1;
    }
    ox_hi = tf_min_i32(ox_hi, p->out_w);
    ox_lo = tf_min_i32(ox_lo, ox_hi);
    const int32_t n_right = p->out_w - ox_hi;
    const tfw_span_t right = tfw_span(p, ox_hi, n_right > 0 ? n_right : 1);
    int8_t strip[3 * TFW_STRIP];
    int8_t *o = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            if (iy0 >= 0 && iy0 + span_h < p->in_h && ox_lo < ox_hi) {
                if (ox_lo > 0) {
                    tfw_strip3(p, in_b, iy0, 0, ox_lo, tbl, variant, o, strip);
                    o += (size_t)ox_lo * OC;
                }
                const tfw_seg_t in = {
                    in_b + ((size_t)iy0 * p->in_w + ox_lo * SW - p->pad_left) * C, rs,
                    o + (size_t)(ox_hi - ox_lo) * OC};
                tfw_seg_t edge = in;
                if (n_right > 0 && n_right <= nmax) { /* the right edge as a second segment */
                    tfw_fill(p, in_b, iy0, &right, strip);
                    edge.p = strip;
                    edge.rs = TFW_STRIP;
                    edge.oend = in.oend + (size_t)n_right * OC;
                }
                tfw_row3(variant, tbl, (4 - OC % 4) % 4, SW * C, o, in, edge);
                o = edge.oend;
                if (n_right > nmax) {
                    tfw_strip3(p, in_b, iy0, ox_hi, p->out_w, tbl, variant, o, strip);
                    o += (size_t)n_right * OC;
                }
            } else {
                tfw_strip3(p, in_b, iy0, 0, p->out_w, tbl, variant, o, strip);
                o += (size_t)p->out_w * OC;
            }
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* Any window of up to 64 taps, in groups of eight: the window as int16 pairs, doubled, in
 * SXTB16's order per four taps (0 2 | 1 3); the weights as int16 pairs in the same order
 * or, when those do not fit the table, int8 (raw filter bytes, four to a word) unpacked
 * by SXTB16 as they are used. Per output channel: the doubled bias, the groups (fully
 * unrolled, entered at the group count), the requantization and the store. Table per
 * channel: bias2, 4 G (or 2 G) weight words, m, rnd, e (bit 31 set on the last channel). */
#define TFW_QG_MAX 8 /* groups of eight taps */
#define TFW_QTBL_WORDS 384 /* 1536 bytes */

#define TFW_QGROUP                                                                         \
    "ldm.w r4!, {r0, r1, r2, r3}\n\t"                                                      \
    "ldm.w r5!, {r8, r9}\n\t"                                                              \
    "sxtb16 r10, r8\n\t"                                                                   \
    "sxtb16 r11, r8, ror #8\n\t"                                                           \
    "smlad r12, r0, r10, r12\n\t"                                                          \
    "smlad r12, r1, r11, r12\n\t"                                                          \
    "sxtb16 r10, r9\n\t"                                                                   \
    "sxtb16 r11, r9, ror #8\n\t"                                                           \
    "smlad r12, r2, r10, r12\n\t"                                                          \
    "smlad r12, r3, r11, r12\n\t"
/* the same with the weights already int16 pairs (when the table has room for them) */
#define TFW_QGROUP16                                                                       \
    "ldm.w r4!, {r0, r1, r2, r3}\n\t"                                                      \
    "ldm.w r5!, {r8, r9, r10, r11}\n\t"                                                    \
    "smlad r12, r0, r8, r12\n\t"                                                           \
    "smlad r12, r1, r9, r12\n\t"                                                           \
    "smlad r12, r2, r10, r12\n\t"                                                          \
    "smlad r12, r3, r11, r12\n\t"
#define TFW_QRQ_FAST                                                                       \
    "smmlar r12, r12, r0, r1\n\t"                                                          \
    "asr r12, r12, r2\n\t"
#define TFW_QRQ_CORR                                                                       \
    "smmulr r12, r12, r0\n\t"                                                              \
    "add r12, r12, r12, asr #31\n\t"                                                       \
    "add r12, r12, r1\n\t"                                                                 \
    "asr r12, r12, r2\n\t"
/* r4: window (and lr its start), r5: table, r6: output, r7 untouched; r8: 8 - G */
#define TFW_QPIX(GROUP, GBYTES, RQ)                                                        \
    "adr r9, 10f\n\t"                                                                      \
    "movs r10, #" GBYTES "\n\t"                                                            \
    "mla r9, r8, r10, r9\n\t"                                                              \
    "orr r9, r9, #1\n\t"                                                                   \
    "push {r9}\n\t"                                                                        \
    "mov lr, r4\n\t"                                                                       \
    "1:\n\t"                                                                               \
    "mov r4, lr\n\t"                                                                       \
    "ldr r12, [r5], #4\n\t"                                                                \
    "ldr pc, [sp]\n\t"                                                                     \
    "10:\n\t" GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP                              \
    "ldm r5!, {r0, r1, r2}\n\t" RQ                                                         \
    "ssat r12, #8, r12\n\t"                                                                \
    "strb r12, [r6], #1\n\t"                                                               \
    "cmp r2, #0\n\t"                                                                       \
    "bge 1b\n\t"                                                                           \
    "add sp, sp, #4\n\t"
#define TFW_QPIX_ASM(GROUP, GBYTES, RQ)                                                    \
    __asm__ volatile(TFW_QPIX(GROUP, GBYTES, RQ)                                           \
                     : "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r8)                              \
                     :                                                                     \
                     : "r0", "r1", "r2", "r3", "r9", "r10", "r11", "r12", "lr", "cc",      \
                       "memory")

/* variant: bit 0 the rounding correction, bit 1 int16 weights */
static void tfw_qpix(int variant, const uint32_t *xw, const int32_t *tbl, int32_t groups,
                     int8_t *o) {
    register const uint32_t *r4 __asm__("r4") = xw;
    register const int32_t *r5 __asm__("r5") = tbl;
    register int8_t *r6 __asm__("r6") = o;
    register int32_t r8 __asm__("r8") = TFW_QG_MAX - groups;
    switch (variant) {
    case 0: TFW_QPIX_ASM(TFW_QGROUP, "40", TFW_QRQ_FAST); break;
    case 1: TFW_QPIX_ASM(TFW_QGROUP, "40", TFW_QRQ_CORR); break;
    case 2: TFW_QPIX_ASM(TFW_QGROUP16, "24", TFW_QRQ_FAST); break;
    default: TFW_QPIX_ASM(TFW_QGROUP16, "24", TFW_QRQ_CORR); break;
    }
}

__attribute__((noinline)) static int tfw_runq(const tf_conv_params_t *p, const int8_t *input,
                                              const int8_t *filter, const int32_t *ebias,
                                              const int32_t *mult, const int8_t *shift,
                                              int corr, int8_t *output) {
    const int32_t C = p->in_c, OC = p->out_c;
    const int32_t K = p->k_h * p->k_w * C;
    const int32_t G = (K + 7) / 8;
    /* int16 weights when they fit, else int8 (unpacked as they are used) */
    const int w16 = OC * (4 * G + 4) <= TFW_QTBL_WORDS;
    const int32_t wwords = w16 ? 4 * G : 2 * G, stride = wwords + 4;
    if (OC * stride > TFW_QTBL_WORDS) {
        return 0;
    }
    int32_t tbl[TFW_QTBL_WORDS];
    for (int32_t oc = 0; oc < OC; oc++) {
        int32_t *t = tbl + oc * stride;
        const int8_t *w = filter + (size_t)oc * K;
        const int32_t e = -shift[oc];
        t[0] = 2 * ebias[oc];
        if (w16) { /* per four taps 0 2 | 1 3, as the window */
            int16_t *l = (int16_t *)(void *)(t + 1);
            for (int32_t k = 0; k < 8 * G; k++) {
                static const int8_t lane[4] = {0, 2, 1, 3};
                l[(k & ~3) + lane[k & 3]] = (int16_t)(k < K ? w[k] : 0);
            }
        } else {
            int8_t *tb = (int8_t *)(void *)(t + 1);
            for (int32_t k = 0; k < 8 * G; k++) {
                tb[k] = k < K ? w[k] : 0;
            }
        }
        t[wwords + 1] = mult[oc];
        t[wwords + 2] = tf_rq_rnd(e, p->output_offset);
        t[wwords + 3] = e;
    }
    tbl[(OC - 1) * stride + wwords + 3] |= (int32_t)0x80000000u; /* the last channel */

    const int8_t pad = (int8_t)(-p->input_offset);
    const int32_t row = p->k_w * C;
    int8_t win[8 * TFW_QG_MAX];
    uint32_t xw[4 * TFW_QG_MAX];
    for (int32_t k = K; k < 8 * G; k++) {
        win[k] = 0; /* the tail taps (zero weights) */
    }
    int8_t *o = output;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *in_b = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int rows_in = iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ox++, o += OC) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                if (rows_in && p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
                    /* inside: k_h runs of k_w * C bytes */
                    int8_t *d = win;
                    for (int32_t ky = 0; ky < p->k_h; ky++, d += row) {
                        const int8_t *x =
                            in_b + ((size_t)(iy0 + p->dil_h * ky) * p->in_w + ix0) * C;
                        int32_t j = 0;
                        for (; j + 4 <= row; j += 4) {
                            *(tf_u32_unaligned *)(void *)(d + j) =
                                *(const tf_u32_unaligned *)(const void *)(x + j);
                        }
                        for (; j < row; j++) {
                            d[j] = x[j];
                        }
                    }
                } else {
                    tfw_gather(p, in_b, iy0, ix0, pad, win);
                }
                for (int32_t q = 0; q < 2 * G; q++) { /* doubled int16 pairs */
                    const uint32_t w = *(const tf_u32_unaligned *)(const void *)(win + 4 * q);
                    const int32_t ev = __sxtb16(w), od = tf_sxtb16_ror8(w);
                    xw[2 * q] = (uint32_t)__sadd16(ev, ev);
                    xw[2 * q + 1] = (uint32_t)__sadd16(od, od);
                }
                tfw_qpix(corr + 2 * w16, xw, tbl, G, o);
            }
        }
    }
    return 1;
}

int tf_conv_window_s8_fast(const tf_conv_params_t *p, const int8_t *input,
                           const int8_t *filter, const int32_t *ebias, const int32_t *mult,
                           const int8_t *shift, int8_t *output) {
    const int32_t C = p->in_c, OC = p->out_c;
    const int32_t K = p->k_h * p->k_w * C;
    /* the full int8 clamp (no activation, or one the output range already ends at) */
    const int full = p->act_min <= -128 && p->act_max >= 127;
    if (p->rq_fast != 1 || p->filter_in_c != C || p->k_h * p->k_w <= 1 ||
        K > 8 * TFW_QG_MAX || OC < 1 || C < 1 || !full) {
        return 0;
    }
    /* the 3x3 path: 3x3 over one channel (or 3x1 over three) */
    const int l3 = p->k_h == 3 && p->k_w * C == 3 && (p->dil_w == 1 || p->k_w == 1) &&
                   OC * 9 <= TFW_TBL_WORDS;
    const int corr = p->act_min < p->output_offset;
    /* the overflow bound of each channel's accumulator, and the fixed-shift form */
    int32_t emin = 31, emax = 1, fe = 0;
    int32_t wmax_all = 0;
    int64_t bmax_all = 0;
    for (int32_t oc = 0; oc < OC; oc++) {
        const int8_t *w = filter + (size_t)oc * K;
        int32_t sabs = 0;
        for (int32_t k = 0; k < K; k++) {
            const int32_t a = w[k] < 0 ? -w[k] : w[k];
            sabs += a;
            wmax_all = tf_max_i32(wmax_all, a);
        }
        const int32_t bias = ebias[oc];
        /* |acc| <= |bias| + 128 * sum |w| must stay below 2^30 for the doubling */
        const int64_t bound = (int64_t)(bias < 0 ? -(int64_t)bias : bias) + 128 * (int64_t)sabs;
        if (bound >= ((int64_t)1 << 30) || shift[oc] > -1 || shift[oc] < -31 || mult[oc] < 0) {
            return 0;
        }
        bmax_all = bound > bmax_all ? bound : bmax_all;
        emin = tf_min_i32(emin, -shift[oc]);
        emax = tf_max_i32(emax, -shift[oc]);
    }
    if (!l3) {
        return tfw_runq(p, input, filter, ebias, mult, shift, corr, output);
    }
    if (!corr) {
        /* one shift for all channels, E = e + d with 1 <= d: weights and bias scaled by
         * 2^(d + 1) (int16 lanes, int32 accumulator must hold them) */
        for (int32_t i = 0; i < TFW_NFE && !fe; i++) {
            const int32_t E = tfw_fe[i], d = E - emin;
            if (E - emax >= 1 && (int64_t)wmax_all << (d + 1) <= 32767 &&
                bmax_all << d < ((int64_t)1 << 30)) {
                fe = E;
            }
        }
    }
    int variant = corr ? 1 : 0;
    for (int32_t i = 0; i < TFW_NFE; i++) {
        variant = fe == tfw_fe[i] ? 4 + i : variant;
    }
    tfw_run3(p, input, filter, ebias, mult, shift, fe, variant, output);
    return 1;
}
#else
typedef int tf_conv_window_unused;
#endif
