/*
 * guest.h - reaching into a plugin's linear memory safely (internal).
 */
#ifndef WP_CORE_GUEST_H
#define WP_CORE_GUEST_H

#include "instance/instance.h"

/* Outcome of placing bytes in guest memory. */
typedef enum wp_guest_status {
  WP_GUEST_OK = 0,
  WP_GUEST_WASM_FAILED, /* cabi_realloc trapped or errored: *werr / *trap set */
  WP_GUEST_BAD_POINTER, /* cabi_realloc returned memory outside linear memory */
} wp_guest_status;

/*
 * Allocates `len` bytes with the guest's cabi_realloc(0, 0, 1, len), checks
 * the result lies in memory and copies `data` there. Usable from host
 * functions (nested in a call) as well as from the call path.
 */
wp_guest_status wp_guest_place(wp_instance *inst, const void *data, size_t len, uint32_t *ptr,
                               wasmtime_error_t **werr, wasm_trap_t **trap);

/* As wp_guest_place, for the call path: failures become wp_errors that end
   the call. `what` names the export being called. */
wp_error *wp_guest_alloc_copy(wp_instance *inst, const char *what, const void *data, size_t len,
                              uint32_t *ptr);

/* A WP_ERR_ABI error about this plugin, ending the call; the message gets the
   memory size appended. */
wp_error *wp_guest_abi_error(wp_instance *inst, const char *fmt, ...) WP_PRINTF(2, 3);

/* Is [ptr, ptr+len) inside memory of `size` bytes? */
static inline bool wp_guest_in_bounds(uint64_t ptr, uint64_t len, size_t size) {
  return ptr + len <= size;
}

#endif
