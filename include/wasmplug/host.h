/*
 * wasmplug/host.h - host functions that core-module plugins import (numeric,
 * bytes, string), and the context of one such call.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_HOST_H
#define WASMPLUG_HOST_H

#include "wasmplug/engine.h"
#include "wasmplug/numeric.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/**
 * The context of one call from a plugin into a host function. Borrowed: valid
 * only during the callback. A callback must not call into the same instance.
 */
typedef struct wp_host_call wp_host_call;

/**
 * A host function with numeric parameters and results. `args` holds the
 * declared parameters, already type-checked; write every result. Return NULL
 * on success, or an error (wp_error_new) to make the plugin's call fail with
 * WP_ERR_HOST and that message; the library takes ownership of it.
 */
typedef wp_error *(*wp_host_fn)(wp_host_call *call, const wp_val *args, size_t nargs,
                                wp_val *results, size_t nresults, void *user_data);

/**
 * A host function taking bytes and returning bytes. `input` points into the
 * plugin's memory (bounds-checked) and is valid during the callback. Set the
 * result with wp_host_call_set_output (default: empty). Errors as wp_host_fn.
 *
 * Guest ABI (canonical ABI of `func(input: list<u8>) -> list<u8>`): the
 * import is `(param i32 i32 i32)`: input pointer, input length, and a pointer
 * to an 8-byte area where the host writes the output [pointer, length]; the
 * output is allocated in the guest with its `cabi_realloc` and owned by the
 * guest.
 */
typedef wp_error *(*wp_host_bytes_fn)(wp_host_call *call, const uint8_t *input, size_t input_len,
                                      void *user_data);

/**
 * Offers a numeric host function to plugins as import (`module`, `name`)
 * with the given signature. Plugins loaded afterwards can import it; a plugin
 * that imports it with another signature fails to load with WP_ERR_LINK.
 * `free_user_data` (may be NULL) runs when the engine goes.
 * Thread-safe, but define functions before loading the plugins that use them.
 */
wp_error *wp_engine_define_func(wp_engine *engine, const char *module, const char *name,
                                const wp_valkind *params, size_t nparams, const wp_valkind *results,
                                size_t nresults, wp_host_fn fn, void *user_data,
                                void (*free_user_data)(void *));

/** Offers a bytes-to-bytes host function (see wp_host_bytes_fn for the ABI). */
wp_error *wp_engine_define_bytes(wp_engine *engine, const char *module, const char *name,
                                 wp_host_bytes_fn fn, void *user_data,
                                 void (*free_user_data)(void *));

/**
 * As wp_engine_define_bytes, for strings: the guest's input is checked to be
 * UTF-8 before the callback runs (else the guest's call fails with WP_ERR_ABI)
 * and the output given to wp_host_call_set_output must be UTF-8 too.
 */
wp_error *wp_engine_define_string(wp_engine *engine, const char *module, const char *name,
                                  wp_host_bytes_fn fn, void *user_data,
                                  void (*free_user_data)(void *));

/** Sets a bytes/string host function's result; copies `data`. */
wp_error *wp_host_call_set_output(wp_host_call *call, const void *data, size_t len);

/** The instance whose plugin made this call (borrowed). */
wp_instance *wp_host_call_get_instance(wp_host_call *call);

/**
 * Milliseconds left before the deadline of the plugin's call
 * (limits.timeout_ms), 0 once it has passed, or UINT64_MAX when the call has
 * none. A host function that waits (network, disk, another process) should
 * wait no longer than this: the plugin's limit covers the time its host
 * functions take.
 */
uint64_t wp_host_call_time_left_ms(const wp_host_call *call);

/**
 * Whether wp_instance_interrupt was called for the plugin's instance while
 * this call runs: a host function that waits should give up and return an
 * error (the call then fails with WP_ERR_INTERRUPTED). Thread-safe; cheap
 * enough to poll.
 */
bool wp_host_call_interrupted(const wp_host_call *call);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_HOST_H */
