/*
 * guest.c - placing bytes in a plugin's memory through its cabi_realloc.
 */
#define _POSIX_C_SOURCE 200809L
#include "core/guest.h"
#include "core/kind.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

wp_guest_status wp_guest_place(wp_instance *inst, const void *data, size_t len, uint32_t *ptr,
                               wasmtime_error_t **werr, wasm_trap_t **trap) {
  wasmtime_val_raw_t raw[4];
  raw[0].i32 = 0;
  raw[1].i32 = 0;
  raw[2].i32 = 1;
  raw[3].i32 = (int32_t)(uint32_t)len;
  *trap = NULL;
  /* raw[] holds 4 slots: cabi_realloc's type, (i32, i32, i32, i32) -> i32,
     was checked when the plugin loaded (plugin.c check_helper_exports). */
  *werr = wasmtime_func_call_unchecked(inst->ctx, &wp_core_inst(inst)->realloc_fn, raw, 4, trap);
  if (*werr || *trap) return WP_GUEST_WASM_FAILED;
  *ptr = (uint32_t)raw[0].i32;
  /* Read the memory after the call: cabi_realloc may have grown it. */
  size_t size;
  uint8_t *mem = wp_core_memory(inst, &size);
  if (!wp_guest_in_bounds(*ptr, len, size)) return WP_GUEST_BAD_POINTER;
  if (len) memcpy(mem + *ptr, data, len);
  return WP_GUEST_OK;
}

wp_error *wp_guest_abi_error(wp_instance *inst, const char *fmt, ...) {
  char msg[512], size[32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  wp_call_abandon(inst);
  inst->failed = true;
  /* The call failed on the ABI: an error the plugin reported through
     wasmplug.error before that belongs to this call, not the next. */
  free(inst->plugin_error);
  inst->plugin_error = NULL;
  /* Messages ending "outside its memory" get the memory's size. */
  size_t n = strlen(msg);
  bool outside = n >= 18 && strcmp(msg + n - 18, "outside its memory") == 0;
  return wp_error_new(WP_ERR_ABI, WP_PLUGIN_FMT ": %s%s%s (a bug in the plugin or its PDK)",
                      inst->plugin->name, msg, outside ? " of " : "",
                      outside ? wp_format_size(wp_core_memory_size(inst), size, sizeof size) : "");
}

wp_error *wp_guest_alloc_copy(wp_instance *inst, const char *what, const void *data, size_t len,
                              uint32_t *ptr) {
  wasmtime_error_t *werr;
  wasm_trap_t *trap;
  switch (wp_guest_place(inst, data, len, ptr, &werr, &trap)) {
  case WP_GUEST_OK: return NULL;
  case WP_GUEST_WASM_FAILED: return wp_call_failure(inst, "cabi_realloc", werr, trap);
  case WP_GUEST_BAD_POINTER: break;
  }
  return wp_guest_abi_error(
      inst, "cabi_realloc returned [ptr=0x%x, len=%zu] for the input of '%s', outside its memory",
      *ptr, len, what);
}
