/*
 * frame.h - the framing the capabilities' core-module functions share
 * (internal to src/host/). A capability offers core plugins bytes functions
 * in the `wasmplug` import module (wp_engine_define_bytes); their one input
 * and one output are framed so that several values and an in-band outcome
 * travel through them:
 *
 *   input  = field*                 field = u32 length (little-endian), bytes
 *   output = u8 status, then:       0 OK: field*  (the results)
 *                                   1 NONE: nothing (absent key, no value)
 *                                   2 ERROR: a UTF-8 message, unframed
 *
 * An ERROR is the plugin's to handle (a bucket not granted, a backend
 * down); a malformed input is the plugin's bug and fails its call with
 * WP_ERR_ABI instead. The PDKs' helpers (pdk/c/wasmplug_<capability>.h,
 * pdk/go/<capability>.go) read and write this form.
 */
#ifndef WP_HOST_COMMON_FRAME_H
#define WP_HOST_COMMON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"

enum { WP_FRAME_OK = 0, WP_FRAME_NONE = 1, WP_FRAME_ERROR = 2 };

/* Reads the fields of an input. */
typedef struct wp_frame_in {
  const uint8_t *at;
  size_t left;
  const char *fn; /* the function's name, for messages */
} wp_frame_in;

static inline wp_frame_in wp_frame_in_new(const char *fn, const uint8_t *input, size_t len) {
  return (wp_frame_in){input, len, fn};
}

/* The next field (borrowed from the input); WP_ERR_ABI when there is none
   or it runs past the end. `what` names it in the message. */
wp_error *wp_frame_field(wp_frame_in *in, const char *what, const uint8_t **data, size_t *len);

/* As wp_frame_field for text: UTF-8 without NUL, copied into a malloc'd,
   NUL-terminated string. */
wp_error *wp_frame_string(wp_frame_in *in, const char *what, char **out);

/* A field holding a little-endian u64 / i64 (8 bytes). */
wp_error *wp_frame_u64(wp_frame_in *in, const char *what, uint64_t *out);

/* WP_ERR_ABI unless every field was read. */
wp_error *wp_frame_end(const wp_frame_in *in);

/* Builds an output. */
typedef struct wp_frame_out {
  uint8_t *data;
  size_t len, cap;
  bool no_memory;
} wp_frame_out;

/* Starts an output with its status byte. */
void wp_frame_out_init(wp_frame_out *out, uint8_t status);
/* Appends a field (OK outputs). */
void wp_frame_put(wp_frame_out *out, const void *data, size_t len);
void wp_frame_put_u64(wp_frame_out *out, uint64_t v);
/* Hands the output to the plugin (wp_host_call_set_output) and frees it. */
wp_error *wp_frame_send(wp_host_call *call, wp_frame_out *out);

/* Answers NONE. */
wp_error *wp_frame_none(wp_host_call *call);
/* Answers ERROR with a formatted message: the plugin's call goes on. */
wp_error *wp_frame_error(wp_host_call *call, const char *fmt, ...) WP_PRINTF(2, 3);
/* Answers ERROR with err's message and frees err. */
wp_error *wp_frame_error_from(wp_host_call *call, wp_error *err);

#endif
