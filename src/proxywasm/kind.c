/*
 * kind.c - the Proxy-Wasm kind (plugin/kind.h): recognise a filter from its
 * exports, compile it, check the exports the host calls, link it against
 * the proxy's host functions and WASI preview 1, and instantiate it (with
 * _initialize, or _start, as the ABI says).
 */
#define _POSIX_C_SOURCE 200809L
#include "proxywasm/kind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "plugin/reflect.h"

const pw_callback_type pw_callbacks[PW_CB_COUNT] = {
    [PW_ON_CONTEXT_CREATE] = {"proxy_on_context_create", 2, false},
    [PW_ON_VM_START] = {"proxy_on_vm_start", 2, true},
    [PW_ON_CONFIGURE] = {"proxy_on_configure", 2, true},
    [PW_ON_TICK] = {"proxy_on_tick", 1, false},
    [PW_ON_QUEUE_READY] = {"proxy_on_queue_ready", 2, false},
    [PW_ON_DONE] = {"proxy_on_done", 1, true},
    [PW_ON_LOG] = {"proxy_on_log", 1, false},
    [PW_ON_DELETE] = {"proxy_on_delete", 1, false},
    [PW_ON_REQUEST_HEADERS] = {"proxy_on_request_headers", 3, true},
    [PW_ON_REQUEST_BODY] = {"proxy_on_request_body", 3, true},
    [PW_ON_REQUEST_TRAILERS] = {"proxy_on_request_trailers", 2, true},
    [PW_ON_RESPONSE_HEADERS] = {"proxy_on_response_headers", 3, true},
    [PW_ON_RESPONSE_BODY] = {"proxy_on_response_body", 3, true},
    [PW_ON_RESPONSE_TRAILERS] = {"proxy_on_response_trailers", 2, true},
    [PW_ON_NEW_CONNECTION] = {"proxy_on_new_connection", 1, true},
    [PW_ON_DOWNSTREAM_DATA] = {"proxy_on_downstream_data", 3, true},
    [PW_ON_UPSTREAM_DATA] = {"proxy_on_upstream_data", 3, true},
    [PW_ON_DOWNSTREAM_CLOSE] = {"proxy_on_downstream_connection_close", 2, false},
    [PW_ON_UPSTREAM_CLOSE] = {"proxy_on_upstream_connection_close", 2, false},
    [PW_ON_HTTP_CALL_RESPONSE] = {"proxy_on_http_call_response", 5, false},
    [PW_ON_FOREIGN_FUNCTION] = {"proxy_on_foreign_function", 3, false},
    [PW_ON_GRPC_INITIAL_METADATA] = {"proxy_on_grpc_receive_initial_metadata", 3, false},
    [PW_ON_GRPC_MESSAGE] = {"proxy_on_grpc_receive", 3, false},
    [PW_ON_GRPC_TRAILING_METADATA] = {"proxy_on_grpc_receive_trailing_metadata", 3, false},
    [PW_ON_GRPC_CLOSE] = {"proxy_on_grpc_close", 3, false},
};

/* ---- recognising a filter without compiling it ---------------------------------- */

/* Reads an unsigned LEB128 (up to 32 bits) at *at, advancing it; false if
   malformed or past end. */
static bool leb_u32(const uint8_t *b, size_t len, size_t *at, uint32_t *out) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (*at >= len) return false;
    uint8_t byte = b[(*at)++];
    v |= (uint32_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

#define ABI_PREFIX "proxy_abi_version_"

/* Calls match on each export name of a module binary until it answers true. */
static bool any_export(const uint8_t *b, size_t len, bool (*match)(const uint8_t *, uint32_t)) {
  static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  if (len < 8 || memcmp(b, header, 8) != 0) return false;
  size_t at = 8;
  while (at < len) {
    uint8_t id = b[at++];
    uint32_t size;
    if (!leb_u32(b, len, &at, &size) || size > len - at) return false;
    if (id != 7) { /* not the export section */
      at += size;
      continue;
    }
    size_t end = at + size;
    uint32_t count;
    if (!leb_u32(b, end, &at, &count)) return false;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t n, index;
      if (!leb_u32(b, end, &at, &n) || n > end - at) return false;
      if (match(b + at, n)) return true;
      at += n;
      if (at >= end) return false;
      at++; /* export kind */
      if (!leb_u32(b, end, &at, &index)) return false;
    }
    return false;
  }
  return false;
}

static bool is_abi_marker(const uint8_t *name, uint32_t n) {
  return n > sizeof ABI_PREFIX - 1 && memcmp(name, ABI_PREFIX, sizeof ABI_PREFIX - 1) == 0;
}

static bool claims(const uint8_t *bytes, size_t len) {
  return any_export(bytes, len, is_abi_marker);
}

/* ---- checking the exports ------------------------------------------------------- */

static bool all_i32(const wp_extern_info *e, size_t np, size_t nr) {
  if (!e->numeric || e->nparams != np || e->nresults != nr) return false;
  for (size_t i = 0; i < np; i++)
    if (e->params[i] != WP_I32) return false;
  for (size_t i = 0; i < nr; i++)
    if (e->results[i] != WP_I32) return false;
  return true;
}

static wp_error *wrong_type(const wp_plugin *p, const wp_extern_info *e, unsigned np, bool result) {
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT ": export '%s' has the type %s, but Proxy-Wasm calls it with "
                                    "%u i32 parameter%s and %s",
                      p->name, e->name, e->type, np, np == 1 ? "" : "s",
                      result ? "an i32 result" : "no result");
}

/* The ABI version from the marker export; an error for versions not served. */
static wp_error *abi_version(wp_plugin *p, pw_module *m) {
  for (size_t i = 0; i < p->nexports; i++) {
    const char *n = p->exports[i].name;
    if (strncmp(n, ABI_PREFIX, sizeof ABI_PREFIX - 1) != 0) continue;
    n += sizeof ABI_PREFIX - 1;
    if (strcmp(n, "0_2_0") == 0 || strcmp(n, "0_2_1") == 0) {
      snprintf(m->abi, sizeof m->abi, "0.2.%c", n[4]);
      return NULL;
    }
    return wp_error_new(WP_ERR_LOAD,
                        WP_PLUGIN_FMT ": it is a Proxy-Wasm filter of ABI version %s (export "
                                      "'%s'), but wasmplug serves 0.2.0 and 0.2.1; rebuild it "
                                      "with a current SDK",
                        p->name, n, p->exports[i].name);
  }
  return wp_error_new(WP_ERR_LOAD, WP_PLUGIN_FMT ": no proxy_abi_version_* export", p->name);
}

static wp_error *check_export(wp_plugin *p, pw_module *m, size_t i) {
  const wp_extern_info *e = &p->exports[i];
  if (e->kind == WP_EXTERN_MEMORY && strcmp(e->name, "memory") == 0) m->memory_export = (int32_t)i;
  if (e->kind != WP_EXTERN_FUNC) return NULL;
  for (int c = 0; c < PW_CB_COUNT; c++) {
    if (strcmp(e->name, pw_callbacks[c].name) != 0) continue;
    if (!all_i32(e, pw_callbacks[c].nparams, pw_callbacks[c].result))
      return wrong_type(p, e, pw_callbacks[c].nparams, pw_callbacks[c].result);
    m->cb_export[c] = (int32_t)i;
    return NULL;
  }
  bool is_alloc = strcmp(e->name, "proxy_on_memory_allocate") == 0;
  if (is_alloc || strcmp(e->name, "malloc") == 0) {
    if (!all_i32(e, 1, 1)) return wrong_type(p, e, 1, true);
    /* The spec's order: proxy_on_memory_allocate, then the older malloc. */
    if (is_alloc || m->alloc_export < 0) m->alloc_export = (int32_t)i;
  } else if (strcmp(e->name, "_initialize") == 0 || strcmp(e->name, "_start") == 0) {
    if (!all_i32(e, 0, 0)) return wrong_type(p, e, 0, false);
    if (e->name[1] == 'i') m->init_export = (int32_t)i;
    else m->start_export = (int32_t)i;
  } else if (strcmp(e->name, "main") == 0 && all_i32(e, 2, 1)) {
    m->main_export = (int32_t)i;
  }
  return NULL;
}

static wp_error *check_exports(wp_plugin *p, pw_module *m) {
  for (int c = 0; c < PW_CB_COUNT; c++) m->cb_export[c] = -1;
  m->memory_export = m->alloc_export = m->init_export = m->main_export = m->start_export = -1;
  wp_error *err = abi_version(p, m);
  for (size_t i = 0; !err && i < p->nexports; i++) err = check_export(p, m, i);
  if (err) return err;
  if (m->memory_export < 0)
    return wp_error_new(WP_ERR_LOAD, WP_PLUGIN_FMT ": a Proxy-Wasm filter must export its memory",
                        p->name);
  if (m->alloc_export < 0)
    return wp_error_new(WP_ERR_LOAD,
                        WP_PLUGIN_FMT ": a Proxy-Wasm filter must export its allocator "
                                      "(proxy_on_memory_allocate or malloc)",
                        p->name);
  return NULL;
}

/* ---- linking ---------------------------------------------------------------------- */

/* Every import must be WASI preview 1 or a proxy_* host function; names the others. */
static wp_error *check_imports(const wp_plugin *p) {
  char missing[2048] = "";
  size_t nmissing = 0;
  for (size_t i = 0; i < p->nimports; i++) {
    const wp_extern_info *imp = &p->imports[i];
    if (imp->kind == WP_EXTERN_FUNC && (strcmp(imp->module, "wasi_snapshot_preview1") == 0 ||
                                        pw_is_hostcall(imp->module, imp->name)))
      continue;
    size_t n = strlen(missing);
    snprintf(missing + n, sizeof missing - n, "%s%s.%s (%s)", nmissing ? ", " : "", imp->module,
             imp->name, imp->type);
    nmissing++;
  }
  if (!nmissing) return NULL;
  return wp_error_new(WP_ERR_LINK,
                      WP_PLUGIN_FMT ": %zu import%s not part of Proxy-Wasm ABI 0.2.1 or WASI "
                                    "preview 1: %s",
                      p->name, nmissing, nmissing == 1 ? " is" : "s are", missing);
}

/*
 * A linker of its own per filter: WASI preview 1 (bounded by the call's time,
 * as for every plugin) and the proxy_* functions under "env", where filters
 * import them. Kept out of the engine's shared linker so that core modules
 * never see proxy functions, nor filters the embedder's.
 */
static wp_error *link(wp_plugin *p, pw_module *m) {
  wp_error *err = check_imports(p);
  if (err) return err;
  wasmtime_linker_t *linker = wasmtime_linker_new(p->flavor->engine);
  if (!linker) return wp_error_no_memory();
  const wp_engine_hooks *h = p->engine->hooks;
  wasmtime_error_t *werr = wasmtime_linker_define_wasi(linker);
  if (!werr)
    werr = wasmplug_linker_bound_wasi(linker, h->wasi_budget, h->wasi_scratch, p->engine->tick_us);
  if (!werr) werr = pw_define_hostcalls(linker);
  if (!werr) werr = wasmtime_linker_instantiate_pre(linker, m->module, &m->pre);
  wasmtime_linker_delete(linker);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_LINK, werr, WP_PLUGIN_FMT ": cannot link", p->name);
  return NULL;
}

/* ---- the kind ------------------------------------------------------------------------ */

static wp_error *load(wp_plugin *p, const uint8_t *bytes, size_t len) {
  if (p->manifest->trap_missing_imports)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": the manifest asks for missing imports to trap, which "
                                      "only components support",
                        p->name);
  pw_module *m = calloc(1, sizeof *m);
  if (!(p->kind_data = m)) return wp_error_no_memory();
  wp_error *err = wp_cache_compile(p, bytes, len, &m->module, NULL);
  if (!err) err = wp_reflect_module(p, m->module);
  if (!err) err = check_exports(p, m);
  if (!err) err = link(p, m);
  return err;
}

static void free_module(wp_plugin *p) {
  pw_module *m = p->kind_data;
  if (!m) return;
  if (m->pre) wasmtime_instance_pre_delete(m->pre);
  if (m->module) wasmtime_module_delete(m->module);
  free(m);
}

static const char *call_name(const wp_plugin *p, size_t i) { return p->exports[i].name; }

static bool export_func(wp_instance *inst, int32_t index, wasmtime_func_t *out) {
  wasmtime_extern_t item;
  char *name;
  size_t name_len;
  if (index < 0 ||
      !wasmtime_instance_export_nth(inst->ctx, &pw_inst(inst)->instance, (size_t)index, &name,
                                    &name_len, &item) ||
      item.kind != WASMTIME_EXTERN_FUNC)
    return false;
  *out = item.of.func;
  return true;
}

/* Calls a start-up export of type () -> () or main(0, 0); each checked at load. */
static wp_error *run_start(wp_instance *inst, int32_t index, const char *what, size_t nargs) {
  wasmtime_func_t f;
  if (!export_func(inst, index, &f)) return NULL;
  wasmtime_val_raw_t raw[2] = {{.i32 = 0}, {.i32 = 0}};
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &f, raw, nargs, &trap);
  if (werr || trap) return wp_call_failure(inst, what, werr, trap);
  return NULL;
}

static wp_error *instantiate(wp_instance *inst) {
  const pw_module *m = pw_module_of(inst->plugin);
  if (!inst->kind_data && !(inst->kind_data = calloc(1, sizeof(pw_instance))))
    return wp_error_no_memory();
  pw_instance *pi = pw_inst(inst);
  struct pw_vm *vm = pi->vm;
  memset(pi, 0, sizeof *pi);
  pi->vm = vm;
  wp_instantiation_begin(inst);
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_instance_pre_instantiate(m->pre, inst->ctx, &pi->instance,
                                                             &trap);
  if (werr || trap) return wp_call_failure(inst, "instantiation", werr, trap);
  wasmtime_extern_t item;
  char *name;
  size_t name_len;
  if (wasmtime_instance_export_nth(inst->ctx, &pi->instance, (size_t)m->memory_export, &name,
                                   &name_len, &item) &&
      item.kind == WASMTIME_EXTERN_MEMORY) {
    pi->memory = item.of.memory;
    pi->has_memory = true;
  }
  pi->has_alloc = export_func(inst, m->alloc_export, &pi->alloc);
  for (int c = 0; c < PW_CB_COUNT; c++)
    pi->has_cb[c] = export_func(inst, m->cb_export[c], &pi->cb[c]);
  /* A reactor: _initialize (then main if there is one); a command: _start. */
  wp_error *err;
  if (m->init_export >= 0) {
    err = run_start(inst, m->init_export, "_initialize", 0);
    if (!err && m->main_export >= 0) err = run_start(inst, m->main_export, "main", 2);
  } else {
    err = run_start(inst, m->start_export, "_start", 0);
  }
  if (err) return err;
  return wp_call_end(inst, "_initialize");
}

static void release(wp_instance *inst) {
  pw_instance *pi = pw_inst(inst);
  if (pi) pi->has_memory = pi->has_alloc = false;
}

static void instance_free(wp_instance *inst) {
  free(inst->kind_data);
  inst->kind_data = NULL;
}

const wp_kind wp_proxywasm_kind = {
    .name = "Proxy-Wasm filter",
    .claims = claims,
    .load = load,
    .free = free_module,
    .call_name = call_name,
    .instantiate = instantiate,
    .release = release,
    .instance_free = instance_free,
};
