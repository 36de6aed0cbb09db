/*
 * config.c - wasi:config/store (config.h), as Spin and wasmCloud components
 * import it:
 *
 *   get: func(key: string) -> result<option<string>, error>;
 *   get-all: func() -> result<list<tuple<string, string>>, error>;
 *
 * The interface is defined version-less, so every draft version a component
 * imports links. The manifest cannot fail to answer, so `error` never comes.
 * What components get is documented in include/wasmplug/config_store.h.
 */
#include "host/config/config.h"

#include <stdlib.h>
#include <string.h>

#define STORE "wasi:config/store"

/* As the library words it (engine/error.c), which this floor cannot include. */
static wp_error *no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
}

static const wp_manifest *manifest_of(wp_host_call *call) {
  return wp_plugin_get_manifest(wp_instance_get_plugin(wp_host_call_get_instance(call)));
}

static wp_error *store_get(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *user_data) {
  (void)user_data;
  size_t len;
  const char *key = nargs == 1 ? wp_value_get_string(args[0], &len) : NULL;
  if (!key) return wp_error_new(WP_ERR_ABI, STORE "#get takes one string");
  /* A key with a NUL in it is no key of the manifest's. */
  const char *value = memchr(key, '\0', len) ? NULL
                                             : wp_manifest_get_config(manifest_of(call), key);
  wp_value *opt = value ? wp_value_new_some(wp_value_new_string(value)) : wp_value_new_none();
  /* Not ok(NULL): that is an ok without a payload, not this result type. */
  *result = opt ? wp_value_new_ok(opt) : NULL;
  return *result ? NULL : no_memory();
}

static wp_error *store_get_all(wp_host_call *call, const wp_value *const *args, size_t nargs,
                               wp_value **result, void *user_data) {
  (void)args;
  (void)user_data;
  if (nargs) return wp_error_new(WP_ERR_ABI, STORE "#get-all takes no arguments");
  const wp_manifest *m = manifest_of(call);
  size_t n = wp_manifest_config_count(m);
  wp_value **pairs = calloc(n ? n : 1, sizeof *pairs);
  if (!pairs) return no_memory();
  for (size_t i = 0; i < n; i++) {
    const char *key, *value;
    wp_manifest_config_at(m, i, &key, &value);
    wp_value *kv[2] = {wp_value_new_string(key), wp_value_new_string(value)};
    pairs[i] = wp_value_new_tuple(kv, 2);
  }
  /* Takes the items; a NULL among them (out of memory) makes it NULL. */
  wp_value *list = wp_value_new_list(pairs, n);
  free(pairs);
  *result = list ? wp_value_new_ok(list) : NULL;
  return *result ? NULL : no_memory();
}

wp_error *wp_host_config_install(wp_engine *e) {
  wp_error *err = wp_engine_define_component_func(e, STORE, "get", store_get, NULL, NULL);
  if (!err) err = wp_engine_define_component_func(e, STORE, "get-all", store_get_all, NULL, NULL);
  return err;
}
