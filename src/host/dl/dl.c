/*
 * dl.c - the dl capability (dl.h): its grant, its resources, and what the
 * functions of ffi.c and dll.c share (shared.h).
 */
#include "dl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"

/* ---- the grant ------------------------------------------------------------------------ */

static wp_error *grant(void *data, const char *plugin, const char *section, size_t len,
                       void **out) {
  (void)data;
  *out = NULL;
  if (!section) return NULL;
  dl_grant *g;
  wp_error *err = dl_grant_parse(plugin, section, len, &g);
  if (!err) *out = g;
  return err;
}

static void grant_free(void *data, void *g) {
  (void)data;
  dl_grant_free(g);
}

static const wp_capability_methods methods = {
    .name = "dl",
    .grant = grant,
    .grant_free = grant_free,
    .free = free,
};

/* ---- shared ---------------------------------------------------------------------------- */

wp_error *dl_no_memory(void) { return wp_error_new(WP_ERR_NO_MEMORY, "wasi:dl: out of memory"); }

wp_error *dl_fail(wp_value **result, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *c = msg; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
  *result = wp_value_new_err(wp_value_new_string(msg));
  return *result ? NULL : dl_no_memory();
}

wp_error *dl_ok(wp_value **result, wp_value *v) {
  *result = v ? wp_value_new_ok(v) : NULL;
  return *result ? NULL : dl_no_memory();
}

wp_error *dl_ok_unit(wp_value **result) {
  *result = wp_value_new_ok(NULL);
  return *result ? NULL : dl_no_memory();
}

wp_error *dl_granted(const dl_state *st, wp_host_call *call, const char *fn, dl_grant **g,
                     wp_value **result) {
  *g = wp_plugin_get_grant(wp_instance_get_plugin(wp_host_call_get_instance(call)), st->cap);
  if (*g) return NULL;
  return dl_fail(result,
                 "%s: wasi:dl is not granted to this plugin: its manifest has no capabilities.dl "
                 "section (add \"dl\": {\"libraries\": {NAME: {\"symbols\": {...}}}} to its "
                 "capabilities)",
                 fn);
}

wp_error *dl_shape(const char *fn, const char *what) {
  return wp_error_new(WP_ERR_ABI, "wasi:dl %s: %s is not of the type in wit/wasi-dl/dl.wit", fn,
                      what);
}

const wp_value *dl_arg(const wp_value *const *args, size_t nargs, size_t i, wp_type_kind kind) {
  return i < nargs && args[i] && wp_value_get_kind(args[i]) == kind ? args[i] : NULL;
}

wp_error *dl_handle(wp_host_call *call, const wp_value *const *args, size_t nargs, size_t i,
                    const wp_resource_type *type, const char *fn, void **obj) {
  if (i >= nargs) return dl_shape(fn, "a handle");
  wp_error *err = wp_value_get_resource(args[i], wp_host_call_get_instance(call), type, obj);
  if (!err) return NULL;
  wp_error *e = wp_error_new(WP_ERR_ABI, "wasi:dl %s: %s", fn, wp_error_get_message(err));
  wp_error_free(err);
  return e;
}

wp_value *dl_alloc_value(const dl_state *st, wp_host_call *call, dl_block *b, size_t off,
                         const dl_type *type, atomic_size_t *used, bool *over) {
  dl_alloc *a = dl_alloc_new(b, off, type, used, over);
  wp_value *v = a ? wp_value_new_resource(wp_host_call_get_instance(call), st->alloc, a) : NULL;
  if (!v) dl_alloc_free(a);
  return v;
}

wp_error *dl_over_budget(wp_value **result, const char *fn) {
  return dl_fail(result,
                 "%s: this plugin's allocs would hold over %u bytes of host memory "
                 "(WP_DL_MAX_MEMORY, all its instances together); drop the allocs it no longer "
                 "needs",
                 fn, WP_DL_MAX_MEMORY);
}

wp_error *dl_ok_alloc(const dl_state *st, wp_host_call *call, dl_block *b, size_t off,
                      const dl_type *type, atomic_size_t *used, wp_value **result) {
  bool over;
  wp_value *h = dl_alloc_value(st, call, b, off, type, used, &over);
  if (over) return dl_over_budget(result, "alloc");
  return dl_ok(result, h);
}

/* ---- install -------------------------------------------------------------------------- */

wp_error *wp_host_dl_install(wp_engine *e) {
  dl_state *st = calloc(1, sizeof *st);
  if (!st) return dl_no_memory();
  wp_error *err = wp_engine_add_capability(e, &methods, st, &st->cap);
  if (err) {
    free(st);
    return err;
  }
  /* From here the engine owns st (methods.free). */
  err = dl_install_ffi(e, st);
  if (!err) err = dl_install_dll(e, st);
  return err;
}
