/*
 * wasmplug_bytes.h - wasmplug's Rust extension for bytes and string calls on
 * component exports (src/bytes.rs): one export typed `func(list<u8>) ->
 * list<u8>`, `func(string) -> string`, `func(list<u8>) -> string` or
 * `func(string) -> list<u8>`, called through Wasmtime's typed API, so the
 * input and the output cross as one copy each rather than one
 * wasmtime_component_val_t per byte. Runs in the embedder's store (its
 * limiter, epoch deadline and fuel apply). deps/wasmtime/build.sh installs
 * this header next to wasmtime.h.
 *
 * No function unwinds into C: a Rust panic is reported as an error.
 */
#ifndef WASMPLUG_BYTES_EXT_H
#define WASMPLUG_BYTES_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The flags of wasmplug_component_call_bytes: which side is a string. */
enum {
  WASMPLUG_BYTES_PARAM_STRING = 1,  /* the parameter is `string`, else `list<u8>` */
  WASMPLUG_BYTES_RESULT_STRING = 2, /* the result is `string`, else `list<u8>` */
  /* The caller has checked the export's type (as Wasmtime reports it) against
     the two flags above: the per-call type check is skipped. Never set it
     without that check: a wrong type would be lowered as the flags say. */
  WASMPLUG_BYTES_TYPE_CHECKED = 4,
  /* The caller has checked that the input of a string parameter is UTF-8: it
     is not checked again. Never set it for unchecked bytes. */
  WASMPLUG_BYTES_INPUT_UTF8 = 8,
};

/* What wasmplug_component_call_bytes returns. */
enum {
  WASMPLUG_BYTES_OK = 0,
  WASMPLUG_BYTES_CALL_FAILED = 1, /* the call failed (trap, timeout...): *error says why */
  WASMPLUG_BYTES_BAD_TYPE = 2,    /* the export's type is not the one `flags` says */
  WASMPLUG_BYTES_BAD_INPUT = 3,   /* a string parameter and input that is not UTF-8, or NULL */
  WASMPLUG_BYTES_NO_MEMORY = 4,   /* `alloc` returned NULL */
};

/* Returns room for `len` bytes of output (also for 0), or NULL. */
typedef uint8_t *(*wasmplug_bytes_alloc_fn)(void *data, size_t len);

/*
 * Calls `func` (resolved in the instance living in `context`'s store) with
 * `input_len` bytes at `input` as its one argument, and copies its result
 * straight from the guest's memory into the room `alloc(alloc_data, len)`
 * gives (called at most once, while the result is lifted: a call that fails
 * after that, e.g. in post-return, leaves the room with the caller). A string result is UTF-8 (Wasmtime checks it when lifting). The
 * export's post-return function runs inside the call. *error is set for
 * WASMPLUG_BYTES_CALL_FAILED only (free it with wasmtime_error_delete), and
 * NULL otherwise.
 */
int wasmplug_component_call_bytes(wasmtime_context_t *context, const wasmtime_component_func_t *func,
                                  uint32_t flags, const uint8_t *input, size_t input_len,
                                  wasmplug_bytes_alloc_fn alloc, void *alloc_data,
                                  wasmtime_error_t **error);

/*
 * Calls `func`, an export typed `func()`, through the typed API (no values to
 * convert). `checked`: the caller has checked that type, so the call skips
 * its own check (else a different type gives WASMPLUG_BYTES_BAD_TYPE).
 * Returns WASMPLUG_BYTES_OK or _CALL_FAILED (with *error, as above).
 */
int wasmplug_component_call_unit(wasmtime_context_t *context, const wasmtime_component_func_t *func,
                                 bool checked, wasmtime_error_t **error);

#ifdef __cplusplus
}
#endif

#endif
