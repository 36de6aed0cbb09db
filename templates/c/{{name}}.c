/*
 * {{name}}: a wasmplug plugin in C, a core module using the bytes ABI.
 *
 * Exports `greet`: input "world" gives "Hello, world!". The manifest's config
 * key `greeting` replaces "Hello" (wasmplug call ... --config greeting=Howdy).
 * The PDK header is installed with wasmplug (`wasmplug tools path include`).
 */
#include "wasmplug_pdk.h"

static void greet(const uint8_t *name, size_t name_len) {
  char *configured = wp_config_get("greeting"); /* NULL when not set */
  const char *greeting = configured ? configured : "Hello";
  size_t greeting_len = strlen(greeting);

  size_t len = greeting_len + 2 + name_len + 1; /* "<greeting>, <name>!" */
  char *out = malloc(len);
  if (!out) {
    free(configured);
    wp_error_str("greet: out of memory", 20);
    return;
  }
  memcpy(out, greeting, greeting_len);
  memcpy(out + greeting_len, ", ", 2);
  memcpy(out + greeting_len + 2, name, name_len);
  out[len - 1] = '!';
  free(configured);
  wp_output_take(out, len); /* freed by the PDK once the host has copied it */
}

WP_EXPORT_BYTES(greet, greet)
