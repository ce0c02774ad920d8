/*
 * Speech emotion on the device: raw 16 kHz audio in, arousal/dominance/valence out.
 *
 * This file presents the whole pipeline (front end + network) through the fixed model
 * contract, firmware/include/tinyflow_model.h, so the stock firmware (main.c, the TFP
 * protocol) and link (WRITE / INVOKE / READ) carry audio without a new command:
 *
 *   input 0  int16 audio[TF_SER_AUDIO_MAX]   the next chunk of a clip or of a stream
 *   input 1  int32 ctrl[TF_SER_CTRL_WORDS]   what INVOKE does (mode, samples, hop, ...)
 *   input 2  int8  features                  the network's input (feature-upload mode)
 *   output 0 int8  adv[3]                    the network's output for the last window
 *   output 1 int32 result[]                  windows produced, cycles, see RESULT_*
 *   output 2 int8  features                  the last window's quantized features
 *   output 3 float features (only with TF_SER_FLOAT_OUT, for parity tests)
 *
 * The network is the generated model compiled with its contract symbols renamed to
 * tf_net_* (tinyflow/ser_app.py writes that wrapper); without TF_SER_NET the file builds
 * the front end alone. The host side is tinyflow/ser_app.py.
 */
#include <string.h>

#include "bsp.h"
#include "tf_frontend.h"
#include "tf_ser_config.h"   /* generated: TF_SER_NET, the network's hash/arena/layers */
#include "tinyflow_model.h"

#ifndef TF_SER_AUDIO_MAX
#define TF_SER_AUDIO_MAX 4096u      /* samples per upload (a chunk); clips may be longer */
#endif
#ifndef TF_SER_MAX_WINDOWS
#define TF_SER_MAX_WINDOWS 16                  /* stream results returned per INVOKE */
#endif
#define TF_SER_FEATURES (TF_FE_N_FRAMES * TF_FE_N_MELS)

enum {
    SER_CLIP = 0,            /* audio[0:n] as one clip -> features -> network */
    SER_STREAM_START = 1,    /* start a stream: ctrl[2] = hop in samples */
    SER_STREAM_PUSH = 2,     /* push audio[0:n]; every complete window -> network */
    SER_FEATURES_IN = 3,     /* the network on uploaded features (input 2) */
    SER_CLIP_FEATURES = 4,   /* audio[0:n] as one clip -> features only */
    SER_CLIP_PUSH = 5,       /* audio[0:n] is a chunk of a longer clip; more follows */
};

enum { CTRL_MODE, CTRL_SAMPLES, CTRL_HOP, CTRL_SCALE_BITS, CTRL_ZERO_POINT, TF_SER_CTRL_WORDS };

/* result[]: a header, then RESULT_STRIDE words per window of this INVOKE. */
enum {
    RESULT_STATUS, RESULT_WINDOWS, RESULT_CONSUMED, RESULT_FE_CYCLES, RESULT_NET_CYCLES,
    RESULT_HEADER,
};
enum { WIN_INDEX, WIN_ADV, WIN_FE_CYCLES, WIN_NET_CYCLES, RESULT_STRIDE };
#define TF_SER_RESULT_WORDS (RESULT_HEADER + RESULT_STRIDE * TF_SER_MAX_WINDOWS)

/* The big buffers live beside the network's arena (.tf_arena.*, NOLOAD, in the board's
 * arena region): on boards whose data region is a small TCM they would not fit there.
 * NOLOAD means not zeroed, so each is written before it is read: ctrl by the host before
 * every INVOKE, result by tf_model_invoke, fe by tf_fe_init, audio by the host. */
#define TF_SER_BUFFER __attribute__((section(".tf_arena.ser"), aligned(8)))

static int16_t audio[TF_SER_AUDIO_MAX] TF_SER_BUFFER;
static int32_t ctrl[TF_SER_CTRL_WORDS] TF_SER_BUFFER;
static uint32_t result[TF_SER_RESULT_WORDS] TF_SER_BUFFER;
static tf_fe_stream_t fe TF_SER_BUFFER;
static int streaming;       /* .bss: zero until a stream starts */
static int clip_open;       /* a clip's first chunks arrived, its last has not */
static uint64_t fe_carry;   /* stream front-end cycles not yet charged to a window */

#if TF_SER_NET
extern const tf_model_info_t tf_net_info;
void *tf_net_input(int index);
void *tf_net_output(int index);
int tf_net_invoke(void);
#define FEATURES ((int8_t *)tf_net_input(0))
#define ADV ((int8_t *)tf_net_output(0))
#else
static int8_t features[TF_SER_FEATURES] TF_SER_BUFFER;
static int8_t adv_none[3];
#define FEATURES features
#define ADV adv_none
#endif

#if TF_SER_FLOAT_OUT
static float features_f32[TF_SER_FEATURES] TF_SER_BUFFER;
#define N_OUTPUTS 4
#else
#define N_OUTPUTS 3
#endif

static const tf_tensor_info_t inputs[3] = {
    {TF_DTYPE_INT16, 2, {1, TF_SER_AUDIO_MAX}, 2u * TF_SER_AUDIO_MAX, 1.0f / 32768, 0},
    {TF_DTYPE_INT32, 2, {1, TF_SER_CTRL_WORDS}, 4u * TF_SER_CTRL_WORDS, 0.0f, 0},
    {TF_DTYPE_INT8, 4, {1, TF_FE_N_FRAMES, TF_FE_N_MELS, 1}, TF_SER_FEATURES, 0.0f, 0},
};
static const tf_tensor_info_t outputs[N_OUTPUTS] = {
    {TF_DTYPE_INT8, 2, {1, 3}, 3u, 0.0f, 0},
    {TF_DTYPE_INT32, 2, {1, TF_SER_RESULT_WORDS}, 4u * TF_SER_RESULT_WORDS, 0.0f, 0},
    {TF_DTYPE_INT8, 4, {1, TF_FE_N_FRAMES, TF_FE_N_MELS, 1}, TF_SER_FEATURES, 0.0f, 0},
#if TF_SER_FLOAT_OUT
    {TF_DTYPE_FLOAT32, 4, {1, TF_FE_N_FRAMES, TF_FE_N_MELS, 1}, 4u * TF_SER_FEATURES, 0.0f, 0},
#endif
};

const tf_model_info_t tf_model_info = {
#if TF_SER_NET
    .name = "ser_audio",
    .hash = TF_SER_NET_HASH,
    .arena_bytes = TF_SER_NET_ARENA,
    .n_layers = TF_SER_NET_LAYERS,
#else
    .name = "frontend",
    .hash = "0000000000000000",
    .arena_bytes = 0,
    .n_layers = 0,
#endif
    .n_inputs = 3,
    .n_outputs = N_OUTPUTS,
    .inputs = inputs,
    .outputs = outputs,
};

void *tf_model_input(int index)
{
    switch (index) {
    case 0: return audio;
    case 1: return ctrl;
    case 2: return FEATURES;
    default: return 0;
    }
}

void *tf_model_output(int index)
{
    switch (index) {
    case 0: return ADV;
    case 1: return result;
    case 2: return FEATURES;
#if TF_SER_FLOAT_OUT
    case 3: return features_f32;
#endif
    default: return 0;
    }
}

static void quant_params(float *scale, int32_t *zp)
{
    if (ctrl[CTRL_SCALE_BITS] != 0) {   /* the host overrides (front-end-only builds) */
        memcpy(scale, &ctrl[CTRL_SCALE_BITS], sizeof *scale);
        *zp = ctrl[CTRL_ZERO_POINT];
        return;
    }
#if TF_SER_NET
    *scale = tf_net_info.inputs[0].scale;
    *zp = tf_net_info.inputs[0].zero_point;
#else
    *scale = 1.0f;
    *zp = 0;
#endif
}

static int run_net(void)
{
#if TF_SER_NET
    return tf_net_invoke();
#else
    return 0;
#endif
}

/* The window waiting in `fe` -> features -> network; one result row. */
static int window(uint32_t *row, uint64_t fe_since)
{
    float scale;
    int32_t zp;
    quant_params(&scale, &zp);
    int rc = tf_fe_read_q8(&fe, FEATURES, scale, zp);
    uint64_t t1 = tf_cycles();
    if (rc == TF_FE_OK)
        rc = run_net();
    uint64_t t2 = tf_cycles();
    const int8_t *a = ADV;
    row[WIN_INDEX] = fe.windows - 1u;
    row[WIN_ADV] = (uint32_t)(uint8_t)a[0] | (uint32_t)(uint8_t)a[1] << 8
                   | (uint32_t)(uint8_t)a[2] << 16;
    row[WIN_FE_CYCLES] = (uint32_t)(fe_carry + (t1 - fe_since));   /* this window's */
    fe_carry = 0;
    row[WIN_NET_CYCLES] = (uint32_t)(t2 - t1);
    result[RESULT_FE_CYCLES] += (uint32_t)(t1 - fe_since);           /* this INVOKE's */
    result[RESULT_NET_CYCLES] += row[WIN_NET_CYCLES];
    return rc;
}

/* A clip arrives in chunks of at most TF_SER_AUDIO_MAX samples: SER_CLIP_PUSH for every
 * chunk but the last, SER_CLIP / SER_CLIP_FEATURES with the last (or only) one. Samples
 * past the window are dropped and a short clip is zero-padded, as features.fix_length. */
static int clip_chunk(uint32_t n)
{
    uint64_t t0 = tf_cycles();
    if (!clip_open) {
        int rc = tf_fe_init(&fe, TF_FE_CLIP_HOP);
        if (rc != TF_FE_OK)
            return rc;
        streaming = 0;
        fe_carry = 0;
        clip_open = 1;
    }
    result[RESULT_CONSUMED] = tf_fe_push(&fe, audio, n);
    fe_carry += tf_cycles() - t0;
    return TF_FE_OK;
}

static int clip(uint32_t n, int with_net)
{
    int rc = clip_chunk(n);
    if (rc != TF_FE_OK)
        return rc;
    uint64_t t0 = tf_cycles();
    clip_open = 0;
    if (!tf_fe_ready(&fe))
        tf_fe_push(&fe, 0, (uint32_t)(TF_FE_WINDOW_SAMPLES - fe.count));
    if (!with_net) {
        float scale;
        int32_t zp;
        quant_params(&scale, &zp);
#if TF_SER_FLOAT_OUT
        rc = tf_fe_read(&fe, features_f32, FEATURES, scale, zp);
#else
        rc = tf_fe_read_q8(&fe, FEATURES, scale, zp);
#endif
        /* the whole clip's front end, over all its chunks */
        result[RESULT_FE_CYCLES] = (uint32_t)(fe_carry + (tf_cycles() - t0));
        fe_carry = 0;
        result[RESULT_WINDOWS] = 0;
        return rc;
    }
    result[RESULT_WINDOWS] = 1;
    rc = window(result + RESULT_HEADER, t0);
    result[RESULT_FE_CYCLES] = result[RESULT_HEADER + WIN_FE_CYCLES];   /* whole clip */
    return rc;
}

static int push(uint32_t n)
{
    if (!streaming)
        return TF_FE_NOT_READY;
    uint32_t done = 0, w = 0;
    uint64_t since = tf_cycles();
    while (done < n && w < TF_SER_MAX_WINDOWS) {
        done += tf_fe_push(&fe, audio + done, n - done);
        if (tf_fe_ready(&fe)) {
            int rc = window(result + RESULT_HEADER + RESULT_STRIDE * w, since);
            w++;
            if (rc != 0)
                return rc;
            since = tf_cycles();
        }
    }
    /* Frames after the last window belong to the next one: carry them over, so a window's
     * front-end cycles cover all its new frames even when they span several INVOKEs. */
    uint64_t rest = tf_cycles() - since;
    fe_carry += rest;
    result[RESULT_FE_CYCLES] += (uint32_t)rest;
    result[RESULT_WINDOWS] = w;
    result[RESULT_CONSUMED] = done;   /* < n when the result table filled: resend the rest */
    return 0;
}

int tf_model_invoke(void)
{
    int32_t mode = ctrl[CTRL_MODE];
    uint32_t n = (uint32_t)ctrl[CTRL_SAMPLES];
    memset(result, 0, sizeof result);
    if (n > TF_SER_AUDIO_MAX)
        n = TF_SER_AUDIO_MAX;
    int rc;
    switch (mode) {
    case SER_CLIP:
        rc = clip(n, 1);
        break;
    case SER_CLIP_FEATURES:
        rc = clip(n, 0);
        break;
    case SER_CLIP_PUSH:
        rc = clip_chunk(n);
        break;
    case SER_STREAM_START:
        fe_carry = 0;
        clip_open = 0;
        rc = tf_fe_init(&fe, (uint32_t)ctrl[CTRL_HOP]);
        streaming = rc == TF_FE_OK;
        break;
    case SER_STREAM_PUSH:
        rc = push(n);
        break;
    case SER_FEATURES_IN: {
        uint64_t t0 = tf_cycles();
        rc = run_net();
        result[RESULT_NET_CYCLES] = (uint32_t)(tf_cycles() - t0);
        break;
    }
    default:
        rc = -100;
    }
    result[RESULT_STATUS] = (uint32_t)rc;
    return 0;   /* errors travel in result[RESULT_STATUS], so the outputs stay readable */
}
