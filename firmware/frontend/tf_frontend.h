/*
 * The speech front end on the device: 16 kHz int16 audio -> log-mel dB -> the network's
 * int8 input. The algorithm and its parameters are tinyflow/features.py (LogMelParams);
 * the sizes and tables come from the generated tf_frontend_config.h / tf_frontend_tables.c
 * (templates/frontend_*.j2, tinyflow/frontend.py). docs/audio-frontend.md has the details.
 *
 * One engine serves both modes. Audio is pushed in any chunking; every FFT frame is
 * computed once, when its last sample arrives, and kept as a short summary. A window
 * (the model's `seconds` of audio) is ready every `hop` samples; reading it applies that
 * window's own normalisation and the log. A clip is a stream with a single window.
 *
 * Why the per-window normalisation can be deferred: (x - mean) / s only changes FFT bins
 * 0 and 1 (the DFT of a periodic Hann window is zero elsewhere) and scales the power by
 * 1/s^2. So a frame keeps its partial mel energies from bins >= 2 plus bins 0 and 1, and
 * the window adds the mean correction and the 1/s^2 when it is read. Mean and variance
 * come from exact integer sums of the int16 samples.
 *
 * No malloc: the caller owns one tf_fe_stream_t (about 30 KB at the default parameters,
 * see TF_FE_STATE_BYTES in docs), typically static.
 */
#ifndef TF_FRONTEND_H
#define TF_FRONTEND_H

#include <stdint.h>

#include "tf_frontend_config.h"   /* first: it fixes how CMSIS-DSP is configured */
#include "arm_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of block-sum slots: the window's full hop-length blocks plus one partial. */
#define TF_FE_BLOCKS (TF_FE_WINDOW_SAMPLES / TF_FE_HOP + 1)
#define TF_FE_REM (TF_FE_WINDOW_SAMPLES % TF_FE_HOP)   /* samples of the partial block */
/* A clip is one window; its stream hop only has to be legal. */
#define TF_FE_CLIP_HOP ((TF_FE_WINDOW_SAMPLES + TF_FE_HOP - 1u) / TF_FE_HOP * TF_FE_HOP)

typedef struct {
    float mel[TF_FE_N_MELS];   /* sum over bins >= 2 of W[m,k] * |X[k]|^2, raw audio scale */
    float y0;                  /* X[0], real */
    float y1_re, y1_im;        /* X[1] */
} tf_fe_frame_t;

typedef struct {
    uint64_t s2;               /* sum of the squares of the block's samples */
    uint64_t s2_rem;           /* the same over its first TF_FE_REM samples */
    int32_t s1;                /* sum of the block's samples */
    int32_t s1_rem;
} tf_fe_block_t;

typedef struct {
    uint32_t hop;              /* samples between window starts, a multiple of TF_FE_HOP */
    uint64_t count;            /* samples pushed since init */
    uint64_t next_end;         /* count at which the next window is complete */
    uint32_t windows;          /* windows read so far */
    uint32_t frames;           /* FFT frames computed so far */
    uint32_t fill;             /* samples in pending[] */
    int32_t acc_s1;            /* sums of the block being filled */
    uint64_t acc_s2;
    int ready;                 /* a window is complete and not read yet */
    arm_rfft_fast_instance_f32 rfft;
    int16_t pending[TF_FE_N_FFT];
    float fft_in[TF_FE_N_FFT];
    float fft_out[TF_FE_N_FFT];
    float power[TF_FE_N_BINS];
    tf_fe_block_t blocks[TF_FE_BLOCKS];
    tf_fe_frame_t ring[TF_FE_N_FRAMES];
} tf_fe_stream_t;

enum {
    TF_FE_OK = 0,
    TF_FE_BAD_HOP = -1,        /* hop is 0 or not a multiple of TF_FE_HOP */
    TF_FE_NOT_READY = -2,      /* no complete window to read */
    TF_FE_FFT_INIT = -3,       /* arm_rfft_fast_init_*_f32 refused the size */
};

/* Start a stream; `hop` = samples between consecutive windows (e.g. TF_FE_WINDOW_SAMPLES
 * for back-to-back windows). */
int tf_fe_init(tf_fe_stream_t *s, uint32_t hop);

/* Push up to n samples. Stops early, right after the sample that completes a window, so
 * that no frame of that window is overwritten: read it, then push the rest. Returns the
 * number of samples consumed. x may be NULL to push zeros (clip padding). */
uint32_t tf_fe_push(tf_fe_stream_t *s, const int16_t *x, uint32_t n);

/* 1 when a complete window waits to be read. */
int tf_fe_ready(const tf_fe_stream_t *s);

/* Read the complete window as (TF_FE_N_FRAMES, TF_FE_N_MELS) dB, row-major, and release it.
 * The _q8 form writes clamp(round_half_even(dB / scale) + zero_point) instead, as numpy's
 * np.clip(np.round(x / scale) + zp, -128, 127), without a float buffer. */
int tf_fe_read_f32(tf_fe_stream_t *s, float *out);
/* Both at once; either pointer may be NULL. */
int tf_fe_read(tf_fe_stream_t *s, float *outf, int8_t *outq, float scale, int32_t zero_point);
int tf_fe_read_q8(tf_fe_stream_t *s, int8_t *out, float scale, int32_t zero_point);

/* A whole clip: crop or zero-pad to TF_FE_WINDOW_SAMPLES and read the one window
 * (features.py's fix_length). Resets s. */
int tf_fe_clip_f32(tf_fe_stream_t *s, const int16_t *x, uint32_t n, float *out);
int tf_fe_clip_q8(tf_fe_stream_t *s, const int16_t *x, uint32_t n, int8_t *out,
                  float scale, int32_t zero_point);

/* 10 * log10(x) for normal x > 0, with no libm: the same bits on every target. */
float tf_fe_db(float x);

/* sizeof(tf_fe_stream_t), for the host's budget check. */
uint32_t tf_fe_state_bytes(void);

/* Generated (tf_frontend_tables.c). */
extern const float tf_fe_window[TF_FE_N_FFT];
extern const uint16_t tf_fe_mel_first[TF_FE_N_MELS];    /* first FFT bin of band m */
extern const uint16_t tf_fe_mel_count[TF_FE_N_MELS];    /* bins in band m */
extern const uint16_t tf_fe_mel_offset[TF_FE_N_MELS];   /* start of band m in the weights */
extern const float tf_fe_mel_weights[TF_FE_MEL_WEIGHTS];
int tf_fe_rfft_init(arm_rfft_fast_instance_f32 *S);

#ifdef __cplusplus
}
#endif

#endif /* TF_FRONTEND_H */
