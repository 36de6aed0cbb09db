/*
 * inspect.c - `wasmplug inspect PLUGIN`: what a plugin is and what it needs.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug inspect PLUGIN\n"
    "\n"
    "Prints a plugin's kind, size, sha256, imports and exports with their\n"
    "types, and its memories. Loading it also checks that every import is one\n"
    "the host provides.\n";

static void print_plugin(const wp_plugin *p) {
  size_t nimp = wp_plugin_import_count(p), nexp = wp_plugin_export_count(p);
  bool wasi = false, realloc_ = false;
  printf("plugin:  %s\n", wp_plugin_get_name(p));
  printf("kind:    core module\n");
  printf("size:    %zu bytes\n", wp_plugin_get_size(p));
  printf("sha256:  %s\n", wp_plugin_get_sha256(p));
  printf("imports: %zu\n", nimp);
  for (size_t i = 0; i < nimp; i++) {
    const wp_extern_info *e = wp_plugin_get_import(p, i);
    wasi |= strcmp(e->module, "wasi_snapshot_preview1") == 0;
    printf("  %s.%s: %s\n", e->module, e->name, e->type);
  }
  printf("exports: %zu\n", nexp);
  for (size_t i = 0; i < nexp; i++) {
    const wp_extern_info *e = wp_plugin_get_export(p, i);
    realloc_ |= strcmp(e->name, "cabi_realloc") == 0;
    printf("  %s: %s\n", e->name, e->type);
  }
  printf("memories:\n");
  for (size_t i = 0; i < nexp + nimp; i++) {
    const wp_extern_info *e = i < nexp ? wp_plugin_get_export(p, i) : wp_plugin_get_import(p, i - nexp);
    if (e->kind != WP_EXTERN_MEMORY) continue;
    printf("  %s%s%s: %llu pages (%llu KiB) initial, ", e->module ? e->module : "",
           e->module ? "." : "", e->name, (unsigned long long)e->min_pages,
           (unsigned long long)e->min_pages * 64);
    if (e->max_pages) printf("%llu pages maximum\n", (unsigned long long)e->max_pages);
    else printf("no maximum\n");
  }
  printf("wasi:    %s\n", wasi ? "yes (imports wasi_snapshot_preview1)" : "no");
  printf("bytes abi: %s\n", realloc_ ? "yes (exports cabi_realloc)" : "no");
}

int cmd_inspect(int argc, char **argv) {
  cli_opts o;
  if (!cli_parse(argc, argv, &o, usage)) {
    cli_opts_free(&o);
    return CLI_USAGE;
  }
  if (o.help || o.npositional != 1) {
    fputs(usage, o.help ? stdout : stderr);
    cli_opts_free(&o);
    return o.help ? CLI_OK : CLI_USAGE;
  }
  int rc = CLI_LOAD_FAILED;
  wp_engine *engine = cli_engine(&o);
  wp_plugin *plugin = NULL;
  if (engine) {
    wp_error *err = wp_plugin_load(engine, o.positional[0], o.manifest, &plugin);
    if (err) rc = cli_fail(err);
    else {
      print_plugin(plugin);
      rc = CLI_OK;
    }
  }
  wp_plugin_free(plugin);
  wp_engine_free(engine);
  cli_opts_free(&o);
  return rc;
}
