/*
 * tinyflow protocol (TFP), device side. The wire format is documented in docs/protocol.md;
 * the host side is tinyflow/link.py. Keep the three in step.
 *
 * Frame on the wire: 0x00, COBS(packet), 0x00. Packet: cmd u8, seq u8, payload, CRC-32 of
 * (cmd, seq, payload), little-endian. A reply has cmd | 0x80 and the request's seq.
 */
#ifndef TFP_H
#define TFP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TFP_VERSION 1
#define TFP_MAX_PAYLOAD 1024u

enum {
    TFP_CMD_HELLO = 0x01,    /* -> target and model description */
    TFP_CMD_WRITE = 0x02,    /* u8 input, u32 offset, bytes -> u32 end offset */
    TFP_CMD_INVOKE = 0x03,   /* -> i32 status, u64 cycles, u32 stack used, u32 stack size,
                                 u32 profiled layers */
    TFP_CMD_READ = 0x04,     /* u8 output, u32 offset, u16 length -> bytes */
    TFP_CMD_PROFILE = 0x05,  /* u32 first layer, u16 count -> u32 cycles per layer */
    TFP_CMD_STATS = 0x06,    /* -> link counters */
    TFP_CMD_EXIT = 0x07,     /* u8 code -> empty, then QEMU exits / the board resets */
    TFP_CMD_ECHO = 0x08,     /* bytes -> the same bytes */
    TFP_CMD_LOAD = 0x09,     /* u8 input, u32 offset, host path -> u32 end offset
                                (virtual boards: the input is read from a host file) */
    TFP_MSG_LOG = 0x7D,      /* device -> host, unsolicited: UTF-8 text */
    TFP_MSG_FAULT = 0x7E,    /* device -> host, unsolicited: a CPU fault, then exit */
    TFP_MSG_ERROR = 0x7F,    /* reply to a bad request: u8 code, u8 request cmd */
    TFP_REPLY = 0x80,
};

enum {
    TFP_ERR_CRC = 1,         /* the frame decoded but its CRC is wrong */
    TFP_ERR_TOO_LONG = 2,    /* more bytes than the largest frame before a 0x00 */
    TFP_ERR_SHORT = 3,       /* shorter than cmd + seq + CRC, or bad COBS */
    TFP_ERR_UNKNOWN_CMD = 4,
    TFP_ERR_BAD_LENGTH = 5,  /* payload length wrong for the command */
    TFP_ERR_RANGE = 6,       /* offset/length outside the tensor */
    TFP_ERR_BAD_INDEX = 7,   /* no such input/output tensor or layer */
    TFP_ERR_NO_HOST_FILE = 8, /* LOAD: not a virtual board, or the file cannot be read */
};

enum {
    TFP_FAULT_HARD = 1, TFP_FAULT_MEMMANAGE = 2, TFP_FAULT_BUS = 3, TFP_FAULT_USAGE = 4,
    TFP_FAULT_NMI = 5, TFP_FAULT_UNEXPECTED_IRQ = 6,
};

/* HELLO flags */
#define TFP_FLAG_VIRTUAL 1u     /* QEMU: cycles are virtual time, see docs/protocol.md */
#define TFP_FLAG_DWT 2u         /* cycles come from DWT CYCCNT (else SysTick) */

typedef struct {
    const char *board;
    const char *core;
    const char *build;          /* compiler and options, for the record */
    uint32_t clock_hz;
    uint32_t flags;             /* TFP_FLAG_VIRTUAL, set by main.c from the board file */
} tfp_target_t;

void tfp_init(const tfp_target_t *target);

/* Feed one received byte to the decoder; runs a complete request. */
void tfp_feed(uint8_t byte);

/* Drain the console ring through tfp_feed(). */
void tfp_poll(void);

/* Send an unsolicited LOG frame. */
void tfp_log(const char *text);

/* Low-level helpers, exported for tests. */
uint32_t tfp_crc32(const uint8_t *p, uint32_t n);
uint32_t tfp_cobs_encode(const uint8_t *in, uint32_t n, uint8_t *out);
int32_t tfp_cobs_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap);

#ifdef __cplusplus
}
#endif

#endif
