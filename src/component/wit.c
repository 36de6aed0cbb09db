/*
 * wit.c - a component's world as WIT text. Printing WIT needs the names of
 * types, which Wasmtime's reflection does not keep, so this decodes the
 * binary with wit-component through a small Rust extension (wasmplug_ext.h).
 */
#include <stdlib.h>
#include <string.h>

#include <wasmplug_ext.h>
#include <wasmtime.h>

#include "plugin/plugin.h"

wp_error *wp_component_wit(const void *bytes, size_t len, char **out) {
  if (!bytes || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_component_wit: bytes and out are required");
  const uint8_t *b = bytes;
  wasm_byte_vec_t binary = {0, NULL};
  if (len < 4 || memcmp(b, "\0asm", 4) != 0) { /* text: make it binary first */
    wasmtime_error_t *werr = wasmtime_wat2wasm(bytes, len, &binary);
    if (werr) {
      wasmtime_error_delete(werr);
      return wp_error_new(WP_ERR_LOAD,
                          "wp_component_wit: neither a WebAssembly binary nor valid text");
    }
    b = (const uint8_t *)binary.data;
    len = binary.size;
  }
  if (!wp_is_component_binary(b, len)) {
    wasm_byte_vec_delete(&binary);
    return wp_error_new(WP_ERR_LOAD,
                        "wp_component_wit: a core module, not a Component Model component; only "
                        "components carry a WIT world");
  }
  char *text = NULL;
  int rc = wasmplug_component_wit(b, len, &text);
  wasm_byte_vec_delete(&binary);
  if (rc != 0) {
    wp_error *err = wp_error_new(WP_ERR_LOAD, "cannot decode the component's WIT: %s",
                                 text ? text : "out of memory");
    wasmplug_ext_string_free(text);
    return err;
  }
  /* The extension allocates with malloc, so wp_free (free) releases it. */
  *out = text;
  return NULL;
}
