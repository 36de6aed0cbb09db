/*
 * call.c - calling exports: numeric functions directly, bytes functions
 * through the bytes ABI (docs/abi.md), with every guest pointer checked.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest.h"
#include "core/kind.h"
#include "engine/error.h"
#include "instance/instance.h"
#include "util/utf8.h"

#define WP_MAX_ARITY 64

static wp_error *bad_input(const wp_instance *inst, const char *fmt, const char *what,
                           const char *detail) {
  char msg[768];
  snprintf(msg, sizeof msg, fmt, what, detail);
  return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": %s", inst->plugin->name, msg);
}

static void list_types(char *buf, size_t cap, const wp_valkind *kinds, size_t n) {
  size_t len = (size_t)snprintf(buf, cap, "(");
  for (size_t i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", wp_valkind_name(kinds[i]));
  if (len < cap) snprintf(buf + len, cap - len, ")");
}

/* Checks that `id` names an exported function the instance can call now. */
static wp_error *check_callable(wp_instance *inst, wp_func_id id, wasmtime_func_t *f) {
  const wp_plugin *p = inst->plugin;
  wp_error *err = wp_instance_check_callable(inst, id);
  if (err) return err;
  /* Another kind's instance holds no core functions to look up. */
  if (p->kind != &wp_core_kind)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": '%s' is a %s function (%s): call it with "
                                      "wp_instance_invoke, or with wp_instance_call_bytes / "
                                      "_call_string if it takes and returns one list<u8> or string",
                        p->name, p->exports[id].name, p->kind->name,
                        p->exports[id].type ? p->exports[id].type : "?");
  if (!wp_core_export_func(inst, id, f))
    return wp_error_new(WP_ERR_NOT_FOUND, WP_PLUGIN_FMT ": export '%s' is not a function", p->name,
                        p->exports[id].name);
  return NULL;
}

static wp_error *check_signature(wp_instance *inst, const wp_extern_info *e, const wp_val *args,
                                 size_t nargs, size_t nresults) {
  char want[256], detail[320];
  if (!e->numeric)
    return bad_input(inst, "'%s' has the type %s, which uses values other than i32/i64/f32/f64",
                     e->name, e->type);
  if (nargs != e->nparams || e->nparams > WP_MAX_ARITY || e->nresults > WP_MAX_ARITY) {
    list_types(want, sizeof want, e->params, e->nparams);
    snprintf(detail, sizeof detail, "%zu argument%s %s, got %zu", e->nparams,
             e->nparams == 1 ? "" : "s", want, nargs);
    return bad_input(inst, "'%s' takes %s", e->name, detail);
  }
  for (size_t i = 0; i < nargs; i++) {
    if (args[i].kind == e->params[i]) continue;
    snprintf(detail, sizeof detail, "argument %zu must be %s, got %s", i + 1,
             wp_valkind_name(e->params[i]),
             (unsigned)args[i].kind <= WP_F64 ? wp_valkind_name(args[i].kind) : "an unknown kind");
    return bad_input(inst, "'%s': %s", e->name, detail);
  }
  if (nresults != e->nresults) {
    list_types(want, sizeof want, e->results, e->nresults);
    snprintf(detail, sizeof detail, "%zu result%s %s, but room for %zu was given", e->nresults,
             e->nresults == 1 ? "" : "s", want, nresults);
    return bad_input(inst, "'%s' returns %s", e->name, detail);
  }
  return NULL;
}

/* Copies args into raw values, checking kinds as it goes; false on a mismatch. */
static inline bool load_args(const wp_extern_info *e, const wp_val *args, size_t nargs,
                             wasmtime_val_raw_t *raw) {
  if (nargs != e->nparams || !e->numeric) return false;
  for (size_t i = 0; i < nargs; i++) {
    if (args[i].kind != e->params[i]) return false;
    /* Raw values are little-endian with the value in the low bytes, as in
       wp_val's 8-byte union: one copy serves every kind. */
    memcpy(&raw[i], &args[i].of, 8);
  }
  return true;
}

/*
 * The general path: another kind's call, an export the plans do not cover
 * (its first call on an instance, or more than WP_PLAN_ARITY values), and any
 * call that fails a check, which it reports with the full message.
 */
static __attribute__((noinline)) wp_error *call_func_general(wp_instance *inst, wp_func_id id,
                                                             const wp_val *args, size_t nargs,
                                                             wp_val *results, size_t nresults) {
  const wp_plugin *p = inst->plugin;
  const wp_extern_info *e = id < p->nexports ? &p->exports[id] : NULL;
  wasmtime_val_raw_t raw[WP_MAX_ARITY];
  wasmtime_func_t f;
  if (!e || e->kind != WP_EXTERN_FUNC || !inst->ctx || inst->in_call || e->nparams > WP_MAX_ARITY ||
      e->nresults > WP_MAX_ARITY || nresults != e->nresults || !load_args(e, args, nargs, raw) ||
      !wp_core_export_func(inst, id, &f)) {
    /* Another kind's numeric calls (a worker process's), through its table. */
    if (p->kind->call_func) return p->kind->call_func(inst, id, args, nargs, results, nresults);
    wp_error *err = check_callable(inst, id, &f);
    if (!err) err = check_signature(inst, e, args, nargs, nresults);
    return err ? err
               : wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot call '%s'", p->name, e->name);
  }
  wp_call_begin(inst);
  wasm_trap_t *trap = NULL;
  size_t n = nargs > nresults ? nargs : nresults;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &f, raw, n, &trap);
  if (werr || trap) return wp_call_failure(inst, e->name, werr, trap);
  for (size_t i = 0; i < nresults; i++) {
    results[i].kind = e->results[i];
    memcpy(&results[i].of, &raw[i], 8);
  }
  return wp_call_end(inst, e->name);
}

/*
 * The planned path (kind.h): the export's type was checked at load, its
 * function handle cached in the instance at its first call, so a call checks
 * the arguments against the plan, copies them and calls. Anything unexpected
 * goes to the general path, which says what is wrong.
 */
wp_error *wp_instance_call_func(wp_instance *inst, wp_func_id id, const wp_val *args, size_t nargs,
                                wp_val *results, size_t nresults) {
  const wp_plugin *p = inst->plugin;
  /* resolved[id] implies a live store (teardown clears it) and a core instance. */
  if (p->kind != &wp_core_kind || id >= p->nexports || inst->in_call || !inst->resolved[id])
    return call_func_general(inst, id, args, nargs, results, nresults);
  const wp_core_plan *pl = &wp_core_of(p)->plans[id];
  if (!pl->numeric || nargs != pl->nparams || nresults != pl->nresults)
    return call_func_general(inst, id, args, nargs, results, nresults);
  wasmtime_val_raw_t raw[WP_PLAN_ARITY];
  for (size_t i = 0; i < nargs; i++) {
    if (args[i].kind != (wp_valkind)pl->kinds[i])
      return call_func_general(inst, id, args, nargs, results, nresults);
    memcpy(&raw[i], &args[i].of, 8);
  }
  wp_call_begin(inst);
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &wp_core_inst(inst)->funcs[id],
                                                        raw, pl->nraw, &trap);
  if (werr || trap) return wp_call_failure(inst, p->exports[id].name, werr, trap);
  for (size_t i = 0; i < nresults; i++) {
    results[i].kind = (wp_valkind)pl->kinds[pl->nparams + i];
    memcpy(&results[i].of, &raw[i], 8);
  }
  return wp_call_end(inst, p->exports[id].name);
}

wp_error *wp_instance_call(wp_instance *inst, const char *name, const wp_val *args, size_t nargs,
                           wp_val *results, size_t nresults) {
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(inst->plugin, name, &id);
  return err ? err : wp_instance_call_func(inst, id, args, nargs, results, nresults);
}

/* ---- the bytes ABI ------------------------------------------------------- */

static bool is_bytes_signature(const wp_extern_info *e) {
  return e->numeric && e->nparams == 2 && e->params[0] == WP_I32 && e->params[1] == WP_I32 &&
         e->nresults == 1 && e->results[0] == WP_I32;
}

/* The shape alone, as the PDKs build it; a plugin that exports cabi_realloc
   but no memory is still asking for bytes, and its calls fail as ABI errors. */
bool wp_plugin_is_bytes_func(const wp_plugin *p, wp_func_id id) {
  if (!p || id >= p->nexports || p->exports[id].kind != WP_EXTERN_FUNC) return false;
  if (p->kind != &wp_core_kind) return p->kind->is_bytes_func && p->kind->is_bytes_func(p, id);
  return is_bytes_signature(&p->exports[id]) && wp_core_of(p)->realloc_export >= 0;
}

static wp_error *check_bytes_export(wp_instance *inst, const wp_extern_info *e) {
  const wp_plugin *p = inst->plugin;
  if (!is_bytes_signature(e))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": '%s' is not a bytes function: its type is %s, and "
                        "bytes functions take (i32, i32) and return i32 (call numeric "
                        "exports with wp_instance_call)",
                        p->name, e->name, e->type);
  if (!wp_core_inst(inst)->has_memory || !wp_core_inst(inst)->has_realloc)
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT
                        ": cannot pass bytes to '%s': the plugin must export "
                        "'memory' and 'cabi_realloc' (build it with the wasmplug PDK)",
                        p->name, e->name);
  return NULL;
}

/* Copies the output [optr, olen) out of guest memory into inst->out. */
static wp_error *copy_output(wp_instance *inst, const char *what, uint32_t retptr) {
  size_t size;
  uint8_t *mem = wp_core_memory(inst, &size);
  if (retptr % 4 || (uint64_t)retptr + 8 > size)
    return wp_guest_abi_error(inst, "'%s' returned a return-area pointer 0x%x %s", what, retptr,
                              retptr % 4 ? "that is not 4-aligned" : "outside its memory");
  uint32_t optr, olen;
  memcpy(&optr, mem + retptr, 4);
  memcpy(&olen, mem + retptr + 4, 4);
  if ((uint64_t)optr + olen > size)
    return wp_guest_abi_error(inst, "'%s' returned output [ptr=0x%x, len=%u] outside its memory",
                              what, optr, olen);
  if (!wp_buf_reserve(&inst->out, (size_t)olen + 1)) {
    wp_call_abandon(inst);
    return wp_error_new(WP_ERR_NO_MEMORY,
                        WP_PLUGIN_FMT ": out of memory copying %u bytes of output",
                        inst->plugin->name, olen);
  }
  memcpy(inst->out.data, mem + optr, olen);
  inst->out.data[olen] = '\0';
  inst->out.len = olen;
  return NULL;
}

/* Another kind's bytes call, through its table (plugin/kind.h). */
static wp_error *kind_call_bytes(wp_instance *inst, wp_func_id id, const void *input, size_t len) {
  const wp_plugin *p = inst->plugin;
  if (p->kind->call_bytes) return p->kind->call_bytes(inst, id, input, len);
  return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": a %s has no bytes functions", p->name,
                      p->kind->name);
}

/* Is export `id` a bytes function this instance can call now, its handle
   cached (the plan's fast case)? */
static inline bool bytes_ready(const wp_instance *inst, wp_func_id id) {
  const wp_plugin *p = inst->plugin;
  const wp_core_instance *ci = wp_core_inst(inst);
  return id < p->nexports && wp_core_of(p)->plans[id].bytes && !inst->in_call &&
         inst->resolved[id] && ci->has_memory && ci->has_realloc;
}

static wp_error *call_bytes(wp_instance *inst, wp_func_id id, const void *input, size_t len) {
  if (inst->plugin->kind != &wp_core_kind) return kind_call_bytes(inst, id, input, len);
  wasmtime_func_t f;
  wp_error *err;
  if (bytes_ready(inst, id)) {
    f = wp_core_inst(inst)->funcs[id];
  } else if ((err = check_callable(inst, id, &f)) ||
             (err = check_bytes_export(inst, &inst->plugin->exports[id]))) {
    return err;
  }
  const wp_extern_info *e = &inst->plugin->exports[id];
  if (len > UINT32_MAX)
    return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": input of %zu bytes is more than 4 GiB",
                        inst->plugin->name, len);

  wp_call_begin(inst);
  uint32_t ptr;
  if ((err = wp_guest_alloc_copy(inst, e->name, input, len, &ptr))) return err;

  wasmtime_val_raw_t raw[2];
  raw[0].i32 = (int32_t)ptr;
  raw[1].i32 = (int32_t)len;
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &f, raw, 2, &trap);
  if (werr || trap) return wp_call_failure(inst, e->name, werr, trap);
  uint32_t retptr = (uint32_t)raw[0].i32;
  if ((err = copy_output(inst, e->name, retptr))) return err;

  int32_t post = wp_core_of(inst->plugin)->post_export[id];
  wasmtime_func_t pf;
  if (post >= 0 && wp_core_export_func(inst, (size_t)post, &pf)) {
    raw[0].i32 = (int32_t)retptr;
    werr = wasmtime_func_call_unchecked(inst->ctx, &pf, raw, 1, &trap);
    if (werr || trap) return wp_call_failure(inst, inst->plugin->exports[post].name, werr, trap);
  }
  return wp_call_end(inst, e->name);
}

wp_error *wp_instance_call_func_bytes(wp_instance *inst, wp_func_id id, const void *input,
                                      size_t input_len, const uint8_t **out, size_t *out_len) {
  wp_error *err = call_bytes(inst, id, input, input_len);
  if (err) return err;
  *out = inst->out.data;
  *out_len = inst->out.len;
  return NULL;
}

wp_error *wp_instance_call_bytes(wp_instance *inst, const char *name, const void *input,
                                 size_t input_len, const uint8_t **out, size_t *out_len) {
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(inst->plugin, name, &id);
  return err ? err : wp_instance_call_func_bytes(inst, id, input, input_len, out, out_len);
}

wp_error *wp_instance_call_string(wp_instance *inst, const char *name, const char *input,
                                  const char **out) {
  size_t len = strlen(input), out_len;
  if (!wp_utf8_valid((const uint8_t *)input, len))
    return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": input to '%s' is not valid UTF-8",
                        inst->plugin->name, name);
  const uint8_t *bytes;
  wp_error *err = wp_instance_call_bytes(inst, name, input, len, &bytes, &out_len);
  if (err) return err;
  if (!wp_utf8_valid(bytes, out_len) || memchr(bytes, 0, out_len)) {
    inst->failed = true;
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT
                        ": '%s' returned %zu bytes that are not a UTF-8 "
                        "string without NUL bytes (call it with wp_instance_call_bytes)",
                        inst->plugin->name, name, out_len);
  }
  *out = (const char *)bytes;
  return NULL;
}

/* ---- WASI commands ------------------------------------------------------- */

wp_error *wp_instance_run(wp_instance *inst, int *exit_code) {
  if (inst->plugin->kind->run) return inst->plugin->kind->run(inst, exit_code);
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(inst->plugin, "_start", &id);
  if (err) return wp_error_prefix(err, "not a WASI command (build it as a program with main): ");
  wasmtime_func_t f;
  if ((err = check_callable(inst, id, &f))) return err;
  wp_call_begin(inst);
  wasm_trap_t *trap = NULL;
  wasmtime_val_raw_t raw[1];
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &f, raw, 0, &trap);
  int status;
  if (werr && !trap && wasmtime_error_exit_status(werr, &status)) {
    /* proc_exit: the command ended normally, with this status. */
    wasmtime_error_delete(werr);
    if ((err = wp_call_end(inst, "_start"))) return err;
    *exit_code = status;
    return NULL;
  }
  if (werr || trap) return wp_call_failure(inst, "_start", werr, trap);
  *exit_code = 0;
  return wp_call_end(inst, "_start");
}

const char *wp_valkind_name(wp_valkind kind) {
  switch (kind) {
  case WP_I32: return "i32";
  case WP_I64: return "i64";
  case WP_F32: return "f32";
  case WP_F64: return "f64";
  }
  return "?";
}

/* The one-copy conversions above rely on these layouts. */
_Static_assert(sizeof(((wp_val *)0)->of) == 8, "wp_val's union is 8 bytes");
_Static_assert(sizeof(wasmtime_val_raw_t) >= 8, "raw values hold at least 8 bytes");
