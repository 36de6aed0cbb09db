/*
 * logging.c - wasi:logging/logging (logging.h), as wasmCloud and Spin
 * components import it:
 *
 *   enum level { trace, debug, info, warn, error, critical }
 *   log: func(level: level, context: string, message: string);
 *
 * `critical` is logged as an error (the engine's levels stop there); a
 * non-empty context goes before the message ("context: message"). What
 * components and the log callback get is documented in
 * include/wasmplug/logging.h.
 */
#include "host/logging/logging.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define LOGGING "wasi:logging/logging"

/* As the library words it (engine/error.c), which this floor cannot include. */
static wp_error *no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
}

/* A plugin's grant: the lowest level it may log at (no grant: trace). */
typedef struct log_grant {
  wp_log_level min;
} log_grant;

static const char *const LEVELS[] = {"trace", "debug", "info", "warn", "error", "critical"};

static int level_of(const char *name) {
  for (int i = 0; name && i < 6; i++)
    if (strcmp(name, LEVELS[i]) == 0) return i < 5 ? i : WP_LOG_ERROR;
  return -1;
}

static wp_error *grant(void *data, const char *plugin, const char *section, size_t len,
                       void **out) {
  (void)data;
  (void)len;
  *out = NULL;
  if (!section) return NULL;
  cJSON *doc = cJSON_Parse(section);
  wp_error *err = NULL;
  const cJSON *level = NULL;
  if (!cJSON_IsObject(doc)) {
    err = wp_error_new(WP_ERR_BAD_INPUT,
                       "plugin '%s': capabilities.logging must be an object ({\"level\": ...})",
                       plugin);
  } else {
    for (const cJSON *f = doc->child; f && !err; f = f->next)
      if (strcmp(f->string, "level") != 0)
        err = wp_error_new(WP_ERR_BAD_INPUT,
                           "plugin '%s': capabilities.logging: unknown field '%s' (known: level)",
                           plugin, f->string);
    level = cJSON_GetObjectItemCaseSensitive(doc, "level");
  }
  int min = level ? level_of(cJSON_GetStringValue(level)) : 0;
  if (!err && min < 0)
    err = wp_error_new(WP_ERR_BAD_INPUT,
                       "plugin '%s': capabilities.logging.level must be one of trace, debug, "
                       "info, warn, error, critical",
                       plugin);
  log_grant *g = err ? NULL : malloc(sizeof *g);
  if (!err && !g) err = no_memory();
  if (!err) {
    g->min = (wp_log_level)min;
    *out = g;
  }
  cJSON_Delete(doc);
  return err;
}

static void grant_free(void *data, void *g) {
  (void)data;
  free(g);
}

static const wp_capability_methods methods = {
    .name = "logging", .grant = grant, .grant_free = grant_free};

static wp_error *do_log(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *user_data) {
  (void)result;
  const wp_capability *cap = user_data; /* this engine's logging capability */
  size_t clen = 0, mlen = 0;
  const char *context = nargs == 3 ? wp_value_get_string(args[1], &clen) : NULL;
  const char *msg = nargs == 3 ? wp_value_get_string(args[2], &mlen) : NULL;
  int level = nargs == 3 ? level_of(wp_value_get_case(args[0])) : -1;
  if (!context || !msg || level < 0)
    return wp_error_new(WP_ERR_ABI, LOGGING "#log takes a level, a context and a message");
  const wp_plugin *p = wp_instance_get_plugin(wp_host_call_get_instance(call));
  const log_grant *g = wp_plugin_get_grant(p, cap);
  if (g && level < (int)g->min) return NULL;
  if (!clen) {
    wp_engine_log(wp_plugin_get_engine(p), (wp_log_level)level, wp_plugin_get_name(p), msg, mlen);
    return NULL;
  }
  char *line = malloc(clen + 2 + mlen + 1);
  if (!line) return no_memory();
  memcpy(line, context, clen);
  memcpy(line + clen, ": ", 2);
  memcpy(line + clen + 2, msg, mlen);
  line[clen + 2 + mlen] = '\0';
  wp_engine_log(wp_plugin_get_engine(p), (wp_log_level)level, wp_plugin_get_name(p), line,
                clen + 2 + mlen);
  free(line);
  return NULL;
}

wp_error *wp_host_logging_install(wp_engine *e) {
  const wp_capability *cap = NULL;
  wp_error *err = wp_engine_add_capability(e, &methods, NULL, &cap);
  if (err) return err;
  return wp_engine_define_component_func(e, LOGGING, "log", do_log, (void *)cap, NULL);
}
