/*
 * control.c - the control API, the NGINX Unit way: the live config is one
 * JSON document, read and changed by path.
 *
 *   GET    /config[/a/b/0]   the document or a part of it
 *   PUT    /config[/a/b/0]   replaces that part (or adds a member)
 *   POST   /config/a/b       appends to the array there
 *   DELETE /config/a/b/0     removes that part
 *   PUT    /plugins/NAME     uploads wasm bytes as plugin NAME
 *   DELETE /plugins/NAME     removes plugin NAME (no route may use it)
 *   GET    /metrics          Prometheus text
 *
 * Every change is made on a copy of the document and applied whole
 * (state.c): it takes effect atomically or not at all, and a refusal says
 * why in the response body. The listener is off unless configured: on a
 * Unix socket whose file mode (0600) is the access rule, or on loopback TCP
 * with a bearer token compared in constant time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "framing.h"
#include "server.h"

#define MAX_CONTROL_BODY ((size_t)256 << 20)

/* ---- answers ------------------------------------------------------------------------ */

static void answer(int *status, char **response, int code, const char *key, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  if (o) cJSON_AddStringToObject(o, key, msg);
  *response = o ? cJSON_Print(o) : NULL;
  cJSON_Delete(o);
  *status = *response ? code : 500;
}

static void answer_error(int *status, char **response, int code, wp_error *err) {
  answer(status, response, code, "error", wp_error_get_message(err));
  wp_error_free(err);
}

/* ---- paths in the document ------------------------------------------------------------ */

/* Splits "/a/b/0" into at most 64 segments, in place. */
static size_t split(char *path, char **seg) {
  size_t n = 0;
  for (char *s = strtok(path, "/"); s && n < 64; s = strtok(NULL, "/")) seg[n++] = s;
  return n;
}

static bool index_of(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 0 || v > 1000000) return false;
  *out = (int)v;
  return true;
}

/* The item at seg[0..n) from root, or NULL. */
static cJSON *walk(cJSON *root, char **seg, size_t n) {
  cJSON *at = root;
  for (size_t i = 0; at && i < n; i++) {
    int k;
    if (cJSON_IsArray(at)) at = index_of(seg[i], &k) ? cJSON_GetArrayItem(at, k) : NULL;
    else if (cJSON_IsObject(at)) at = cJSON_GetObjectItemCaseSensitive(at, seg[i]);
    else at = NULL;
  }
  return at;
}

/* Applies a new document; answers for it. */
static void apply(wp_server *srv, cJSON *doc, int *status, char **response) {
  wp_error *err = state_apply_doc(srv, doc, false);
  if (err) answer_error(status, response, 422, err);
  else answer(status, response, 200, "success", "reconfiguration done");
}

static void config_request(wp_server *srv, const char *method, char *path, const uint8_t *body,
                           size_t body_len, int *status, char **response) {
  char *seg[64];
  size_t n = split(path, seg);
  srv_state *st = state_acquire(srv);
  if (!st) {
    answer(status, response, 503, "error", "no configuration");
    return;
  }
  cJSON *doc = cJSON_Duplicate(st->config->doc, 1);
  state_release(st);
  if (!doc) {
    answer(status, response, 500, "error", "out of memory");
    return;
  }
  cJSON *target = walk(doc, seg, n);
  if (strcmp(method, "GET") == 0) {
    if (!target) answer(status, response, 404, "error", "nothing at that path in the config");
    else if (!(*response = cJSON_Print(target))) *status = 500;
    else *status = 200;
    cJSON_Delete(doc);
    return;
  }
  if (strcmp(method, "DELETE") == 0) {
    cJSON *parent = n ? walk(doc, seg, n - 1) : NULL;
    int k;
    if (!n) answer(status, response, 400, "error", "the whole config cannot be deleted");
    else if (!target) answer(status, response, 404, "error", "nothing at that path in the config");
    if (!n || !target) {
      cJSON_Delete(doc);
      return;
    }
    if (cJSON_IsArray(parent) && index_of(seg[n - 1], &k)) cJSON_DeleteItemFromArray(parent, k);
    else cJSON_DeleteItemFromObjectCaseSensitive(parent, seg[n - 1]);
    apply(srv, doc, status, response);
    return;
  }
  bool put = strcmp(method, "PUT") == 0, post = strcmp(method, "POST") == 0;
  if (!put && !post) {
    cJSON_Delete(doc);
    answer(status, response, 405, "error", "use GET, PUT, POST or DELETE");
    return;
  }
  cJSON *value = cJSON_ParseWithLength((const char *)body, body_len);
  if (!value) {
    cJSON_Delete(doc);
    answer(status, response, 400, "error", "the request body is not valid JSON");
    return;
  }
  if (post) {
    if (!cJSON_IsArray(target)) {
      cJSON_Delete(value);
      cJSON_Delete(doc);
      answer(status, response, 400, "error", "POST appends to an array; that path is not one");
      return;
    }
    cJSON_AddItemToArray(target, value);
    apply(srv, doc, status, response);
    return;
  }
  if (!n) { /* PUT /config: the whole document */
    cJSON_Delete(doc);
    apply(srv, value, status, response);
    return;
  }
  cJSON *parent = walk(doc, seg, n - 1);
  int k;
  bool ok = false;
  if (cJSON_IsObject(parent)) {
    ok = target ? cJSON_ReplaceItemInObjectCaseSensitive(parent, seg[n - 1], value)
                : cJSON_AddItemToObject(parent, seg[n - 1], value);
  } else if (cJSON_IsArray(parent) && index_of(seg[n - 1], &k) && target) {
    ok = cJSON_ReplaceItemInArray(parent, k, value);
  }
  if (!ok) {
    cJSON_Delete(value);
    cJSON_Delete(doc);
    answer(status, response, 404, "error",
           "no such place in the config (PUT replaces a member or an array element, or adds a "
           "member to an object)");
    return;
  }
  apply(srv, doc, status, response);
}

/* ---- uploads ---------------------------------------------------------------------------- */

static wp_error *ensure_state_dir(wp_server *srv) {
  if (srv->state_dir) return NULL;
  const char *base = getenv("TMPDIR");
  char tmpl[4096];
  snprintf(tmpl, sizeof tmpl, "%s/wasmplug-serve-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpl))
    return wp_error_new(WP_ERR_IO, "cannot make a directory for uploads: %s", strerror(errno));
  if (!(srv->state_dir = strdup(tmpl))) return srv_no_memory();
  return NULL;
}

static void upload(wp_server *srv, const char *name, const uint8_t *body, size_t len, int *status,
                   char **response) {
  if (!srv_valid_plugin_name(name)) {
    answer(status, response, 400, "error",
           "a plugin name is 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    return;
  }
  pthread_mutex_lock(&srv->write_lock);
  wp_error *err = ensure_state_dir(srv);
  static atomic_uint seq;
  char file[4200];
  if (!err) {
    snprintf(file, sizeof file, "%s/%s.%u.wasm", srv->state_dir, name, atomic_fetch_add(&seq, 1));
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t off = 0;
    while (fd >= 0 && off < len) {
      ssize_t w = write(fd, body + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    if (fd < 0 || off < len || close(fd) != 0)
      err = wp_error_new(WP_ERR_IO, "cannot store the upload: %s", strerror(errno));
  }
  pthread_mutex_unlock(&srv->write_lock);
  if (err) {
    answer_error(status, response, 500, err);
    return;
  }
  srv_state *st = state_acquire(srv);
  cJSON *doc = st ? cJSON_Duplicate(st->config->doc, 1) : cJSON_CreateObject();
  state_release(st);
  cJSON *plugins = doc ? cJSON_GetObjectItemCaseSensitive(doc, "plugins") : NULL;
  if (doc && !plugins) plugins = cJSON_AddObjectToObject(doc, "plugins");
  cJSON *entry = cJSON_IsObject(plugins) ? cJSON_GetObjectItemCaseSensitive(plugins, name) : NULL;
  if (cJSON_IsObject(plugins) && !cJSON_IsObject(entry)) {
    cJSON_DeleteItemFromObjectCaseSensitive(plugins, name);
    entry = cJSON_AddObjectToObject(plugins, name);
  }
  if (!entry) {
    cJSON_Delete(doc);
    unlink(file);
    answer(status, response, 500, "error", "out of memory");
    return;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(entry, "path");
  cJSON_DeleteItemFromObjectCaseSensitive(entry, "sha256");
  cJSON_AddStringToObject(entry, "path", file);
  err = state_apply_doc(srv, doc, false);
  if (err) {
    unlink(file);
    answer_error(status, response, 422, err);
    return;
  }
  answer(status, response, 200, "success", "plugin stored and applied");
}

/* ---- the entry point ---------------------------------------------------------------------- */

void wp_server_control(wp_server *srv, const char *method, const char *path, const uint8_t *body,
                       size_t body_len, int *status, char **response) {
  *response = NULL;
  *status = 500;
  if (!method || !path) {
    answer(status, response, 400, "error", "method and path are required");
    return;
  }
  if (strcmp(path, "/metrics") == 0) {
    if (strcmp(method, "GET") != 0) {
      answer(status, response, 405, "error", "metrics are read with GET");
      return;
    }
    *response = metrics_render(srv);
    *status = *response ? 200 : 500;
    return;
  }
  char *copy = strdup(path);
  if (!copy) return;
  if (strcmp(copy, "/config") == 0 || strncmp(copy, "/config/", 8) == 0) {
    config_request(srv, method, copy + 7, body, body_len, status, response);
  } else if (strncmp(copy, "/plugins/", 9) == 0 && !strchr(copy + 9, '/')) {
    const char *name = copy + 9;
    if (strcmp(method, "PUT") == 0) {
      upload(srv, name, body, body_len, status, response);
    } else if (strcmp(method, "DELETE") == 0 || strcmp(method, "GET") == 0) {
      char cpath[128];
      snprintf(cpath, sizeof cpath, "/plugins/%.64s", name);
      config_request(srv, method, cpath, body, body_len, status, response);
    } else {
      answer(status, response, 405, "error", "use PUT (upload), GET or DELETE");
    }
  } else {
    answer(status, response, 404, "error",
           "no such control path (/config[/...], /plugins/NAME, /metrics)");
  }
  free(copy);
}

/* ---- the listener ----------------------------------------------------------------------- */

typedef struct control_req {
  uint8_t *body;
  size_t len, cap;
  bool too_big;
} control_req;

/* Constant time in the token's content: every byte is compared. */
static bool token_ok(const char *given, const char *want) {
  size_t gl = given ? strlen(given) : 0, wl = strlen(want);
  unsigned char diff = (unsigned char)(gl != wl);
  for (size_t i = 0; i < wl; i++) diff |= (unsigned char)((i < gl ? given[i] : 0) ^ want[i]);
  return diff == 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, char *text, const char *type) {
  struct MHD_Response *r = text ? MHD_create_response_from_buffer_with_free_callback(strlen(text),
                                                                                     text, free)
                                : MHD_create_response_from_buffer(0, (void *)"",
                                                                  MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(r, "content-type", type);
  if (status == 401) MHD_add_response_header(r, "www-authenticate", "Bearer");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_control(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  wp_server *srv = cls;
  control_req *cr = *con_cls;
  if (!cr) {
    if (!(cr = calloc(1, sizeof *cr))) return MHD_NO;
    *con_cls = cr;
    /* The body is not read if its length is ambiguous (framing.c). */
    enum MHD_Result refused;
    int status;
    if (srv_framing_refused(c, &status, &refused)) return refused;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (cr->too_big || cr->len + n > MAX_CONTROL_BODY) {
      cr->too_big = true;
      return MHD_YES;
    }
    if (cr->len + n > cr->cap) {
      size_t cap = cr->cap ? cr->cap : 4096;
      while (cap < cr->len + n) cap *= 2;
      uint8_t *b = realloc(cr->body, cap);
      if (!b) return MHD_NO;
      cr->body = b;
      cr->cap = cap;
    }
    memcpy(cr->body + cr->len, upload_data, n);
    cr->len += n;
    return MHD_YES;
  }
  if (srv->control_token) {
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "authorization");
    const char *given = auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    if (!token_ok(given, srv->control_token))
      return reply(c, 401, strdup("{\"error\": \"a valid bearer token is required\"}\n"),
                   "application/json");
  }
  if (cr->too_big)
    return reply(c, 413, strdup("{\"error\": \"request body over 256 MiB\"}\n"),
                 "application/json");
  int status;
  char *text;
  wp_server_control(srv, method, url, cr->body, cr->len, &status, &text);
  return reply(c, status, text,
               strcmp(url, "/metrics") == 0 && status == 200
                   ? "text/plain; version=0.0.4; charset=utf-8"
                   : "application/json");
}

static void on_control_done(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  control_req *cr = *con_cls;
  if (cr) free(cr->body);
  free(cr);
  *con_cls = NULL;
}

static bool is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, &in6addr_loopback,
                  sizeof in6addr_loopback) == 0;
  return false;
}

static wp_error *bind_tcp(wp_server *srv, int *out) {
  const char *l = srv->control_listen;
  struct sockaddr_storage ss;
  socklen_t sl;
  wp_error *err = srv_resolve("control listen", l, &ss, &sl);
  if (err) return err;
  if (!is_loopback((const struct sockaddr *)&ss))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "control listen '%s': TCP control is loopback only (127.0.0.1 or [::1]); "
                        "use unix:PATH otherwise",
                        l);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (const struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return wp_error_new(WP_ERR_IO, "control listen '%s': %s", l, strerror(e));
  }
  sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
    srv->control_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
  *out = fd;
  return NULL;
}

static wp_error *bind_unix(wp_server *srv, const char *path, int *out) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return wp_error_new(WP_ERR_BAD_INPUT, "control socket path too long: %s", path);
  strcpy(sa.sun_path, path);
  struct stat st;
  /* A stale socket from an earlier run is replaced; any other file is not. */
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return wp_error_new(WP_ERR_IO, "control socket %s: a file that is not a socket is there",
                          path);
    unlink(path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  /* Nobody can connect before listen(), so the mode is set before anyone can use it. */
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0600) != 0 ||
      listen(fd, 64) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return wp_error_new(WP_ERR_IO, "control socket %s: %s", path, strerror(e));
  }
  if (!(srv->control_unix_path = strdup(path))) {
    close(fd);
    unlink(path);
    return srv_no_memory();
  }
  *out = fd;
  return NULL;
}

wp_error *control_start(wp_server *srv) {
  if (!srv->control_listen) return NULL;
  int fd = -1;
  bool unix_sock = strncmp(srv->control_listen, "unix:", 5) == 0;
  wp_error *err = unix_sock ? bind_unix(srv, srv->control_listen + 5, &fd) : bind_tcp(srv, &fd);
  if (err) return err;
  srv->control_daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_control, srv,
      MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_control_done, srv,
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 64u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)1 << 20, MHD_OPTION_END);
  if (!srv->control_daemon) {
    close(fd);
    return wp_error_new(WP_ERR_IO, "cannot start the control listener on %s", srv->control_listen);
  }
  return NULL;
}

void control_stop(wp_server *srv) {
  if (srv->control_daemon) MHD_stop_daemon(srv->control_daemon);
  srv->control_daemon = NULL;
  if (srv->control_unix_path) unlink(srv->control_unix_path);
  free(srv->control_unix_path);
  srv->control_unix_path = NULL;
}
