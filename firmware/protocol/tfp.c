/*
 * TFP device side: frame decoder, request dispatch, replies.
 *
 * Safety rules, because any byte may arrive: every write into a buffer is checked against
 * that buffer's size; every length that comes from the host is checked before use; an
 * overlong frame is dropped, never truncated and run.
 */
#include "tfp.h"

#include <string.h>

#include "bsp.h"
#include "tinyflow_model.h"

#define PACKET_MAX (2u + TFP_MAX_PAYLOAD + 4u)
#define ENCODED_MAX (PACKET_MAX + PACKET_MAX / 254u + 2u)
#define PROFILE_MAX 256u

static const tfp_target_t *tgt;

static uint8_t rxbuf[ENCODED_MAX];
static uint32_t rxlen;
static int rx_overlong;

/* The last reply, kept encoded so that a repeated request (same cmd and seq: the host
 * retrying after a lost reply) is answered again without running it twice. */
static uint8_t txbuf[1 + ENCODED_MAX + 1];
static uint32_t txlen;
static uint8_t last_cmd, last_seq;
static int have_last;

static uint8_t pkt[PACKET_MAX];

static uint64_t prof[PROFILE_MAX + 1];
static uint32_t prof_n;

static struct {
    uint32_t frames, crc_errors, too_long, short_frames, unknown, replays;
} stats;

/* ------------------------------------------------------------------ CRC and COBS */

uint32_t tfp_crc32(const uint8_t *p, uint32_t n)
{
    /* CRC-32 (IEEE 802.3, reflected), a nibble at a time: the same as zlib.crc32. */
    static const uint32_t t[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        c = (c >> 4) ^ t[c & 15u];
        c = (c >> 4) ^ t[c & 15u];
    }
    return ~c;
}

uint32_t tfp_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out)
{
    uint32_t code_at = 0, o = 1;
    uint8_t code = 1;
    for (uint32_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = in[i];
            if (++code == 0xFF) {
                out[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    return o;
}

/* Returns the decoded length, or -1 for malformed input or an output that would not fit.
 * Decoding in place (out == in) is safe: the output never overtakes the input. */
int32_t tfp_cobs_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap)
{
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint8_t code = in[i++];
        if (code == 0)
            return -1;
        for (uint32_t k = 1; k < code; k++) {
            if (i >= n || o >= cap)
                return -1;
            out[o++] = in[i++];
        }
        if (code != 0xFF && i < n) {
            if (o >= cap)
                return -1;
            out[o++] = 0;
        }
    }
    return (int32_t)o;
}

/* ------------------------------------------------------------------ replies */

typedef struct {
    uint8_t *p;
    uint32_t n;
} wbuf_t;

/* Reply payloads are built in pkt (after cmd and seq); the request has been consumed by
 * then. Writers silently stop at the end of the buffer; HELLO is the only variable-size
 * reply and its size is bounded well below TFP_MAX_PAYLOAD. */
static void put(wbuf_t *w, const void *src, uint32_t n)
{
    if (n > TFP_MAX_PAYLOAD - w->n)
        n = TFP_MAX_PAYLOAD - w->n;
    memcpy(w->p + w->n, src, n);
    w->n += n;
}
static void put_u8(wbuf_t *w, uint8_t v) { put(w, &v, 1); }
static void put_u16(wbuf_t *w, uint16_t v) { uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)}; put(w, b, 2); }
static void put_u32(wbuf_t *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}
static void put_u64(wbuf_t *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}
static void put_f32(wbuf_t *w, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}
static void put_str(wbuf_t *w, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    if (n > 63)
        n = 63;
    put_u8(w, (uint8_t)n);
    put(w, s, n);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Frame pkt[0..2+n) as cmd, seq, payload, CRC, encode it into txbuf and send it. */
static void send_packet(uint8_t cmd, uint8_t seq, uint32_t n)
{
    pkt[0] = cmd;
    pkt[1] = seq;
    uint32_t crc = tfp_crc32(pkt, 2 + n);
    pkt[2 + n] = (uint8_t)crc;
    pkt[3 + n] = (uint8_t)(crc >> 8);
    pkt[4 + n] = (uint8_t)(crc >> 16);
    pkt[5 + n] = (uint8_t)(crc >> 24);
    txbuf[0] = 0;  /* a leading delimiter ends any partial frame the host holds */
    txlen = 1 + tfp_cobs_encode(pkt, 6 + n, txbuf + 1);
    txbuf[txlen++] = 0;
    bsp_console_write(txbuf, txlen);
}

static void send_error(uint8_t seq, uint8_t code, uint8_t cmd)
{
    pkt[2] = code;
    pkt[3] = cmd;
    send_packet(TFP_MSG_ERROR, seq, 2);
    have_last = 0;
}

void tfp_log(const char *text)
{
    uint32_t n = (uint32_t)strlen(text);
    if (n > TFP_MAX_PAYLOAD)
        n = TFP_MAX_PAYLOAD;
    memcpy(pkt + 2, text, n);
    send_packet(TFP_MSG_LOG, 0, n);
    have_last = 0;
}

static void put_tensor(wbuf_t *w, const tf_tensor_info_t *t)
{
    uint8_t rank = t->rank <= TF_MAX_RANK ? t->rank : TF_MAX_RANK;
    put_u8(w, t->dtype);
    put_u8(w, rank);
    for (uint8_t i = 0; i < rank; i++)
        put_u32(w, (uint32_t)t->dims[i]);
    put_u32(w, t->bytes);
    put_f32(w, t->scale);
    put_u32(w, (uint32_t)t->zero_point);
}

/* ------------------------------------------------------------------ commands */

void tf_profile_layer(uint32_t layer)
{
    if (layer <= PROFILE_MAX) {
        prof[layer] = tf_cycles();
        if (layer + 1 > prof_n)
            prof_n = layer + 1;
    }
}

static uint32_t do_hello(wbuf_t *w)
{
    const tf_model_info_t *m = &tf_model_info;
    put_u16(w, TFP_VERSION);
    put_u16(w, TFP_MAX_PAYLOAD);
    put_u32(w, tgt->clock_hz);
    put_u32(w, tgt->flags | (tf_cycles_is_dwt() ? TFP_FLAG_DWT : 0u));
    put_u32(w, m->arena_bytes);
    put_u32(w, m->n_layers);
    put_u32(w, tf_stack_size());
    put_str(w, tgt->board);
    put_str(w, tgt->core);
    put_str(w, m->name);
    put_str(w, m->hash);
    put_str(w, tgt->build);
    /* Bounded so the reply fits: 16 tensors of at most 42 bytes each. */
    uint8_t ni = m->n_inputs <= 8 ? m->n_inputs : 8;
    uint8_t no = m->n_outputs <= 8 ? m->n_outputs : 8;
    put_u8(w, ni);
    put_u8(w, no);
    for (uint8_t i = 0; i < ni; i++)
        put_tensor(w, &m->inputs[i]);
    for (uint8_t i = 0; i < no; i++)
        put_tensor(w, &m->outputs[i]);
    /* the model's true counts, so a host never takes the first 8 for all of them */
    put_u8(w, (uint8_t)m->n_inputs);
    put_u8(w, (uint8_t)m->n_outputs);
    return 0;
}

static int do_invoke(wbuf_t *w)
{
    prof_n = 0;
    tf_stack_paint();
    tf_timer_start();
    uint64_t t0 = tf_cycles();
    int status = tf_model_invoke();
    uint64_t t1 = tf_cycles();
    tf_timer_stop();
    uint32_t stack = tf_stack_used();
    for (uint32_t i = 0; i < prof_n; i++)
        prof[i] -= t0;
    put_u32(w, (uint32_t)status);
    put_u64(w, t1 - t0);
    put_u32(w, stack);
    put_u32(w, tf_stack_size());
    put_u32(w, prof_n ? prof_n - 1 : 0);
    return 0;
}

static void dispatch(uint8_t cmd, uint8_t seq, uint32_t n)
{
    /* pkt+2 holds the request payload, n bytes; the reply is built over it. */
    const tf_model_info_t *m = &tf_model_info;
    uint8_t *req = pkt + 2;
    wbuf_t w = {pkt + 2, 0};

    if (cmd != TFP_CMD_HELLO && have_last && cmd == last_cmd && seq == last_seq) {
        stats.replays++;
        bsp_console_write(txbuf, txlen);
        return;
    }
    switch (cmd) {
    case TFP_CMD_HELLO:
        do_hello(&w);
        break;
    case TFP_CMD_WRITE: {
        if (n < 5)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        uint8_t idx = req[0];
        uint32_t off = get_u32(req + 1), len = n - 5;
        if (idx >= m->n_inputs)
            return send_error(seq, TFP_ERR_BAD_INDEX, cmd);
        uint32_t size = m->inputs[idx].bytes;
        if (off > size || len > size - off)
            return send_error(seq, TFP_ERR_RANGE, cmd);
        memcpy((uint8_t *)tf_model_input(idx) + off, req + 5, len);
        put_u32(&w, off + len);
        break;
    }
    case TFP_CMD_INVOKE:
        if (n != 0)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        do_invoke(&w);
        break;
    case TFP_CMD_READ: {
        if (n != 7)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        uint8_t idx = req[0];
        uint32_t off = get_u32(req + 1), len = (uint32_t)req[5] | (uint32_t)req[6] << 8;
        if (idx >= m->n_outputs)
            return send_error(seq, TFP_ERR_BAD_INDEX, cmd);
        uint32_t size = m->outputs[idx].bytes;
        if (len > TFP_MAX_PAYLOAD || off > size || len > size - off)
            return send_error(seq, TFP_ERR_RANGE, cmd);
        memcpy(w.p, (const uint8_t *)tf_model_output(idx) + off, len);
        w.n = len;
        break;
    }
    case TFP_CMD_PROFILE: {
        if (n != 6)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        uint32_t first = get_u32(req), count = (uint32_t)req[4] | (uint32_t)req[5] << 8;
        uint32_t layers = prof_n ? prof_n - 1 : 0;
        if (first > layers || count > layers - first || count > TFP_MAX_PAYLOAD / 4)
            return send_error(seq, TFP_ERR_RANGE, cmd);
        for (uint32_t i = first; i < first + count; i++)
            put_u32(&w, (uint32_t)(prof[i + 1] - prof[i]));
        break;
    }
    case TFP_CMD_STATS:
        put_u32(&w, stats.frames);
        put_u32(&w, stats.crc_errors);
        put_u32(&w, stats.too_long);
        put_u32(&w, stats.short_frames);
        put_u32(&w, stats.unknown);
        put_u32(&w, stats.replays);
        put_u32(&w, console_rx_overflows());
        break;
    case TFP_CMD_EXIT:
        if (n != 1)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        {
            int code = req[0];
            send_packet(cmd | TFP_REPLY, seq, 0);
            tf_exit(code);
        }
    case TFP_CMD_LOAD: {
        if (n < 6)
            return send_error(seq, TFP_ERR_BAD_LENGTH, cmd);
        uint8_t idx = req[0];
        uint32_t off = get_u32(req + 1);
        if (idx >= m->n_inputs)
            return send_error(seq, TFP_ERR_BAD_INDEX, cmd);
        uint32_t size = m->inputs[idx].bytes;
        if (off > size)
            return send_error(seq, TFP_ERR_RANGE, cmd);
        int32_t got = tf_host_read_file((const char *)req + 5, n - 5,
                                        (uint8_t *)tf_model_input(idx) + off, size - off);
        if (got < 0)
            return send_error(seq, TFP_ERR_NO_HOST_FILE, cmd);
        put_u32(&w, off + (uint32_t)got);
        break;
    }
    case TFP_CMD_ECHO:
        w.n = n;  /* the payload is already in place */
        break;
    default:
        stats.unknown++;
        return send_error(seq, TFP_ERR_UNKNOWN_CMD, cmd);
    }
    send_packet(cmd | TFP_REPLY, seq, w.n);
    last_cmd = cmd;
    last_seq = seq;
    have_last = 1;
}

static void end_of_frame(void)
{
    if (rx_overlong) {
        rx_overlong = 0;
        rxlen = 0;
        stats.too_long++;
        send_error(0xFF, TFP_ERR_TOO_LONG, 0);
        return;
    }
    if (rxlen == 0)
        return;  /* an empty frame: the host's resync delimiter */
    int32_t n = tfp_cobs_decode(rxbuf, rxlen, pkt, sizeof pkt);
    rxlen = 0;
    if (n < 6) {
        stats.short_frames++;
        send_error(0xFF, TFP_ERR_SHORT, 0);
        return;
    }
    uint32_t body = (uint32_t)n - 4;
    if (tfp_crc32(pkt, body) != get_u32(pkt + body)) {
        stats.crc_errors++;
        send_error(pkt[1], TFP_ERR_CRC, pkt[0]);
        return;
    }
    stats.frames++;
    dispatch(pkt[0], pkt[1], body - 2);
}

void tfp_feed(uint8_t byte)
{
    if (byte == 0) {
        end_of_frame();
        return;
    }
    if (rx_overlong)
        return;
    if (rxlen >= sizeof rxbuf) {
        rx_overlong = 1;
        return;
    }
    rxbuf[rxlen++] = byte;
}

void tfp_poll(void)
{
    int c;
    while ((c = console_getc()) >= 0)
        tfp_feed((uint8_t)c);
}

void tfp_init(const tfp_target_t *target)
{
    tgt = target;
    rxlen = 0;
    rx_overlong = 0;
    have_last = 0;
}

/* Fault frame: kind, the stacked r0-r3 r12 lr pc xpsr (zeros when the stack was unusable),
 * then ICSR vector, CFSR, HFSR, MMFAR, BFAR. */
void tf_report_fault(uint32_t kind, const uint32_t *frame, const uint32_t *sysregs)
{
    wbuf_t w = {pkt + 2, 0};
    put_u32(&w, kind);
    for (int i = 0; i < 8; i++)
        put_u32(&w, frame ? frame[i] : 0u);
    for (int i = 0; i < 5; i++)
        put_u32(&w, sysregs[i]);
    send_packet(TFP_MSG_FAULT, 0, w.n);
}
