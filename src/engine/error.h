/*
 * error.h - building wp_error values inside the library (internal).
 */
#ifndef WP_ENGINE_ERROR_H
#define WP_ENGINE_ERROR_H

#include <stdarg.h>

#include <wasmtime.h>

#include "wasmplug.h"

/* As wp_error_new, from a va_list. */
wp_error *wp_error_newv(wp_error_kind kind, const char *fmt, va_list ap);

/* Prefixes the message: "<prefix><old message>". Returns err. */
wp_error *wp_error_prefix(wp_error *err, const char *fmt, ...) WP_PRINTF(2, 3);

/* Attaches a backtrace (takes ownership of the malloc'ed string). */
void wp_error_set_backtrace(wp_error *err, char *backtrace);

/* Formats a wasm frame vector as the backtrace text, naming frames without a
   module name after `plugin`; NULL when empty. */
char *wp_backtrace_format(const wasm_frame_vec_t *frames, const char *plugin);

/* The useful part of a Wasmtime trap/error message: what follows its last
   "Caused by:" (Wasmtime puts its own backtrace before that), trimmed.
   Edits msg in place and returns a pointer into it. */
char *wp_trap_reason(char *msg);

/* The text of a Wasmtime error; frees it. Returns a malloc'ed string. */
char *wp_wasmtime_error_take(wasmtime_error_t *err);

/* A Wasmtime error turned into a wp_error of `kind`, message
   "<prefix>: <wasmtime message>"; frees `werr`. */
wp_error *wp_error_from_wasmtime(wp_error_kind kind, wasmtime_error_t *werr, const char *fmt, ...)
    WP_PRINTF(3, 4);

/* Changes an error's kind (not the static out-of-memory error's). */
void wp_error_set_kind(wp_error *err, wp_error_kind kind);

/* The static error returned when even making an error runs out of memory. */
extern wp_error wp_error_oom;

/* The host is out of memory: WP_ERR_NO_MEMORY, in one wording. */
wp_error *wp_error_no_memory(void);

#endif
