/*
 * Fixed-point exp, 1/(1+x), logistic and tanh on Q(ib).(31-ib) int32 values.
 *
 * TFLM's int8 SOFTMAX, LOGISTIC and TANH evaluate these with gemmlowp's templates, whose
 * integer-bit counts are compile-time parameters. Here the integer-bit count `ib` is a
 * run-time argument; every intermediate rounding and saturation is the same, which is
 * what the differential tests check.
 */
#ifndef TF_FIXEDPOINT_H
#define TF_FIXEDPOINT_H

#include "tf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (a + b) / 2 rounded half away from zero, without overflow. */
static inline int32_t tf_fp_rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31. A Taylor series around -1/8. */
static inline int32_t tf_fp_exp_quarter_interval(int32_t a) {
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = tf_srdhm(x, x);
    const int32_t x3 = tf_srdhm(x2, x);
    const int32_t x4 = tf_srdhm(x2, x2);
    const int32_t x4_over_4 = tf_srmpot(x4, -2);
    const int32_t poly = tf_srmpot(tf_srdhm(x4_over_4 + x3, one_third) + x2, -1);
    return exp_minus_one_eighth + tf_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given in Q(ib).(31-ib); result in Q0.31. */
static inline int32_t tf_fp_exp_on_negative_values(int32_t a, int ib) {
    /* exp(-2^k) in Q0.31 for k = -2 .. 4: the barrel shifter's factors */
    static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308,
                                       39332535, 720401, 242};
    const int frac = 31 - ib;
    const int32_t one_quarter = (int32_t)1 << (frac - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
    int32_t result = tf_fp_exp_quarter_interval(tf_srmpot(a_mod_quarter_minus_quarter, ib));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int k = -2; k <= 4; k++) {
        if (ib > k) {
            const int bit = frac + k;
            if (remainder & ((int32_t)1 << bit)) {
                result = tf_srdhm(result, factors[k + 2]);
            }
        }
    }
    if (ib > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - ib)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* Newton-Raphson for 1/(1+a) (or, with `minus`, (1-a)/(1+a)); a in [0, 1) in Q0.31. */
static inline int32_t tf_fp_newton_reciprocal(int32_t a, int minus) {
    const int32_t half_denominator = tf_fp_rounding_half_sum(a, INT32_MAX);
    const int32_t c48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t c_neg32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_over_17 + tf_srdhm(half_denominator, c_neg32_over_17);
    for (int i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = tf_srdhm(half_denominator, x);
        const int32_t one_minus = one_q2 - half_denominator_times_x;
        x = x + tf_srmpot(tf_srdhm(x, one_minus), 2);
    }
    if (minus) {
        return tf_srmpot(x - one_q2, 2);
    }
    return tf_srmpot(x, 1); /* x / 2 read as Q1.30, then rescaled to Q0.31 */
}

static inline int32_t tf_fp_one_over_one_plus_x(int32_t a) { return tf_fp_newton_reciprocal(a, 0); }

/* logistic(a) for a in Q(ib); result in Q0.31. */
static inline int32_t tf_fp_logistic(int32_t a, int ib) {
    if (a == 0) {
        return 1 << 30;
    }
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t pos = tf_fp_one_over_one_plus_x(tf_fp_exp_on_negative_values(-abs_a, ib));
    return a > 0 ? pos : INT32_MAX - pos;
}

/* tanh(a) for a in Q(ib); result in Q0.31. */
static inline int32_t tf_fp_tanh(int32_t a, int ib) {
    if (a == 0) {
        return 0;
    }
    const int32_t n = a < 0 ? a : -a;
    /* exp(2n): the same raw value read with one more integer bit */
    const int32_t t = tf_fp_newton_reciprocal(tf_fp_exp_on_negative_values(n, ib + 1), 1);
    return a < 0 ? -t : t;
}

#ifdef __cplusplus
}
#endif

#endif /* TF_FIXEDPOINT_H */
