/*
 * tools.c - `wasmplug tools`: where the installed PDKs and the pinned guest
 * tools are, so that a plugin project (wasmplug new) needs no source checkout.
 *
 * Installed, everything is found from the executable: BIN/../DATADIR/wasmplug
 * (templates/, wit/, go/pdk/, assemblyscript/pdk/, tools.conf) and
 * BIN/../INCLUDEDIR/wasmplug/pdk.
 * Run from a build directory (no such share dir next to it), the source tree
 * and the build's tools file are used instead (compile-time paths).
 *
 * tools.conf, written at configure time from build/deps/tools.cmake, has one
 * `name=path` per line (an empty path: not installed).
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug tools path [NAME]\n"
    "       wasmplug tools env\n"
    "\n"
    "Prints where the PDKs and the pinned guest tools are: `path NAME` one path\n"
    "(exit 1 when that tool is not installed), `path` every NAME and path, `env`\n"
    "shell assignments (WASMPLUG_WASM_TOOLS='...') for eval.\n"
    "\n"
    "names: wasmplug include wit go-pdk as-pdk templates, and the tools: clang\n"
    "wasi-sysroot go wasm-tools wit-bindgen wasi-adapter componentize-py\n"
    "componentize-js jco rustc-wasm cargo wasm-ld wasi-http-wit asc\n";

/* The order `tools path` and `tools env` print them in. */
static const char *const names[] = {
    "wasmplug",
    "include",
    "wit",
    "go-pdk",
    "as-pdk",
    "templates",
    "clang",
    "wasi-sysroot",
    "go",
    "wasm-tools",
    "wit-bindgen",
    "wasi-adapter",
    "componentize-py",
    "componentize-js",
    "jco",
    "rustc-wasm",
    "cargo",
    "wasm-ld",
    "wasi-http-wit",
    "asc",
};
enum { NNAMES = sizeof names / sizeof names[0] };

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exe_path(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n <= 0 || (size_t)n >= size - 1) return false;
  out[n] = '\0';
  return true;
}

/* The install prefix (BIN/..) when DATADIR/wasmplug/templates is beside it. */
static bool installed_prefix(char *out, size_t size) {
  char exe[PATH_MAX], probe[PATH_MAX + 64];
  if (!exe_path(exe, sizeof exe)) return false;
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = '\0';
  char up[PATH_MAX + 4];
  snprintf(up, sizeof up, "%s/..", exe);
  if (size < PATH_MAX || !realpath(up, out)) return false;
  snprintf(probe, sizeof probe, "%s/" WASMPLUG_DATADIR "/wasmplug/templates", out);
  return is_dir(probe);
}

static bool set_path(char *out, size_t size, const char *a, const char *b) {
  int n = snprintf(out, size, "%s%s", a, b);
  return n >= 0 && (size_t)n < size;
}

/* Looks NAME up in the tools file; "" when listed without a path. */
static bool tools_file_get(const char *file, const char *name, char *out, size_t size) {
  FILE *f = fopen(file, "r");
  if (!f) return false;
  char line[PATH_MAX + 64];
  size_t nlen = strlen(name);
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, name, nlen) == 0 && line[nlen] == '=') {
      found = set_path(out, size, line + nlen + 1, "");
    }
  }
  fclose(f);
  return found;
}

bool cli_share_path(const char *what, char *out, size_t size) {
  char prefix[PATH_MAX];
  bool inst = installed_prefix(prefix, sizeof prefix);
  char share[PATH_MAX + 32];
  if (inst) snprintf(share, sizeof share, "%s/" WASMPLUG_DATADIR "/wasmplug", prefix);
  if (strcmp(what, "wasmplug") == 0) return exe_path(out, size);
  if (strcmp(what, "templates") == 0)
    return inst ? set_path(out, size, share, "/templates")
                : set_path(out, size, WASMPLUG_SOURCE_DIR, "/templates");
  if (strcmp(what, "wit") == 0)
    return inst ? set_path(out, size, share, "/wit")
                : set_path(out, size, WASMPLUG_SOURCE_DIR, "/pdk/wit");
  if (strcmp(what, "go-pdk") == 0)
    return inst ? set_path(out, size, share, "/go/pdk")
                : set_path(out, size, WASMPLUG_SOURCE_DIR, "/pdk/go");
  if (strcmp(what, "as-pdk") == 0)
    return inst ? set_path(out, size, share, "/assemblyscript/pdk")
                : set_path(out, size, WASMPLUG_SOURCE_DIR, "/pdk/assemblyscript");
  if (strcmp(what, "include") == 0)
    return inst ? set_path(out, size, prefix, "/" WASMPLUG_INCLUDEDIR "/wasmplug/pdk")
                : set_path(out, size, WASMPLUG_SOURCE_DIR, "/pdk/c");
  if (strcmp(what, "wasi-http-wit") == 0 && inst) {
    /* The installed copy, when there is one (not when components were off). */
    if (!set_path(out, size, share, "/wit/wasi-http")) return false;
    if (is_dir(out)) return true;
  }
  char file[sizeof share + 16];
  if (inst) snprintf(file, sizeof file, "%s/tools.conf", share);
  else snprintf(file, sizeof file, "%s", WASMPLUG_BUILD_TOOLS_FILE);
  return tools_file_get(file, what, out, size);
}

static bool known(const char *name) {
  for (size_t i = 0; i < NNAMES; i++)
    if (strcmp(names[i], name) == 0) return true;
  return false;
}

/* Prints a value quoted for a POSIX shell. */
static void print_quoted(const char *s) {
  putchar('\'');
  for (; *s; s++) {
    if (*s == '\'') fputs("'\\''", stdout);
    else putchar(*s);
  }
  putchar('\'');
}

static int tools_path(int argc, char **argv) {
  char path[PATH_MAX];
  if (argc == 0) {
    for (size_t i = 0; i < NNAMES; i++) {
      if (!cli_share_path(names[i], path, sizeof path)) path[0] = '\0';
      printf("%-16s %s\n", names[i], path[0] ? path : "(not installed)");
    }
    return CLI_OK;
  }
  if (argc > 1 || !known(argv[0])) {
    fprintf(stderr, "wasmplug tools: unknown name '%s'\n%s", argv[0], usage);
    return CLI_USAGE;
  }
  if (!cli_share_path(argv[0], path, sizeof path) || !path[0]) {
    fprintf(
        stderr,
        "wasmplug tools: '%s' is not installed with this wasmplug: build wasmplug with "
        "the guest tools (deps/tools/install.sh, WASMPLUG_COMPONENTS=ON) and install it again\n",
        argv[0]);
    return CLI_PLUGIN_FAILED;
  }
  puts(path);
  return CLI_OK;
}

static int tools_env(void) {
  char path[PATH_MAX];
  for (size_t i = 0; i < NNAMES; i++) {
    if (!cli_share_path(names[i], path, sizeof path)) path[0] = '\0';
    fputs("WASMPLUG_", stdout);
    for (const char *c = names[i]; *c; c++) putchar(*c == '-' ? '_' : toupper((unsigned char)*c));
    putchar('=');
    print_quoted(path);
    putchar('\n');
  }
  return CLI_OK;
}

int cmd_tools(int argc, char **argv) {
  if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    fputs(usage, stdout);
    return CLI_OK;
  }
  if (argc >= 1 && strcmp(argv[0], "path") == 0) return tools_path(argc - 1, argv + 1);
  if (argc == 1 && strcmp(argv[0], "env") == 0) return tools_env();
  fputs(usage, stderr);
  return CLI_USAGE;
}
