/*
 * hello: the smallest useful wasmplug plugin in C.
 *
 * Exports `greet` (bytes ABI): input "world" gives "Hello, world!". The
 * manifest's config key `greeting` replaces "Hello" (greeting=Howdy gives
 * "Howdy, world!"). Logs "greeting <input>" at info level.
 *
 * Build (from the repository root):
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Wall -Wextra -Werror -I pdk/c -o hello.wasm examples/hello/c/hello.c
 */
#include "wasmplug_pdk.h"

/* Logs "greeting <name>" at info level. Built by hand rather than with the
 * printf-style wp_log: wasi-libc's vsnprintf drags in stderr and with it
 * three wasi_snapshot_preview1 imports, and this plugin imports no WASI. */
static void log_greeting(const uint8_t *name, size_t name_len) {
  static const char prefix[] = "greeting ";
  size_t len = sizeof prefix - 1 + name_len;
  char *msg = malloc(len ? len : 1);
  if (!msg) return;
  memcpy(msg, prefix, sizeof prefix - 1);
  memcpy(msg + sizeof prefix - 1, name, name_len);
  wp_log_str(WP_LOG_INFO, msg, len);
  free(msg);
}

static void do_greet(const uint8_t *name, size_t name_len) {
  log_greeting(name, name_len);

  char *configured = wp_config_get("greeting"); /* NULL when not set */
  const char *greeting = configured ? configured : "Hello";
  size_t greeting_len = strlen(greeting);

  /* "<greeting>, <name>!" */
  size_t len = greeting_len + 2 + name_len + 1;
  char *out = malloc(len);
  if (!out) {
    free(configured);
    static const char oom[] = "greet: out of memory";
    wp_error_str(oom, sizeof oom - 1);
    return;
  }
  memcpy(out, greeting, greeting_len);
  memcpy(out + greeting_len, ", ", 2);
  memcpy(out + greeting_len + 2, name, name_len);
  out[len - 1] = '!';
  free(configured);

  wp_output_take(out, len); /* the plugin frees it after the host copied it */
}

WP_EXPORT_BYTES(greet, do_greet)
