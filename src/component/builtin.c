/*
 * builtin.c - wasmplug:plugin/host, the services every wasmplug host gives
 * component plugins (pdk/wit/plugin.wit): log and config-get, the same
 * built-ins core plugins import as wasmplug.log and wasmplug.config_get.
 */
#include <string.h>

#include "component/component.h"
#include "engine/error.h"
#include "plugin/plugin.h"

bool wp_component_is_builtin_iface(const char *iface) {
  return strncmp(iface, "wasmplug:plugin/host", 20) == 0 && (iface[20] == '\0' || iface[20] == '@');
}

/* log: func(level: level, message: string) */
static wp_error *builtin_log(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *user_data) {
  (void)result;
  (void)user_data;
  static const char *const levels[] = {"trace", "debug", "info", "warn", "error"};
  if (nargs != 2) return wp_error_new(WP_ERR_ABI, "wasmplug:plugin/host#log takes 2 arguments");
  const char *case_name = wp_value_get_case(args[0]);
  wp_log_level level = WP_LOG_INFO;
  for (int i = 0; case_name && i < 5; i++)
    if (strcmp(case_name, levels[i]) == 0) level = (wp_log_level)i;
  size_t len;
  const char *msg = wp_value_get_string(args[1], &len);
  struct wp_engine *e = call->inst->plugin->engine;
  if (e->log_fn && msg) e->log_fn(e->log_user_data, level, call->inst->plugin->name, msg, len);
  return NULL;
}

/* config-get: func(key: string) -> option<string> */
static wp_error *builtin_config_get(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                    wp_value **result, void *user_data) {
  (void)user_data;
  size_t len;
  const char *key = nargs == 1 ? wp_value_get_string(args[0], &len) : NULL;
  if (!key) return wp_error_new(WP_ERR_ABI, "wasmplug:plugin/host#config-get takes one string");
  const char *value = wp_manifest_config_get(call->inst->plugin->manifest, key, len);
  *result = value ? wp_value_new_some(wp_value_new_string(value)) : wp_value_new_none();
  return *result ? NULL : wp_error_no_memory();
}

static const wp_chost_def builtins[] = {
    {.base = {.kind = WP_DEF_COMPONENT_FUNC, .name = "log"}, .fn = builtin_log},
    {.base = {.kind = WP_DEF_COMPONENT_FUNC, .name = "config-get"}, .fn = builtin_config_get},
};

const wp_chost_def *wp_component_builtin(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
    if (strcmp(builtins[i].base.name, name) == 0) return &builtins[i];
  return NULL;
}
