/*
 * leaves.c - component calls through the Rust extension's leaf path
 * (wasmplug_leaves.h): exports whose parameters and result are built from
 * scalars, strings and list<u8>, in records and tuples. A call flattens the
 * wp_value arguments into leaves (no copies: strings and bytes are lent),
 * Wasmtime lowers each leaf by the export's type, and the result's leaves
 * are built back into one wp_value. Everything else takes the C API's value
 * path (call.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug_leaves.h>

#include "component/component.h"
#include "util/zalloc.h"
#include "engine/error.h"

/* At most this many leaves in a result (more take the value path). */
enum { MAX_RESULT_LEAVES = 64, MAX_PARAM_SLOTS = 16 };

static bool is_scalar(wp_type_kind k) { return k <= WP_TYPE_CHAR; }

/* Adds the leaves and core values (canonical ABI flattening) of `t` to *leaves
   and *slots; false for a type with no leaf form. */
static bool count(const struct wp_type *t, size_t *leaves, size_t *slots) {
  if (!t) return false;
  if (is_scalar(t->kind)) {
    *leaves += 1;
    *slots += 1;
    return true;
  }
  if (t->kind == WP_TYPE_STRING || wp_type_is_u8_list(t)) {
    *leaves += 1;
    *slots += 2;
    return true;
  }
  if (t->kind != WP_TYPE_RECORD && t->kind != WP_TYPE_TUPLE) return false;
  if (t->kind == WP_TYPE_RECORD && !t->names) return false;
  for (size_t i = 0; i < t->n; i++)
    if (!count(t->children[i], leaves, slots)) return false;
  return t->n > 0;
}

bool wp_component_plan_leaves(wp_cexport *e) {
  const struct wp_functype *ft = e->type;
  if (!ft) return false;
  size_t in = 0, slots = 0;
  for (size_t i = 0; i < ft->nparams; i++)
    if (!count(ft->params[i], &in, &slots)) return false;
  if (slots > MAX_PARAM_SLOTS) return false; /* the guest reads them from memory */
  size_t out = 0, out_slots = 0;
  if (ft->result && !count(ft->result, &out, &out_slots)) return false;
  if (out > MAX_RESULT_LEAVES) return false;
  e->leaf_params = (uint16_t)in;
  e->leaf_results = (uint16_t)out;
  e->leaf_mode = !ft->result      ? WASMPLUG_LEAVES_RESULT_NONE
                 : out_slots == 1 ? WASMPLUG_LEAVES_RESULT_FLAT
                                  : WASMPLUG_LEAVES_RESULT_MEMORY;
  return true;
}

/* Appends the leaves of `v` (checked against `t`); false when a value is held
   in a form the leaf path does not take (the caller then takes the value path). */
static bool flatten(const wp_value *v, const struct wp_type *t, wasmplug_leaf *out, size_t *n) {
  if (v->kind != t->kind) return false;
  wasmplug_leaf *l = &out[*n];
  switch (t->kind) {
  case WP_TYPE_RECORD:
  case WP_TYPE_TUPLE:
    if (v->of.agg.n != t->n) return false;
    for (size_t i = 0; i < t->n; i++) {
      size_t k = t->kind == WP_TYPE_RECORD ? wp_value_field_index(v, t->names[i], i) : i;
      if (k == SIZE_MAX || !flatten(&v->of.agg.items[k], t->children[i], out, n)) return false;
    }
    return true;
  case WP_TYPE_STRING:
    *l = (wasmplug_leaf){.data = (const uint8_t *)v->of.str.data, .len = v->of.str.len};
    break;
  case WP_TYPE_LIST:
    if (v->compact) *l = (wasmplug_leaf){.data = v->of.bytes.data, .len = v->of.bytes.len};
    else if (v->of.agg.n == 0) *l = (wasmplug_leaf){0};
    else return false;
    break;
  case WP_TYPE_BOOL: *l = (wasmplug_leaf){.bits = v->of.b}; break;
  case WP_TYPE_S8:
  case WP_TYPE_S16:
  case WP_TYPE_S32:
  case WP_TYPE_S64: *l = (wasmplug_leaf){.bits = (uint64_t)v->of.s}; break;
  case WP_TYPE_F32: {
    uint32_t b;
    memcpy(&b, &v->of.f32, sizeof b);
    *l = (wasmplug_leaf){.bits = b};
    break;
  }
  case WP_TYPE_F64:
    *l = (wasmplug_leaf){0};
    memcpy(&l->bits, &v->of.f64, sizeof l->bits);
    break;
  case WP_TYPE_CHAR: *l = (wasmplug_leaf){.bits = v->of.ch}; break;
  default: *l = (wasmplug_leaf){.bits = v->of.u}; break; /* u8..u64 */
  }
  (*n)++;
  return true;
}

/* Room for a string's or list's bytes, one more for a string's NUL. */
static uint8_t *leaf_room(void *ctx, size_t len) {
  (void)ctx;
  if (len == SIZE_MAX) return NULL;
  uint8_t *p = malloc(len + 1);
  if (p) p[len] = 0;
  return p;
}

/* Builds `out` (zeroed) of type `t` from the leaves from *i on, taking their
   bytes (data set to NULL once taken); false when out of memory. */
static bool build(const struct wp_type *t, wasmplug_leaf *leaves, size_t *i, wp_value *out) {
  out->kind = t->kind;
  if (t->kind == WP_TYPE_RECORD || t->kind == WP_TYPE_TUPLE) {
    out->of.agg.items = wp_zalloc(t->n, sizeof *out->of.agg.items);
    if (t->kind == WP_TYPE_RECORD) out->of.agg.names = wp_zalloc(t->n, sizeof(char *));
    if (!out->of.agg.items || (t->kind == WP_TYPE_RECORD && !out->of.agg.names)) return false;
    out->of.agg.n = t->n;
    for (size_t k = 0; k < t->n; k++) {
      if (t->kind == WP_TYPE_RECORD && !(out->of.agg.names[k] = strdup(t->names[k]))) return false;
      if (!build(t->children[k], leaves, i, &out->of.agg.items[k])) return false;
    }
    return true;
  }
  wasmplug_leaf *l = &leaves[(*i)++];
  uint8_t *data = (uint8_t *)l->data;
  l->data = NULL;
  switch (t->kind) {
  case WP_TYPE_STRING:
    out->of.str.data = (char *)data;
    out->of.str.len = l->len;
    break;
  case WP_TYPE_LIST:
    if (l->len) wp_value_set_bytes(out, data, l->len);
    else free(data);
    break;
  case WP_TYPE_BOOL: out->of.b = l->bits != 0; break;
  case WP_TYPE_S8:
  case WP_TYPE_S16:
  case WP_TYPE_S32:
  case WP_TYPE_S64: out->of.s = (int64_t)l->bits; break;
  case WP_TYPE_F32: {
    uint32_t b = (uint32_t)l->bits;
    memcpy(&out->of.f32, &b, sizeof b);
    break;
  }
  case WP_TYPE_F64: memcpy(&out->of.f64, &l->bits, sizeof l->bits); break;
  case WP_TYPE_CHAR: out->of.ch = (uint32_t)l->bits; break;
  default: out->of.u = l->bits; break;
  }
  return true;
}

static void free_leaves(wasmplug_leaf *leaves, size_t n) {
  for (size_t i = 0; i < n; i++) free((void *)leaves[i].data);
}

wp_error *wp_component_call_leaves(wp_instance *inst, const wp_cexport *e,
                                   const wasmtime_component_func_t *func,
                                   const wp_value *const *args, wp_value **result, bool *taken) {
  const struct wp_functype *ft = e->type;
  wasmplug_leaf in[MAX_PARAM_SLOTS], out[MAX_RESULT_LEAVES];
  size_t n = 0;
  *taken = false;
  for (size_t i = 0; i < ft->nparams; i++)
    if (!flatten(args[i], ft->params[i], in, &n)) return NULL;
  if (n != e->leaf_params) return NULL;
  *taken = true;
  memset(out, 0, e->leaf_results * sizeof *out);
  wasmtime_error_t *werr = NULL;
  wp_call_begin(inst);
  int rc = wasmplug_component_call_leaves(inst->ctx, func, in, n, e->leaf_mode, out,
                                          e->leaf_results, leaf_room, NULL, &werr);
  if (rc == WASMPLUG_BYTES_CALL_FAILED) {
    free_leaves(out, e->leaf_results);
    return wp_call_failure(inst, e->qualified, werr, NULL);
  }
  if (werr) wasmtime_error_delete(werr);
  if (rc != WASMPLUG_BYTES_OK) {
    wp_call_abandon(inst);
    free_leaves(out, e->leaf_results);
    if (rc == WASMPLUG_BYTES_NO_MEMORY) return wp_error_no_memory();
    return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot call '%s' (code %d)",
                        inst->plugin->name, e->qualified, rc);
  }
  wp_error *err = wp_call_end(inst, e->qualified);
  wp_value *v = NULL;
  if (!err && result && ft->result) {
    size_t i = 0;
    v = wp_zalloc(1, sizeof *v);
    if (!v || !build(ft->result, out, &i, v)) {
      wp_value_free(v);
      v = NULL;
      err = wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory reading the result of '%s'",
                         e->qualified);
    }
  }
  free_leaves(out, e->leaf_results);
  if (result) *result = v;
  return err;
}
