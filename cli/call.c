/*
 * call.c - `wasmplug call PLUGIN EXPORT [ARGS...]`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug call PLUGIN EXPORT [ARGS...] [OPTIONS]\n"
    "\n"
    "Calls an export of a plugin (.wasm or .wat).\n"
    "  components take ARGS as WAVE values and print the result as WAVE:\n"
    "    wasmplug call hello.wasm greet '\"world\"'   prints \"Hello, world!\"\n"
    "    functions inside exported interfaces are named INTERFACE#FUNC, e.g.\n"
    "    example:hello/greeter#greet; `wasmplug inspect` lists them.\n"
    "  numeric exports of core modules take their arguments as ARGS and print\n"
    "    the results, one per line:   wasmplug call add.wat add 2 3   prints 5\n"
    "  bytes exports (the wasmplug bytes ABI) take their input from an option\n"
    "    and write the output bytes to stdout:\n"
    "    wasmplug call hello.wasm greet --input world   prints Hello, world!\n"
    "    component functions taking and returning one list<u8> or string take\n"
    "    --input too (or their argument as WAVE).\n"
    "\n"
    "options:\n"
    "  --input TEXT            input bytes for a bytes export\n"
    "  --input-file PATH       input read from a file ('-' reads stdin)\n"
    "  --manifest FILE         a JSON manifest (flags below add to it)\n"
    "  --allow-dir HOST[:GUEST][:ro|:rw]  grant a directory (default read-write,\n"
    "                          seen by the plugin at GUEST, default HOST)\n"
    "  --env K=V               give the plugin an environment variable\n"
    "  --config K=V            a config value the plugin reads with config_get\n"
    "  --timeout-ms N          stop the call after N milliseconds\n"
    "  --max-memory SIZE       most linear memory, e.g. 16MiB; at least 64KiB\n"
    "                          (default: the engine's limit, 1GiB)\n"
    "  --max-module-size SIZE  load plugins of up to SIZE bytes (default 128MiB)\n"
    "  --max-functions N       load plugins of up to N functions (default 100000)\n"
    "  --fuel N                stop the call after about N wasm instructions\n"
    "  --isolation none|process  run the plugin in this process (default) or in a\n"
    "                          worker process of its own (docs/isolation.md)\n"
    "  --missing-imports error|trap  components: fail to load when the host lacks\n"
    "                          an import (default), or load and trap when it is called\n"
    "  --log LEVEL             show plugin logs at LEVEL and above (default info;\n"
    "                          trace, debug, info, warn, error, off)\n"
    "\n"
    "exit codes: 0 success, 1 the plugin failed, 2 usage, 3 the plugin could not\n"
    "be loaded or linked.\n";

bool cli_parse_number(const char *s, wp_valkind k, wp_val *out) {
  char *end;
  errno = 0;
  out->kind = k;
  if (k == WP_I32 || k == WP_I64) {
    /* Decimal, or hex with 0x; a leading 0 is not octal. */
    bool neg = s[0] == '-';
    const char *digits = neg ? s + 1 : s;
    int base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
    long long sv = 0;
    unsigned long long uv = 0;
    if (neg) sv = strtoll(s, &end, base);
    else uv = strtoull(s, &end, base);
    if (errno || end == s || *end) return false;
    if (k == WP_I32) {
      if (neg ? sv < INT32_MIN : uv > UINT32_MAX) return false;
      out->of.i32 = neg ? (int32_t)sv : (int32_t)(uint32_t)uv;
    } else {
      out->of.i64 = neg ? (int64_t)sv : (int64_t)uv;
    }
    return true;
  }
  double d = strtod(s, &end);
  if (end == s || *end) return false;
  if (k == WP_F32) out->of.f32 = (float)d;
  else out->of.f64 = d;
  return true;
}

static void print_val(const wp_val *v) {
  switch (v->kind) {
  case WP_I32: printf("%" PRId32 "\n", v->of.i32); break;
  case WP_I64: printf("%" PRId64 "\n", v->of.i64); break;
  case WP_F32: printf("%.9g\n", (double)v->of.f32); break;
  case WP_F64: printf("%.17g\n", v->of.f64); break;
  }
}

/* Whether ARGS are numbers for each parameter of e: a bytes export has the
   shape (i32, i32) -> i32, and a numeric function of that shape in a plugin
   with cabi_realloc is still called with two numbers. */
static bool numeric_args(const wp_extern_info *e, const cli_opts *o) {
  if (!e->numeric || o->npositional - 2 != e->nparams) return false;
  wp_val v;
  for (size_t i = 0; i < e->nparams; i++)
    if (!cli_parse_number(o->positional[2 + i], e->params[i], &v)) return false;
  return true;
}

static int prepare_numeric(const wp_extern_info *e, const cli_opts *o, cli_call *c) {
  c->kind = CLI_CALL_NUMERIC;
  c->nargs = o->npositional - 2;
  c->nresults = e->nresults;
  if (!e->numeric) {
    fprintf(stderr, "wasmplug: '%s' has the type %s, which the CLI cannot call\n", e->name,
            e->type);
    return CLI_USAGE;
  }
  if (c->nargs != e->nparams) {
    fprintf(stderr, "wasmplug: '%s' takes %zu argument%s (%s), got %zu\n", e->name, e->nparams,
            e->nparams == 1 ? "" : "s", e->type, c->nargs);
    return CLI_USAGE;
  }
  if (e->nparams > CLI_MAX_ARGS || e->nresults > CLI_MAX_ARGS) {
    fprintf(stderr, "wasmplug: '%s' has too many parameters or results\n", e->name);
    return CLI_USAGE;
  }
  for (size_t i = 0; i < c->nargs; i++) {
    if (!cli_parse_number(o->positional[2 + i], e->params[i], &c->args[i])) {
      fprintf(stderr, "wasmplug: argument %zu of '%s' must be %s, got '%s'\n", i + 1, e->name,
              wp_valkind_name(e->params[i]), o->positional[2 + i]);
      return CLI_USAGE;
    }
  }
  return CLI_OK;
}

static int call_numeric(wp_instance *inst, const cli_call *c) {
  wp_val results[CLI_MAX_ARGS];
  wp_error *err = wp_instance_call_func(inst, c->id, c->args, c->nargs, results, c->nresults);
  if (err) return cli_fail(err);
  for (size_t i = 0; i < c->nresults; i++) print_val(&results[i]);
  return CLI_OK;
}

/* A bytes export (of a core module, or a component function taking and
   returning one list<u8> or string): input from --input or --input-file. */
static int prepare_bytes(const cli_opts *o, cli_call *c) {
  c->kind = CLI_CALL_BYTES;
  if ((o->input || o->input_file) && !cli_read_input(o, &c->input, &c->len)) return CLI_USAGE;
  return CLI_OK;
}

static int call_bytes(wp_instance *inst, const cli_call *c) {
  const uint8_t *out;
  size_t out_len;
  wp_error *err = wp_instance_call_func_bytes(inst, c->id, c->input ? c->input : "", c->len, &out,
                                              &out_len);
  if (err) return cli_fail(err);
  if (fwrite(out, 1, out_len, stdout) != out_len) return CLI_PLUGIN_FAILED;
  if (isatty(STDOUT_FILENO) && out_len && out[out_len - 1] != '\n') putchar('\n');
  return CLI_OK;
}

/* Writes s as one shell word: as it is when that is safe, else in single quotes. */
static void put_word(const char *s, FILE *f) {
  if (*s &&
      strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-#") ==
          strlen(s) &&
      s[0] != '#') {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'') fputs("'\\''", f);
    else fputc(*s, f);
  }
  fputc('\'', f);
}

/* The command that gives the ARGS from `first` on (joined by spaces) as
   --input instead, e.g. `wasmplug call hello.wasm greet --input 'world'`. */
static void show_input_command(const cli_opts *o, size_t first) {
  fprintf(stderr, "  wasmplug %s ", o->command ? o->command : "call");
  put_word(o->positional[0], stderr);
  fputc(' ', stderr);
  put_word(o->positional[1], stderr);
  fputs(" --input '", stderr);
  for (size_t i = first; i < o->npositional; i++) {
    if (i > first) fputc(' ', stderr);
    for (const char *c = o->positional[i]; *c; c++) {
      if (*c == '\'') fputs("'\\''", stderr);
      else fputc(*c, stderr);
    }
  }
  fputs("'\n", stderr);
}

/* A core bytes export given ARGS: they are not its input. */
static int bytes_with_args(const cli_opts *o) {
  fprintf(stderr,
          "wasmplug: '%s' is a bytes export: it takes its input from --input TEXT or "
          "--input-file PATH, not from arguments; for example:\n",
          o->positional[1]);
  show_input_command(o, 2);
  return CLI_USAGE;
}

/* Writes arg as a WAVE string in a shell word: '"text"', escaped for both. */
static void put_wave_string(const char *arg, FILE *f) {
  fputs("'\"", f);
  for (const char *c = arg; *c; c++) {
    if (*c == '\'') fputs("'\\''", f);
    else if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
    else fputc(*c, f);
  }
  fputs("\"'", f);
}

/* Why a WAVE argument did not parse, when the likely cause is the shell:
   quotes it ate from a string, or bytes meant for --input. */
static void wave_hints(const cli_opts *o, const wp_functype *ft, size_t i, bool bytes) {
  const char *arg = o->positional[2 + i];
  bool unquoted = wp_type_get_kind(wp_functype_param_type(ft, i)) == WP_TYPE_STRING &&
                  arg[0] != '"';
  if (unquoted) {
    fputs("  a WAVE string is in double quotes, which the shell removes unless they are quoted "
          "too: write ",
          stderr);
    put_wave_string(arg, stderr);
    if (wp_functype_param_count(ft) == 1) {
      fprintf(stderr, ", as in\n  wasmplug %s ", o->command ? o->command : "call");
      put_word(o->positional[0], stderr);
      fputc(' ', stderr);
      put_word(o->positional[1], stderr);
      fputc(' ', stderr);
      put_wave_string(arg, stderr);
    }
    fputc('\n', stderr);
  }
  if (bytes) {
    fprintf(stderr, "  %s'%s' takes bytes or text, give them with --input:\n",
            unquoted ? "or, as " : "as ", o->positional[1]);
    show_input_command(o, 2 + i);
  }
}

/* A component export: ARGS are WAVE values of the parameter types. */
static int prepare_component(const wp_plugin *p, const cli_opts *o, cli_call *c) {
  const wp_functype *ft = wp_plugin_get_functype(p, c->id);
  const char *name = o->positional[1];
  size_t nargs = o->npositional - 2, nparams = wp_functype_param_count(ft);
  bool bytes = wp_plugin_is_bytes_func(p, c->id);
  if (bytes && (o->input || o->input_file || nargs == 0)) return prepare_bytes(o, c);
  c->kind = CLI_CALL_WAVE;
  if (o->input || o->input_file) {
    fprintf(stderr,
            "wasmplug: '%s' is a component function (%s); give its arguments as WAVE values, "
            "not --input (--input is for functions taking and returning one list<u8> or "
            "string)\n",
            name, wp_functype_to_string(ft));
    return CLI_USAGE;
  }
  if (nargs != nparams) {
    fprintf(stderr, "wasmplug: '%s' takes %zu argument%s (%s), got %zu\n", name, nparams,
            nparams == 1 ? "" : "s", wp_functype_to_string(ft), nargs);
    if (bytes) {
      fprintf(stderr, "  '%s' takes bytes or text: give them with --input:\n", name);
      show_input_command(o, 2);
    }
    return CLI_USAGE;
  }
  if (!(c->values = calloc(nargs ? nargs : 1, sizeof *c->values))) return CLI_PLUGIN_FAILED;
  for (; c->nargs < nargs; c->nargs++) {
    size_t i = c->nargs;
    wp_error *err = wp_value_from_wave(wp_functype_param_type(ft, i), o->positional[2 + i],
                                       &c->values[i]);
    if (err) {
      fprintf(stderr, "wasmplug: argument %zu ('%s: %s') of '%s': %s\n", i + 1,
              wp_functype_param_name(ft, i), wp_type_to_string(wp_functype_param_type(ft, i)), name,
              wp_error_get_message(err));
      wave_hints(o, ft, i, bytes);
      wp_error_free(err);
      wp_value_free(c->values[i]);
      c->values[i] = NULL;
      return CLI_USAGE;
    }
  }
  return CLI_OK;
}

static int call_component(wp_instance *inst, const cli_call *c) {
  wp_value *result = NULL;
  wp_error *err = wp_instance_invoke_func(inst, c->id, (const wp_value *const *)c->values, c->nargs,
                                          &result);
  int rc = err ? cli_fail(err) : CLI_OK;
  if (rc == CLI_OK && result) {
    char *text = wp_value_to_wave(result);
    if (text) puts(text);
    else rc = CLI_PLUGIN_FAILED;
    wp_free(text);
  }
  wp_value_free(result);
  return rc;
}

int cli_call_prepare(const wp_plugin *p, const cli_opts *o, cli_call *c) {
  memset(c, 0, sizeof *c);
  wp_error *err = wp_plugin_find_func(p, o->positional[1], &c->id);
  if (err) {
    cli_fail(err);
    return CLI_USAGE;
  }
  if (wp_plugin_is_component(p)) return prepare_component(p, o, c);
  const wp_extern_info *e = wp_plugin_get_export(p, c->id);
  bool is_bytes = wp_plugin_is_bytes_func(p, c->id);
  if (is_bytes && o->npositional > 2 && !o->input && !o->input_file && !numeric_args(e, o))
    return bytes_with_args(o);
  bool bytes = o->input || o->input_file || (o->npositional == 2 && is_bytes);
  return bytes ? prepare_bytes(o, c) : prepare_numeric(e, o, c);
}

void cli_call_clear(cli_call *c) {
  free(c->input);
  for (size_t i = 0; c->values && i < c->nargs; i++) wp_value_free(c->values[i]);
  free(c->values);
  memset(c, 0, sizeof *c);
}

/* Plugin stdout and stderr both go to our stderr: stdout carries the result. */
static int to_stderr(void *ud, wp_instance *inst, const uint8_t *data, size_t len) {
  (void)ud;
  (void)inst;
  return fwrite(data, 1, len, stderr) == len ? 0 : -1;
}

int cmd_call(int argc, char **argv) {
  cli_opts o;
  int start = cli_start(argc, argv, &o, usage, 2, SIZE_MAX, NULL);
  if (start >= 0) return start;
  wp_manifest_set_stdout(o.manifest, WP_STDIO_CALLBACK, to_stderr, NULL);
  wp_manifest_set_stderr(o.manifest, WP_STDIO_CALLBACK, to_stderr, NULL);
  int rc = CLI_LOAD_FAILED;
  wp_engine *engine = cli_engine(&o);
  wp_plugin *plugin = NULL;
  wp_instance *inst = NULL;
  wp_error *err = engine ? wp_plugin_load(engine, o.positional[0], o.manifest, &plugin) : NULL;
  if (engine && !err) err = wp_instance_new(plugin, &inst);
  if (err) {
    rc = cli_fail(err);
    goto done;
  }
  if (!engine) goto done;
  cli_call call;
  rc = cli_call_prepare(plugin, &o, &call);
  if (rc == CLI_OK) {
    switch (call.kind) {
    case CLI_CALL_NUMERIC: rc = call_numeric(inst, &call); break;
    case CLI_CALL_BYTES: rc = call_bytes(inst, &call); break;
    case CLI_CALL_WAVE: rc = call_component(inst, &call); break;
    }
  }
  cli_call_clear(&call);
done:
  wp_instance_free(inst);
  wp_plugin_free(plugin);
  wp_engine_free(engine);
  cli_opts_free(&o);
  return rc;
}
