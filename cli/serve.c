/*
 * serve.c - `wasmplug serve PLUGIN.wasm | SERVER.json [OPTIONS]`: runs the
 * HTTP server of include/wasmplug/server.h until SIGTERM or SIGINT, then
 * shuts down gracefully.
 *
 * With a plugin, the command writes the server config a user would have
 * written (one plugin, one route "/..." with the options as its manifest)
 * and serves that, so both forms behave the same (and GET /config on the
 * control API shows it).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "wasmplug/server.h"

static const char usage[] =
    "usage: wasmplug serve PLUGIN.wasm [OPTIONS]\n"
    "       wasmplug serve SERVER.json [--listen ADDR] [--workers N] [--control ...]\n"
    "       wasmplug serve --upstream http://HOST:PORT[/BASE] [OPTIONS]\n"
    "\n"
    "Serves HTTP with WebAssembly handlers: components exporting\n"
    "wasi:http/incoming-handler (as `wasmtime serve` runs) or wasmplug:http/handler,\n"
    "or core modules exporting a bytes-ABI 'handle' (docs/http-abi.md). With a\n"
    "plugin, it handles every path; with a server config (docs/serve.md), routes\n"
    "map paths and methods to plugins or upstream servers. Files are watched: a\n"
    "changed plugin or config is loaded in the background and swapped in without\n"
    "a failed request. With --upstream and no file, it is a reverse proxy: every\n"
    "request goes to the upstream URL (its base path prefixed to the request's).\n"
    "\n"
    "server options:\n"
    "  --listen HOST:PORT      where to listen (default 127.0.0.1:8080)\n"
    "  --workers N             worker threads (default 2)\n"
    "  --instances MODE        fresh (an instance per request, the default) or\n"
    "                          reuse[:N] (reuse an instance for up to N requests,\n"
    "                          default 1000; a fresh one after a failure)\n"
    "  --max-body SIZE         largest request body, e.g. 1MiB (default 10MiB)\n"
    "  --access-log WHERE      stderr (default), stdout, off, or a file path\n"
    "  --no-watch              do not reload changed files\n"
    "  --grace-ms N            on SIGTERM, let requests finish for N ms (default 10000)\n"
    "  --control unix:PATH     serve the control API on a Unix socket (mode 0600)\n"
    "  --control HOST:PORT     ... or on loopback TCP, with --control-token-file\n"
    "  --control-token-file F  the bearer token the control API requires\n"
    "  --filter F.wasm[,config=FILE][,vm-config=FILE]\n"
    "                          a Proxy-Wasm filter in front of every route\n"
    "                          (repeatable: a chain in the given order;\n"
    "                          docs/proxywasm.md); filter logs go to stderr\n"
    "  --upstream URL          no plugin or config: forward every request to URL\n"
    "                          (http:// only; --timeout-ms bounds each exchange,\n"
    "                          502 if it fails, 504 past the timeout)\n"
    "\n"
    "plugin options (with PLUGIN.wasm; as for `wasmplug call`):\n"
    "  --manifest FILE         a JSON manifest (the flags below add to it)\n"
    "  --allow-dir HOST[:GUEST][:ro|:rw]   --env K=V   --config K=V\n"
    "  --timeout-ms N          per request (default 30000)\n"
    "  --max-memory SIZE       --fuel N\n"
    "  --log LEVEL             plugin logs at LEVEL and above (default info)\n"
    "\n"
    "Prints \"wasmplug serve: listening on http://HOST:PORT\" when ready; exits 0\n"
    "after SIGTERM or SIGINT.\n";

typedef struct serve_opts {
  const char *target;
  const char *listen, *workers, *instances, *max_body, *access_log, *grace_ms;
  const char *control, *token_file;
  const char *upstream;  /* --upstream URL: a reverse proxy, no target */
  const char *filters[32]; /* --filter FILTER.wasm[,config=FILE][,vm-config=FILE] */
  size_t nfilters;
  double timeout_ms;     /* with --upstream: --timeout-ms, or 0 */
  bool no_watch;
  cJSON *manifest; /* plugin mode: built from the plugin options */
  wp_log_level log_level;
} serve_opts;

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "wasmplug serve: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n%s", usage);
  return CLI_USAGE;
}

/* The manifest object `key` (made if missing). */
static cJSON *section(cJSON *m, const char *key) {
  cJSON *s = cJSON_GetObjectItemCaseSensitive(m, key);
  return s ? s : cJSON_AddObjectToObject(m, key);
}

static bool set_kv(cJSON *m, const char *where, const char *key2, const char *kv) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) return false;
  cJSON *sec = section(m, where);
  if (key2) sec = section(sec, key2);
  char *k = strndup(kv, (size_t)(eq - kv));
  if (!k || !sec) {
    free(k);
    return false;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(sec, k);
  bool ok = cJSON_AddStringToObject(sec, k, eq + 1) != NULL;
  free(k);
  return ok;
}

static bool add_dir(cJSON *m, const char *spec) {
  char *s = strdup(spec);
  if (!s) return false;
  const char *guest;
  bool writable;
  cli_split_dir_spec(s, &guest, &writable);
  const char *mode = writable ? "rw" : "ro";
  cJSON *wasi = section(m, "wasi");
  cJSON *dirs = wasi ? cJSON_GetObjectItemCaseSensitive(wasi, "dirs") : NULL;
  if (wasi && !dirs) dirs = cJSON_AddArrayToObject(wasi, "dirs");
  cJSON *d = cJSON_CreateObject();
  bool ok = dirs && d && cJSON_AddStringToObject(d, "host", s) &&
            cJSON_AddStringToObject(d, "guest", guest) && cJSON_AddStringToObject(d, "mode", mode);
  if (ok) cJSON_AddItemToArray(dirs, d);
  else cJSON_Delete(d);
  free(s);
  return ok;
}

/* Plugin options go into o->manifest; returns a usage exit code or 0. */
static int plugin_option(serve_opts *o, const char *name, const char *val) {
  cJSON *m = o->manifest;
  if (strcmp(name, "--allow-dir") == 0) {
    if (!add_dir(m, val)) return usage_error("--allow-dir: bad value '%s'", val);
  } else if (strcmp(name, "--env") == 0) {
    if (!set_kv(m, "wasi", "env", val)) return usage_error("--env takes KEY=VALUE, got '%s'", val);
  } else if (strcmp(name, "--config") == 0) {
    if (!set_kv(m, "config", NULL, val))
      return usage_error("--config takes KEY=VALUE, got '%s'", val);
  } else if (strcmp(name, "--timeout-ms") == 0 || strcmp(name, "--fuel") == 0) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(val, &end, 10);
    if (errno || *end || !*val || n == 0) return usage_error("%s takes a positive number", name);
    cJSON *l = section(m, "limits");
    const char *key = name[2] == 't' ? "timeout_ms" : "fuel";
    cJSON_DeleteItemFromObjectCaseSensitive(l, key);
    cJSON_AddNumberToObject(l, key, (double)n);
  } else if (strcmp(name, "--max-memory") == 0) {
    uint64_t n;
    if (!wp_parse_size(val, &n))
      return usage_error("--max-memory takes a size such as 16MiB, got '%s'", val);
    cJSON *l = section(m, "limits");
    cJSON_DeleteItemFromObjectCaseSensitive(l, "memory");
    cJSON_AddStringToObject(l, "memory", val);
  } else {
    return usage_error("unknown option '%s'", name);
  }
  return 0;
}

/* With --upstream: the only plugin option that means something is
   --timeout-ms (the route's timeout); the rest are refused. */
static int upstream_options(serve_opts *o, const char **names, const char **vals, size_t n,
                            const char *manifest_file) {
  if (manifest_file || o->instances)
    return usage_error("%s does not go with --upstream (no plugin runs)",
                       manifest_file ? "--manifest" : "--instances");
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], "--timeout-ms") != 0)
      return usage_error("%s does not go with --upstream (no plugin runs)", names[i]);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(vals[i], &end, 10);
    if (errno || *end || !*vals[i] || v == 0 || v > 3600000)
      return usage_error("--timeout-ms takes 1 to 3600000, got '%s'", vals[i]);
    o->timeout_ms = (double)v;
  }
  return 0;
}

static int parse(int argc, char **argv, serve_opts *o) {
  memset(o, 0, sizeof *o);
  o->log_level = WP_LOG_INFO;
  const char *manifest_file = NULL;
  const char *names[256], *vals[256];
  size_t n = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return -1;
    }
    if (strcmp(a, "--no-watch") == 0) {
      o->no_watch = true;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->target) return usage_error("one PLUGIN.wasm or SERVER.json, got also '%s'", a);
      o->target = a;
      continue;
    }
    if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
    const char *v = argv[++i];
    const char **slot = strcmp(a, "--listen") == 0               ? &o->listen
                        : strcmp(a, "--workers") == 0            ? &o->workers
                        : strcmp(a, "--instances") == 0          ? &o->instances
                        : strcmp(a, "--max-body") == 0           ? &o->max_body
                        : strcmp(a, "--access-log") == 0         ? &o->access_log
                        : strcmp(a, "--grace-ms") == 0           ? &o->grace_ms
                        : strcmp(a, "--control") == 0            ? &o->control
                        : strcmp(a, "--control-token-file") == 0 ? &o->token_file
                        : strcmp(a, "--upstream") == 0           ? &o->upstream
                        : strcmp(a, "--manifest") == 0           ? &manifest_file
                                                                 : NULL;
    if (slot) {
      *slot = v;
    } else if (strcmp(a, "--filter") == 0) {
      if (o->nfilters == sizeof o->filters / sizeof *o->filters)
        return usage_error("at most 32 --filter options, got also '%s'", v);
      o->filters[o->nfilters++] = v;
    } else if (strcmp(a, "--log") == 0) {
      if (!cli_parse_log_level(v, &o->log_level))
        return usage_error("--log: unknown level '%s'", v);
    } else if (n < 256) {
      names[n] = a;
      vals[n++] = v;
    }
  }
  if (o->upstream && o->target)
    return usage_error("--upstream serves without a plugin or config, got also '%s' (in a "
                       "config, give routes an \"upstream\")",
                       o->target);
  if (o->upstream) return upstream_options(o, names, vals, n, manifest_file);
  if (!o->target)
    return usage_error("%s", "a PLUGIN.wasm, a SERVER.json or --upstream URL is required");
  size_t tl = strlen(o->target);
  bool json = tl > 5 && strcmp(o->target + tl - 5, ".json") == 0;
  if (json && (o->instances || o->max_body || o->access_log || o->grace_ms || o->no_watch))
    return usage_error("%s: with a server config, put this in the config file (docs/serve.md)",
                       o->instances    ? "--instances"
                       : o->max_body   ? "--max-body"
                       : o->access_log ? "--access-log"
                       : o->grace_ms   ? "--grace-ms"
                                       : "--no-watch");
  if (json && o->nfilters)
    return usage_error("%s", "--filter does not go with a server config: add the filter to its "
                             "\"filters\" and \"filter_chain\" (docs/serve.md)");
  if (json && (n || manifest_file))
    return usage_error("plugin option '%s' does not go with a server config: put it in the "
                       "config's plugins.NAME.manifest",
                       n ? names[0] : "--manifest");
  if (json) return 0;
  if (manifest_file) {
    char *text;
    size_t len;
    if (!cli_read_file(manifest_file, &text, &len)) {
      fprintf(stderr, "wasmplug serve: --manifest %s: %s\n", manifest_file, strerror(errno));
      return CLI_USAGE;
    }
    o->manifest = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(o->manifest))
      return usage_error("--manifest %s: not a JSON object", manifest_file);
    cJSON_DeleteItemFromObjectCaseSensitive(o->manifest, "sources");
  } else if (!(o->manifest = cJSON_CreateObject())) {
    return CLI_LOAD_FAILED;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = plugin_option(o, names[i], vals[i]);
    if (rc) return rc;
  }
  return 0;
}

/* The config for serving one plugin at every path. */
static char *plugin_config(serve_opts *o) {
  cJSON *doc = cJSON_CreateObject(), *plugins = cJSON_AddObjectToObject(doc, "plugins");
  cJSON *p = cJSON_AddObjectToObject(plugins, "main");
  char *abs = realpath(o->target, NULL);
  cJSON_AddStringToObject(p, "path", abs ? abs : o->target);
  free(abs);
  cJSON_AddItemToObject(p, "manifest", o->manifest);
  o->manifest = NULL;
  cJSON *routes = cJSON_AddArrayToObject(doc, "routes");
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToArray(routes, r);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "match"), "path", "/...");
  cJSON_AddStringToObject(r, "plugin", "main");
  char *text = cJSON_Print(doc);
  cJSON_Delete(doc);
  return text;
}

/* The config for a reverse proxy of every path to --upstream. */
static char *upstream_config(const serve_opts *o) {
  cJSON *doc = cJSON_CreateObject();
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "routes"), r);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "match"), "path", "/...");
  cJSON_AddStringToObject(r, "upstream", o->upstream);
  if (o->timeout_ms) cJSON_AddNumberToObject(r, "timeout_ms", o->timeout_ms);
  char *text = cJSON_Print(doc);
  cJSON_Delete(doc);
  return text;
}

/* One --filter FILE[,config=FILE][,vm-config=FILE] as a "filters" entry named
   after the file ("NAME", "NAME-2"...); false (printed) if malformed. */
static bool add_filter(cJSON *defs, cJSON *chain, const char *spec) {
  char *copy = strdup(spec), *save = NULL;
  char *file = copy ? strtok_r(copy, ",", &save) : NULL;
  if (!file) {
    free(copy);
    return false;
  }
  cJSON *f = cJSON_CreateObject();
  char *abs = realpath(file, NULL);
  cJSON_AddStringToObject(f, "path", abs ? abs : file);
  free(abs);
  bool ok = true;
  for (char *kv; ok && (kv = strtok_r(NULL, ",", &save));) {
    char *eq = strchr(kv, '=');
    const char *key = !eq                                  ? NULL
                      : strncmp(kv, "config=", 7) == 0     ? "config_file"
                      : strncmp(kv, "vm-config=", 10) == 0 ? "vm_config_file"
                                                           : NULL;
    if (!key) {
      fprintf(stderr, "wasmplug serve: --filter %s: '%s' is not config=FILE or vm-config=FILE\n",
              spec, kv);
      ok = false;
      break;
    }
    char *path = realpath(eq + 1, NULL);
    cJSON_AddStringToObject(f, key, path ? path : eq + 1);
    free(path);
  }
  /* The name: the file's, without directory and .wasm, made unique. */
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  char name[48], unique[64]; /* names are at most 64 characters */
  snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
  for (size_t i = 0; name[i]; i++)
    if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') name[i] = '_';
  snprintf(unique, sizeof unique, "%s", name[0] ? name : "filter");
  for (int k = 2; cJSON_GetObjectItemCaseSensitive(defs, unique); k++)
    snprintf(unique, sizeof unique, "%s-%d", name[0] ? name : "filter", k);
  free(copy);
  if (!ok) {
    cJSON_Delete(f);
    return false;
  }
  cJSON_AddItemToObject(defs, unique, f);
  cJSON_AddItemToArray(chain, cJSON_CreateString(unique));
  return true;
}

/* --filter options: filters in front of every route, after the config's own chain. */
static bool add_filters(const serve_opts *o, cJSON *doc) {
  if (!o->nfilters) return true;
  cJSON *defs = cJSON_GetObjectItemCaseSensitive(doc, "filters");
  if (!defs) defs = cJSON_AddObjectToObject(doc, "filters");
  cJSON *chain = cJSON_GetObjectItemCaseSensitive(doc, "filter_chain");
  if (!chain) chain = cJSON_AddArrayToObject(doc, "filter_chain");
  if (!cJSON_IsObject(defs) || !cJSON_IsArray(chain)) {
    fprintf(stderr, "wasmplug serve: --filter: the config's \"filters\" or \"filter_chain\" is "
                    "not what docs/serve.md says\n");
    return false;
  }
  for (size_t i = 0; i < o->nfilters; i++)
    if (!add_filter(defs, chain, o->filters[i])) return false;
  return true;
}

/* Applies the server options to the config text; NULL (printed) on error. */
static char *apply_server_options(const serve_opts *o, const char *text, size_t len) {
  cJSON *doc = cJSON_ParseWithLength(text, len);
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    return NULL;
  }
  if (o->access_log) {
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "access_log");
    cJSON_AddStringToObject(doc, "access_log", o->access_log);
  }
  if (o->no_watch) {
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "watch");
    cJSON_AddFalseToObject(doc, "watch");
  }
  if (o->grace_ms) {
    cJSON *l = section(doc, "limits");
    cJSON_DeleteItemFromObjectCaseSensitive(l, "grace_ms");
    cJSON_AddNumberToObject(l, "grace_ms", atof(o->grace_ms));
  }
  if (!add_filters(o, doc)) {
    cJSON_Delete(doc);
    return NULL;
  }
  cJSON *routes = cJSON_GetObjectItemCaseSensitive(doc, "routes"), *r;
  cJSON_ArrayForEach(r, routes) {
    if (!cJSON_IsObject(r)) continue;
    if (o->max_body) {
      cJSON_DeleteItemFromObjectCaseSensitive(r, "max_body");
      cJSON_AddStringToObject(r, "max_body", o->max_body);
    }
    if (o->instances) {
      cJSON_DeleteItemFromObjectCaseSensitive(r, "instances");
      cJSON *in = cJSON_AddObjectToObject(r, "instances");
      bool reuse = strncmp(o->instances, "reuse", 5) == 0;
      cJSON_AddStringToObject(in, "mode", reuse ? "reuse" : o->instances);
      if (reuse && o->instances[5] == ':')
        cJSON_AddNumberToObject(in, "max_uses", atof(o->instances + 6));
      else if (reuse && o->instances[5]) cJSON_AddStringToObject(in, "mode", o->instances);
    }
  }
  char *out = cJSON_Print(doc);
  cJSON_Delete(doc);
  return out;
}

static char *read_token(const char *file) {
  char *text;
  size_t len;
  if (!cli_read_file(file, &text, &len)) {
    fprintf(stderr, "wasmplug serve: --control-token-file %s: %s\n", file, strerror(errno));
    return NULL;
  }
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  text[len] = 0;
  return text;
}

int cmd_serve(int argc, char **argv) {
  serve_opts o;
  int rc = parse(argc, argv, &o);
  if (rc) {
    cJSON_Delete(o.manifest);
    return rc < 0 ? CLI_OK : rc;
  }
  size_t tl = o.target ? strlen(o.target) : 0;
  bool json = tl > 5 && strcmp(o.target + tl - 5, ".json") == 0;

  /* Signals are taken with sigwait in this thread; the server's threads,
     made after this, inherit the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine *engine = NULL;
  wp_error *err = cfg ? NULL : wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  if (cfg) {
    wp_engine_config_set_log(cfg, cli_log_to_stderr, &o.log_level);
    err = wp_engine_new(cfg, &engine);
    wp_engine_config_free(cfg);
  }
  wp_server *srv = NULL;
  char *text = NULL;
  if (!err) {
    char *raw = json ? NULL : o.upstream ? upstream_config(&o) : plugin_config(&o);
    if (json) {
      err = wp_server_new_from_file(engine, o.target, &srv);
    } else {
      text = raw ? apply_server_options(&o, raw, strlen(raw)) : NULL;
      err = text ? wp_server_new(engine, text, strlen(text), NULL, &srv)
                 : wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
    }
    if (!err && o.listen) err = wp_server_set_listen(srv, o.listen);
    if (!err && o.workers) {
      char *end;
      long w = strtol(o.workers, &end, 10);
      err = *end || w < 1 || w > 256
                ? wp_error_new(WP_ERR_BAD_INPUT, "--workers takes 1 to 256, got '%s'", o.workers)
                : wp_server_set_workers(srv, (unsigned)w);
    }
    free(raw);
  }
  if (!err && o.control) {
    char *token = o.token_file ? read_token(o.token_file) : NULL;
    if (o.token_file && !token) err = wp_error_new(WP_ERR_IO, "cannot read the control token");
    else err = wp_server_set_control(srv, o.control, token);
    free(token);
  }
  if (!err) err = wp_server_start(srv);
  free(text);
  if (err) {
    wp_server_free(srv);
    wp_engine_free(engine);
    cJSON_Delete(o.manifest);
    wp_error_kind kind = wp_error_get_kind(err);
    /* With --upstream the config is ours: say which option it came from. */
    fprintf(stderr, "wasmplug serve: %s%s%s%s\n", o.upstream ? "--upstream " : "",
            o.upstream ? o.upstream : "", o.upstream ? ": " : "", wp_error_get_message(err));
    wp_error_free(err);
    return kind == WP_ERR_BAD_INPUT ? CLI_USAGE : CLI_LOAD_FAILED;
  }
  const char *listen = wp_server_get_listen(srv), *colon = strrchr(listen, ':');
  fprintf(stderr, "wasmplug serve: listening on http://%.*s:%u\n", (int)(colon - listen), listen,
          wp_server_get_port(srv));
  if (wp_server_get_keyvalue_default(srv))
    fprintf(stderr, "wasmplug serve: keyvalue: buckets without \"backend\" use %s\n",
            wp_server_get_keyvalue_default(srv));
  int sig = 0;
  sigwait(&sigs, &sig);
  fprintf(stderr, "wasmplug serve: %s: finishing requests in flight\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  unsigned cut = wp_server_stop(srv, WP_SERVER_GRACE_CONFIGURED);
  if (cut) fprintf(stderr, "wasmplug serve: interrupted %u request(s) still running\n", cut);
  wp_server_free(srv);
  wp_engine_free(engine);
  cJSON_Delete(o.manifest);
  fprintf(stderr, "wasmplug serve: stopped\n");
  return CLI_OK;
}
