/*
 * main.c - the wasmplug command: dispatch to call, run, inspect, serve, bench...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  call PLUGIN EXPORT [ARGS...]   call an export (numbers or bytes)\n"
    "  run PLUGIN [ARGS...]           run a WASI command's _start\n"
    "  inspect PLUGIN                 show a plugin's imports, exports, memories\n"
    "  compose MAIN --plug P -o OUT   plug components into a component's imports\n"
    "  serve PLUGIN.wasm|SERVER.json  serve HTTP with WebAssembly handlers\n"
    "  new TEMPLATE NAME              make a plugin project (new --list: the templates)\n"
    "  tools path [NAME] | env        where the installed PDKs and guest tools are\n"
    "  bench PLUGIN EXPORT [ARGS...]  time an export's calls (median per call)\n"
    "  worker --fd N                  serve an isolated plugin's instance (the host runs it)\n"
    "\n"
    "'wasmplug COMMAND --help' tells more. wasmplug " WASMPLUG_VERSION "\n";

/* Isolated plugins (--isolation, "isolation" in a manifest or a route) run
   in this very program, `wasmplug worker`, unless $WASMPLUG_WORKER names
   another: every engine made here (call, run, serve) finds it there. Set
   before any thread starts. */
static void worker_is_self(void) {
  const char *env = getenv("WASMPLUG_WORKER");
  char self[4096];
  ssize_t n = env && *env ? -1 : readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  setenv("WASMPLUG_WORKER", self, 1);
}

int main(int argc, char **argv) {
  worker_is_self();
  if (argc < 2) {
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "call") == 0) return cmd_call(argc - 2, argv + 2);
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2);
  if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 2, argv + 2);
  if (strcmp(cmd, "compose") == 0) return cmd_compose(argc - 2, argv + 2);
  if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 2, argv + 2);
  if (strcmp(cmd, "new") == 0) return cmd_new(argc - 2, argv + 2);
  if (strcmp(cmd, "tools") == 0) return cmd_tools(argc - 2, argv + 2);
  if (strcmp(cmd, "worker") == 0) return cmd_worker(argc - 2, argv + 2);
  if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 2, argv + 2);
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return CLI_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    puts("wasmplug " WASMPLUG_VERSION);
    return CLI_OK;
  }
  fprintf(stderr, "wasmplug: unknown command '%s'\n%s", cmd, usage);
  return CLI_USAGE;
}
