/*
 * wasmplug/error.h - errors: wp_error, its kinds, and what one says.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_ERROR_H
#define WASMPLUG_ERROR_H

#include "wasmplug/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** What kind of failure a wp_error reports. */
typedef enum wp_error_kind {
  WP_ERR_LOAD = 1,     /**< the bytes are not a valid plugin (corrupt, wrong format) */
  WP_ERR_LINK,         /**< an import is missing or has the wrong type */
  WP_ERR_TRAP,         /**< the plugin trapped (unreachable, divide by zero, stack overflow...) */
  WP_ERR_TIMEOUT,      /**< the call ran past its time limit */
  WP_ERR_INTERRUPTED,  /**< wp_instance_interrupt stopped the call */
  WP_ERR_FUEL,         /**< the call used up its fuel */
  WP_ERR_MEMORY_LIMIT, /**< the plugin failed after its memory reached the limit */
  WP_ERR_BAD_INPUT,    /**< the caller passed something wrong: arguments, manifest, options */
  WP_ERR_ABI, /**< the plugin broke the calling convention (pointer outside memory, bad UTF-8) */
  WP_ERR_HOST, /**< a host function reported a failure */
  WP_ERR_PLUGIN, /**< the plugin reported a failure through wasmplug.error */
  WP_ERR_IO, /**< reading or writing a file failed */
  WP_ERR_NOT_FOUND, /**< no such export, file or function */
  WP_ERR_BUSY, /**< no free instance slot in the engine's pool: retry later (not the
                    plugin's fault; see wp_engine_config_set_pooling) */
  WP_ERR_NO_MEMORY, /**< the host ran out of memory (malloc failed), not the plugin's limit */
} wp_error_kind;

typedef struct wp_error wp_error;

/**
 * Makes an error. Host functions return one to fail the guest's call with
 * this message. Never returns NULL (falls back to a static out-of-memory error).
 */
wp_error *wp_error_new(wp_error_kind kind, const char *fmt, ...) WP_PRINTF(2, 3);

/** Frees an error. NULL is allowed. */
void wp_error_free(wp_error *err);

/** The error's kind. */
wp_error_kind wp_error_get_kind(const wp_error *err);

/**
 * The message: one line (or a few) naming the plugin, what failed, and how to
 * fix it, e.g. "plugin 'auth.wasm': export 'check' not found (exports:
 * check_token, init)". Borrowed from err.
 */
const char *wp_error_get_message(const wp_error *err);

/**
 * The wasm backtrace, innermost frame first, one frame per line
 * ("  0: hello.wasm!greet+0x1c"), or NULL when there is none. Borrowed.
 */
const char *wp_error_get_backtrace(const wp_error *err);

/** A short lower-case name for a kind: "load", "trap", "timeout", ... */
const char *wp_error_kind_name(wp_error_kind kind);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_ERROR_H */
