/*
 * error.c - wp_error: a kind, a message, an optional wasm backtrace.
 */
#include "engine/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct wp_error {
  wp_error_kind kind;
  char *message;
  char *backtrace;
};

/* Handed out when malloc fails while reporting another failure; never freed. */
wp_error wp_error_oom = {WP_ERR_NO_MEMORY, (char *)"wasmplug: out of memory", NULL};

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

wp_error *wp_error_newv(wp_error_kind kind, const char *fmt, va_list ap) {
  wp_error *err = calloc(1, sizeof *err);
  if (!err) return &wp_error_oom;
  err->kind = kind;
  err->message = vformat(fmt, ap);
  if (!err->message) {
    free(err);
    return &wp_error_oom;
  }
  return err;
}

wp_error *wp_error_no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
}

wp_error *wp_error_new(wp_error_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wp_error *err = wp_error_newv(kind, fmt, ap);
  va_end(ap);
  return err;
}

void wp_error_free(wp_error *err) {
  if (!err || err == &wp_error_oom) return;
  free(err->message);
  free(err->backtrace);
  free(err);
}

wp_error_kind wp_error_get_kind(const wp_error *err) { return err->kind; }
const char *wp_error_get_message(const wp_error *err) { return err->message; }
const char *wp_error_get_backtrace(const wp_error *err) { return err->backtrace; }

wp_error *wp_error_prefix(wp_error *err, const char *fmt, ...) {
  if (err == &wp_error_oom) return err;
  va_list ap;
  va_start(ap, fmt);
  char *prefix = vformat(fmt, ap);
  va_end(ap);
  if (!prefix) return err;
  size_t a = strlen(prefix), b = strlen(err->message);
  char *joined = malloc(a + b + 1);
  if (joined) {
    memcpy(joined, prefix, a);
    memcpy(joined + a, err->message, b + 1);
    free(err->message);
    err->message = joined;
  }
  free(prefix);
  return err;
}

void wp_error_set_backtrace(wp_error *err, char *backtrace) {
  if (err == &wp_error_oom) {
    free(backtrace);
    return;
  }
  free(err->backtrace);
  err->backtrace = backtrace;
}

const char *wp_error_kind_name(wp_error_kind kind) {
  switch (kind) {
  case WP_ERR_LOAD: return "load";
  case WP_ERR_LINK: return "link";
  case WP_ERR_TRAP: return "trap";
  case WP_ERR_TIMEOUT: return "timeout";
  case WP_ERR_INTERRUPTED: return "interrupted";
  case WP_ERR_FUEL: return "out of fuel";
  case WP_ERR_MEMORY_LIMIT: return "memory limit";
  case WP_ERR_BAD_INPUT: return "bad input";
  case WP_ERR_ABI: return "abi";
  case WP_ERR_HOST: return "host";
  case WP_ERR_PLUGIN: return "plugin";
  case WP_ERR_IO: return "io";
  case WP_ERR_NOT_FOUND: return "not found";
  case WP_ERR_BUSY: return "busy";
  case WP_ERR_NO_MEMORY: return "no memory";
  }
  return "unknown";
}

/* Appends to the backtrace, each piece cut at 511 bytes: module and
   function names come from the plugin's name section, and one megabyte
   name must not make a megabyte message. */
static void append(wp_buf *b, const char *fmt, ...) WP_PRINTF(2, 3);

static void append(wp_buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  wp_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

char *wp_backtrace_format(const wasm_frame_vec_t *frames, const char *plugin) {
  if (!frames || frames->size == 0) return NULL;
  wp_buf b = {0};
  for (size_t i = 0; i < frames->size; i++) {
    const wasm_frame_t *f = frames->data[i];
    const wasm_name_t *mod = wasmtime_frame_module_name(f);
    const wasm_name_t *fn = wasmtime_frame_func_name(f);
    append(&b, "  %zu: ", i);
    if (mod) append(&b, "%.*s!", (int)mod->size, mod->data);
    else if (plugin) append(&b, "%s!", plugin);
    if (fn) append(&b, "%.*s", (int)fn->size, fn->data);
    else append(&b, "<func %u>", wasm_frame_func_index(f));
    size_t off = wasm_frame_func_offset(f);
    if (off != SIZE_MAX) append(&b, "+0x%zx", off);
    append(&b, "\n");
  }
  /* What was built before running out of memory is still worth showing. */
  if (b.len && b.data[b.len - 1] == '\n') b.data[b.len - 1] = '\0';
  return (char *)b.data;
}

char *wp_wasmtime_error_take(wasmtime_error_t *werr) {
  wasm_name_t msg;
  wasmtime_error_message(werr, &msg);
  char *s = malloc(msg.size + 1);
  if (s) {
    memcpy(s, msg.data, msg.size);
    s[msg.size] = '\0';
  }
  wasm_byte_vec_delete(&msg);
  wasmtime_error_delete(werr);
  return s;
}

wp_error *wp_error_from_wasmtime(wp_error_kind kind, wasmtime_error_t *werr, const char *fmt, ...) {
  char prefix[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char *msg = wp_wasmtime_error_take(werr);
  wp_error *err = wp_error_new(kind, "%s: %s", prefix, msg ? msg : "(no message)");
  free(msg);
  return err;
}

char *wp_trap_reason(char *msg) {
  char *cause = msg, *hit;
  while ((hit = strstr(cause, "Caused by:"))) cause = hit + strlen("Caused by:");
  while (*cause == ' ' || *cause == '\n' || *cause == '\t') cause++;
  size_t n = strlen(cause);
  while (n && (cause[n - 1] == '\n' || cause[n - 1] == ' ')) cause[--n] = '\0';
  if (strncmp(cause, "wasm trap: ", 11) == 0) cause += 11;
  return cause;
}

void wp_error_set_kind(wp_error *err, wp_error_kind kind) {
  if (err && err != &wp_error_oom) err->kind = kind;
}
