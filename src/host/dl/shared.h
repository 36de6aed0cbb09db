/*
 * shared.h - what ffi.c and dll.c share (dl.c): the capability's state,
 * the plugin's grant, handles, and the results they give.
 *
 * Outcomes: whatever the plugin may cause (not granted, not found, a bad
 * type or value) is the err string of the function's result, so its
 * instance goes on; a handle that is not live, an argument not of dl.wit's
 * type, and running out of memory fail the plugin's call.
 */
#ifndef WP_HOST_DL_SHARED_H
#define WP_HOST_DL_SHARED_H

#include "mem.h"

#define DL_FFI "wasi:dl/ffi@0.2.0-draft"
#define DL_DLL "wasi:dl/dll@0.2.0-draft"

typedef struct dl_state {
  const wp_capability *cap;
  const wp_resource_type *alloc, *library, *symbol, *function;
} dl_state;

/* The plugin's grant, or NULL with *result set to the error naming
   capabilities.dl (the return value: NULL, or out of memory). */
wp_error *dl_granted(const dl_state *st, wp_host_call *call, const char *fn, dl_grant **g,
                     wp_value **result);

/* *result = err(message): the message made printable ASCII. Returns NULL,
   or the out-of-memory error. */
wp_error *dl_fail(wp_value **result, const char *fmt, ...) WP_PRINTF(2, 3);
/* *result = ok(v) (v taken; NULL: out of memory). */
wp_error *dl_ok(wp_value **result, wp_value *v);
/* *result = ok (for result<_, string>). */
wp_error *dl_ok_unit(wp_value **result);
wp_error *dl_no_memory(void);

/* The object behind a handle argument (i < nargs) of type `type`. */
wp_error *dl_handle(wp_host_call *call, const wp_value *const *args, size_t nargs, size_t i,
                    const wp_resource_type *type, const char *fn, void **obj);
/* An argument of dl.wit's type that is not: fails the call. */
wp_error *dl_shape(const char *fn, const char *what);
/* args[i] when it is of `kind`, else NULL. */
const wp_value *dl_arg(const wp_value *const *args, size_t nargs, size_t i, wp_type_kind kind);

/* *result = ok(a handle to a new alloc of (b, off, type)), charged to
   `used`; or err when over the plugin's budget. */
wp_error *dl_ok_alloc(const dl_state *st, wp_host_call *call, dl_block *b, size_t off,
                      const dl_type *type, atomic_size_t *used, wp_value **result);
/* A new alloc's handle as dl_ok_alloc makes it, unwrapped (NULL with
 *over, or out of memory). */
wp_value *dl_alloc_value(const dl_state *st, wp_host_call *call, dl_block *b, size_t off,
                         const dl_type *type, atomic_size_t *used, bool *over);
/* The refusal when a plugin's allocs would hold more than its budget. */
wp_error *dl_over_budget(wp_value **result, const char *fn);

/* Defines wasi:dl/ffi's and wasi:dl/dll's functions (ffi.c, dll.c). */
wp_error *dl_install_ffi(wp_engine *e, dl_state *st);
wp_error *dl_install_dll(wp_engine *e, dl_state *st);

#endif
