/*
 * reflect.c - a compiled core module's imports and exports as wp_extern_infos
 * (shared by the kinds made of core modules: core, proxywasm).
 */
#define _POSIX_C_SOURCE 200809L
#include "plugin/reflect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "util/str.h"

static bool valkind_from(wasm_valkind_t k, wp_valkind *out) {
  switch (k) {
  case WASM_I32: *out = WP_I32; return true;
  case WASM_I64: *out = WP_I64; return true;
  case WASM_F32: *out = WP_F32; return true;
  case WASM_F64: *out = WP_F64; return true;
  default: return false;
  }
}

static const char *raw_valtype_name(wasm_valkind_t k) {
  switch (k) {
  case WASM_I32: return "i32";
  case WASM_I64: return "i64";
  case WASM_F32: return "f32";
  case WASM_F64: return "f64";
  case WASMTIME_V128: return "v128";
  case WASM_EXTERNREF: return "externref";
  case WASM_FUNCREF: return "funcref";
  default: return "ref";
  }
}

/* Appends "(t1, t2)" for a valtype vector to buf. */
static void print_types(char *buf, size_t cap, const wasm_valtype_vec_t *v) {
  size_t n = strlen(buf);
  n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "(");
  for (size_t i = 0; i < v->size && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
                          raw_valtype_name(wasm_valtype_kind(v->data[i])));
  if (n < cap) snprintf(buf + n, cap - n, ")");
}

/* Fills the type fields of `info` from a Wasmtime extern type. */
bool wp_reflect_describe(const wasm_externtype_t *et, wp_extern_info *info) {
  char type[512] = "";
  switch (wasm_externtype_kind(et)) {
  case WASM_EXTERN_FUNC: {
    const wasm_functype_t *ft = wasm_externtype_as_functype_const(et);
    const wasm_valtype_vec_t *ps = wasm_functype_params(ft), *rs = wasm_functype_results(ft);
    wp_valkind *kinds = calloc(ps->size + rs->size + 1, sizeof *kinds);
    if (!kinds) return false;
    info->kind = WP_EXTERN_FUNC;
    info->numeric = true;
    for (size_t i = 0; i < ps->size; i++)
      info->numeric &= valkind_from(wasm_valtype_kind(ps->data[i]), &kinds[i]);
    for (size_t i = 0; i < rs->size; i++)
      info->numeric &= valkind_from(wasm_valtype_kind(rs->data[i]), &kinds[ps->size + i]);
    info->params = kinds;
    info->nparams = ps->size;
    info->results = kinds + ps->size;
    info->nresults = rs->size;
    strcpy(type, "func ");
    print_types(type, sizeof type, ps);
    strncat(type, " -> ", sizeof type - strlen(type) - 1);
    print_types(type, sizeof type, rs);
    break;
  }
  case WASM_EXTERN_MEMORY: {
    const wasm_memorytype_t *mt = wasm_externtype_as_memorytype_const(et);
    info->kind = WP_EXTERN_MEMORY;
    info->min_pages = wasmtime_memorytype_minimum(mt);
    uint64_t max = 0;
    if (!wasmtime_memorytype_maximum(mt, &max)) max = 0;
    info->max_pages = max;
    if (max)
      snprintf(type, sizeof type, "memory %llu..%llu pages%s", (unsigned long long)info->min_pages,
               (unsigned long long)max, wasmtime_memorytype_is64(mt) ? " (64-bit)" : "");
    else
      snprintf(type, sizeof type, "memory %llu pages, no maximum%s",
               (unsigned long long)info->min_pages,
               wasmtime_memorytype_is64(mt) ? " (64-bit)" : "");
    break;
  }
  case WASM_EXTERN_TABLE: {
    const wasm_tabletype_t *tt = wasm_externtype_as_tabletype_const(et);
    const wasm_limits_t *l = wasm_tabletype_limits(tt);
    info->kind = WP_EXTERN_TABLE;
    snprintf(type, sizeof type, "table %u %s", l->min,
             raw_valtype_name(wasm_valtype_kind(wasm_tabletype_element(tt))));
    break;
  }
  case WASM_EXTERN_GLOBAL: {
    const wasm_globaltype_t *gt = wasm_externtype_as_globaltype_const(et);
    info->kind = WP_EXTERN_GLOBAL;
    snprintf(type, sizeof type, "global %s%s",
             wasm_globaltype_mutability(gt) == WASM_VAR ? "mut " : "",
             raw_valtype_name(wasm_valtype_kind(wasm_globaltype_content(gt))));
    break;
  }
  default:
    info->kind = WP_EXTERN_TAG;
    strcpy(type, "tag");
    break;
  }
  info->type = strdup(type);
  return info->type != NULL;
}

static char *name_dup(const wasm_name_t *n) { return wp_strdup_n(n->data, n->size); }

wp_error *wp_reflect_module(wp_plugin *p, const wasmtime_module_t *module) {
  wasm_importtype_vec_t imps;
  wasm_exporttype_vec_t exps;
  wasmtime_module_imports(module, &imps);
  wasmtime_module_exports(module, &exps);
  p->imports = calloc(imps.size + 1, sizeof *p->imports);
  p->exports = calloc(exps.size + 1, sizeof *p->exports);
  bool ok = p->imports && p->exports;
  for (size_t i = 0; ok && i < imps.size; i++) {
    wp_extern_info *info = &p->imports[i];
    p->nimports = i + 1;
    info->module = name_dup(wasm_importtype_module(imps.data[i]));
    info->name = name_dup(wasm_importtype_name(imps.data[i]));
    ok = info->module && info->name &&
         wp_reflect_describe(wasm_importtype_type(imps.data[i]), info);
    if (ok && strcmp(info->module, "wasi_snapshot_preview1") == 0) p->needs_wasi = true;
  }
  for (size_t i = 0; ok && i < exps.size; i++) {
    wp_extern_info *info = &p->exports[i];
    p->nexports = i + 1;
    info->name = name_dup(wasm_exporttype_name(exps.data[i]));
    ok = info->name && wp_reflect_describe(wasm_exporttype_type(exps.data[i]), info);
  }
  wasm_importtype_vec_delete(&imps);
  wasm_exporttype_vec_delete(&exps);
  if (!ok) return wp_error_new(WP_ERR_NO_MEMORY, WP_PLUGIN_FMT ": out of memory", p->name);
  return NULL;
}
