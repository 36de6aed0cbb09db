/*
 * server.c - the public wp_server_* functions: a server is a config turned
 * into a published state (state.c), a main listener (listener.c), an
 * optional control listener (control.c) and a file watcher (watch.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "wasmplug/keyvalue.h"

uint64_t srv_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void srv_log(const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  char line[8300];
  int len = snprintf(line, sizeof line, "wasmplug serve: %s\n", msg);
  if (len > 0) {
    ssize_t w = write(STDERR_FILENO, line, (size_t)len < sizeof line ? (size_t)len : sizeof line);
    (void)w;
  }
}

wp_error *srv_resolve(const char *what, const char *addr, struct sockaddr_storage *ss,
                      socklen_t *len) {
  char host[256];
  const char *colon = strrchr(addr, ':');
  if (!colon || (size_t)(colon - addr) >= sizeof host)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s '%s': expected HOST:PORT", what, addr);
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = 0;
  char *h = host;
  size_t hl = strlen(h);
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
    h[hl - 1] = 0;
    h++;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                  *res;
  int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
  if (rc != 0) return wp_error_new(WP_ERR_BAD_INPUT, "%s '%s': %s", what, addr, gai_strerror(rc));
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return NULL;
}

char *srv_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *text = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 65536;
      char *t = cap <= ((size_t)64 << 20) ? realloc(text, cap + 1) : NULL;
      if (!t) {
        errno = cap > ((size_t)64 << 20) ? EFBIG : ENOMEM;
        break;
      }
      text = t;
    }
    size_t got = fread(text + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) errno = EIO;
      else {
        fclose(f);
        text[n] = 0;
        *len = n;
        return text;
      }
      break;
    }
  }
  int e = errno;
  fclose(f);
  free(text);
  errno = e;
  return NULL;
}

wp_error *srv_no_memory(void) { return wp_error_new(WP_ERR_NO_MEMORY, "out of memory"); }

wp_error *srv_error_prefix(wp_error *err, const char *fmt, ...) {
  char pre[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  wp_error *out = wp_error_new(wp_error_get_kind(err), "%s%s", pre, wp_error_get_message(err));
  wp_error_free(err);
  return out;
}

/* ---- the keyvalue default -------------------------------------------------------- */

/* $XDG_STATE_HOME/wasmplug/keyvalue.db, else ~/.local/state/wasmplug/keyvalue.db
   (an XDG_STATE_HOME that is not absolute is ignored, as the XDG spec says);
   NULL when neither says where, or out of memory (*oom). */
static char *state_db_path(bool *oom) {
  const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  const char *base = xdg && xdg[0] == '/' ? xdg : home && home[0] == '/' ? home : NULL;
  if (!base) return NULL;
  const char *rest = base == xdg ? "/wasmplug/keyvalue.db" : "/.local/state/wasmplug/keyvalue.db";
  size_t n = strlen(base) + strlen(rest) + 1;
  char *path = malloc(n);
  if (path) snprintf(path, n, "%s%s", base, rest);
  *oom = !path;
  return path;
}

/* The spec as the log shows it: backend and path or URL, a password hidden. */
static void describe_spec(const char *spec_json, char *out, size_t size) {
  cJSON *spec = cJSON_Parse(spec_json);
  const char *backend = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "backend"));
  const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "path"));
  const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "url"));
  const char *at = url ? strrchr(url, '@') : NULL, *scheme = url ? strstr(url, "://") : NULL;
  if (path) snprintf(out, size, "%s %s", backend ? backend : "?", path);
  else if (at && scheme && scheme < at)
    snprintf(out, size, "%s %.*s://(password hidden)%s", backend ? backend : "?",
             (int)(scheme - url), url, at);
  else if (url) snprintf(out, size, "%s %s", backend ? backend : "?", url);
  else snprintf(out, size, "%s", backend ? backend : "?");
  cJSON_Delete(spec);
}

/* Sets the engine's store of keyvalue buckets that name no backend, before
   any plugin loads: the config's keyvalue.default, else a SQLite file in the
   user's state directory (the library makes its directory, 0700, when a
   plugin first needs it). wp_server_get_keyvalue_default says which; the
   CLI logs it. The engine keeps it for the server's
   life: a reload cannot change it. */
static wp_error *set_keyvalue_default(wp_server *srv, const char *configured) {
  bool oom = false;
  char *path = configured ? NULL : state_db_path(&oom);
  if (oom) return srv_no_memory();
  if (!configured && !path) {
    srv_log("keyvalue: no default store (neither XDG_STATE_HOME nor HOME is set): buckets "
            "without \"backend\" are refused; set keyvalue.default in the server config");
    return NULL;
  }
  char *spec = NULL;
  if (path) {
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "backend", "sqlite") &&
        cJSON_AddStringToObject(o, "path", path))
      spec = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(path);
    if (!spec) return srv_no_memory();
  }
  wp_error *err = wp_engine_set_keyvalue_default(srv->engine, configured ? configured : spec);
  if (!err) {
    char what[600], line[800];
    describe_spec(configured ? configured : spec, what, sizeof what);
    snprintf(line, sizeof line, "%s (%s)", what,
             configured ? "keyvalue.default in the server config"
                        : "the default; set keyvalue.default in the server config to change it");
    free(srv->kv_default);
    if (!(srv->kv_default = strdup(line))) err = srv_no_memory();
  }
  free(spec);
  return err ? srv_error_prefix(err, "server config: keyvalue.default: ") : NULL;
}

static wp_error *make(wp_engine *engine, cJSON *doc, const char *base_dir, const char *config_path,
                      wp_server **out) {
  *out = NULL;
  if (!engine) {
    cJSON_Delete(doc);
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_new: an engine is required");
  }
  wp_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    cJSON_Delete(doc);
    return srv_no_memory();
  }
  srv->engine = engine;
  srv->log_fd = -1;
  pthread_mutex_init(&srv->state_lock, NULL);
  pthread_mutex_init(&srv->write_lock, NULL);
  pthread_mutex_init(&srv->conn_lock, NULL);
  metrics_init(&srv->metrics);
  char cwd[4096];
  if (!base_dir) base_dir = getcwd(cwd, sizeof cwd) ? cwd : ".";
  srv->base_dir = strdup(base_dir);
  srv->config_path = config_path ? strdup(config_path) : NULL;
  srv_config *cfg = NULL;
  wp_error *err = !srv->base_dir || (config_path && !srv->config_path) ? srv_no_memory() : NULL;
  if (err) cJSON_Delete(doc);
  else err = config_parse(doc, srv->base_dir, &cfg);
  if (!err) {
    /* The settings the listener starts with; changes to them need a restart. */
    srv->settings = srv->doc_settings = cfg->settings;
    srv->settings.listen = strdup(cfg->settings.listen);
    srv->settings.access_log = strdup(cfg->settings.access_log);
    srv->doc_settings.listen = strdup(cfg->settings.listen);
    srv->doc_settings.access_log = strdup(cfg->settings.access_log);
    const char *kv = cfg->settings.keyvalue_default;
    srv->settings.keyvalue_default = kv ? strdup(kv) : NULL;
    srv->doc_settings.keyvalue_default = kv ? strdup(kv) : NULL;
    if (!srv->settings.listen || !srv->settings.access_log || !srv->doc_settings.listen ||
        !srv->doc_settings.access_log ||
        (kv && (!srv->settings.keyvalue_default || !srv->doc_settings.keyvalue_default)))
      err = srv_no_memory();
  }
  if (!err) err = set_keyvalue_default(srv, cfg->settings.keyvalue_default);
  /* Filters load with the first state: their host comes first (one slot per
     listener thread, and one for the TCP listeners). */
  if (!err) err = pw_start(srv, cfg->settings.workers + 1, &srv->pw);
  srv_state *st = NULL;
  if (!err) err = state_build(srv, cfg, &st);
  else config_free(cfg);
  if (err) {
    wp_server_free(srv);
    return err;
  }
  state_publish(srv, st);
  *out = srv;
  return NULL;
}

wp_error *wp_server_new(wp_engine *engine, const char *config_json, size_t len,
                        const char *base_dir, wp_server **out) {
  if (!out || !config_json) return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_new: NULL argument");
  *out = NULL;
  cJSON *doc = cJSON_ParseWithLength(config_json, len);
  if (!doc) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = at && at >= config_json && at <= config_json + len ? (size_t)(at - config_json)
                                                                    : 0;
    return wp_error_new(WP_ERR_BAD_INPUT, "server config: not valid JSON (near byte %zu)", off);
  }
  return make(engine, doc, base_dir, NULL, out);
}

wp_error *wp_server_new_from_file(wp_engine *engine, const char *path, wp_server **out) {
  if (!out || !path)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_new_from_file: NULL argument");
  *out = NULL;
  char *real = realpath(path, NULL);
  if (!real) return wp_error_new(WP_ERR_IO, "server config %s: %s", path, strerror(errno));
  size_t len;
  char *text = srv_read_file(real, &len);
  if (!text) {
    wp_error *err = wp_error_new(WP_ERR_IO, "server config %s: %s", path,
                                 errno == EFBIG ? "over 64 MiB" : strerror(errno));
    free(real);
    return err;
  }
  cJSON *doc = cJSON_ParseWithLength(text, len);
  wp_error *err = NULL;
  if (!doc) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
    err = wp_error_new(WP_ERR_BAD_INPUT, "server config %s: not valid JSON (near byte %zu)", path,
                       off);
  }
  free(text);
  if (!err) {
    char *dcopy = strdup(real);
    err = dcopy ? make(engine, doc, dirname(dcopy), real, out) : srv_no_memory();
    free(dcopy);
  }
  free(real);
  return err;
}

wp_error *wp_server_add_native_route(wp_server *srv, const char *path, wp_server_native_fn fn,
                                     void *user_data) {
  if (!srv || !path || path[0] != '/' || !fn)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_add_native_route: a path starting with '/' "
                                          "and a function are required");
  if (srv->started)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_add_native_route: the server has started");
  native_route *n = realloc(srv->natives, (srv->nnatives + 1) * sizeof *n);
  if (!n) return srv_no_memory();
  srv->natives = n;
  native_route *r = &n[srv->nnatives];
  *r = (native_route){.path = strdup(path), .fn = fn, .user_data = user_data};
  if (!r->path || !(r->stats = metrics_route(&srv->metrics, path))) {
    free(r->path);
    return srv_no_memory();
  }
  srv->nnatives++;
  return NULL;
}

wp_error *wp_server_set_control(wp_server *srv, const char *listen, const char *token) {
  if (!srv || !listen)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_control: NULL argument");
  if (srv->started)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_control: the server has started");
  bool unix_sock = strncmp(listen, "unix:", 5) == 0;
  if (unix_sock && !listen[5])
    return wp_error_new(WP_ERR_BAD_INPUT, "control listen: unix: needs a path");
  if (!unix_sock && (!token || strlen(token) < 16))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "control listen %s: TCP control needs a bearer token of at least 16 "
                        "characters (or use unix:PATH)",
                        listen);
  free(srv->control_listen);
  free(srv->control_token);
  srv->control_listen = strdup(listen);
  srv->control_token = token && *token ? strdup(token) : NULL;
  if (!srv->control_listen || (token && *token && !srv->control_token)) return srv_no_memory();
  return NULL;
}

wp_error *wp_server_set_listen(wp_server *srv, const char *listen) {
  if (!srv || !listen || !strchr(listen, ':'))
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_listen: expected HOST:PORT");
  if (srv->started) return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_listen: already started");
  char *l = strdup(listen);
  if (!l) return srv_no_memory();
  free(srv->settings.listen);
  srv->settings.listen = l;
  return NULL;
}

wp_error *wp_server_set_workers(wp_server *srv, unsigned workers) {
  if (!srv || workers < 1 || workers > 256)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_workers: 1 to 256 workers");
  if (srv->started) return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_set_workers: already started");
  srv->settings.workers = workers;
  return NULL;
}

wp_error *wp_server_start(wp_server *srv) {
  if (!srv) return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_start: NULL server");
  if (srv->started) return wp_error_new(WP_ERR_BAD_INPUT, "wp_server_start: already started");
  wp_error *err = accesslog_open(srv);
  if (!err) err = listener_start(srv);
  if (!err) {
    srv->started = true;
    err = tcp_start(srv);
  }
  if (!err) err = control_start(srv);
  if (!err && srv->settings.watch) err = watch_start(srv);
  if (err) {
    wp_server_stop(srv, 0);
    return err;
  }
  return NULL;
}

uint16_t wp_server_get_port(const wp_server *srv) { return srv ? srv->port : 0; }

const char *wp_server_get_listen(const wp_server *srv) { return srv ? srv->settings.listen : NULL; }

const char *wp_server_get_keyvalue_default(const wp_server *srv) {
  return srv ? srv->kv_default : NULL;
}

uint16_t wp_server_get_control_port(const wp_server *srv) { return srv ? srv->control_port : 0; }

char *wp_server_metrics(wp_server *srv) { return srv ? metrics_render(srv) : NULL; }

unsigned wp_server_stop(wp_server *srv, uint32_t grace_ms) {
  if (!srv || !srv->started) return 0;
  if (grace_ms == WP_SERVER_GRACE_CONFIGURED) grace_ms = srv->settings.grace_ms;
  watch_stop(srv);
  control_stop(srv);
  listener_quiesce(srv);
  uint64_t end = srv_now_ns() + (uint64_t)grace_ms * 1000000u;
  while (atomic_load(&srv->in_flight) && srv_now_ns() < end) {
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
  }
  unsigned interrupted = 0;
  if (atomic_load(&srv->in_flight)) {
    pw_resume_all(srv->pw); /* requests a filter paused answer 503 */
    interrupted = listener_interrupt_all(srv);
    /* Interrupted calls end within a timer tick; give them a moment to answer. */
    uint64_t end2 = srv_now_ns() + 1000000000u;
    while (atomic_load(&srv->in_flight) && srv_now_ns() < end2) {
      struct timespec ts = {0, 5 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  tcp_stop(srv);
  listener_stop(srv);
  accesslog_close(srv);
  srv->started = false;
  return interrupted;
}

static void remove_state_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char p[4400];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

void wp_server_free(wp_server *srv) {
  if (!srv) return;
  wp_server_stop(srv, 0);
  pthread_mutex_lock(&srv->state_lock);
  srv_state *st = srv->state;
  srv->state = NULL;
  pthread_mutex_unlock(&srv->state_lock);
  state_release(st);
  state_free_plugins(srv);
  pw_stop(srv->pw);
  for (size_t i = 0; i < srv->nnatives; i++) free(srv->natives[i].path);
  free(srv->natives);
  if (srv->state_dir) remove_state_dir(srv->state_dir);
  free(srv->state_dir);
  free(srv->kv_default);
  free(srv->control_listen);
  free(srv->control_token);
  free(srv->settings.listen);
  free(srv->settings.access_log);
  free(srv->doc_settings.listen);
  free(srv->doc_settings.access_log);
  free(srv->settings.keyvalue_default);
  free(srv->doc_settings.keyvalue_default);
  free(srv->base_dir);
  free(srv->config_path);
  metrics_free(&srv->metrics);
  pthread_mutex_destroy(&srv->state_lock);
  pthread_mutex_destroy(&srv->write_lock);
  pthread_mutex_destroy(&srv->conn_lock);
  free(srv);
}
