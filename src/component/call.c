/*
 * call.c - calling a component's exports with wp_values, and making
 * component instances.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug_bytes.h>

#include "component/component.h"
#include "util/zalloc.h"
#include "engine/error.h"
#include "util/utf8.h"

wp_error *wp_component_instantiate(wp_instance *inst) {
  wp_plugin *p = inst->plugin;
  wp_instantiation_begin(inst);
  wp_error *perr = wp_component_instantiate_plugs(inst);
  if (perr) return perr;
  const struct wp_component *c = wp_comp(p);
  wasmtime_error_t *werr = c->pre
                               ? wasmplug_component_pre_instantiate(c->pre, inst->ctx,
                                                                    &wp_cinst(inst)->instance)
                               : wasmtime_component_linker_instantiate(
                                     c->linker, inst->ctx, c->component, &wp_cinst(inst)->instance);
  if (werr) {
    /* A link failure here (a type the host cannot satisfy) is not a trap. */
    wp_error *err = wp_call_failure(inst, "instantiation", werr, NULL);
    if (strstr(wp_error_get_message(err), "matching implementation was not found") ||
        strstr(wp_error_get_message(err), "type mismatch"))
      wp_error_set_kind(err, WP_ERR_LINK);
    return err;
  }
  return wp_call_end(inst, "instantiation");
}

static bool resolve(wp_instance *inst, size_t id, wasmtime_component_func_t *out) {
  if (inst->resolved[id]) {
    *out = wp_cinst(inst)->funcs[id];
    return true;
  }
  const wp_cexport *e = &wp_comp(inst->plugin)->exports[id];
  if (!e->index || !inst->ctx ||
      !wasmtime_component_instance_get_func(&wp_cinst(inst)->instance, inst->ctx, e->index,
                                            &wp_cinst(inst)->funcs[id]))
    return false;
  inst->resolved[id] = 1;
  *out = wp_cinst(inst)->funcs[id];
  return true;
}

/* Arity and types of the arguments, with errors naming the argument. */
wp_error *wp_component_check_args(const wp_plugin *p, const wp_cexport *e, uint64_t life,
                                  const wp_value *const *args, size_t nargs) {
  const struct wp_functype *ft = e->type;
  if (nargs != ft->nparams)
    return wp_error_new(
        WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": '%s' takes %zu argument%s, got %zu (its type is %s)",
        p->name, e->qualified, ft->nparams, ft->nparams == 1 ? "" : "s", nargs, ft->text);
  char msg[512];
  for (size_t i = 0; i < nargs; i++) {
    if (!wp_value_check(args[i], ft->params[i], life, msg, sizeof msg))
      return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": argument %zu ('%s') of '%s': %s",
                          p->name, i + 1, ft->param_names[i], e->qualified, msg);
  }
  return NULL;
}

static int bytes_flags(const struct wp_functype *ft);

static bool has_handles(const struct wp_type *t) {
  if (!t) return false;
  if (t->kind == WP_TYPE_OWN || t->kind == WP_TYPE_BORROW) return true;
  for (size_t i = 0; i < t->n; i++)
    if (has_handles(t->children[i])) return true;
  return false;
}

void wp_component_plan_call(wp_cexport *e) {
  const struct wp_functype *ft = e->type;
  e->call_path = WP_CPATH_VALUES;
  e->param_handles = false;
  for (size_t i = 0; ft && i < ft->nparams; i++) e->param_handles |= has_handles(ft->params[i]);
  int flags = bytes_flags(ft);
  if (ft && !ft->nparams && !ft->result) {
    e->call_path = WP_CPATH_UNIT;
  } else if (flags >= 0) {
    e->call_path = WP_CPATH_BYTES;
    e->bytes_flags = (uint8_t)flags;
  } else if (wp_component_plan_leaves(e)) {
    e->call_path = WP_CPATH_LEAVES;
  }
}

/* Where a typed bytes call puts its result: a new wp_value. */
typedef struct typed_out {
  wp_value *v;
  bool string;
} typed_out;

static uint8_t *value_room(void *ctx, size_t len) {
  typed_out *o = ctx;
  if (len == SIZE_MAX || !(o->v = wp_zalloc(1, sizeof *o->v))) return NULL;
  if (o->string) {
    o->v->kind = WP_TYPE_STRING;
    if (!(o->v->of.str.data = malloc(len + 1))) return NULL;
    o->v->of.str.data[len] = '\0';
    o->v->of.str.len = len;
    return (uint8_t *)o->v->of.str.data;
  }
  o->v->kind = WP_TYPE_LIST;
  if (!len) return (uint8_t *)o; /* room for nothing: an empty list */
  uint8_t *data = malloc(len);
  if (data) wp_value_set_bytes(o->v, data, len);
  return data;
}

/* The input of a typed bytes call: a string's or a list<u8>'s bytes (the
   arguments were checked against the type); false for a list the typed call
   cannot pass as one buffer. */
static bool typed_input(const wp_value *v, const uint8_t **data, size_t *len) {
  if (v->kind == WP_TYPE_STRING) {
    *data = (const uint8_t *)v->of.str.data;
    *len = v->of.str.len;
    return true;
  }
  *data = wp_value_get_bytes(v, len);
  return *data != NULL;
}

/* A call through the Rust extension's typed API (e->call_path), with the
   error handling of the general path; *taken false when this value cannot
   take it (the caller then takes the general path). The arguments have been
   checked; the result is lifted by Wasmtime, which checks its UTF-8 and
   bounds as the general path's lifting does. */
static wp_error *typed_call(wp_instance *inst, const wp_cexport *e, wasmtime_component_func_t *func,
                            const wp_value *const *args, wp_value **result, bool *taken) {
  typed_out out = {.string = e->call_path == WP_CPATH_BYTES &&
                             e->type->result->kind == WP_TYPE_STRING};
  const uint8_t *in = NULL;
  size_t len = 0;
  *taken = e->call_path == WP_CPATH_UNIT || typed_input(args[0], &in, &len);
  if (!*taken) return NULL;
  wasmtime_error_t *werr = NULL;
  wp_call_begin(inst);
  int rc;
  if (e->call_path == WP_CPATH_UNIT) {
    rc = wasmplug_component_call_unit(inst->ctx, func, true, &werr);
  } else {
    /* The arguments were checked against the type: a string's are UTF-8. */
    uint32_t flags = e->bytes_flags | WASMPLUG_BYTES_TYPE_CHECKED | WASMPLUG_BYTES_INPUT_UTF8;
    rc = wasmplug_component_call_bytes(inst->ctx, func, flags, in, len, value_room, &out, &werr);
  }
  if (rc == WASMPLUG_BYTES_CALL_FAILED) {
    wp_value_free(out.v);
    return wp_call_failure(inst, e->qualified, werr, NULL);
  }
  if (werr) wasmtime_error_delete(werr);
  if (rc != WASMPLUG_BYTES_OK) {
    wp_call_abandon(inst);
    wp_value_free(out.v);
    if (rc == WASMPLUG_BYTES_NO_MEMORY)
      return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory reading the result of '%s'",
                          e->qualified);
    return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot call '%s' (code %d)",
                        inst->plugin->name, e->qualified, rc);
  }
  wp_error *err = wp_call_end(inst, e->qualified);
  if (err || !result) {
    wp_value_free(out.v);
    out.v = NULL;
  }
  if (result) *result = out.v;
  return err;
}

wp_error *wp_instance_invoke_func(wp_instance *inst, wp_func_id id, const wp_value *const *args,
                                  size_t nargs, wp_value **result) {
  if (!inst || (nargs && !args))
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_invoke: instance and args are required");
  wp_plugin *p = inst->plugin;
  /* A component in a worker process, through its kind's table. */
  if (p->kind->invoke) return p->kind->invoke(inst, id, args, nargs, result);
  if (!wp_comp(p))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": is a core module; call it with wp_instance_call, "
                                      "_call_bytes or _call_string",
                        p->name);
  wp_error *err = wp_instance_check_callable(inst, id);
  if (err) return err;
  const wp_cexport *e = &wp_comp(p)->exports[id];
  err = wp_component_check_args(p, e, inst->life, args, nargs);
  for (size_t i = 0; !err && e->param_handles && i < nargs; i++)
    if (wp_value_has_remote(args[i]))
      err = wp_error_new(WP_ERR_BAD_INPUT,
                         WP_PLUGIN_FMT
                         ": argument %zu of '%s' holds a resource handle made for an "
                         "instance in a worker process; make it with wp_value_new_resource on "
                         "this instance",
                         p->name, i + 1, e->qualified);
  if (err) return err;
  wasmtime_component_func_t func;
  if (!resolve(inst, id, &func))
    return wp_error_new(WP_ERR_NOT_FOUND,
                        WP_PLUGIN_FMT ": export '%s' is not a function in this instance", p->name,
                        e->qualified);
  if (e->call_path != WP_CPATH_VALUES) {
    bool taken;
    err = e->call_path == WP_CPATH_LEAVES
              ? wp_component_call_leaves(inst, e, &func, args, result, &taken)
              : typed_call(inst, e, &func, args, result, &taken);
    if (taken) return err;
  }
  wasmtime_component_val_t small[8], res = {0};
  wasmtime_component_val_t *cargs = nargs <= 8 ? small : malloc(nargs * sizeof *cargs);
  if (!cargs) return wp_error_no_memory();
  for (size_t i = 0; i < nargs; i++) wp_value_to_wasmtime(args[i], e->type->params[i], &cargs[i]);
  size_t nres = e->type->result ? 1 : 0;
  wp_call_begin(inst);
  wasmtime_error_t *werr = wasmtime_component_func_call(&func, inst->ctx, cargs, nargs, &res, nres);
  for (size_t i = 0; i < nargs; i++) wasmtime_component_val_delete(&cargs[i]);
  if (cargs != small) free(cargs);
  if (werr) return wp_call_failure(inst, e->qualified, werr, NULL);
  err = wp_call_end(inst, e->qualified);
  if (nres) {
    wp_value *out = NULL;
    if (!err && result) {
      out = wp_zalloc(1, sizeof *out);
      if (!out || !wp_value_from_wasmtime(&res, inst->life, out)) {
        free(out);
        out = NULL;
        err = wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory reading the result of '%s'",
                           e->qualified);
      }
    }
    wasmtime_component_val_delete(&res);
    if (result) *result = out;
  } else if (result) {
    *result = NULL;
  }
  return err;
}

wp_error *wp_instance_invoke(wp_instance *inst, const char *name, const wp_value *const *args,
                             size_t nargs, wp_value **result) {
  if (!inst || !name)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_invoke: instance and name are required");
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(inst->plugin, name, &id);
  return err ? err : wp_instance_invoke_func(inst, id, args, nargs, result);
}

wp_error *wp_instance_drop_resource(wp_instance *inst, wp_value *v) {
  if (!inst || !v)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_instance_drop_resource: instance and value are required");
  if (v->kind != WP_TYPE_OWN || (!v->of.res && !v->of.remote))
    return wp_error_new(
        WP_ERR_BAD_INPUT,
        "wp_instance_drop_resource: the value is not a live owning handle (kind %s)",
        wp_type_kind_name(v->kind));
  if (inst->plugin->kind->drop_resource) return inst->plugin->kind->drop_resource(inst, v);
  if (!v->of.res)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_drop_resource: the handle is not this "
                                          "instance's (it was made for one in a worker process)");
  if (!inst->ctx)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_drop_resource: the instance has no store");
  if (v->of.life != inst->life) return wp_component_foreign_handle("wp_instance_drop_resource");
  wp_call_begin(inst);
  wasmtime_error_t *werr = wasmtime_component_resource_any_drop(inst->ctx, v->of.res);
  wasmtime_component_resource_any_delete(v->of.res);
  v->of.res = NULL;
  if (werr) return wp_call_failure(inst, "resource drop", werr, NULL);
  return wp_call_end(inst, "resource drop");
}

/* ---- bytes and string calls (wp_instance_call_bytes, plugin/kind.h) ------ */

/* The wasmplug_component_call_bytes flags for a function taking and returning
   one list<u8> or string; -1 for every other type. */
static int bytes_flags(const struct wp_functype *ft) {
  if (!ft || ft->nparams != 1 || !ft->result) return -1;
  const struct wp_type *in = ft->params[0], *out = ft->result;
  if (!(in->kind == WP_TYPE_STRING || wp_type_is_u8_list(in)) ||
      !(out->kind == WP_TYPE_STRING || wp_type_is_u8_list(out)))
    return -1;
  return (in->kind == WP_TYPE_STRING ? WASMPLUG_BYTES_PARAM_STRING : 0) |
         (out->kind == WP_TYPE_STRING ? WASMPLUG_BYTES_RESULT_STRING : 0);
}

bool wp_component_is_bytes_func(const wp_plugin *p, size_t id) {
  return wp_comp(p) && id < p->nexports && wp_comp(p)->exports[id].call_path == WP_CPATH_BYTES;
}

/* Room for the output in inst->out, NUL-terminated as the core path leaves it. */
static uint8_t *out_room(void *data, size_t len) {
  wp_instance *inst = data;
  if (len == SIZE_MAX || !wp_buf_reserve(&inst->out, len + 1)) return NULL;
  inst->out.data[len] = '\0';
  inst->out.len = len;
  return inst->out.data;
}

static wp_error *not_bytes(const wp_plugin *p, const wp_cexport *e) {
  return wp_error_new(
      WP_ERR_BAD_INPUT,
      WP_PLUGIN_FMT ": '%s' is not a bytes or string function: its type is %s, and those "
                    "take one list<u8> or string and return one; call it with "
                    "wp_instance_invoke and wp_values (in the CLI: its arguments as WAVE "
                    "values, e.g. wasmplug call PLUGIN %s ARG...)",
      p->name, e->qualified, e->type ? e->type->text : "not a function", e->qualified);
}

wp_error *wp_component_call_bytes(wp_instance *inst, wp_func_id id, const void *input, size_t len) {
  const wp_plugin *p = inst->plugin;
  wp_error *err = wp_instance_check_callable(inst, id);
  if (err) return err;
  const wp_cexport *e = &wp_comp(p)->exports[id];
  if (e->call_path != WP_CPATH_BYTES) return not_bytes(p, e);
  int flags = e->bytes_flags; /* planned at load from the type */
  if ((flags & WASMPLUG_BYTES_PARAM_STRING) && !wp_utf8_valid(input, len))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": input to '%s' is not valid UTF-8, and its parameter "
                                      "is a string (its type is %s)",
                        p->name, e->qualified, e->type->text);
  wasmtime_component_func_t func;
  if (!resolve(inst, id, &func))
    return wp_error_new(WP_ERR_NOT_FOUND,
                        WP_PLUGIN_FMT ": export '%s' is not a function in this instance", p->name,
                        e->qualified);
  wp_call_begin(inst);
  wasmtime_error_t *werr = NULL;
  /* The type was checked at load (bytes_flags) and a string's input above. */
  uint32_t checked = (uint32_t)flags | WASMPLUG_BYTES_TYPE_CHECKED | WASMPLUG_BYTES_INPUT_UTF8;
  int rc = wasmplug_component_call_bytes(inst->ctx, &func, checked, input, len, out_room, inst,
                                         &werr);
  if (rc == WASMPLUG_BYTES_CALL_FAILED) return wp_call_failure(inst, e->qualified, werr, NULL);
  if (werr) wasmtime_error_delete(werr);
  if (rc == WASMPLUG_BYTES_OK) return wp_call_end(inst, e->qualified);
  wp_call_abandon(inst);
  /* The checks above make the others unreachable but for memory. */
  if (rc == WASMPLUG_BYTES_NO_MEMORY) return wp_error_no_memory();
  return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot call '%s' with bytes (code %d)", p->name,
                      e->qualified, rc);
}

const wp_functype *wp_plugin_get_functype(const wp_plugin *p, wp_func_id id) {
  p = wp_plugin_unwrap(p);
  if (!wp_comp(p) || id >= p->nexports) return NULL;
  return wp_comp(p)->exports[id].type;
}

bool wp_plugin_is_component(const wp_plugin *p) { return wp_comp(wp_plugin_unwrap(p)) != NULL; }
