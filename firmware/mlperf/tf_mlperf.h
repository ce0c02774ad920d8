/*
 * MLPerf Tiny / EEMBC device-under-test protocol, device side, in portable C99.
 *
 * The host (the MLPerf Tiny runner, EEMBC's EnergyRunner, or any client) sends ASCII
 * commands terminated by '%'; every reply is a set of "\r\n"-terminated lines ending with
 * "m-ready". Commands: name, profile, timestamp, help, db load N, db HEX..., db print,
 * infer N [W], results. See docs/evaluation.md for the exact replies.
 *
 * It runs the model through the fixed contract in tinyflow_model.h only, and needs three
 * tiny hooks from the board support (firmware/mlperf/tf_mlperf_bsp.c on a board, the
 * host harness in firmware/mlperf/host/ on a PC).
 *
 * Build-time settings (-D):
 *   TF_MLPERF_MODEL_ID      model id the runner keys its scripts on: "vww01", "kws01",
 *                           "ic01", "ad01" ... (default "vww01")
 *   TF_MLPERF_VENDOR        printed by name%: m-name-dut-[VENDOR] (default "tinyflow")
 *   TF_MLPERF_DB_BYTES      size of the db buffer, at least the model input's bytes
 *                           (default 27648 = 96x96x3, MLPerf's MAX_DB_INPUT_SIZE)
 *   TF_MLPERF_INPUT_OFFSET  added to every byte when the db buffer is copied into the
 *                           int8 input: 0 when the host sends int8 bytes (default), -128
 *                           for uint8 .bin files as in MLPerf's VWW reference port
 *   TF_MLPERF_ENERGY        1: timestamp% toggles nothing and prints nothing (energy mode
 *                           needs a GPIO, which tf_mlperf_timestamp_pin() provides)
 */
#ifndef TF_MLPERF_H
#define TF_MLPERF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TF_MLPERF_CMD_SIZE 80      /* EE_CMD_SIZE: longer commands are truncated */

/* ---- hooks the board support provides ---- */

/* Blocking write of n bytes to the host. */
void tf_mlperf_write(const char *s, uint32_t n);

/* Next received byte, or -1 if none is waiting. */
int tf_mlperf_getchar(void);

/* Free-running microsecond counter (wraps at 2^32). */
uint32_t tf_mlperf_micros(void);

/* Called while no byte is waiting (e.g. sleep until an interrupt). */
void tf_mlperf_idle(void);

/* Energy mode only: pulse the timestamp GPIO. */
void tf_mlperf_timestamp_pin(void);

/* ---- the protocol ---- */

/* Print the boot banner (timestamp mode, first lap, m-init-done, m-ready). */
void tf_mlperf_init(void);

/* Feed one received character; runs the command when it is the terminator '%'. */
void tf_mlperf_feed(char c);

/* init, then feed characters forever (never returns). */
void tf_mlperf_main(void);

#ifdef __cplusplus
}
#endif

#endif /* TF_MLPERF_H */
