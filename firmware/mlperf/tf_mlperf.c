/*
 * MLPerf Tiny / EEMBC DUT protocol over the fixed model contract (tinyflow_model.h).
 *
 * Written from the protocol description (docs/evaluation.md), not from the reference
 * port. No printf and no libc beyond memcpy: numbers are formatted here, so the module
 * links into a freestanding firmware without float printf support.
 *
 * Where the reference firmware has undefined behaviour we choose a safe, visible reply
 * instead (all documented in docs/evaluation.md):
 * - `db load N` with N larger than the buffer: the message, and nothing is loaded;
 * - hex digits with no `db load` pending, or more than announced: an e-[...] line;
 * - `infer` with fewer bytes loaded than the model input: an e-[...] line, no inference.
 */
#include "tf_mlperf.h"

#include <stddef.h>
#include <string.h>

#include "tinyflow_model.h"

#ifndef TF_MLPERF_MODEL_ID
#define TF_MLPERF_MODEL_ID "vww01"
#endif
#ifndef TF_MLPERF_VENDOR
#define TF_MLPERF_VENDOR "tinyflow"
#endif
#ifndef TF_MLPERF_DB_BYTES
#define TF_MLPERF_DB_BYTES (96 * 96 * 3)
#endif
#ifndef TF_MLPERF_INPUT_OFFSET
#define TF_MLPERF_INPUT_OFFSET 0
#endif
#ifndef TF_MLPERF_ENERGY
#define TF_MLPERF_ENERGY 0
#endif

#define FW_VERSION "ULPMark for tinyML Firmware V0.0.1"

static char cmd_buf[TF_MLPERF_CMD_SIZE + 1];
static uint32_t cmd_len;

static uint8_t db_buf[TF_MLPERF_DB_BYTES];
static uint32_t db_size;     /* announced by `db load N`; 0 = nothing pending */
static uint32_t db_pos;      /* bytes received so far */

/* ------------------------------------------------------------------ output helpers */

static void put(const char *s) { tf_mlperf_write(s, (uint32_t)strlen(s)); }

static void put_u32(uint32_t v)
{
    char b[11];
    int i = 10;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    put(&b[i]);
}

static void put_i32(int32_t v)
{
    if (v < 0) {
        put("-");
        put_u32((uint32_t)(-(v + 1)) + 1u);   /* no overflow at INT32_MIN */
    } else {
        put_u32((uint32_t)v);
    }
}

/* "%0.3f": rounded half away from zero, values clamped to +-2e6 to stay in int32. */
static void put_fixed3(float v)
{
    if (v > 2e6f)
        v = 2e6f;
    if (v < -2e6f)
        v = -2e6f;
    int32_t m = (int32_t)(v * 1000.0f + (v < 0 ? -0.5f : 0.5f));
    uint32_t a = m < 0 ? (uint32_t)(-m) : (uint32_t)m;
    char frac[5] = {'.', (char)('0' + a / 100u % 10u), (char)('0' + a / 10u % 10u),
                    (char)('0' + a % 10u), 0};
    if (m < 0)
        put("-");
    put_u32(a / 1000u);
    put(frac);
}

static void put_hex2(uint8_t v)
{
    static const char digits[] = "0123456789abcdef";
    char b[3] = {digits[v >> 4], digits[v & 15u], 0};
    put(b);
}

static void lap(void)
{
#if TF_MLPERF_ENERGY
    tf_mlperf_timestamp_pin();
#else
    put("m-lap-us-");
    put_u32(tf_mlperf_micros());
    put("\r\n");
#endif
}

/* ------------------------------------------------------------------ parsing helpers */

/* Next space-delimited token of *s (NUL-terminated in place), or NULL. */
static char *token(char **s)
{
    char *p = *s;
    while (*p == ' ')
        p++;
    if (*p == 0) {
        *s = p;
        return NULL;
    }
    char *start = p;
    while (*p != 0 && *p != ' ')
        p++;
    if (*p == ' ')
        *p++ = 0;
    *s = p;
    return start;
}

/* Decimal like atoi: optional sign, digits, stops at the first other character. */
static int32_t to_int(const char *s)
{
    int neg = 0;
    int32_t v = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    while (*s >= '0' && *s <= '9' && v < 100000000)
        v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ------------------------------------------------------------------ commands */

static void cmd_db(char *rest)
{
    char *sub = token(&rest);
    if (sub == NULL) {
        put("e-[Command 'db' requires a subcommand]\r\n");
    } else if (strcmp(sub, "load") == 0) {
        char *n = token(&rest);
        if (n == NULL) {
            put("e-[Command 'db load' requires the # of bytes]\r\n");
            return;
        }
        int32_t size = to_int(n);
        if (size <= 0) {
            put("e-[Command 'db load' must be >0 bytes]\r\n");
            db_size = 0;
        } else if ((uint32_t)size > TF_MLPERF_DB_BYTES) {
            put("Supplied buffer size ");
            put_i32(size);
            put(" exceeds maximum of ");
            put_u32(TF_MLPERF_DB_BYTES);
            put("\r\n");
            db_size = 0;
        } else {
            db_size = (uint32_t)size;
            db_pos = 0;
            put("m-[Expecting ");
            put_u32(db_size);
            put(" bytes]\r\n");
        }
    } else if (strcmp(sub, "print") == 0) {
        for (uint32_t i = 0; i < db_pos; i++) {
            if (i % 8u == 0)
                put("m-buffer-");
            put_hex2(db_buf[i]);
            put((i + 1) % 8u == 0 || i + 1 == db_pos ? "\r\n" : "-");
        }
    } else {
        uint32_t n = (uint32_t)strlen(sub);
        if (n & 1u) {
            put("e-[Insufficent number of hex digits]\r\n");  /* sic, as the reference */
            return;
        }
        if (db_size == 0 || db_pos >= db_size) {
            put("e-[No 'db load' pending]\r\n");
            return;
        }
        for (uint32_t i = 0; i < n; i += 2) {
            int hi = hex_digit(sub[i]), lo = hex_digit(sub[i + 1]);
            if (hi < 0 || lo < 0) {
                char bad[3] = {sub[i], sub[i + 1], 0};
                put("e-[Invalid hex digit '");
                put(bad);
                put("']\r\n");
                return;
            }
            db_buf[db_pos++] = (uint8_t)(hi << 4 | lo);
            if (db_pos == db_size) {
                put("m-load-done\r\n");
                return;   /* extra digits are ignored */
            }
        }
    }
}

/* Copy the db buffer into input 0. Returns 0 when the input is complete. */
static int load_tensor(void)
{
    const tf_tensor_info_t *in = &tf_model_info.inputs[0];
    if (db_pos < in->bytes) {
        put("e-[Loaded ");
        put_u32(db_pos);
        put(" bytes; the model input takes ");
        put_u32(in->bytes);
        put("]\r\n");
        return -1;
    }
    uint8_t *dst = (uint8_t *)tf_model_input(0);
    for (uint32_t i = 0; i < in->bytes; i++)
        dst[i] = (uint8_t)(db_buf[i] + (uint8_t)TF_MLPERF_INPUT_OFFSET);
    return 0;
}

/* The input may be overwritten by activations during an inference (tinyflow_model.h):
 * refill it before each one, as part of the measured work. */
static int infer_once(void)
{
    const tf_tensor_info_t *in = &tf_model_info.inputs[0];
    if (in->bytes > 0 && load_tensor() != 0)
        return -1;
    int rc = tf_model_invoke();
    if (rc != 0) {
        put("e-[Inference failed: ");
        put_i32(rc);
        put("]\r\n");
    }
    return rc;
}

static void results(void)
{
    const tf_tensor_info_t *o = &tf_model_info.outputs[0];
    const void *p = tf_model_output(0);
    uint32_t n = 1;
    for (uint32_t d = 0; d < o->rank; d++)
        n *= (uint32_t)o->dims[d];
    put("m-results-[");
    for (uint32_t i = 0; i < n; i++) {
        float v;
        switch (o->dtype) {
        case TF_DTYPE_FLOAT32: v = ((const float *)p)[i]; break;
        case TF_DTYPE_UINT8: v = ((float)((const uint8_t *)p)[i] - (float)o->zero_point) * o->scale; break;
        case TF_DTYPE_INT16: v = ((float)((const int16_t *)p)[i] - (float)o->zero_point) * o->scale; break;
        case TF_DTYPE_INT32: v = ((float)((const int32_t *)p)[i] - (float)o->zero_point) * o->scale; break;
        default: v = ((float)((const int8_t *)p)[i] - (float)o->zero_point) * o->scale; break;
        }
        if (i)
            put(",");
        put_fixed3(v);
    }
    put("]\r\n");
}

static void cmd_infer(char *rest)
{
    int32_t n = 1, w = 10;
    char *a = token(&rest);
    if (a != NULL) {
        n = to_int(a);
        if (n <= 0) {
            put("e-[Inference iterations must be >0]\r\n");
            return;
        }
        char *b = token(&rest);
        if (b != NULL) {
            w = to_int(b);
            if (w < 0) {
                put("e-[Inference warmup must be >=0]\r\n");
                return;
            }
        }
    }
    if (load_tensor() != 0)
        return;
    put("m-warmup-start-");
    put_i32(w);
    put("\r\n");
    for (int32_t i = 0; i < w; i++)
        if (infer_once() != 0)
            return;
    put("m-warmup-done\r\nm-infer-start-");
    put_i32(n);
    put("\r\n");
    lap();
    int failed = 0;
    for (int32_t i = 0; i < n && !failed; i++)
        failed = infer_once() != 0;
    lap();
    if (failed)
        return;
    put("m-infer-done\r\n");
    results();
}

static void help(void)
{
    put(FW_VERSION "\r\n\r\n"
        "help         : Print this information\r\n"
        "name         : Print the name of the device\r\n"
        "timestamp    : Generate a timestamp\r\n"
        "db SUBCMD    : Manipulate a generic byte buffer\r\n"
        "  load N     : Allocate N bytes and set load counter\r\n"
        "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes\r\n"
        "  print      : Print the loaded bytes as hex\r\n"
        "infer N [W=10]: Load input, execute N inferences after W warmup loops\r\n"
        "results      : Return the result fp32 vector\r\n");
}

static void run_command(char *line)
{
    char *rest = line;
    char *cmd = token(&rest);
    if (cmd == NULL) {
        /* an empty command: just the prompt (useful to resynchronise) */
    } else if (strcmp(cmd, "name") == 0) {
        put("m-name-dut-[" TF_MLPERF_VENDOR "]\r\n");
    } else if (strcmp(cmd, "timestamp") == 0) {
        lap();
    } else if (strcmp(cmd, "profile") == 0) {
        put("m-profile-[" FW_VERSION "]\r\nm-model-[" TF_MLPERF_MODEL_ID "]\r\n");
    } else if (strcmp(cmd, "help") == 0) {
        help();
    } else if (strcmp(cmd, "db") == 0) {
        cmd_db(rest);
    } else if (strcmp(cmd, "infer") == 0) {
        cmd_infer(rest);
    } else if (strcmp(cmd, "results") == 0) {
        results();
    } else {
        put("e-[Unknown command: ");
        put(cmd);
        put("]\r\n");
    }
    put("m-ready\r\n");
}

void tf_mlperf_feed(char c)
{
    if (c == '%') {
        cmd_buf[cmd_len] = 0;
        cmd_len = 0;
        run_command(cmd_buf);
    } else if (c == '\r' || c == '\n') {
        /* line endings from a terminal are not part of any command */
    } else if (cmd_len < TF_MLPERF_CMD_SIZE) {
        cmd_buf[cmd_len++] = c;   /* past 80 characters the rest is dropped */
    }
}

void tf_mlperf_init(void)
{
    cmd_len = 0;
    db_size = db_pos = 0;
    put(TF_MLPERF_ENERGY ? "m-timestamp-mode-energy\r\n" : "m-timestamp-mode-performance\r\n");
    lap();
    put("m-init-done\r\nm-ready\r\n");
}

void tf_mlperf_main(void)
{
    tf_mlperf_init();
    for (;;) {
        int c = tf_mlperf_getchar();
        if (c < 0)
            tf_mlperf_idle();
        else
            tf_mlperf_feed((char)c);
    }
}
