/*
 * wasi.c - an instance's WASI context: what the manifest grants, and where
 * the plugin's stdout and stderr go (kept apart from instance.c, which
 * owns stores, limits and calls).
 */
#define _POSIX_C_SOURCE 200809L
#include "instance/wasi.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define WP_CAPTURE_MAX (1u << 20) /* captured stdout/stderr kept per instance */

static ptrdiff_t capture(wp_instance *inst, const wp_stdio *io, wp_buf *buf,
                         const unsigned char *data, size_t len) {
  if (io->mode == WP_STDIO_CALLBACK)
    return io->fn(io->user_data, inst, data, len) == 0 ? (ptrdiff_t)len : -5 /* EIO */;
  if (buf->len + len > WP_CAPTURE_MAX)
    return -27; /* EFBIG: the cap keeps a chatty plugin from
                   eating host memory */
  if (!wp_buf_reserve(buf, buf->len + len + 1)) return -12; /* ENOMEM */
  memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return (ptrdiff_t)len;
}

static ptrdiff_t on_stdout(void *data, const unsigned char *bytes, size_t len) {
  wp_instance *inst = data;
  return capture(inst, &inst->plugin->manifest->out, &inst->stdout_buf, bytes, len);
}

static ptrdiff_t on_stderr(void *data, const unsigned char *bytes, size_t len) {
  wp_instance *inst = data;
  return capture(inst, &inst->plugin->manifest->err, &inst->stderr_buf, bytes, len);
}

typedef ptrdiff_t (*stdio_cb)(void *, const unsigned char *, size_t);

static void set_stdio(wasi_config_t *wc, wp_instance *inst, wp_stdio_mode mode, bool is_out) {
  if (mode == WP_STDIO_INHERIT) {
    if (is_out) wasi_config_inherit_stdout(wc);
    else wasi_config_inherit_stderr(wc);
  } else if (mode == WP_STDIO_CAPTURE || mode == WP_STDIO_CALLBACK) {
    if (is_out) wasi_config_set_stdout_custom(wc, on_stdout, inst, NULL);
    else wasi_config_set_stderr_custom(wc, on_stderr, inst, NULL);
  }
  /* WP_STDIO_DISCARD: Wasmtime's default is a sink. */
}

/* Builds the WASI context from the manifest: nothing that is not granted. */
wp_error *wp_instance_setup_wasi(wp_instance *inst) {
  const wp_manifest *m = inst->plugin->manifest;
  wasi_config_t *wc = wasi_config_new();
  if (!wc) return wp_error_no_memory();
  if (m->nargs) wasi_config_set_argv(wc, m->nargs, (const char **)m->args);
  if (m->nenv) {
    /* On the heap: a manifest may hold any number of variables, and every
       one is passed (the manifest has checked that each is UTF-8, which is
       what wasi_config_set_env needs). */
    const char **names = calloc(m->nenv, sizeof *names), **values = calloc(m->nenv, sizeof *values);
    if (!names || !values) {
      free(names);
      free(values);
      wasi_config_delete(wc);
      return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory for %zu environment variables",
                          m->nenv);
    }
    for (size_t i = 0; i < m->nenv; i++) {
      names[i] = m->env[i].key;
      values[i] = m->env[i].value;
    }
    wasi_config_set_env(wc, m->nenv, names, values);
    free(names);
    free(values);
  }
  if (m->has_stdin) {
    wasm_byte_vec_t in;
    wasm_byte_vec_new(&in, m->stdin_len, (const char *)m->stdin_data);
    wasi_config_set_stdin_bytes(wc, &in);
  }
  set_stdio(wc, inst, m->out.mode, true);
  set_stdio(wc, inst, m->err.mode, false);
  for (size_t i = 0; i < m->ndirs; i++) {
    const wp_dir_grant *d = &m->dirs[i];
    if (!wasi_config_preopen_dir(wc, d->host, d->guest, d->writable)) {
      wasi_config_delete(wc);
      return wp_error_new(WP_ERR_IO,
                          WP_PLUGIN_FMT ": cannot open granted directory '%s'; check that it "
                                        "exists and is readable",
                          inst->plugin->name, d->host);
    }
  }
  wasmtime_error_t *werr = wasmtime_context_set_wasi(inst->ctx, wc);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_HOST, werr, WP_PLUGIN_FMT ": WASI", inst->plugin->name);
  return NULL;
}
