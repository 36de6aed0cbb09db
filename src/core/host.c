/*
 * host.c - host functions plugins can import: the embedder's (numeric,
 * bytes, string) and the wasmplug.* built-ins (log, config_get, error).
 *
 * Each is a Wasmtime "unchecked" function: arguments arrive as raw values,
 * which keeps a guest-to-host call to a few nanoseconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guest.h"
#include "core/kind.h"
#include "core/host.h"
#include "engine/error.h"
#include "instance/instance.h"
#include "util/str.h"
#include "util/utf8.h"

wp_instance *wp_host_call_get_instance(wp_host_call *call) { return call->inst; }

uint64_t wp_host_call_time_left_ms(const wp_host_call *call) {
  if (!call || !call->inst || !call->inst->deadline_ns) return UINT64_MAX;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return now >= call->inst->deadline_ns ? 0 : (call->inst->deadline_ns - now) / 1000000u;
}

bool wp_host_call_interrupted(const wp_host_call *call) {
  return call && call->inst && atomic_load_explicit(&call->inst->interrupt, memory_order_relaxed);
}

wp_error *wp_host_call_set_output(wp_host_call *call, const void *data, size_t len) {
  if (!call->def)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_host_call_set_output: component host functions return "
                        "their result through *result, not this function");
  const wp_host_def *d = (const wp_host_def *)call->def;
  if (d->kind == WP_HOST_STRING && !wp_utf8_valid(data, len))
    return wp_error_new(WP_ERR_HOST, "host function '%s.%s' produced output that is not UTF-8",
                        d->base.module, d->base.name);
  wp_buf *b = &call->inst->host_out;
  if (!wp_buf_reserve(b, len + 1)) return wp_error_no_memory();
  if (len) memcpy(b->data, data, len);
  b->len = len;
  return NULL;
}

static wp_instance *caller_instance(wasmtime_caller_t *caller) {
  return wasmtime_context_get_data(wasmtime_caller_context(caller));
}

/* Records why a host call failed and makes the trap that unwinds the guest. */
static wasm_trap_t *fail(wp_instance *inst, wp_error *err) {
  wp_error_free(inst->host_error);
  inst->host_error = err;
  const char *msg = wp_error_get_message(err);
  return wasmtime_trap_new(msg, strlen(msg));
}

static wasm_trap_t *fail_host(wp_instance *inst, const wp_host_def *d, wp_error *err) {
  return fail(inst,
              wp_error_prefix(err, "host function '%s.%s' failed: ", d->base.module, d->base.name));
}

static wasm_trap_t *fail_abi(wp_instance *inst, const wp_host_def *d, const char *what,
                             uint32_t ptr, uint32_t len) {
  char size[32];
  return fail(inst, wp_error_new(WP_ERR_ABI,
                                 "it passed %s [ptr=0x%x, len=%u] to '%s.%s', outside its memory "
                                 "of %s",
                                 what, ptr, len, d->base.module, d->base.name,
                                 wp_format_size(wp_core_memory_size(inst), size, sizeof size)));
}

static wasm_trap_t *fail_misaligned(wp_instance *inst, const wp_host_def *d, uint32_t retptr) {
  return fail(inst, wp_error_new(WP_ERR_ABI,
                                 "it passed a return area at 0x%x to '%s.%s', which is not "
                                 "4-aligned",
                                 retptr, d->base.module, d->base.name));
}

/* The trap that ends a call interrupted while a host function ran (the
   request is consumed and the reason recorded, so the call reports
   WP_ERR_INTERRUPTED and the next call is not affected). */
static wasm_trap_t *interrupted(void) { return wasmtime_trap_new("interrupted", 11); }

/* ---- numeric ------------------------------------------------------------- */

static wasm_trap_t *numeric_trampoline(void *env, wasmtime_caller_t *caller,
                                       wasmtime_val_raw_t *raw, size_t n) {
  (void)n;
  const wp_host_def *d = env;
  wp_instance *inst = caller_instance(caller);
  wp_val args[16], results[16];
  for (size_t i = 0; i < d->nparams; i++) {
    args[i].kind = d->params[i];
    switch (d->params[i]) {
    case WP_I32: args[i].of.i32 = raw[i].i32; break;
    case WP_I64: args[i].of.i64 = raw[i].i64; break;
    case WP_F32: memcpy(&args[i].of.f32, &raw[i].f32, 4); break;
    case WP_F64: memcpy(&args[i].of.f64, &raw[i].f64, 8); break;
    }
  }
  for (size_t i = 0; i < d->nresults; i++) results[i] = (wp_val){.kind = d->results[i]};
  wp_host_call call = {.inst = inst, .def = &d->base};
  wp_error *err = d->fn(&call, args, d->nparams, results, d->nresults, d->user_data);
  if (err) return fail_host(inst, d, err);
  if (wp_instance_take_interrupt(inst)) return interrupted();
  for (size_t i = 0; i < d->nresults; i++) {
    if (results[i].kind != d->results[i])
      return fail_host(inst, d,
                       wp_error_new(WP_ERR_HOST, "result %zu must be %s, got %s", i + 1,
                                    wp_valkind_name(d->results[i]),
                                    wp_valkind_name(results[i].kind)));
    switch (d->results[i]) {
    case WP_I32: raw[i].i32 = results[i].of.i32; break;
    case WP_I64: raw[i].i64 = results[i].of.i64; break;
    case WP_F32: memcpy(&raw[i].f32, &results[i].of.f32, 4); break;
    case WP_F64: memcpy(&raw[i].f64, &results[i].of.f64, 8); break;
    }
  }
  return NULL;
}

/* ---- bytes and strings --------------------------------------------------- */

/* Writes host_out into the guest and [ptr, len] at retptr (8 bytes). */
static wasm_trap_t *return_bytes(wp_instance *inst, const wp_host_def *d, uint32_t retptr,
                                 size_t at) {
  uint32_t optr;
  wasmtime_error_t *werr;
  wasm_trap_t *trap;
  const wp_buf *o = &inst->host_out;
  if (!wp_core_inst(inst)->has_realloc)
    return fail(inst, wp_error_new(WP_ERR_ABI,
                                   "it imports '%s.%s' but does not export "
                                   "cabi_realloc, which the host needs to return bytes",
                                   d->base.module, d->base.name));
  switch (wp_guest_place(inst, o->data, o->len, &optr, &werr, &trap)) {
  case WP_GUEST_OK: break;
  case WP_GUEST_WASM_FAILED:
    if (werr) {
      char *msg = wp_wasmtime_error_take(werr);
      trap = wasmtime_trap_new(msg ? msg : "cabi_realloc failed", msg ? strlen(msg) : 19);
      free(msg);
    }
    return trap;
  case WP_GUEST_BAD_POINTER:
    return fail_abi(inst, d, "cabi_realloc's result", optr, (uint32_t)o->len);
  }
  size_t size;
  uint8_t *mem = wp_core_memory(inst, &size);
  uint32_t olen = (uint32_t)o->len;
  memcpy(mem + retptr + at, &optr, 4);
  memcpy(mem + retptr + at + 4, &olen, 4);
  return NULL;
}

static wasm_trap_t *bytes_trampoline(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw,
                                     size_t n) {
  (void)n;
  const wp_host_def *d = env;
  wp_instance *inst = caller_instance(caller);
  uint32_t ptr = (uint32_t)raw[0].i32, len = (uint32_t)raw[1].i32, retptr = (uint32_t)raw[2].i32;
  size_t size;
  const uint8_t *mem = wp_core_memory(inst, &size);
  if (!wp_guest_in_bounds(ptr, len, size)) return fail_abi(inst, d, "input", ptr, len);
  if (!wp_guest_in_bounds(retptr, 8, size)) return fail_abi(inst, d, "a return area", retptr, 8);
  if (retptr % 4) return fail_misaligned(inst, d, retptr);
  if (d->kind == WP_HOST_STRING && !wp_utf8_valid(mem + ptr, len))
    return fail(inst, wp_error_new(WP_ERR_ABI, "it passed a string that is not UTF-8 to '%s.%s'",
                                   d->base.module, d->base.name));
  inst->host_out.len = 0;
  wp_host_call call = {.inst = inst, .def = &d->base};
  wp_error *err = d->bytes_fn(&call, mem + ptr, len, d->user_data);
  if (err) return fail_host(inst, d, err);
  if (wp_instance_take_interrupt(inst)) return interrupted();
  return return_bytes(inst, d, retptr, 0);
}

/* ---- built-ins ------------------------------------------------------------- */

static wasm_trap_t *builtin_log(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw,
                                size_t n) {
  (void)n;
  const wp_host_def *d = env;
  wp_instance *inst = caller_instance(caller);
  int32_t level = raw[0].i32;
  uint32_t ptr = (uint32_t)raw[1].i32, len = (uint32_t)raw[2].i32;
  size_t size;
  const uint8_t *mem = wp_core_memory(inst, &size);
  if (!wp_guest_in_bounds(ptr, len, size)) return fail_abi(inst, d, "a message", ptr, len);
  struct wp_engine *e = inst->plugin->engine;
  if (level < WP_LOG_TRACE) level = WP_LOG_TRACE;
  if (level > WP_LOG_ERROR) level = WP_LOG_ERROR;
  if (e->log_fn)
    e->log_fn(e->log_user_data, (wp_log_level)level, inst->plugin->name, (const char *)mem + ptr,
              len);
  return NULL;
}

static wasm_trap_t *builtin_config_get(void *env, wasmtime_caller_t *caller,
                                       wasmtime_val_raw_t *raw, size_t n) {
  (void)n;
  const wp_host_def *d = env;
  wp_instance *inst = caller_instance(caller);
  uint32_t ptr = (uint32_t)raw[0].i32, len = (uint32_t)raw[1].i32, retptr = (uint32_t)raw[2].i32;
  size_t size;
  uint8_t *mem = wp_core_memory(inst, &size);
  if (!wp_guest_in_bounds(ptr, len, size)) return fail_abi(inst, d, "a key", ptr, len);
  if (!wp_guest_in_bounds(retptr, 12, size)) return fail_abi(inst, d, "a return area", retptr, 12);
  if (retptr % 4) return fail_misaligned(inst, d, retptr);
  const char *value = wp_manifest_config_get(inst->plugin->manifest, (const char *)mem + ptr, len);
  mem[retptr] = value != NULL;
  if (!value) return NULL;
  wp_buf *o = &inst->host_out;
  size_t vlen = strlen(value);
  if (!wp_buf_reserve(o, vlen + 1)) return fail(inst, wp_error_no_memory());
  memcpy(o->data, value, vlen);
  o->len = vlen;
  return return_bytes(inst, d, retptr, 4);
}

static wasm_trap_t *builtin_error(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw,
                                  size_t n) {
  (void)n;
  const wp_host_def *d = env;
  wp_instance *inst = caller_instance(caller);
  uint32_t ptr = (uint32_t)raw[0].i32, len = (uint32_t)raw[1].i32;
  size_t size;
  const uint8_t *mem = wp_core_memory(inst, &size);
  if (!wp_guest_in_bounds(ptr, len, size)) return fail_abi(inst, d, "a message", ptr, len);
  if (len > 4096) len = 4096; /* a message, not a payload */
  free(inst->plugin_error);
  /* It ends up in an error message: keep it one printable line. */
  inst->plugin_error = wp_strdup_printable(mem + ptr, len);
  return NULL;
}

/* ---- definitions --------------------------------------------------------- */

static wasm_valtype_vec_t valtypes(const wp_valkind *kinds, size_t n) {
  static const wasm_valkind_t map[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64};
  wasm_valtype_vec_t v;
  wasm_valtype_vec_new_uninitialized(&v, n);
  for (size_t i = 0; i < n; i++) v.data[i] = wasm_valtype_new(map[kinds[i]]);
  return v;
}

static void host_def_free(wp_def *base) {
  wp_host_def *d = (wp_host_def *)base;
  if (d->free_user_data) d->free_user_data(d->user_data);
  free(d->base.module);
  free(d->base.name);
  free(d);
}

/* wp_def.link: defines the function in one flavor's linker. */
static wp_error *host_link(wp_flavor *f, wp_def *base) {
  wp_host_def *d = (wp_host_def *)base;
  /* A function type binds to the first engine it is used with, so each
     flavor gets its own. */
  wasm_valtype_vec_t ps = valtypes(d->params, d->nparams), rs = valtypes(d->results, d->nresults);
  wasm_functype_t *type = wasm_functype_new(&ps, &rs);
  wasmtime_error_t *werr = wasmtime_linker_define_func_unchecked(
      f->linker, d->base.module, strlen(d->base.module), d->base.name, strlen(d->base.name), type,
      d->trampoline, d, NULL);
  wasm_functype_delete(type);
  if (werr)
    return wp_error_from_wasmtime(WP_ERR_BAD_INPUT, werr, "cannot define host function '%s.%s'",
                                  d->base.module, d->base.name);
  return NULL;
}

/* Registers a definition and links it into every engine flavor that exists. */
static wp_error *define(struct wp_engine *e, wp_host_def *d) {
  d->engine = e;
  wp_error *err = wp_engine_add_def(e, &d->base);
  if (err) {
    d->free_user_data = NULL; /* the caller keeps its user data on failure */
    host_def_free(&d->base);
  }
  return err;
}

static wp_host_def *def_new(const char *module, const char *name, wp_host_kind kind,
                            wasmtime_func_unchecked_callback_t tramp) {
  wp_host_def *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->base.kind = WP_DEF_CORE_FUNC;
  d->base.link = host_link;
  d->base.free = host_def_free;
  d->base.module = strdup(module);
  d->base.name = strdup(name);
  d->kind = kind;
  d->trampoline = tramp;
  if (!d->base.module || !d->base.name) {
    host_def_free(&d->base);
    return NULL;
  }
  return d;
}

static const wp_valkind bytes_params[] = {WP_I32, WP_I32, WP_I32};

static wp_error *define_bytes(struct wp_engine *e, const char *module, const char *name,
                              wp_host_kind kind, wp_host_bytes_fn fn, void *ud,
                              void (*free_ud)(void *)) {
  if (!e || !module || !name || !fn)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "defining a host function needs an engine, module, name and callback");
  wp_host_def *d = def_new(module, name, kind, bytes_trampoline);
  if (!d) return wp_error_no_memory();
  memcpy(d->params, bytes_params, sizeof bytes_params);
  d->nparams = 3;
  d->bytes_fn = fn;
  d->user_data = ud;
  d->free_user_data = free_ud;
  return define(e, d);
}

wp_error *wp_engine_define_bytes(wp_engine *e, const char *module, const char *name,
                                 wp_host_bytes_fn fn, void *ud, void (*free_ud)(void *)) {
  return define_bytes(e, module, name, WP_HOST_BYTES, fn, ud, free_ud);
}

wp_error *wp_engine_define_string(wp_engine *e, const char *module, const char *name,
                                  wp_host_bytes_fn fn, void *ud, void (*free_ud)(void *)) {
  return define_bytes(e, module, name, WP_HOST_STRING, fn, ud, free_ud);
}

wp_error *wp_engine_define_func(wp_engine *e, const char *module, const char *name,
                                const wp_valkind *params, size_t nparams, const wp_valkind *results,
                                size_t nresults, wp_host_fn fn, void *ud, void (*free_ud)(void *)) {
  if (!e || !module || !name || !fn || (nparams && !params) || (nresults && !results))
    return wp_error_new(
        WP_ERR_BAD_INPUT,
        "defining a host function needs an engine, module, name, types and callback");
  if (nparams > 16 || nresults > 16)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "host function '%s.%s': at most 16 parameters and 16 results", module,
                        name);
  for (size_t i = 0; i < nparams + nresults; i++) {
    wp_valkind k = i < nparams ? params[i] : results[i - nparams];
    if ((unsigned)k > WP_F64)
      return wp_error_new(WP_ERR_BAD_INPUT, "host function '%s.%s': unknown value kind %d", module,
                          name, (int)k);
  }
  wp_host_def *d = def_new(module, name, WP_HOST_NUMERIC, numeric_trampoline);
  if (!d) return wp_error_no_memory();
  if (nparams) memcpy(d->params, params, nparams * sizeof *params);
  if (nresults) memcpy(d->results, results, nresults * sizeof *results);
  d->nparams = nparams;
  d->nresults = nresults;
  d->fn = fn;
  d->user_data = ud;
  d->free_user_data = free_ud;
  return define(e, d);
}

wp_error *wp_host_define_builtins(struct wp_engine *e) {
  static const struct {
    const char *name;
    wasmtime_func_unchecked_callback_t tramp;
    size_t nparams;
  } builtins[] = {
      {"log", builtin_log, 3},
      {"config_get", builtin_config_get, 3},
      {"error", builtin_error, 2},
  };
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    wp_host_def *d = def_new("wasmplug", builtins[i].name, WP_HOST_BUILTIN, builtins[i].tramp);
    if (!d) return wp_error_no_memory();
    memcpy(d->params, bytes_params, sizeof bytes_params);
    d->nparams = builtins[i].nparams;
    wp_error *err = define(e, d);
    if (err) return err;
  }
  return NULL;
}

const char *wp_log_level_name(wp_log_level level) {
  static const char *names[] = {"trace", "debug", "info", "warn", "error"};
  return (unsigned)level <= WP_LOG_ERROR ? names[level] : "?";
}
