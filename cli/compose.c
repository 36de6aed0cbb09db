/*
 * compose.c - `wasmplug compose MAIN.wasm --plug PLUG.wasm... -o OUT.wasm`:
 * plug components into a component's imports ahead of time (wp_compose).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_PLUGS 64

static const char usage[] =
    "usage: wasmplug compose MAIN.wasm --plug PLUG.wasm [--plug PLUG.wasm...] -o OUT.wasm\n"
    "\n"
    "Serves MAIN's imported interfaces with the plugs' exports of the same\n"
    "names (versions included) and writes one component to OUT.wasm: it\n"
    "exports what MAIN exports and imports what no plug serves. A plug may\n"
    "serve another plug's imports too. A plug whose export does not fit the\n"
    "import (a missing function, another type) fails naming the interface, the\n"
    "function and both types; so does a plug that serves nothing.\n"
    "To serve an import at load time without a new file, use the manifest's\n"
    "\"link\" instead (docs/compose.md).\n"
    "\n"
    "options: --plug PATH   a component to plug in (repeat; at most 64)\n"
    "         -o, --output PATH   where to write the composed component\n";

static bool read_all(const char *path, char **data, size_t *len) {
  if (cli_read_file(path, data, len)) return true;
  fprintf(stderr, "wasmplug: cannot read '%s': %s\n", path, strerror(errno));
  return false;
}

static bool write_all(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(data, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = false;
  if (!ok) fprintf(stderr, "wasmplug: cannot write '%s': %s\n", path, strerror(errno));
  return ok;
}

/* The arguments: MAIN, the plugs, the output; false on a usage error (printed). */
static bool parse(int argc, char **argv, const char **main_path, const char **plugs, size_t *n,
                  const char **out) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--plug") == 0 && has_value) {
      if (*n == MAX_PLUGS) {
        fprintf(stderr, "wasmplug compose: at most %d plugs\n", MAX_PLUGS);
        return false;
      }
      plugs[(*n)++] = argv[++i];
    } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && has_value) {
      *out = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "wasmplug compose: unknown option or missing value: '%s'\n%s", a, usage);
      return false;
    } else if (!*main_path) {
      *main_path = a;
    } else {
      fprintf(stderr, "wasmplug compose: one main component only, got '%s' too\n%s", a, usage);
      return false;
    }
  }
  if (!*main_path || !*n || !*out) {
    fprintf(stderr, "wasmplug compose: MAIN, at least one --plug and -o are required\n%s", usage);
    return false;
  }
  return true;
}

int cmd_compose(int argc, char **argv) {
  if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    fputs(usage, stdout);
    return CLI_OK;
  }
  const char *main_path = NULL, *out_path = NULL, *paths[MAX_PLUGS];
  size_t n = 0;
  if (!parse(argc, argv, &main_path, paths, &n, &out_path)) return CLI_USAGE;
  char *main = NULL, *data[MAX_PLUGS] = {0};
  size_t main_len = 0;
  wp_plug plugs[MAX_PLUGS];
  int rc = CLI_LOAD_FAILED;
  bool ok = read_all(main_path, &main, &main_len);
  for (size_t i = 0; ok && i < n; i++) {
    ok = read_all(paths[i], &data[i], &plugs[i].len);
    plugs[i].name = paths[i];
    plugs[i].bytes = data[i];
  }
  void *out = NULL;
  size_t out_len = 0;
  if (ok) {
    wp_error *err = wp_compose(main, main_len, plugs, n, &out, &out_len);
    if (err) {
      rc = cli_fail(err);
    } else if (write_all(out_path, out, out_len)) {
      rc = CLI_OK;
    }
  }
  wp_free(out);
  free(main);
  for (size_t i = 0; i < n; i++) free(data[i]);
  return rc;
}
