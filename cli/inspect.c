/*
 * inspect.c - `wasmplug inspect PLUGIN`: what a plugin is and what it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug inspect PLUGIN\n"
    "\n"
    "Prints a plugin's kind, size, sha256, imports and exports with their\n"
    "types, and its memories. Loading it also checks that every import is one\n"
    "the host provides. For a component, prints its world as WIT first, then\n"
    "the functions wasmplug can call (INTERFACE#FUNC inside interfaces); imports\n"
    "the CLI cannot provide are listed, not refused. A component wasmplug cannot\n"
    "load (one using component-model async: async functions, streams, futures)\n"
    "still has its WIT printed, before the error (exit code 3).\n"
    "\n"
    "options: --max-module-size SIZE, --max-functions N   raise the load caps\n"
    "                          (as for 'wasmplug call')\n";

/* A component binary (layer 1 header) or component text. */
static bool looks_like_component(const char *bytes, size_t len) {
  if (len >= 8 && memcmp(bytes, "\0asm", 4) == 0) return bytes[4] == 0x0d;
  const char *t = bytes, *end = bytes + len;
  for (;;) { /* text: skip blanks and ;; comments */
    while (t < end && (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')) t++;
    if (end - t < 2 || t[0] != ';' || t[1] != ';') break;
    while (t < end && *t != '\n') t++;
  }
  return end - t >= 10 && strncmp(t, "(component", 10) == 0;
}

static void print_component(const wp_plugin *p, const char *bytes, size_t len) {
  size_t nimp = wp_plugin_import_count(p), nexp = wp_plugin_export_count(p);
  bool wasi = false;
  printf("plugin:  %s\n", wp_plugin_get_name(p));
  printf("kind:    component\n");
  printf("size:    %zu bytes\n", wp_plugin_get_size(p));
  printf("sha256:  %s\n", wp_plugin_get_sha256(p));
  char *wit = NULL;
  wp_error *err = bytes ? wp_component_wit(bytes, len, &wit) : NULL;
  if (err) {
    printf("world:   (cannot print: %s)\n", wp_error_get_message(err));
    wp_error_free(err);
  } else if (wit) {
    printf("world:\n%s", wit);
    if (len && wit[strlen(wit) - 1] != '\n') putchar('\n');
  }
  wp_free(wit);
  printf("imports: %zu\n", nimp);
  for (size_t i = 0; i < nimp; i++) {
    const wp_extern_info *e = wp_plugin_get_import(p, i);
    wasi |= e->module && strncmp(e->module, "wasi:", 5) == 0;
    printf("  %s%s%s: %s\n", e->module ? e->module : "", e->module ? "#" : "", e->name, e->type);
  }
  printf("exports: %zu\n", nexp);
  for (size_t i = 0; i < nexp; i++) {
    const wp_extern_info *e = wp_plugin_get_export(p, i);
    printf("  %s%s%s: %s\n", e->module ? e->module : "", e->module ? "#" : "", e->name, e->type);
  }
  printf("wasi:    %s\n", wasi ? "yes (imports WASI preview 2)" : "no");
}

/*
 * A component that does not load (one using component-model async, say)
 * can still show its world: print what the bytes alone tell, then a note;
 * the caller reports the load error. False when its WIT cannot be printed
 * either (not a component at all, invalid), to report the error alone.
 */
static bool print_unloadable(const char *path, const char *bytes, size_t len) {
  char *wit = NULL;
  wp_error *err = wp_component_wit(bytes, len, &wit);
  if (err) {
    wp_error_free(err);
    return false;
  }
  const char *name = strrchr(path, '/');
  printf("plugin:  %s\n", name ? name + 1 : path);
  printf("kind:    component\n");
  printf("size:    %zu bytes\n", len);
  printf("world:\n%s", wit);
  if (*wit && wit[strlen(wit) - 1] != '\n') putchar('\n');
  printf("calls:   none: wasmplug cannot load this component (the error follows)\n");
  fflush(stdout); /* before the error on stderr, for a terminal showing both */
  wp_free(wit);
  return true;
}

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
    const wp_extern_info *e = i < nexp ? wp_plugin_get_export(p, i)
                                       : wp_plugin_get_import(p, i - nexp);
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
  int start = cli_start(argc, argv, &o, usage, 1, 1, NULL);
  if (start >= 0) return start;
  int rc = CLI_LOAD_FAILED;
  wp_engine *engine = cli_engine(&o);
  wp_plugin *plugin = NULL;
  char *bytes = NULL;
  size_t len = 0;
  if (engine) {
    /* Inspecting shows what a component needs; it need not be satisfiable.
       An unreadable file is left to wp_plugin_load to report. */
    bool component = cli_read_file(o.positional[0], &bytes, &len) &&
                     looks_like_component(bytes, len);
    if (component) wp_manifest_set_trap_missing_imports(o.manifest, true);
    wp_error *err = wp_plugin_load(engine, o.positional[0], o.manifest, &plugin);
    if (err) {
      if (component) print_unloadable(o.positional[0], bytes, len);
      rc = cli_fail(err);
    } else {
      if (wp_plugin_is_component(plugin)) print_component(plugin, bytes, len);
      else print_plugin(plugin);
      rc = CLI_OK;
    }
  }
  free(bytes);
  wp_plugin_free(plugin);
  wp_engine_free(engine);
  cli_opts_free(&o);
  return rc;
}
