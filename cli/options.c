/*
 * options.c - the options shared by call and run, turned into a manifest.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool usage_error(const char *usage, const char *fmt, const char *arg) {
  fprintf(stderr, "wasmplug: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n%s", usage);
  return false;
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

static bool check(wp_error *err, const char *usage) {
  if (!err) return true;
  usage_error(usage, "%s", wp_error_get_message(err));
  wp_error_free(err);
  return false;
}

/* As check, naming the option the error came from ("--env: ..."), without
   the "manifest: " the setters start their messages with. */
static bool check_option(const char *name, wp_error *err, const char *usage) {
  const char *msg;
  if (!err) return true;
  msg = wp_error_get_message(err);
  if (strncmp(msg, "manifest: ", 10) == 0) msg += 10;
  fprintf(stderr, "wasmplug: %s: %s\n%s", name, msg, usage);
  wp_error_free(err);
  return false;
}

void cli_split_dir_spec(char *spec, const char **guest, bool *writable) {
  *writable = true;
  char *last = strrchr(spec, ':');
  if (last && (strcmp(last, ":ro") == 0 || strcmp(last, ":rw") == 0)) {
    *writable = last[2] == 'w';
    *last = '\0';
  }
  char *colon = strchr(spec, ':');
  *guest = spec;
  if (colon) {
    *colon = '\0';
    *guest = colon + 1;
  }
}

static wp_error *allow_dir(wp_manifest *m, const char *spec) {
  char *s = strdup(spec);
  if (!s) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  const char *guest;
  bool writable;
  cli_split_dir_spec(s, &guest, &writable);
  wp_error *err = wp_manifest_allow_dir(m, s, guest, writable);
  free(s);
  return err;
}

static wp_error *key_value(wp_manifest *m, const char *kv, bool env) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) return wp_error_new(WP_ERR_BAD_INPUT, "expected KEY=VALUE, got '%s'", kv);
  char *key = strndup(kv, (size_t)(eq - kv));
  if (!key) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  wp_error *err = env ? wp_manifest_set_env(m, key, eq + 1)
                      : wp_manifest_set_config(m, key, eq + 1);
  free(key);
  return err;
}

bool cli_parse_log_level(const char *s, wp_log_level *out) {
  for (int l = WP_LOG_TRACE; l <= WP_LOG_ERROR; l++)
    if (strcmp(s, wp_log_level_name((wp_log_level)l)) == 0) {
      *out = (wp_log_level)l;
      return true;
    }
  if (strcmp(s, "off") == 0) {
    *out = WP_LOG_ERROR + 1;
    return true;
  }
  return false;
}

/* Applies one "--name value" option; false on a usage error (printed). */
static bool apply(cli_opts *o, const char *name, const char *val, const char *usage,
                  const cli_extra *extra) {
  uint64_t n;
  if (strcmp(name, "--allow-dir") == 0) {
    return check_option(name, allow_dir(o->manifest, val), usage);
  } else if (strcmp(name, "--env") == 0) {
    return check_option(name, key_value(o->manifest, val, true), usage);
  } else if (strcmp(name, "--config") == 0) {
    return check_option(name, key_value(o->manifest, val, false), usage);
  } else if (strcmp(name, "--timeout-ms") == 0) {
    if (!parse_u64(val, &n) || n > UINT32_MAX)
      return usage_error(usage, "--timeout-ms takes milliseconds, got '%s'", val);
    wp_manifest_set_timeout_ms(o->manifest, (uint32_t)n);
    /* The timeout's hint names the flag, not the library call. */
    return check_option(name, wp_manifest_set_timeout_origin(o->manifest, "--timeout-ms"), usage);
  } else if (strcmp(name, "--max-memory") == 0) {
    if (!wp_parse_size(val, &n))
      return usage_error(usage, "--max-memory takes a size such as 16MiB, got '%s'", val);
    /* Below one page no memory at all fits; 0 would read as "no limit". */
    if (n < 65536)
      return usage_error(usage,
                         "--max-memory must be at least 64KiB (one page), got '%s'; omit it "
                         "to use the engine's limit (1 GiB)",
                         val);
    wp_manifest_set_max_memory(o->manifest, n);
  } else if (strcmp(name, "--max-module-size") == 0) {
    if (!wp_parse_size(val, &n) || n == 0)
      return usage_error(
          usage, "--max-module-size takes a size of at least 1 byte such as 512MiB, got '%s'", val);
    o->max_module_size = n;
  } else if (strcmp(name, "--max-functions") == 0) {
    if (!parse_u64(val, &n) || n == 0 || n > UINT32_MAX)
      return usage_error(usage, "--max-functions takes a number from 1 to 4294967295, got '%s'",
                         val);
    o->max_functions = (uint32_t)n;
  } else if (strcmp(name, "--fuel") == 0) {
    if (!parse_u64(val, &n)) return usage_error(usage, "--fuel takes a number, got '%s'", val);
    wp_manifest_set_fuel(o->manifest, n);
  } else if (strcmp(name, "--missing-imports") == 0) {
    if (strcmp(val, "error") != 0 && strcmp(val, "trap") != 0)
      return usage_error(usage, "--missing-imports takes error or trap, got '%s'", val);
    wp_manifest_set_trap_missing_imports(o->manifest, strcmp(val, "trap") == 0);
  } else if (strcmp(name, "--isolation") == 0) {
    if (strcmp(val, "none") != 0 && strcmp(val, "process") != 0)
      return usage_error(usage, "--isolation takes none or process, got '%s'", val);
    wp_manifest_set_isolation(o->manifest, strcmp(val, "process") == 0 ? WP_ISOLATION_PROCESS
                                                                       : WP_ISOLATION_NONE);
  } else if (strcmp(name, "--input") == 0) {
    o->input = val;
  } else if (strcmp(name, "--input-file") == 0) {
    o->input_file = val;
  } else if (strcmp(name, "--log") == 0) {
    if (!cli_parse_log_level(val, &o->log_level))
      return usage_error(usage, "--log takes trace, debug, info, warn, error or off, got '%s'",
                         val);
  } else {
    int r = extra ? extra->fn(extra->ud, name, val) : -1;
    if (r < 0) return usage_error(usage, "unknown option '%s'", name);
    if (r == 0) {
      fputs(usage, stderr);
      return false;
    }
  }
  return true;
}

/* One "--name value" or "--name=value" option, as given. */
typedef struct cli_flag {
  char name[64];
  const char *val;
} cli_flag;

/*
 * Two steps: sort argv into options and positional arguments, then load the
 * manifest (wherever --manifest stood) and apply the other options to it in
 * order, so that they add to the manifest instead of being replaced by it.
 */
bool cli_parse(int argc, char **argv, cli_opts *o, const char *usage) {
  return cli_parse_extra(argc, argv, o, usage, NULL);
}

bool cli_parse_extra(int argc, char **argv, cli_opts *o, const char *usage,
                     const cli_extra *extra) {
  memset(o, 0, sizeof *o);
  o->log_level = WP_LOG_INFO;
  enum { MAX = sizeof o->positional / sizeof o->positional[0] };
  cli_flag flags[MAX];
  size_t nflags = 0;
  const char *manifest = NULL;
  bool options_done = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      o->help = true;
    } else if (!options_done && strcmp(a, "--") == 0) {
      options_done = true;
    } else if (!options_done && strncmp(a, "--", 2) == 0) {
      if (nflags == MAX) return usage_error(usage, "too many options (at most %s)", "256");
      cli_flag *f = &flags[nflags];
      const char *eq = strchr(a, '=');
      if (eq) {
        snprintf(f->name, sizeof f->name, "%.*s", (int)(eq - a), a);
        f->val = eq + 1;
      } else {
        snprintf(f->name, sizeof f->name, "%s", a);
        if (i + 1 >= argc) return usage_error(usage, "option '%s' needs a value", a);
        f->val = argv[++i];
      }
      if (strcmp(f->name, "--manifest") == 0) manifest = f->val;
      else nflags++;
    } else {
      if (o->npositional == MAX)
        return usage_error(usage, "too many arguments (at most %s)", "256");
      o->positional[o->npositional++] = a;
    }
  }
  if (manifest) {
    if (!check(wp_manifest_load(manifest, &o->manifest), usage)) return false;
  } else if (!(o->manifest = wp_manifest_new())) {
    return usage_error(usage, "%s", "out of memory");
  }
  for (size_t i = 0; i < nflags; i++)
    if (!apply(o, flags[i].name, flags[i].val, usage, extra)) return false;
  return true;
}

void cli_opts_free(cli_opts *o) { wp_manifest_free(o->manifest); }

int cli_start(int argc, char **argv, cli_opts *o, const char *usage, size_t min, size_t max,
              const cli_extra *extra) {
  if (!cli_parse_extra(argc, argv, o, usage, extra)) {
    cli_opts_free(o);
    return CLI_USAGE;
  }
  if (!o->help && o->npositional >= min && o->npositional <= max) return -1;
  fputs(usage, o->help ? stdout : stderr);
  cli_opts_free(o);
  return o->help ? CLI_OK : CLI_USAGE;
}

static bool read_stream(FILE *f, char **data, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  if (!buf || ferror(f)) {
    free(buf);
    return false;
  }
  *data = buf;
  *len = n;
  return true;
}

bool cli_read_input(const cli_opts *o, char **data, size_t *len) {
  if (o->input) {
    *len = strlen(o->input);
    *data = malloc(*len + 1);
    if (*data) memcpy(*data, o->input, *len + 1);
    return *data != NULL;
  }
  const char *path = o->input_file;
  if (strcmp(path, "-") == 0) return read_stream(stdin, data, len);
  if (cli_read_file(path, data, len)) return true;
  fprintf(stderr, "wasmplug: cannot read input file '%s': %s\n", path, strerror(errno));
  return false;
}

bool cli_read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  bool ok = read_stream(f, data, len);
  int saved = errno;
  fclose(f);
  errno = saved;
  return ok;
}

void cli_log_to_stderr(void *min_level, wp_log_level level, const char *plugin, const char *msg,
                       size_t len) {
  if (level >= *(const wp_log_level *)min_level)
    fprintf(stderr, "[%s] %s: %.*s\n", wp_log_level_name(level), plugin, (int)len, msg);
}

wp_engine *cli_engine(const cli_opts *o) {
  /* A CLI run makes one instance: no need to reserve a pool. */
  return cli_engine_pooled(o, 0);
}

wp_engine *cli_engine_pooled(const cli_opts *o, uint32_t pooling) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine *engine = NULL;
  if (!cfg) return NULL;
  wp_engine_config_set_log(cfg, cli_log_to_stderr, (void *)&o->log_level);
  wp_engine_config_set_pooling(cfg, pooling);
  /* The load caps are the engine's: these options may raise them. */
  wp_engine_config_set_max_module_size(cfg, o->max_module_size);
  wp_engine_config_set_max_functions(cfg, o->max_functions);
  wp_error *err = wp_engine_new(cfg, &engine);
  wp_engine_config_free(cfg);
  if (err) {
    cli_fail(err);
    return NULL;
  }
  return engine;
}

int cli_fail(wp_error *err) {
  wp_error_kind kind = wp_error_get_kind(err);
  fprintf(stderr, "wasmplug: %s\n", wp_error_get_message(err));
  const char *bt = wp_error_get_backtrace(err);
  if (bt) fprintf(stderr, "wasm backtrace:\n%s\n", bt);
  wp_error_free(err);
  switch (kind) {
  case WP_ERR_LOAD:
  case WP_ERR_LINK:
  case WP_ERR_NOT_FOUND:
  case WP_ERR_IO: return CLI_LOAD_FAILED;
  case WP_ERR_BAD_INPUT: return CLI_USAGE;
  default: return CLI_PLUGIN_FAILED;
  }
}
