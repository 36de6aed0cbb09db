/*
 * cli.h - what the wasmplug commands share: options that become a manifest,
 * error reporting and exit codes.
 */
#ifndef WASMPLUG_CLI_H
#define WASMPLUG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "wasmplug.h"

/* Exit codes of every command. */
enum {
  CLI_OK = 0,
  CLI_PLUGIN_FAILED = 1, /* trap, timeout, limit, host error */
  CLI_USAGE = 2,
  CLI_LOAD_FAILED = 3,   /* the plugin could not be loaded or linked */
};

/* Options common to commands that run a plugin. */
typedef struct cli_opts {
  const char *positional[256];
  size_t npositional;
  wp_manifest *manifest;  /* built from --manifest and the flags */
  const char *input;      /* --input TEXT, or NULL */
  const char *input_file; /* --input-file PATH, or "-" for stdin */
  wp_log_level log_level;
  uint64_t max_module_size; /* --max-module-size, 0: the engine's default */
  uint32_t max_functions;   /* --max-functions, 0: the engine's default */
  bool help;
  const char *command; /* "call", "bench": how hints spell the command line */
} cli_opts;

/*
 * Parses argv (after the command name). Options start with "--"; anything
 * else, including negative numbers, is positional; "--" ends the options.
 * On a usage error prints it and returns false.
 */
bool cli_parse(int argc, char **argv, cli_opts *o, const char *usage);
void cli_opts_free(cli_opts *o);

/* A command's own options, beside the shared ones: fn returns 1 when it took
   "--name value", 0 when the value is wrong (it printed why), -1 when the
   name is not one of its options. */
typedef struct cli_extra {
  int (*fn)(void *ud, const char *name, const char *val);
  void *ud;
} cli_extra;

/* cli_parse, offering the options it does not know to `extra` first. */
bool cli_parse_extra(int argc, char **argv, cli_opts *o, const char *usage, const cli_extra *extra);

/*
 * A command's start: parses (with `extra`, which may be NULL), and answers
 * --help or too few or too many positional arguments (at least `min`, at
 * most `max`) with the usage. Returns -1 to go on (free *o when done), or
 * the exit code to return (*o already freed).
 */
int cli_start(int argc, char **argv, cli_opts *o, const char *usage, size_t min, size_t max,
              const cli_extra *extra);

/* One command-line number for a parameter of kind k (decimal, 0x hex, or a
   float); false if it is not one or does not fit. */
bool cli_parse_number(const char *s, wp_valkind k, wp_val *out);

#define CLI_MAX_ARGS 64

/* How `wasmplug call` calls an export, from ARGS and --input (call.c):
   numbers, bytes, or WAVE values of a component function's parameters. */
typedef enum { CLI_CALL_NUMERIC, CLI_CALL_BYTES, CLI_CALL_WAVE } cli_call_kind;

typedef struct cli_call {
  cli_call_kind kind;
  wp_func_id id;
  size_t nargs, nresults;
  wp_val args[CLI_MAX_ARGS]; /* numeric */
  char *input;               /* bytes (NULL: none) */
  size_t len;
  wp_value **values;         /* WAVE: nargs values */
} cli_call;

/* Finds o->positional[1] in `p` and turns ARGS and --input into the call,
   with the rules and messages of `wasmplug call`. CLI_OK, or the exit code
   (the error printed); clear *c either way. */
int cli_call_prepare(const wp_plugin *p, const cli_opts *o, cli_call *c);
void cli_call_clear(cli_call *c);

/* Reads --input / --input-file into a malloc'ed buffer; false on error (printed). */
bool cli_read_input(const cli_opts *o, char **data, size_t *len);

/* Reads a whole file into a malloc'ed buffer; false (errno set) on failure,
   without printing. */
bool cli_read_file(const char *path, char **data, size_t *len);

/* --allow-dir's HOST[:GUEST][:ro|:rw], split in place: `spec` keeps HOST,
   `*guest` points into it (HOST when not given), read-write unless ":ro". */
void cli_split_dir_spec(char *spec, const char **guest, bool *writable);

/* "trace".."error" or "off" (above error) -> a level; false if unknown. */
bool cli_parse_log_level(const char *s, wp_log_level *out);

/* A wp_log_fn printing "[level] plugin: message" to stderr; `min_level`
   points to the lowest wp_log_level shown. */
void cli_log_to_stderr(void *min_level, wp_log_level level, const char *plugin, const char *msg,
                       size_t len);

/* An engine whose plugin logs go to stderr at o->log_level and above. */
wp_engine *cli_engine(const cli_opts *o);

/* cli_engine with the pooling allocator reserving `pooling` instances (0:
   none, instances allocated on demand). */
wp_engine *cli_engine_pooled(const cli_opts *o, uint32_t pooling);

/* Prints "wasmplug: <message>" and the backtrace; frees err; returns the exit
   code for its kind. */
int cli_fail(wp_error *err);

int cmd_call(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_new(int argc, char **argv);
int cmd_tools(int argc, char **argv);
int cmd_compose(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Where an installed part (templates, wit, go-pdk, include, or a tool of
   `wasmplug tools path`) is: beside the executable when installed, else in the
   source and build trees (tools.c). False when unknown or not installed. */
bool cli_share_path(const char *what, char *out, size_t size);

#endif
