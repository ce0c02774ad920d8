/*
 * Log-mel front end, streaming engine. See tf_frontend.h for the API and the reason the
 * normalisation can wait until a window is read; docs/audio-frontend.md for the maths.
 *
 * Bit-exactness across targets: the host build (tinyflow/frontend.py, via ctypes) and the
 * Cortex-M builds must produce the same bits, so float expressions are never contracted
 * into fused multiply-adds (the pragma below, because the firmware build uses -std=gnu99,
 * where GCC contracts by default) and CMSIS-DSP runs its scalar code on every core
 * (ARM_MATH_AUTOVECTORIZE, set where its sources are compiled).
 */
#pragma GCC optimize("fp-contract=off")

#include "tf_frontend.h"

#include <string.h>

/* Frames in flight between the frame that completes and the window that reads it: the
 * ring holds exactly one window of frames, which is why tf_fe_push stops at a window. */

int tf_fe_init(tf_fe_stream_t *s, uint32_t hop)
{
    memset(s, 0, sizeof *s);
    if (hop == 0u || hop % TF_FE_HOP != 0u)
        return TF_FE_BAD_HOP;
    if (tf_fe_rfft_init(&s->rfft) != 0)
        return TF_FE_FFT_INIT;
    s->hop = hop;
    s->next_end = TF_FE_WINDOW_SAMPLES;
    return TF_FE_OK;
}

int tf_fe_ready(const tf_fe_stream_t *s)
{
    return s->ready;
}

uint32_t tf_fe_state_bytes(void)
{
    return (uint32_t)sizeof(tf_fe_stream_t);
}

/* One FFT frame from pending[]: window, real FFT, power, partial mel energies. */
static void compute_frame(tf_fe_stream_t *s)
{
    tf_fe_frame_t *f = &s->ring[s->frames % TF_FE_N_FRAMES];
    const float *X = s->fft_out;

    arm_q15_to_float(s->pending, s->fft_in, TF_FE_N_FFT);          /* x / 32768, exact */
    arm_mult_f32(s->fft_in, tf_fe_window, s->fft_in, TF_FE_N_FFT);
    arm_rfft_fast_f32(&s->rfft, s->fft_in, s->fft_out, 0);
    /* CMSIS packs X[0] and X[N/2] (both real) into out[0], out[1]; bin k is out[2k..2k+1]. */
    arm_cmplx_mag_squared_f32(X + 2, s->power + 1, TF_FE_N_FFT / 2 - 1);
    s->power[TF_FE_N_FFT / 2] = X[1] * X[1];
    f->y0 = X[0];
    f->y1_re = X[2];
    f->y1_im = X[3];
    for (uint32_t m = 0; m < TF_FE_N_MELS; m++) {
        uint32_t first = tf_fe_mel_first[m], n = tf_fe_mel_count[m];
        uint32_t skip = first < 2u ? 2u - first : 0u;   /* bins 0, 1 wait for the mean */
        float e = 0.0f;
        if (n > skip)
            arm_dot_prod_f32(s->power + first + skip, tf_fe_mel_weights + tf_fe_mel_offset[m] + skip,
                             n - skip, &e);
        f->mel[m] = e;
    }
    s->frames++;
}

uint32_t tf_fe_push(tf_fe_stream_t *s, const int16_t *x, uint32_t n)
{
    uint32_t done = 0;
    while (done < n && !s->ready) {
        /* The largest run that crosses no block, partial-block, frame or window boundary. */
        uint32_t take = n - done, bpos = (uint32_t)(s->count % TF_FE_HOP), lim;
        lim = TF_FE_HOP - bpos;
        if (lim < take)
            take = lim;
#if TF_FE_REM != 0
        if (bpos < TF_FE_REM && TF_FE_REM - bpos < take)
            take = TF_FE_REM - bpos;
#endif
        lim = TF_FE_N_FFT - s->fill;
        if (lim < take)
            take = lim;
        if (s->next_end - s->count < take)
            take = (uint32_t)(s->next_end - s->count);

        int16_t *dst = s->pending + s->fill;
        if (x) {
            const int16_t *p = x + done;
            int32_t a1 = 0;
            uint64_t a2 = 0;
            for (uint32_t i = 0; i < take; i++) {
                int32_t v = p[i];
                a1 += v;
                a2 += (uint64_t)(v * v);
                dst[i] = (int16_t)v;
            }
            s->acc_s1 += a1;
            s->acc_s2 += a2;
        } else {
            memset(dst, 0, take * sizeof *dst);
        }
        s->fill += take;
        s->count += take;
        done += take;
        bpos += take;

        tf_fe_block_t *b = &s->blocks[(uint32_t)(s->count / TF_FE_HOP - (bpos == TF_FE_HOP))
                                      % TF_FE_BLOCKS];
#if TF_FE_REM != 0
        if (bpos == TF_FE_REM) {
            b->s1_rem = s->acc_s1;
            b->s2_rem = s->acc_s2;
        }
#endif
        if (bpos == TF_FE_HOP) {
            b->s1 = s->acc_s1;
            b->s2 = s->acc_s2;
            s->acc_s1 = 0;
            s->acc_s2 = 0;
        }
        if (s->fill == TF_FE_N_FFT) {
            compute_frame(s);
            memmove(s->pending, s->pending + TF_FE_HOP,
                    (TF_FE_N_FFT - TF_FE_HOP) * sizeof s->pending[0]);
            s->fill = TF_FE_N_FFT - TF_FE_HOP;
        }
        if (s->count == s->next_end)
            s->ready = 1;
    }
    return done;
}

float tf_fe_db(float x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(t), t = (m-1)/(m+1),
     * |t| < 0.172, so five odd terms leave a truncation error below 1e-9. */
    uint32_t u;
    float m;
    memcpy(&u, &x, sizeof u);
    int32_t e = (int32_t)(u >> 23) - 127;
    u = (u & 0x007FFFFFu) | 0x3F800000u;
    memcpy(&m, &u, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float p = 0.222222222f;                  /* 2/9 */
    p = p * t2 + 0.285714286f;               /* 2/7 */
    p = p * t2 + 0.4f;                       /* 2/5 */
    p = p * t2 + 0.666666667f;               /* 2/3 */
    p = p * t2 + 2.0f;
    /* 10 log10(2) = 3.0102999566, 10 / ln 10 = 4.3429448190 */
    return (float)e * 3.01029996f + (t * p) * 4.34294482f;
}

static int8_t quantize(float v, float scale, int32_t zero_point)
{
    float r = v / scale;
    if (r > 512.0f)
        r = 512.0f;
    if (r < -512.0f)
        r = -512.0f;
    r = (r + 12582912.0f) - 12582912.0f;     /* round half to even, as np.round */
    int32_t q = (int32_t)r + zero_point;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

int tf_fe_read(tf_fe_stream_t *s, float *outf, int8_t *outq, float scale, int32_t zp)
{
    if (!s->ready)
        return TF_FE_NOT_READY;

    /* Exact integer sums over the window: TF_FE_WINDOW_SAMPLES / TF_FE_HOP whole blocks,
     * then the first TF_FE_REM samples of the next. */
    uint32_t b0 = (uint32_t)((s->next_end - TF_FE_WINDOW_SAMPLES) / TF_FE_HOP);
    int64_t s1 = 0;
    uint64_t s2 = 0;
    for (uint32_t i = 0; i < TF_FE_WINDOW_SAMPLES / TF_FE_HOP; i++) {
        const tf_fe_block_t *b = &s->blocks[(b0 + i) % TF_FE_BLOCKS];
        s1 += b->s1;
        s2 += b->s2;
    }
#if TF_FE_REM != 0
    {
        const tf_fe_block_t *b = &s->blocks[(b0 + TF_FE_WINDOW_SAMPLES / TF_FE_HOP) % TF_FE_BLOCKS];
        s1 += b->s1_rem;
        s2 += b->s2_rem;
    }
#endif
    /* A few double operations per window (soft-float on an M4): the variance as
     * E[x^2] - mean^2 needs more than float's 24 bits when the audio has a DC offset. */
    const double n = (double)TF_FE_WINDOW_SAMPLES;
    double mean = (double)s1 / n;
    double var = (double)s2 / n - mean * mean;
    if (var < 0.0)
        var = 0.0;
    const float mu = (float)(mean / 32768.0);
    const float gain = (float)(1.0 / (var / (32768.0 * 32768.0) + (double)TF_FE_NORM_EPS));
    /* The DFT of the periodic Hann window is N/2 at bin 0, -N/4 at bin 1, 0 elsewhere. */
    const float c0 = mu * (float)(TF_FE_N_FFT / 2), c1 = mu * (float)(TF_FE_N_FFT / 4);

    for (uint32_t t = 0; t < TF_FE_N_FRAMES; t++) {
        const tf_fe_frame_t *f = &s->ring[(b0 + t) % TF_FE_N_FRAMES];
        float r0 = f->y0 - c0, r1 = f->y1_re + c1;
        float p0 = r0 * r0, p1 = r1 * r1 + f->y1_im * f->y1_im;
        for (uint32_t m = 0; m < TF_FE_N_MELS; m++) {
            float e = f->mel[m];
            uint32_t first = tf_fe_mel_first[m], cnt = tf_fe_mel_count[m];
            const float *w = tf_fe_mel_weights + tf_fe_mel_offset[m];
            if (first == 0u) {
                e += w[0] * p0;
                if (cnt > 1u)
                    e += w[1] * p1;
            } else if (first == 1u) {
                e += w[0] * p1;
            }
            e *= gain;
            if (e < TF_FE_FLOOR)
                e = TF_FE_FLOOR;
            float db = tf_fe_db(e);
            uint32_t i = t * TF_FE_N_MELS + m;
            if (outf)
                outf[i] = db;
            if (outq)
                outq[i] = quantize(db, scale, zp);
        }
    }
    s->ready = 0;
    s->windows++;
    s->next_end += s->hop;
    return TF_FE_OK;
}

int tf_fe_read_f32(tf_fe_stream_t *s, float *out)
{
    return tf_fe_read(s, out, NULL, 1.0f, 0);
}

int tf_fe_read_q8(tf_fe_stream_t *s, int8_t *out, float scale, int32_t zero_point)
{
    return tf_fe_read(s, NULL, out, scale, zero_point);
}

static int clip(tf_fe_stream_t *s, const int16_t *x, uint32_t n)
{
    int rc = tf_fe_init(s, TF_FE_CLIP_HOP);
    if (rc != TF_FE_OK)
        return rc;
    if (n > TF_FE_WINDOW_SAMPLES)
        n = TF_FE_WINDOW_SAMPLES;
    tf_fe_push(s, x, n);
    tf_fe_push(s, NULL, TF_FE_WINDOW_SAMPLES - n);
    return TF_FE_OK;
}

int tf_fe_clip_f32(tf_fe_stream_t *s, const int16_t *x, uint32_t n, float *out)
{
    int rc = clip(s, x, n);
    return rc != TF_FE_OK ? rc : tf_fe_read_f32(s, out);
}

int tf_fe_clip_q8(tf_fe_stream_t *s, const int16_t *x, uint32_t n, int8_t *out,
                  float scale, int32_t zero_point)
{
    int rc = clip(s, x, n);
    return rc != TF_FE_OK ? rc : tf_fe_read_q8(s, out, scale, zero_point);
}
