/*
 * host.c - component imports the host implements: the embedder's functions
 * and resource types, and the wasmplug:plugin/host built-ins.
 *
 * Every import is linked to one trampoline with a binding (definition +
 * the import's WIT type) as its data: the trampoline turns Wasmtime's values
 * into wp_values, calls the C callback, and checks the callback's result
 * against the import's type before Wasmtime sees it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "engine/error.h"

/* One linked import: what to call and the type the plugin imports it with. */
typedef struct binding {
  const wp_chost_def *def;        /* NULL for a missing import's stub */
  const struct wp_functype *type; /* owned by the plugin, which outlives its linker */
  const wp_extern_info *import;   /* the import (plugin-owned), for messages */
} binding;

/* A host object a plugin holds a handle to. */
struct wp_host_object {
  const wp_chost_def *def; /* NULL: free slot */
  void *object;
  uint32_t next_free;      /* free list, 1-based */
};

static wasmtime_error_t *host_failed(wp_instance *inst, wp_error *err, const char *name) {
  if (!inst->host_error) inst->host_error = err;
  else wp_error_free(err);
  return wasmtime_error_new(name);
}

/* Drops own<T> arguments of host resource types after the callback: the host
   received ownership and nobody else will drop them. */
static void drop_owned_args(wasmtime_context_t *ctx, wasmtime_component_val_t *args, size_t nargs,
                            const struct wp_functype *ft) {
  for (size_t i = 0; i < nargs && i < ft->nparams; i++) {
    if (args[i].kind != WASMTIME_COMPONENT_RESOURCE || ft->params[i]->kind != WP_TYPE_OWN) continue;
    wasmtime_component_resource_host_t *h = NULL;
    wasmtime_error_t *werr = wasmtime_component_resource_any_to_host(ctx, args[i].of.resource, &h);
    if (werr) {
      wasmtime_error_delete(werr); /* a guest resource: not ours to drop */
      continue;
    }
    wasmtime_component_resource_host_delete(h);
    werr = wasmtime_component_resource_any_drop(ctx, args[i].of.resource);
    if (werr) wasmtime_error_delete(werr);
  }
}

/* A call to an import the host does not provide (the plugin was loaded with
   missing imports set to trap). */
static wasmtime_error_t *missing_called(wp_instance *inst, const wp_extern_info *imp) {
  wp_error *err = wp_error_new(WP_ERR_TRAP,
                               "import '%s%s%s' (%s) is not provided by the host; define it with "
                               "wp_engine_define_component_func before loading the plugin",
                               imp->module ? imp->module : "", imp->module ? "#" : "", imp->name,
                               imp->type);
  return host_failed(inst, err, imp->name);
}

const wp_functype *wp_host_call_get_functype(const wp_host_call *call) {
  return call ? call->type : NULL;
}

static wasmtime_error_t *trampoline(void *data, wasmtime_context_t *ctx,
                                    const wasmtime_component_func_type_t *ty,
                                    wasmtime_component_val_t *args, size_t nargs,
                                    wasmtime_component_val_t *results, size_t nresults) {
  (void)ty;
  const binding *b = data;
  const wp_chost_def *d = b->def;
  wp_instance *inst = wasmtime_context_get_data(ctx);
  if (!d) return missing_called(inst, b->import);
  wp_value small[8];
  const wp_value *ptrs_small[8];
  wp_value *vals = nargs <= 8 ? small : calloc(nargs, sizeof *vals);
  const wp_value **ptrs = nargs <= 8 ? ptrs_small : calloc(nargs, sizeof *ptrs);
  wp_error *err = NULL;
  size_t converted = 0;
  if (!vals || !ptrs) err = wp_error_no_memory();
  for (; !err && converted < nargs; converted++) {
    if (!wp_value_from_wasmtime(&args[converted], inst->life, &vals[converted]))
      err = wp_error_no_memory();
    ptrs[converted] = &vals[converted];
  }
  wp_value *result = NULL;
  wp_host_call call = {.inst = inst, .def = NULL, .type = b->type};
  if (!err) err = d->fn(&call, ptrs, nargs, &result, d->user_data);
  for (size_t i = 0; i < converted; i++) wp_value_clear(&vals[i]);
  if (vals != small) free(vals);
  if (ptrs != ptrs_small) free((void *)ptrs);
  if (!err && nresults) {
    char msg[512];
    if (!result)
      err = wp_error_new(WP_ERR_HOST, "host function '%s' returned no result; it must return %s",
                         d->base.name, b->type->result ? b->type->result->text : "one");
    else if (!wp_value_check(result, b->type->result, inst->life, msg, sizeof msg))
      err = wp_error_new(WP_ERR_HOST, "host function '%s' returned a wrong result: %s",
                         d->base.name, msg);
    else if (wp_value_has_remote(result))
      err = wp_error_new(WP_ERR_HOST,
                         "host function '%s' returned a resource handle made for an instance in "
                         "a worker process; make it with wp_value_new_resource on the caller's",
                         d->base.name);
    else wp_value_to_wasmtime(result, b->type->result, &results[0]);
  }
  wp_value_free(result);
  if (!err) drop_owned_args(ctx, args, nargs, b->type);
  if (err) return host_failed(inst, err, d->base.name);
  /* An interrupt requested while the host function ran stops this call
     now, not a later one. */
  return wp_instance_take_interrupt(inst) ? wasmtime_error_new("interrupted") : NULL;
}

wasmtime_error_t *wp_component_link_func(wasmtime_component_linker_instance_t *li,
                                         const wp_extern_info *imp, const wp_chost_def *def,
                                         const struct wp_functype *type) {
  binding *b = malloc(sizeof *b);
  if (!b) return wasmtime_error_new("wasmplug: out of memory");
  *b = (binding){.def = def, .type = type, .import = imp};
  return wasmtime_component_linker_instance_add_func(li, imp->name, strlen(imp->name), trampoline,
                                                     b, free);
}

/* ---- resources ------------------------------------------------------------------ */

/* Wasmtime runs this when a plugin drops its last own handle to a host object. */
static wasmtime_error_t *resource_dtor(void *data, wasmtime_context_t *ctx, uint32_t rep) {
  const wp_chost_def *d = data;
  wp_instance *inst = wasmtime_context_get_data(ctx);
  if (!d) return NULL; /* a missing resource type's stub: the host made no objects of it */
  if (rep == 0 || rep > wp_cinst(inst)->nobjects || wp_cinst(inst)->objects[rep - 1].def != d)
    return NULL;
  struct wp_host_object *o = &wp_cinst(inst)->objects[rep - 1];
  void *object = o->object;
  o->def = NULL;
  o->object = NULL;
  o->next_free = wp_cinst(inst)->free_object;
  wp_cinst(inst)->free_object = rep;
  if (d->drop) d->drop(object, d->user_data);
  return NULL;
}

wasmtime_error_t *wp_component_link_resource(wasmtime_component_linker_instance_t *li,
                                             const char *name, const wp_chost_def *def) {
  /* Host resource ids start at 1; 0 stands for a missing one's stub. */
  wasmtime_component_resource_type_t *rt = wasmtime_component_resource_type_new_host(
      def ? def->resource_id : 0);
  wasmtime_error_t *werr = wasmtime_component_linker_instance_add_resource(
      li, name, strlen(name), rt, resource_dtor, (void *)def, NULL);
  wasmtime_component_resource_type_delete(rt);
  return werr;
}

/* A slot for `object`; its 1-based index is the handle's rep. 0 when out of memory. */
static uint32_t insert_object(wp_instance *inst, const wp_chost_def *d, void *object) {
  uint32_t rep = wp_cinst(inst)->free_object;
  if (rep) {
    wp_cinst(inst)->free_object = wp_cinst(inst)->objects[rep - 1].next_free;
  } else {
    if (wp_cinst(inst)->nobjects == wp_cinst(inst)->objects_cap) {
      uint32_t cap = wp_cinst(inst)->objects_cap ? wp_cinst(inst)->objects_cap * 2 : 8;
      struct wp_host_object *n = realloc(wp_cinst(inst)->objects, cap * sizeof *n);
      if (!n) return 0;
      wp_cinst(inst)->objects = n;
      wp_cinst(inst)->objects_cap = cap;
    }
    rep = ++wp_cinst(inst)->nobjects;
  }
  wp_cinst(inst)->objects[rep - 1] = (struct wp_host_object){.def = d, .object = object};
  return rep;
}

void wp_component_release_objects(wp_instance *inst) {
  for (uint32_t i = 0; i < wp_cinst(inst)->nobjects; i++) {
    struct wp_host_object *o = &wp_cinst(inst)->objects[i];
    if (!o->def) continue;
    const wp_chost_def *d = o->def;
    void *object = o->object;
    o->def = NULL;
    if (d->drop) d->drop(object, d->user_data);
  }
  free(wp_cinst(inst)->objects);
  wp_cinst(inst)->objects = NULL;
  wp_cinst(inst)->nobjects = wp_cinst(inst)->objects_cap = wp_cinst(inst)->free_object = 0;
}

wp_error *wp_component_foreign_handle(const char *fn) {
  return wp_error_new(
      WP_ERR_BAD_INPUT,
      "%s: " WP_FOREIGN_HANDLE ": a handle is valid only in the instance that made it", fn);
}

wp_value *wp_value_new_resource(wp_instance *inst, const wp_resource_type *type, void *object) {
  const wp_chost_def *d = (const wp_chost_def *)type;
  if (inst && d && inst->plugin->kind->new_resource)
    return inst->plugin->kind->new_resource(inst, type, object);
  if (!inst || !d || !wp_comp(inst->plugin) || !inst->ctx || !wp_cinst(inst)) return NULL;
  wp_value *v = calloc(1, sizeof *v);
  uint32_t rep = v ? insert_object(inst, d, object) : 0;
  if (!rep) {
    free(v);
    return NULL;
  }
  wasmtime_component_resource_host_t *h = wasmtime_component_resource_host_new(true, rep,
                                                                               d->resource_id);
  wasmtime_error_t *werr = wasmtime_component_resource_host_to_any(inst->ctx, h, &v->of.res);
  wasmtime_component_resource_host_delete(h);
  if (werr) {
    wasmtime_error_delete(werr);
    wp_cinst(inst)->objects[rep - 1].def = NULL; /* not handed out: forget without dropping */
    wp_cinst(inst)->objects[rep - 1].next_free = wp_cinst(inst)->free_object;
    wp_cinst(inst)->free_object = rep;
    free(v);
    return NULL;
  }
  v->kind = WP_TYPE_OWN;
  v->of.life = inst->life;
  return v;
}

wp_error *wp_value_get_resource(const wp_value *v, wp_instance *inst, const wp_resource_type *type,
                                void **object) {
  const wp_chost_def *d = (const wp_chost_def *)type;
  if (v && inst && d && object && inst->plugin->kind->get_resource)
    return inst->plugin->kind->get_resource(v, inst, type, object);
  if (!v || !inst || !d || !object || !inst->ctx)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_value_get_resource: value, instance, type and object are required");
  if (!wp_comp(inst->plugin) || !wp_cinst(inst))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_value_get_resource: the instance is not a component's");
  if ((v->kind != WP_TYPE_OWN && v->kind != WP_TYPE_BORROW) || !v->of.res)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_value_get_resource: the value is a %s, not a live resource handle",
                        wp_type_kind_name(v->kind));
  if (v->of.life != inst->life) return wp_component_foreign_handle("wp_value_get_resource");
  wasmtime_component_resource_host_t *h = NULL;
  wasmtime_error_t *werr = wasmtime_component_resource_any_to_host(inst->ctx, v->of.res, &h);
  if (werr)
    return wp_error_from_wasmtime(
        WP_ERR_BAD_INPUT, werr, "wp_value_get_resource: not a %s handle of the host", d->base.name);
  uint32_t rep = wasmtime_component_resource_host_rep(h),
           ty = wasmtime_component_resource_host_type(h);
  wasmtime_component_resource_host_delete(h);
  if (ty != d->resource_id || rep == 0 || rep > wp_cinst(inst)->nobjects ||
      wp_cinst(inst)->objects[rep - 1].def != d)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_value_get_resource: the handle is not a live '%s'",
                        d->base.name);
  *object = wp_cinst(inst)->objects[rep - 1].object;
  return NULL;
}

/* ---- the embedder's definitions ---------------------------------------------------- */

static wp_error *define(wp_engine *e, const char *iface, const char *name, wp_chost_def **out) {
  if (!e || !name || !*name)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "defining a component import: engine and name are required");
  if (iface && wp_component_is_builtin_iface(iface))
    return wp_error_new(WP_ERR_BAD_INPUT, "'%s' is wasmplug's own interface; define '%s' elsewhere",
                        iface, name);
  wp_chost_def *d = calloc(1, sizeof *d);
  if (d) {
    d->base.kind = WP_DEF_COMPONENT_FUNC;
    d->base.free = wp_chost_def_free;
  }
  if (!d || !(d->base.name = strdup(name)) || (iface && !(d->base.module = strdup(iface)))) {
    if (d) wp_chost_def_free(&d->base);
    return wp_error_no_memory();
  }
  *out = d;
  return NULL;
}

static void publish(wp_engine *e, wp_chost_def *d) {
  /* Resource ids are handed out under the lock that wp_engine_add_def takes;
     taking it twice is fine: ids only need to be unique. */
  if (d->base.kind == WP_DEF_COMPONENT_RESOURCE) {
    pthread_mutex_lock(&e->lock);
    d->resource_id = ++e->next_resource_id;
    pthread_mutex_unlock(&e->lock);
  }
  /* No link function: it cannot fail. */
  wp_error_free(wp_engine_add_def(e, &d->base));
}

wp_error *wp_engine_define_component_func(wp_engine *e, const char *iface, const char *name,
                                          wp_component_fn fn, void *user_data,
                                          void (*free_user_data)(void *)) {
  if (!fn) return wp_error_new(WP_ERR_BAD_INPUT, "wp_engine_define_component_func: fn is required");
  wp_chost_def *d;
  wp_error *err = define(e, iface, name, &d);
  if (err) return err;
  d->fn = fn;
  d->user_data = user_data;
  d->free_user_data = free_user_data;
  publish(e, d);
  return NULL;
}

wp_error *wp_engine_define_resource(wp_engine *e, const char *iface, const char *name,
                                    wp_resource_drop_fn drop, void *user_data,
                                    void (*free_user_data)(void *), const wp_resource_type **out) {
  if (!out) return wp_error_new(WP_ERR_BAD_INPUT, "wp_engine_define_resource: out is required");
  wp_chost_def *d;
  wp_error *err = define(e, iface, name, &d);
  if (err) return err;
  d->base.kind = WP_DEF_COMPONENT_RESOURCE;
  d->drop = drop;
  d->user_data = user_data;
  d->free_user_data = free_user_data;
  publish(e, d);
  *out = (const wp_resource_type *)d;
  return NULL;
}

void wp_chost_def_free(wp_def *base) {
  wp_chost_def *d = (wp_chost_def *)base;
  if (!d) return;
  if (d->free_user_data) d->free_user_data(d->user_data);
  free(d->base.module);
  free(d->base.name);
  free(d);
}
