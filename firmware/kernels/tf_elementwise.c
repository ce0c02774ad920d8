#include "tf_elementwise.h"

#include "tf_requant.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(TF_PORTABLE_ONLY)
#include <arm_acle.h>
#define TF_ADD_FAST 1
#else
#define TF_ADD_FAST 0
#endif

static inline int32_t binary_one(const tf_binary_params_t *p, int32_t a, int32_t b) {
    if (p->op == TF_BINARY_MAX) {
        return a > b ? a : b;
    }
    if (p->op == TF_BINARY_MIN) {
        return a < b ? a : b;
    }
    if (p->op == TF_BINARY_PRELU) {
        const int32_t x = a + p->input1_offset;
        const int32_t v = x >= 0 ? tf_mbqm(x, p->input1_mult, p->input1_shift)
                                 : tf_mbqm(x * (b + p->input2_offset), p->output_mult,
                                           p->output_shift);
        return tf_clamp_i32(v + p->output_offset, p->act_min, p->act_max);
    }
    const int32_t x1 = a + p->input1_offset;
    const int32_t x2 = b + p->input2_offset;
    int32_t raw;
    if (p->op == TF_BINARY_MUL) {
        raw = tf_mbqm(x1 * x2, p->output_mult, p->output_shift);
    } else {
        const int32_t s1 = tf_mbqm(x1 * (1 << p->left_shift), p->input1_mult, p->input1_shift);
        const int32_t s2 = tf_mbqm(x2 * (1 << p->left_shift), p->input2_mult, p->input2_shift);
        const int32_t combined = p->op == TF_BINARY_ADD ? s1 + s2 : s1 - s2;
        raw = tf_mbqm(combined, p->output_mult, p->output_shift);
    }
    return tf_clamp_i32(raw + p->output_offset, p->act_min, p->act_max);
}

/* ADD/SUB on one pair of raw values, for the flat (no broadcast) loops below. All three
 * multipliers come from positive scales, so the cheaper tf_mbqm_pos gives the same. */
static inline int32_t add_sub_one(const tf_binary_params_t *p, int32_t a, int32_t b, int sub) {
    const int32_t s1 = tf_mbqm_pos((a + p->input1_offset) * (1 << p->left_shift),
                                   p->input1_mult, p->input1_shift);
    const int32_t s2 = tf_mbqm_pos((b + p->input2_offset) * (1 << p->left_shift),
                                   p->input2_mult, p->input2_shift);
    const int32_t raw = tf_mbqm_pos(sub ? s1 - s2 : s1 + s2, p->output_mult, p->output_shift);
    return tf_clamp_i32(raw + p->output_offset, p->act_min, p->act_max);
}

static inline int32_t mul_one(const tf_binary_params_t *p, int32_t a, int32_t b) {
    const int32_t raw =
        tf_mbqm((a + p->input1_offset) * (b + p->input2_offset), p->output_mult, p->output_shift);
    return tf_clamp_i32(raw + p->output_offset, p->act_min, p->act_max);
}

/* Same shapes on both sides (the common case, e.g. residual ADDs): one flat loop per op
 * and width, no index arithmetic and no per-element dispatch. */
static void binary_flat_s8(const tf_binary_params_t *pp, const int8_t *a, const int8_t *b,
                           int8_t *out, size_t n) {
    const tf_binary_params_t P = *pp, *p = &P; /* a local copy: int8 stores cannot alias it */
    switch (p->op) {
    case TF_BINARY_ADD:
        for (size_t i = 0; i < n; i++) {
            out[i] = (int8_t)add_sub_one(p, a[i], b[i], 0);
        }
        break;
    case TF_BINARY_SUB:
        for (size_t i = 0; i < n; i++) {
            out[i] = (int8_t)add_sub_one(p, a[i], b[i], 1);
        }
        break;
    case TF_BINARY_MUL:
        for (size_t i = 0; i < n; i++) {
            out[i] = (int8_t)mul_one(p, a[i], b[i]);
        }
        break;
    default:
        for (size_t i = 0; i < n; i++) {
            out[i] = (int8_t)binary_one(p, a[i], b[i]);
        }
        break;
    }
}

#if TF_ADD_FAST
/* int8 ADD/SUB without broadcasting, with tf_requant.h's short requantization. Each input's
 * rescale is one of two kinds: the input with the larger scale has the multiplier exactly
 * 1/2 (m = 2^30, shift 0), and then the doubling high multiply of an even x is x / 2 with
 * no rounding at all, i.e. (a + offset) << (left_shift - 1); the other one shifts right
 * (e >= 1) and takes the short form. |x| <= 255 * 2^20 < 2^30 and every sum stays below
 * 2^29, so SMMULR's doubled operand cannot overflow. */
typedef struct {
    int32_t off, m, rnd, e;
    int half;
} add_in_t;

static int add_in(int32_t off, int32_t m, int32_t shift, add_in_t *r) {
    r->off = off;
    r->m = m;
    r->rnd = 0;
    r->e = 0;
    r->half = m == (1 << 30) && shift == 0;
    if (r->half) {
        return 1;
    }
    if (m <= 0 || shift > -1 || shift < -30) {
        return 0;
    }
    r->e = -shift;
    r->rnd = (int32_t)1 << (r->e - 1);
    return 1;
}

static inline __attribute__((always_inline)) int32_t add_rescale(const add_in_t *q, int32_t v,
                                                                 int half) {
    if (half) {
        return (v + q->off) * (1 << 19);
    }
    return tf_rq_apply((v + q->off) * (1 << 20), q->m, q->rnd, q->e);
}

static inline __attribute__((always_inline)) void add_loop(const add_in_t *q1, const add_in_t *q2,
                                                           const add_in_t *qo, int32_t lo,
                                                           int32_t hi, const int8_t *a,
                                                           const int8_t *b, int8_t *out,
                                                           size_t n, int sub, int h1, int h2) {
    const add_in_t A = *q1, B = *q2, O = *qo;
    for (size_t i = 0; i < n; i++) {
        const int32_t s1 = add_rescale(&A, a[i], h1);
        const int32_t s2 = add_rescale(&B, b[i], h2);
        const int32_t v = tf_rq_apply(sub ? s1 - s2 : s1 + s2, O.m, O.rnd, O.e);
        out[i] = (int8_t)tf_clamp_i32(v, lo, hi);
    }
}

/* 1 when it did the work; 0 leaves it to the general loop */
static int add_sub_fast_s8(const tf_binary_params_t *p, const int8_t *a, const int8_t *b,
                           int8_t *out, size_t n) {
    add_in_t q1, q2, qo;
    if ((p->op != TF_BINARY_ADD && p->op != TF_BINARY_SUB) || p->left_shift != 20 ||
        !add_in(p->input1_offset, p->input1_mult, p->input1_shift, &q1) ||
        !add_in(p->input2_offset, p->input2_mult, p->input2_shift, &q2) ||
        p->output_mult <= 0 || p->output_shift > -1 || p->output_shift < -22) {
        return 0;
    }
    qo.m = p->output_mult;
    qo.e = -p->output_shift;
    qo.rnd = tf_rq_rnd(qo.e, p->output_offset);
    const int sub = p->op == TF_BINARY_SUB;
    const int32_t lo = p->act_min, hi = p->act_max;
    if (q1.half && q2.half) {
        add_loop(&q1, &q2, &qo, lo, hi, a, b, out, n, sub, 1, 1);
    } else if (q1.half) {
        add_loop(&q1, &q2, &qo, lo, hi, a, b, out, n, sub, 1, 0);
    } else if (q2.half) {
        add_loop(&q1, &q2, &qo, lo, hi, a, b, out, n, sub, 0, 1);
    } else {
        add_loop(&q1, &q2, &qo, lo, hi, a, b, out, n, sub, 0, 0);
    }
    return 1;
}
#endif

static int is_flat(const tf_binary_params_t *p) {
    int32_t s = 1;
    for (int d = TF_KMAX_DIMS - 1; d >= 0; d--) {
        if (p->dims[d] != 1 && (p->in1_strides[d] != s || p->in2_strides[d] != s)) {
            return 0;
        }
        s *= p->dims[d];
    }
    return 1;
}

static void binary(const tf_binary_params_t *p, const void *in1, const void *in2, void *output,
                   int wide) {
    int32_t idx[TF_KMAX_DIMS] = {0};
    size_t total = 1;
    for (int d = 0; d < TF_KMAX_DIMS; d++) {
        total *= (size_t)p->dims[d];
    }
    size_t o1 = 0, o2 = 0;
    for (size_t i = 0; i < total; i++) {
        tf_store(output, i, wide, binary_one(p, tf_load(in1, o1, wide), tf_load(in2, o2, wide)));
        /* odometer over the output index, moving both input offsets along */
        for (int d = TF_KMAX_DIMS - 1; d >= 0; d--) {
            idx[d]++;
            o1 += (size_t)p->in1_strides[d];
            o2 += (size_t)p->in2_strides[d];
            if (idx[d] < p->dims[d]) {
                break;
            }
            o1 -= (size_t)p->in1_strides[d] * (size_t)idx[d];
            o2 -= (size_t)p->in2_strides[d] * (size_t)idx[d];
            idx[d] = 0;
        }
    }
}

void tf_binary_s8(const tf_binary_params_t *p, const int8_t *in1, const int8_t *in2,
                  int8_t *output) {
    if (is_flat(p)) {
        size_t n = 1;
        for (int d = 0; d < TF_KMAX_DIMS; d++) {
            n *= (size_t)p->dims[d];
        }
#if TF_ADD_FAST
        if (add_sub_fast_s8(p, in1, in2, output, n)) {
            return;
        }
#endif
        binary_flat_s8(p, in1, in2, output, n);
        return;
    }
    binary(p, in1, in2, output, 0);
}

void tf_binary_s16(const tf_binary_params_t *p, const int16_t *in1, const int16_t *in2,
                   int16_t *output) {
    binary(p, in1, in2, output, 1);
}
