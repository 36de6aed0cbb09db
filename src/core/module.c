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
#include "plugin/reflect.h"
#include "engine/error.h"
#include "util/str.h"

static wp_core_plugin *core_of(const wp_plugin *p) { return p->kind_data; }

static wp_error *check_helper_exports(const wp_plugin *p);

/* The call plans (kind.h): each export's type, checked once. */
static void make_plans(wp_plugin *p) {
  wp_core_plugin *c = core_of(p);
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    wp_core_plan *pl = &c->plans[i];
    if (e->kind != WP_EXTERN_FUNC || !e->numeric || e->nparams > WP_PLAN_ARITY ||
        e->nresults > WP_PLAN_ARITY)
      continue;
    pl->numeric = true;
    pl->nparams = (uint8_t)e->nparams;
    pl->nresults = (uint8_t)e->nresults;
    pl->nraw = (uint8_t)(e->nparams > e->nresults ? e->nparams : e->nresults);
    for (size_t j = 0; j < e->nparams; j++) pl->kinds[j] = (uint8_t)e->params[j];
    for (size_t j = 0; j < e->nresults; j++) pl->kinds[e->nparams + j] = (uint8_t)e->results[j];
    /* The bytes ABI's shape, as wp_plugin_is_bytes_func says. */
    pl->bytes = c->realloc_export >= 0 && e->nparams == 2 && e->params[0] == WP_I32 &&
                e->params[1] == WP_I32 && e->nresults == 1 && e->results[0] == WP_I32;
  }
}

static wp_error *reflect(wp_plugin *p) {
  wp_error *err = wp_reflect_module(p, core_of(p)->module);
  if (err) return err;
  wp_core_plugin *c = core_of(p);
  if (!(c->post_export = calloc(p->nexports + 1, sizeof *c->post_export)) ||
      !(c->plans = calloc(p->nexports + 1, sizeof *c->plans)))
    return wp_error_new(WP_ERR_NO_MEMORY, WP_PLUGIN_FMT ": out of memory", p->name);
  c->realloc_export = c->memory_export = c->init_export = -1;
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    c->post_export[i] = -1;
    if (e->kind == WP_EXTERN_MEMORY && strcmp(e->name, "memory") == 0)
      c->memory_export = (int32_t)i;
    if (e->kind != WP_EXTERN_FUNC) continue;
    if (strcmp(e->name, "cabi_realloc") == 0) c->realloc_export = (int32_t)i;
    if (strcmp(e->name, "_initialize") == 0) c->init_export = (int32_t)i;
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
  err = check_helper_exports(p);
  if (!err) make_plans(p);
  return err;
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

/*
 * Each export's handle in the module (kind.h: exports), resolved once here so
 * that an instance finds its exports without hashing names. Resolved from
 * the module's own names: C strings cut at a NUL byte ("f\0g" and "f") would
 * be ambiguous.
 */
static wp_error *resolve_exports(wp_plugin *p) {
  wp_core_plugin *c = core_of(p);
  c->exports = malloc((p->nexports + 1) * sizeof *c->exports);
  if (!c->exports) return wp_error_no_memory();
  if (!wasmplug_instance_pre_export_indices(c->pre, c->exports, p->nexports))
    return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot resolve its exports", p->name);
  return NULL;
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
  uint32_t memories, tables;
  p->store_reusable = wasmplug_instance_pre_defined(core_of(p)->pre, &memories, &tables) &&
                      memories <= 1 && tables <= 1;
  return resolve_exports(p);
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
  free(c->plans);
  free(c->exports);
  free(c);
}

static const char *call_name(const wp_plugin *p, size_t i) { return p->exports[i].name; }

/* Runs _initialize (type checked at load) if the module exports it. */
static wp_error *initialize(wp_instance *inst) {
  int32_t index = core_of(inst->plugin)->init_export;
  wasmtime_func_t init;
  if (index >= 0 && wp_core_export_func(inst, (size_t)index, &init)) {
    /* () -> (), checked at load (check_helper_exports): no slot is used. */
    wasmtime_val_raw_t none[1];
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &init, none, 0, &trap);
    if (werr || trap) return wp_call_failure(inst, "_initialize", werr, trap);
  }
  return wp_call_end(inst, "_initialize");
}

/* Export `index` of the instance, through its handle resolved at load. */
static bool export_item(wp_instance *inst, size_t index, wasmtime_extern_t *item) {
  return wasmplug_instance_module_export(inst->ctx, &wp_core_inst(inst)->instance,
                                         &core_of(inst->plugin)->exports[index], item);
}

bool wp_core_resolve_func(wp_instance *inst, size_t index, wasmtime_func_t *out) {
  wasmtime_extern_t item;
  wp_core_instance *ci = wp_core_inst(inst);
  if (!ci || !inst->ctx || index >= inst->plugin->nexports || !export_item(inst, index, &item) ||
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
  if (c->memory_export >= 0 && export_item(inst, (size_t)c->memory_export, &item) &&
      item.kind == WASMTIME_EXTERN_MEMORY) {
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
    .isolable = true,
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
