/*
 * worker.c - `wasmplug worker --fd N`: the worker process of an isolated
 * plugin (wasmplug/isolation.h). The host spawns it with its end of a
 * socketpair as fd N; it serves until the host closes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: wasmplug worker --fd N\n"
                            "\n"
                            "Serves one isolated plugin instance over the socket N, for the host\n"
                            "that spawned it (docs/isolation.md). Not meant to be run by hand.\n";

int cmd_worker(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[0], "--fd") != 0) {
    fputs(usage, argc == 1 && strcmp(argv[0], "--help") == 0 ? stdout : stderr);
    return CLI_USAGE;
  }
  char *end;
  long fd = strtol(argv[1], &end, 10);
  if (*end || end == argv[1] || fd < 0 || fd > 1000000) {
    fprintf(stderr, "wasmplug worker: --fd takes a file descriptor number, got '%s'\n", argv[1]);
    return CLI_USAGE;
  }
  return wp_worker_main((int)fd);
}
