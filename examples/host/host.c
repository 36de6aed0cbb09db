/*
 * host.c - a complete program embedding libwasmplug.
 *
 *   example-host PLUGIN EXPORT [INPUT]
 *
 * Loads PLUGIN, offers it the host function plugin.call_me(name) -> string
 * (which the callback examples import), prints what the plugin logs, calls
 * the bytes export EXPORT with INPUT and prints the result.
 */
#include <stdio.h>
#include <string.h>

#include "wasmplug.h"

/* plugin.call_me: answers "Hello <name>" (the Wasp seed's example). */
static wp_error *call_me(wp_host_call *call, const uint8_t *input, size_t len, void *user_data) {
  (void)user_data;
  if (len > 200) return wp_error_new(WP_ERR_HOST, "call_me: name longer than 200 bytes");
  char reply[256];
  int n = snprintf(reply, sizeof reply, "Hello %.*s", (int)len, (const char *)input);
  return wp_host_call_set_output(call, reply, (size_t)n);
}

static void print_log(void *user_data, wp_log_level level, const char *plugin, const char *msg,
                      size_t len) {
  (void)user_data;
  fprintf(stderr, "  [%s] %s: %.*s\n", wp_log_level_name(level), plugin, (int)len, msg);
}

/* Prints the error and frees it; returns 1 for main. */
static int report(wp_error *err) {
  fprintf(stderr, "error (%s): %s\n", wp_error_kind_name(wp_error_get_kind(err)),
          wp_error_get_message(err));
  if (wp_error_get_backtrace(err)) fprintf(stderr, "%s\n", wp_error_get_backtrace(err));
  wp_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PLUGIN EXPORT [INPUT]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1], *export_name = argv[2], *input = argc > 3 ? argv[3] : "";

  /* One engine per process; plugin logs go to print_log. */
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_log(cfg, print_log, NULL);
  wp_engine *engine;
  wp_error *err = wp_engine_new(cfg, &engine);
  wp_engine_config_free(cfg);
  if (err) return report(err);

  /* Host functions are defined before the plugins that import them load. */
  err = wp_engine_define_string(engine, "plugin", "call_me", call_me, NULL, NULL);

  /* Deny by default, plus a time and memory limit. */
  wp_manifest *manifest = wp_manifest_new();
  wp_manifest_set_timeout_ms(manifest, 1000);
  wp_manifest_set_max_memory(manifest, 64u << 20);

  wp_plugin *plugin = NULL;
  wp_instance *inst = NULL;
  if (!err) err = wp_plugin_load(engine, path, manifest, &plugin);
  if (!err) err = wp_instance_new(plugin, &inst);
  const char *out = NULL;
  if (!err) err = wp_instance_call_string(inst, export_name, input, &out);

  int rc = 0;
  if (err) rc = report(err);
  else printf("%s\n", out);

  wp_instance_free(inst);
  wp_plugin_free(plugin);
  wp_manifest_free(manifest);
  wp_engine_free(engine);
  return rc;
}
