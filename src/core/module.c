/*
 * module.c - the core-module kind (plugin/kind.h): compile, reflect and
 * check a module, link it against WASI and the engine's host functions,
 * and instantiate it (with its memory, cabi_realloc and _initialize).
 */
#define _POSIX_C_SOURCE 200809L
#include "core/kind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "engine/error.h"
#include "util/str.h"

static wp_core_plugin *core_of(const wp_plugin *p) { return p->kind_data; }

/* ---- reflection ---------------------------------------------------------- */

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
static bool describe(const wasm_externtype_t *et, wp_extern_info *info) {
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

static wp_error *check_helper_exports(const wp_plugin *p);

static wp_error *reflect(wp_plugin *p) {
  wasm_importtype_vec_t imps;
  wasm_exporttype_vec_t exps;
  wasmtime_module_imports(core_of(p)->module, &imps);
  wasmtime_module_exports(core_of(p)->module, &exps);
  bool ok = true;
  p->imports = calloc(imps.size + 1, sizeof *p->imports);
  p->exports = calloc(exps.size + 1, sizeof *p->exports);
  wp_core_plugin *c = core_of(p);
  c->post_export = calloc(exps.size + 1, sizeof *c->post_export);
  ok = p->imports && p->exports && c->post_export;
  for (size_t i = 0; ok && i < imps.size; i++) {
    wp_extern_info *info = &p->imports[i];
    p->nimports = i + 1;
    info->module = name_dup(wasm_importtype_module(imps.data[i]));
    info->name = name_dup(wasm_importtype_name(imps.data[i]));
    ok = info->module && info->name && describe(wasm_importtype_type(imps.data[i]), info);
    if (ok && strcmp(info->module, "wasi_snapshot_preview1") == 0) p->needs_wasi = true;
  }
  for (size_t i = 0; ok && i < exps.size; i++) {
    wp_extern_info *info = &p->exports[i];
    p->nexports = i + 1;
    info->name = name_dup(wasm_exporttype_name(exps.data[i]));
    ok = info->name && describe(wasm_exporttype_type(exps.data[i]), info);
  }
  wasm_importtype_vec_delete(&imps);
  wasm_exporttype_vec_delete(&exps);
  if (!ok) return wp_error_new(WP_ERR_NO_MEMORY, WP_PLUGIN_FMT ": out of memory", p->name);

  c->realloc_export = c->memory_export = -1;
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    c->post_export[i] = -1;
    if (e->kind == WP_EXTERN_MEMORY && strcmp(e->name, "memory") == 0)
      c->memory_export = (int32_t)i;
    if (e->kind != WP_EXTERN_FUNC) continue;
    if (strcmp(e->name, "cabi_realloc") == 0) c->realloc_export = (int32_t)i;
    if (strcmp(e->name, "_initialize") == 0) c->has_initialize = true;
  }
  for (size_t i = 0; i < p->nexports; i++) {
    if (p->exports[i].kind != WP_EXTERN_FUNC) continue;
    for (size_t j = 0; j < p->nexports; j++) {
      const char *n = p->exports[j].name;
      if (p->exports[j].kind == WP_EXTERN_FUNC && strncmp(n, "cabi_post_", 10) == 0 &&
          strcmp(n + 10, p->exports[i].name) == 0)
        c->post_export[i] = (int32_t)j;
    }
  }
  return check_helper_exports(p);
}

/* ---- exports the host calls on its own -------------------------------------- */

/* Does export `e` have exactly the type (params) -> (results)? */
static bool has_type(const wp_extern_info *e, const wp_valkind *params, size_t np,
                     const wp_valkind *results, size_t nr) {
  if (!e->numeric || e->nparams != np || e->nresults != nr) return false;
  for (size_t i = 0; i < np; i++)
    if (e->params[i] != params[i]) return false;
  for (size_t i = 0; i < nr; i++)
    if (e->results[i] != results[i]) return false;
  return true;
}

static wp_error *wrong_helper_type(const wp_plugin *p, const wp_extern_info *e, const char *want) {
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT
                      ": export '%s' has the type %s, but the host calls it as "
                      "%s; rebuild the plugin with a wasmplug PDK, or rename the export",
                      p->name, e->name, e->type, want);
}

/*
 * The host recognises cabi_realloc, _initialize, _start and cabi_post_<name>
 * by name and calls them through raw value buffers sized by these types, so
 * a plugin declaring one with other parameters or results could make the
 * host read or write past them. Check each against its exact type now.
 */
static wp_error *check_helper_exports(const wp_plugin *p) {
  static const wp_valkind i32x4[] = {WP_I32, WP_I32, WP_I32, WP_I32};
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    if (e->kind != WP_EXTERN_FUNC) continue;
    if (strcmp(e->name, "cabi_realloc") == 0 && !has_type(e, i32x4, 4, i32x4, 1))
      return wrong_helper_type(p, e, "func (i32, i32, i32, i32) -> (i32)");
    if ((strcmp(e->name, "_initialize") == 0 || strcmp(e->name, "_start") == 0) &&
        !has_type(e, NULL, 0, NULL, 0))
      return wrong_helper_type(p, e, "func () -> ()");
  }
  /* cabi_post_<name> runs after a bytes call of <name> with its return-area
     pointer; for exports of another type it is never called. */
  const wp_core_plugin *c = core_of(p);
  for (size_t i = 0; i < p->nexports; i++) {
    int32_t post = c->post_export[i];
    if (post < 0) continue;
    if (!has_type(&p->exports[i], i32x4, 2, i32x4, 1)) {
      c->post_export[i] = -1;
      continue;
    }
    if (!has_type(&p->exports[post], i32x4, 1, NULL, 0))
      return wrong_helper_type(p, &p->exports[post], "func (i32) -> ()");
  }
  return NULL;
}

/* ---- linking ------------------------------------------------------------- */

/* Every import must be WASI or a defined host function; lists those that are not. */
static wp_error *check_imports(wp_plugin *p) {
  char missing[2048] = "";
  size_t nmissing = 0;
  pthread_mutex_lock(&p->engine->lock);
  for (size_t i = 0; i < p->nimports; i++) {
    const wp_extern_info *imp = &p->imports[i];
    if (strcmp(imp->module, "wasi_snapshot_preview1") == 0 && imp->kind == WP_EXTERN_FUNC) continue;
    if (imp->kind == WP_EXTERN_FUNC &&
        wp_engine_find_def(p->engine, WP_DEF_CORE_FUNC, imp->module, imp->name))
      continue;
    size_t n = strlen(missing);
    snprintf(missing + n, sizeof missing - n, "%s%s.%s (%s)", nmissing ? ", " : "", imp->module,
             imp->name, imp->type);
    nmissing++;
  }
  pthread_mutex_unlock(&p->engine->lock);
  if (!nmissing) return NULL;
  return wp_error_new(WP_ERR_LINK,
                      WP_PLUGIN_FMT
                      ": %zu import%s not provided by the host: %s. Define %s "
                      "with wp_engine_define_func/_bytes/_string before loading, or rebuild "
                      "the plugin without %s",
                      p->name, nmissing, nmissing == 1 ? " is" : "s are", missing,
                      nmissing == 1 ? "it" : "them", nmissing == 1 ? "it" : "them");
}

static wp_error *link(wp_plugin *p) {
  wp_error *err = check_imports(p);
  if (err) return err;
  pthread_mutex_lock(&p->engine->lock);
  wasmtime_error_t *werr = wasmtime_linker_instantiate_pre(p->flavor->linker, core_of(p)->module,
                                                           &core_of(p)->pre);
  pthread_mutex_unlock(&p->engine->lock);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_LINK, werr, WP_PLUGIN_FMT ": cannot link", p->name);
  return NULL;
}

/* ---- the kind ------------------------------------------------------------- */

/* Every binary no other kind claimed: Wasmtime says if it is not a module. */
static bool claims(const uint8_t *bytes, size_t len) {
  (void)bytes, (void)len;
  return true;
}

static wp_error *load(wp_plugin *p, const uint8_t *bytes, size_t len) {
  if (p->manifest->trap_missing_imports)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": the manifest asks for missing imports to trap, which "
                        "only components support; remove \"imports\": {\"missing\": \"trap\"}",
                        p->name);
  if (!(p->kind_data = calloc(1, sizeof(wp_core_plugin)))) return wp_error_no_memory();
  wp_error *err = wp_cache_compile(p, bytes, len, &core_of(p)->module, NULL);
  if (!err) err = reflect(p);
  if (!err) err = link(p);
  if (!err) wp_core_http_detect(p);
  return err;
}

static void free_core(wp_plugin *p) {
  wp_core_plugin *c = core_of(p);
  if (!c) return;
  if (c->pre) wasmtime_instance_pre_delete(c->pre);
  if (c->module) wasmtime_module_delete(c->module);
  free(c->post_export);
  free(c);
}

static const char *call_name(const wp_plugin *p, size_t i) { return p->exports[i].name; }

/* Runs _initialize (type checked at load) if the module exports it. */
static wp_error *initialize(wp_instance *inst) {
  const wp_plugin *p = inst->plugin;
  for (size_t i = 0; core_of(p)->has_initialize && i < p->nexports; i++) {
    wasmtime_func_t init;
    if (p->exports[i].kind != WP_EXTERN_FUNC || strcmp(p->exports[i].name, "_initialize") != 0)
      continue;
    if (!wp_core_export_func(inst, i, &init)) break;
    /* () -> (), checked at load (check_helper_exports): no slot is used. */
    wasmtime_val_raw_t none[1];
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &init, none, 0, &trap);
    if (werr || trap) return wp_call_failure(inst, "_initialize", werr, trap);
    break;
  }
  return wp_call_end(inst, "_initialize");
}

bool wp_core_resolve_func(wp_instance *inst, size_t index, wasmtime_func_t *out) {
  wasmtime_extern_t item;
  char *name; /* the C API insists on returning the name too */
  size_t name_len;
  wp_core_instance *ci = wp_core_inst(inst);
  if (!ci || !inst->ctx ||
      !wasmtime_instance_export_nth(inst->ctx, &ci->instance, index, &name, &name_len, &item) ||
      item.kind != WASMTIME_EXTERN_FUNC)
    return false;
  ci->funcs[index] = item.of.func;
  inst->resolved[index] = 1;
  *out = item.of.func;
  return true;
}

/* The per-instance part, made once and kept across resets. */
static bool ensure_instance_data(wp_instance *inst) {
  if (inst->kind_data) return true;
  wp_core_instance *ci = calloc(1, sizeof *ci);
  if (ci) ci->funcs = calloc(inst->plugin->nexports + 1, sizeof *ci->funcs);
  if (!ci || !ci->funcs) {
    free(ci);
    return false;
  }
  inst->kind_data = ci;
  return true;
}

static wp_error *instantiate(wp_instance *inst) {
  const wp_plugin *p = inst->plugin;
  const wp_core_plugin *c = core_of(p);
  if (!ensure_instance_data(inst)) return wp_error_no_memory();
  wp_instantiation_begin(inst);
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_instance_pre_instantiate(c->pre, inst->ctx,
                                                             &wp_core_inst(inst)->instance, &trap);
  if (werr || trap) return wp_call_failure(inst, "instantiation", werr, trap);
  wasmtime_extern_t item;
  char *name;
  size_t name_len;
  if (c->memory_export >= 0 &&
      wasmtime_instance_export_nth(inst->ctx, &wp_core_inst(inst)->instance,
                                   (size_t)c->memory_export, &name, &name_len, &item)) {
    wp_core_inst(inst)->memory = item.of.memory;
    wp_core_inst(inst)->has_memory = true;
  }
  if (c->realloc_export >= 0)
    wp_core_inst(inst)->has_realloc = wp_core_export_func(inst, (size_t)c->realloc_export,
                                                          &wp_core_inst(inst)->realloc_fn);
  return initialize(inst);
}

/* The store is gone: its memory and functions with it. */
static void release(wp_instance *inst) {
  wp_core_instance *ci = wp_core_inst(inst);
  if (ci) ci->has_memory = ci->has_realloc = false;
}

static void instance_free(wp_instance *inst) {
  wp_core_instance *ci = wp_core_inst(inst);
  if (!ci) return;
  free(ci->funcs);
  free(ci);
  inst->kind_data = NULL;
}

const wp_kind wp_core_kind = {
    .name = "core module",
    .claims = claims,
    .load = load,
    .free = free_core,
    .call_name = call_name,
    .instantiate = instantiate,
    .release = release,
    .instance_free = instance_free,
    .http_kind = wp_core_http_kind,
    .http_handle = wp_core_http_handle,
};
