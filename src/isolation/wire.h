/*
 * wire.h - the frames between a host and its worker process (internal);
 * docs/isolation.md is their specification.
 *
 * A frame is a little-endian u32 length (of what follows), a u8 type and a
 * payload of fields: u8, u32, u64 (little-endian), and bytes (a u32 length
 * and that many bytes; text is bytes without a NUL). A reader checks every
 * length against what is left: a short or overlong frame is a broken
 * protocol, never an overread.
 */
#ifndef WP_ISOLATION_WIRE_H
#define WP_ISOLATION_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "wasmplug.h"

#define WP_WIRE_VERSION 2u

/* The largest frame either side sends or accepts: bytes calls and host
   functions carry at most this much (a larger one fails with BAD_INPUT). */
#define WP_WIRE_MAX (1u << 30)

typedef enum wp_wire_type {
  WP_FR_LOAD = 1,        /* host -> worker: engine settings, manifest, host functions, plugin */
  WP_FR_READY = 2,       /* worker -> host: loaded (u32 export count) */
  WP_FR_INSTANTIATE = 3, /* host -> worker: make (or remake) the instance */
  WP_FR_OK = 4,          /* worker -> host: done */
  WP_FR_ERROR = 5,       /* worker -> host: a failure (see wp_wire_put_error) */
  WP_FR_CALL = 6,        /* host -> worker: a call */
  WP_FR_RESULT = 7,      /* worker -> host: the call's results */
  WP_FR_HOSTCALL = 8,    /* worker -> host: run an embedder's host function */
  WP_FR_HOSTRESULT = 9,  /* host -> worker: its results or error */
  WP_FR_LOG = 10,        /* worker -> host: a line for the engine's log callback */
  WP_FR_DROP = 11,       /* worker -> host: the plugin dropped a host object (u64 id) */
} wp_wire_type;

/* What a CALL does. */
typedef enum wp_call_mode {
  WP_CALL_NUMERIC = 0,
  WP_CALL_BYTES = 1,
  WP_CALL_RUN = 2,
  WP_CALL_HTTP = 3,
  WP_CALL_INVOKE = 4, /* a component export: arguments and result as WAVE text */
  WP_CALL_DROP = 5,   /* wp_instance_drop_resource on a handle the worker keeps (u64 id) */
} wp_call_mode;

/* How an embedder's host function is called (its wp_engine_define_*). */
typedef enum wp_host_shape {
  WP_SHAPE_NUMERIC = 0,
  WP_SHAPE_BYTES = 1,
  WP_SHAPE_STRING = 2,
  WP_SHAPE_COMPONENT = 3, /* wp_engine_define_component_func: values as WAVE text */
  WP_SHAPE_RESOURCE = 4,  /* wp_engine_define_resource: a stand-in type in the worker */
} wp_host_shape;

/* Writing: a frame is built in a wp_buf (sticky on out of memory). */
void wp_wire_begin(wp_buf *b, wp_wire_type type);
void wp_wire_u8(wp_buf *b, uint8_t v);
void wp_wire_u32(wp_buf *b, uint32_t v);
void wp_wire_u64(wp_buf *b, uint64_t v);
void wp_wire_bytes(wp_buf *b, const void *data, size_t len);
void wp_wire_str(wp_buf *b, const char *s); /* NULL is written as empty */
void wp_wire_val(wp_buf *b, const wp_val *v);

/* Writes the frame built in b to fd (whole, retrying short writes and
   EINTR); false on an error, out of memory or a frame over WP_WIRE_MAX. */
bool wp_wire_send(int fd, wp_buf *b);

/* Reads one frame into b (data = type + payload); false at end of file, on
   an error or on a frame over WP_WIRE_MAX. */
bool wp_wire_recv(int fd, wp_buf *b);

/* Reading a received frame's payload. Every getter fails (false, and every
   later one too) past the end. */
typedef struct wp_wire_reader {
  const uint8_t *p, *end;
  bool bad;
} wp_wire_reader;

wp_wire_reader wp_wire_reader_of(const wp_buf *b); /* past the type byte */
bool wp_wire_get_u8(wp_wire_reader *r, uint8_t *v);
bool wp_wire_get_u32(wp_wire_reader *r, uint32_t *v);
bool wp_wire_get_u64(wp_wire_reader *r, uint64_t *v);
/* Borrowed from the frame. */
bool wp_wire_get_bytes(wp_wire_reader *r, const uint8_t **data, size_t *len);
/* A malloc'ed NUL-terminated copy; false also if the text holds a NUL. */
bool wp_wire_get_str(wp_wire_reader *r, char **out);
bool wp_wire_get_val(wp_wire_reader *r, wp_val *v);
/* True if the reader used exactly the whole payload. */
bool wp_wire_done(const wp_wire_reader *r);

/*
 * A component value: text WAVE, each handle spelt <resource>, then u32 n +
 * n handles in the text's order, each u8 tag, u32 index and u64 id: tag 0
 * a host object (index: the resource's in LOAD's host list; id: the host's
 * for the object), tag 1 a handle of a resource the plugin implements, kept
 * by the worker (index 0; id: the worker's for the handle).
 */
typedef struct wp_wire_handle {
  uint8_t tag;
  uint32_t index;
  uint64_t id;
} wp_wire_handle;

#define WP_WIRE_HOST_OBJECT 0
#define WP_WIRE_GUEST_HANDLE 1

/* Describes handle `v` for the wire; an error when it cannot cross. */
typedef wp_error *(*wp_wire_handle_out)(void *ctx, const wp_value *v, wp_wire_handle *h);
/* Makes the handle `h` names, of `type` (own or borrow); NULL when it names none. */
typedef wp_value *(*wp_wire_handle_in)(void *ctx, const wp_type *type, const wp_wire_handle *h);

wp_error *wp_wire_value(wp_buf *b, const wp_value *v, wp_wire_handle_out fn, void *ctx);
/* False on a bad frame; *err when the value does not read as `type`. */
bool wp_wire_get_value(wp_wire_reader *r, const wp_type *type, wp_wire_handle_in fn, void *ctx,
                       wp_value **out, wp_error **err);

/* An error as an ERROR frame: u8 kind, text message, text backtrace (empty:
   none); and back. */
void wp_wire_put_error(wp_buf *b, const wp_error *err);
wp_error *wp_wire_get_error(wp_wire_reader *r);

#endif
