/*
 * component.h - Component Model plugins: loading, linking, calls, host
 * imports and resources (internal).
 *
 * Components get a linker of their own, made at load time from the host
 * functions the component actually imports (plus WASI preview 2 and the
 * wasmplug:plugin/host built-ins). Loaded plugins are therefore unaffected by
 * later definitions, missing imports can be listed all at once, and a plugin
 * that asks for missing imports to trap does not change what others see.
 */
#ifndef WP_COMPONENT_COMPONENT_H
#define WP_COMPONENT_COMPONENT_H

#include <wasmplug_pre.h>

#include "component/value.h"
#include "instance/instance.h"

/* A component host function or resource type offered by the embedder. */
typedef struct wp_chost_def {
  /* base.module: "example:types/host", "wasi:foo/bar" (any version); NULL:
     the root. base.kind: WP_DEF_COMPONENT_FUNC or _RESOURCE. */
  wp_def base;
  wp_component_fn fn;
  void *user_data;
  void (*free_user_data)(void *);
  uint32_t resource_id; /* Wasmtime host resource type id */
  wp_resource_drop_fn drop;
} wp_chost_def;

/* An exported function (or resource) of a component. */
typedef struct wp_cexport {
  char *qualified; /* "greet" or "example:hello/greeter#greet" */
  wasmtime_component_export_index_t *index; /* NULL for resources */
  struct wp_functype *type;
  /* How wp_instance_invoke calls it (call.c, set at load from the type):
     0 through the C API's values, else a WP_CPATH_* fast path. */
  int call_path;
  /* WP_CPATH_LEAVES: the leaves of the parameters and of the result, and
     where the result goes (a WASMPLUG_LEAVES_RESULT_*), from the type. */
  uint16_t leaf_params, leaf_results;
  uint8_t leaf_mode;
  /* WP_CPATH_BYTES: its wasmplug_component_call_bytes flags. */
  uint8_t bytes_flags;
  /* Some parameter's type holds resource handles (own/borrow), which an
     argument may hold for the wrong process: only then are they looked for. */
  bool param_handles;
} wp_cexport;

/* wp_cexport.call_path: typed calls through the Rust extension
   (wasmplug_bytes.h), for the types that fit one. */
enum {
  WP_CPATH_VALUES = 0,
  WP_CPATH_UNIT = 1,  /* func() */
  WP_CPATH_BYTES = 2, /* func(string or list<u8>) -> string or list<u8> */
  WP_CPATH_LEAVES = 3, /* scalars, strings, list<u8>, records and tuples of those (leaves.c) */
};

/* Sets e->call_path from e->type. */
void wp_component_plan_call(wp_cexport *e);

/* True when e->type fits the leaf path (leaves.c), whose counts and result
   mode it then sets in e. */
bool wp_component_plan_leaves(wp_cexport *e);

/* A call of `e` through the leaf path, with the value path's error handling;
   *taken false (nothing done) when an argument is held in a form the path
   does not take. The arguments have been checked against the type. */
wp_error *wp_component_call_leaves(wp_instance *inst, const wp_cexport *e,
                                   const wasmtime_component_func_t *func,
                                   const wp_value *const *args, wp_value **result, bool *taken);

struct wp_component {
  wasmtime_component_t *component;
  wasmtime_component_linker_t *linker;
  /* The imports resolved in `linker` once, after load (NULL when they do
     not resolve: instantiation then goes through the linker and says why). */
  wasmplug_component_pre *pre;
  wp_cexport *exports;       /* parallel to plugin->exports */
  struct wp_functype **import_types; /* parallel to plugin->imports (NULL for resources) */
  size_t nimports, nexports;
  bool needs_wasi;
  bool needs_wasi_http;  /* imports wasi:http: the extension's wasi:http is linked */
  wp_http_kind http_kind; /* which HTTP handler it is (http.c), found at load */
  size_t http_export;     /* then: the index of its `handle` in exports */
  /* resource names for printing types */
  wasmtime_component_resource_type_t **res_types;
  char **res_names;
  size_t nres;
  /* The manifest's "link" (link.c): the import of interface links[i] is
     served by plugs[link_slot[i]]; plug j is instantiated into slot j of each
     store's link state. Links naming the same file share one plug (one
     instance serves all its interfaces). links[] is borrowed from the
     manifest. */
  wp_plugin **plugs;
  char **plug_paths; /* the plugs' files, resolved (realpath) */
  size_t nplugs;
  const char **links;
  size_t *link_slot;
  size_t nlinks;
};

/* The component behind a plugin of the component kind (wp_plugin.kind_data);
   NULL for other kinds. */
static inline struct wp_component *wp_comp(const wp_plugin *p) {
  extern const wp_kind wp_component_kind;
  return p->kind == &wp_component_kind ? p->kind_data : NULL;
}

/* What a component instance keeps (wp_instance.kind_data); made at its first
   instantiation, kept across resets, freed with the instance. */
typedef struct wp_component_instance {
  wasmtime_component_instance_t instance;
  wasmtime_component_func_t *funcs;   /* per export index, lazily (inst->resolved) */
  struct wp_host_object *objects;     /* host resource objects, by rep - 1 */
  uint32_t nobjects, objects_cap, free_object; /* free_object: head of free slots + 1, 0 none */
  void *link_state; /* the plugs' instances and handles (link.c), per store */
} wp_component_instance;

static inline wp_component_instance *wp_cinst(const wp_instance *inst) { return inst->kind_data; }

/* Loads a component into `p` (compile or cache, reflect, link). */
wp_error *wp_component_load(wp_plugin *p, const uint8_t *bytes, size_t len);
void wp_component_free(struct wp_component *c);

/* Instantiates a component plugin into inst->store. */
wp_error *wp_component_instantiate(wp_instance *inst);

/* Bytes and string calls on exports typed func(list<u8> or string) ->
   list<u8> or string (call.c; plugin/kind.h's is_bytes_func, call_bytes). */
bool wp_component_is_bytes_func(const wp_plugin *p, size_t id);
/* The definition (function or resource) that serves import `name` of
   interface `iface` (NULL: the root), versions matched as linking does;
   NULL if none. engine->lock held. */
const wp_chost_def *wp_component_find_def(const struct wp_engine *e, const char *iface,
                                          const char *name, bool resource);

/* The error for a resource handle of another instance (or of this one before
   it was rebuilt) given to `fn`. */
wp_error *wp_component_foreign_handle(const char *fn);

/* Arity and types of an export's arguments, with errors naming the argument,
   and that their resource handles belong to instance life `life` (0: handles
   of a worker process, checked there) (wp_instance_invoke_func's checks; a
   worker process's caller makes them too). */
wp_error *wp_component_check_args(const wp_plugin *p, const wp_cexport *e, uint64_t life,
                                  const wp_value *const *args, size_t nargs);

wp_error *wp_component_call_bytes(wp_instance *inst, wp_func_id id, const void *input, size_t len);

/* Load-time links (link.c): loads the plugs the manifest's "link" names,
   checks that they fit `main` (its bytes), and defines their interfaces in
   the plugin's linker; marks those imports in `linked` (per import). */
wp_error *wp_component_link_plugs(wp_plugin *p, const uint8_t *main, size_t len, bool *linked);
/* Instantiates the plugs into inst's store (before the plugin itself). */
wp_error *wp_component_instantiate_plugs(wp_instance *inst);
/* Frees the store's link state (the store is gone or being replaced). */
void wp_component_free_link_state(wp_instance *inst);
/* True when `iface` is served by a plug. */
bool wp_component_is_linked(const struct wp_component *c, const char *iface);

/* Drops the host objects the instance still holds (after the store is gone). */
void wp_component_release_objects(wp_instance *inst);

/* Links import `imp` to a definition (an embedder function or built-in), or,
   with def NULL, to a stub that fails the call with WP_ERR_TRAP (host.c). */
wasmtime_error_t *wp_component_link_func(wasmtime_component_linker_instance_t *li,
                                         const wp_extern_info *imp, const wp_chost_def *def,
                                         const struct wp_functype *type);
/* Links a resource type; def NULL links a stub type. */
wasmtime_error_t *wp_component_link_resource(wasmtime_component_linker_instance_t *li,
                                             const char *name, const wp_chost_def *def);

/* True for "wasmplug:plugin/host" with or without a version. */
bool wp_component_is_builtin_iface(const char *iface);

/* The built-in definition of `name` in wasmplug:plugin/host, or NULL. */
const wp_chost_def *wp_component_builtin(const char *name);

/* Frees a definition (wp_def.free). */
void wp_chost_def_free(wp_def *d);

#endif
