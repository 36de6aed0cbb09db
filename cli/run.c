/*
 * run.c - `wasmplug run PLUGIN [ARGS...]`: run a WASI command's _start.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug run PLUGIN [ARGS...] [OPTIONS]\n"
    "\n"
    "Runs a WASI command (a module with _start) and exits with its exit code.\n"
    "The command gets ARGS (argv[0] is the plugin's file name), our stdout and\n"
    "stderr, and nothing else unless granted. Put ARGS that start with '--'\n"
    "after a '--'.\n"
    "\n"
    "options:\n"
    "  --input TEXT / --input-file PATH   what the command reads on stdin\n"
    "                          ('--input-file -' passes our stdin through)\n"
    "  --manifest FILE, --allow-dir HOST[:GUEST][:ro|:rw], --env K=V,\n"
    "  --config K=V, --timeout-ms N, --max-memory SIZE, --max-module-size SIZE,\n"
    "  --max-functions N, --fuel N, --isolation none|process, --log LEVEL\n"
    "                          as for 'wasmplug call'\n";

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

int cmd_run(int argc, char **argv) {
  cli_opts o;
  int start = cli_start(argc, argv, &o, usage, 1, SIZE_MAX, NULL);
  if (start >= 0) return start;
  int rc = CLI_USAGE;
  char *input = NULL;
  size_t len = 0;
  if ((o.input || o.input_file) && !cli_read_input(&o, &input, &len)) goto out;
  wp_error *err = wp_manifest_add_arg(o.manifest, base_name(o.positional[0]));
  for (size_t i = 1; !err && i < o.npositional; i++)
    err = wp_manifest_add_arg(o.manifest, o.positional[i]);
  if (!err && input) err = wp_manifest_set_stdin(o.manifest, input, len);
  if (err) {
    rc = cli_fail(err);
    goto out;
  }
  wp_manifest_set_stdout(o.manifest, WP_STDIO_INHERIT, NULL, NULL);
  wp_manifest_set_stderr(o.manifest, WP_STDIO_INHERIT, NULL, NULL);

  wp_engine *engine = cli_engine(&o);
  wp_plugin *plugin = NULL;
  wp_instance *inst = NULL;
  rc = CLI_LOAD_FAILED;
  if (engine) {
    err = wp_plugin_load(engine, o.positional[0], o.manifest, &plugin);
    if (!err) err = wp_instance_new(plugin, &inst);
    int code = 0;
    if (!err) err = wp_instance_run(inst, &code);
    rc = err ? cli_fail(err) : code;
  }
  fflush(stdout);
  wp_instance_free(inst);
  wp_plugin_free(plugin);
  wp_engine_free(engine);
out:
  free(input);
  cli_opts_free(&o);
  return rc;
}
