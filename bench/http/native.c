/*
 * native.c - row (a) of `make bench-http`: the hello handler written in C and
 * compiled into a program that embeds the server (include/wasmplug/server.h),
 * so a request costs the HTTP layer and nothing else. The ceiling the plugin
 * rows are compared with.
 *
 *   wasmplug-bench-http-native [--listen HOST:PORT] [--workers N]
 *                              [--filter FILE[,config=JSON-FILE]]... [--echo HEADER]
 *
 * Serves /hello (exact path, any method) the way every hello handler in the project
 * answers: 200, `content-type: text/plain; charset=utf-8`,
 * `x-wasmplug-example: native`, the request body echoed for POST and PUT,
 * else "Hello from C (native)! You asked for GET /hello\n". Prints
 * "wasmplug serve: listening on http://HOST:PORT" on stderr when ready, like
 * `wasmplug serve`, and exits 0 on SIGTERM or SIGINT.
 *
 * --filter (repeatable: a chain, in the given order) puts a Proxy-Wasm filter
 * in front of the handler: the config gets "filters" {"f1": {"path": FILE,
 * "config_file": JSON-FILE}, ...} and "filter_chain" ["f1", ...], as
 * `wasmplug serve --filter` does. --echo HEADER adds the response header
 * `x-bench-echo`: the value of the request header HEADER as the handler got
 * it ("-" without one), so a check can see what the filters made of the
 * request; the rows behind filters use it, with or without a filter, so they
 * all run the same handler.
 *
 * Built by bench/http/run.py (cc, against build/lib).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <wasmplug.h>
#include <wasmplug/server.h>

static const char CONTENT_TYPE[] = "text/plain; charset=utf-8";
static const char VARIANT[] = "native";

/* A malloc'd header (the server frees the response with wp_http_response_clear). */
static bool set_header(wp_http_header *h, const char *name, const char *value) {
  size_t nlen = strlen(name), vlen = strlen(value);
  char *n = malloc(nlen + 1);
  uint8_t *v = malloc(vlen + 1);
  if (!n || !v) {
    free(n);
    free(v);
    return false;
  }
  memcpy(n, name, nlen + 1);
  memcpy(v, value, vlen + 1);
  *h = (wp_http_header){.name = n, .name_len = nlen, .value = v, .value_len = vlen};
  return true;
}

static void hello(void *user_data, const wp_http_request *req, wp_http_response *resp) {
  const char *echo_name = user_data; /* --echo HEADER, or NULL */
  bool echo = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0;
  size_t len;
  uint8_t *body;
  if (echo) {
    len = req->body_len;
    body = malloc(len ? len : 1);
    if (body && len) memcpy(body, req->body, len);
  } else {
    static const char fmt[] = "Hello from C (native)! You asked for %s %s\n";
    int n = snprintf(NULL, 0, fmt, req->method, req->path_with_query);
    len = n > 0 ? (size_t)n : 0;
    body = malloc(len + 1);
    if (body) snprintf((char *)body, len + 1, fmt, req->method, req->path_with_query);
  }
  size_t nh = echo_name ? 3 : 2;
  char echo_value[256] = "-";
  if (echo_name) {
    size_t elen = strlen(echo_name);
    for (size_t i = 0; i < req->n_headers; i++) {
      const wp_http_header *h = &req->headers[i];
      if (h->name_len == elen && strncasecmp(h->name, echo_name, elen) == 0) {
        size_t vlen = h->value_len < sizeof echo_value - 1 ? h->value_len : sizeof echo_value - 1;
        memcpy(echo_value, h->value, vlen);
        echo_value[vlen] = '\0';
        break;
      }
    }
  }
  wp_http_header *headers = calloc(nh, sizeof *headers);
  if (!body || !headers || !set_header(&headers[0], "content-type", CONTENT_TYPE) ||
      !set_header(&headers[1], "x-wasmplug-example", VARIANT) ||
      (echo_name && !set_header(&headers[2], "x-bench-echo", echo_value))) {
    free(body);
    if (headers) {
      for (size_t i = 0; i < nh; i++) {
        free((void *)headers[i].name);
        free((void *)headers[i].value);
      }
    }
    free(headers);
    resp->status = 0; /* the server answers 500 */
    return;
  }
  resp->status = 200;
  resp->headers = headers;
  resp->n_headers = nh;
  resp->body = body;
  resp->body_len = len;
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--listen HOST:PORT] [--workers N] [--filter FILE[,config=JSON-FILE]]...\n"
          "          [--echo HEADER]\n",
          argv0);
  return 2;
}

/*
 * The server config: listen, workers, no access log, no watching, and the
 * --filter chain (specs "FILE" or "FILE,config=JSON-FILE"). Malloc'd JSON
 * text, or NULL (a message on stderr).
 */
static char *make_config(const char *listen, long workers, char **filters, int nfilters) {
  cJSON *doc = cJSON_CreateObject();
  if (!doc) return NULL;
  bool ok = cJSON_AddStringToObject(doc, "listen", listen) &&
            cJSON_AddNumberToObject(doc, "workers", (double)workers) &&
            /* No access log, as the plugin rows run `wasmplug serve --access-log off`. */
            cJSON_AddStringToObject(doc, "access_log", "off") &&
            cJSON_AddFalseToObject(doc, "watch");
  if (ok && nfilters > 0) {
    cJSON *defs = cJSON_AddObjectToObject(doc, "filters");
    cJSON *chain = cJSON_AddArrayToObject(doc, "filter_chain");
    ok = defs && chain;
    for (int i = 0; ok && i < nfilters; i++) {
      char *spec = filters[i];
      /* The last ",config=" (a file name may have commas). */
      char *at = NULL;
      for (char *p = strstr(spec, ",config="); p; p = strstr(p + 1, ",config=")) at = p;
      const char *config = NULL;
      if (at) {
        *at = '\0';
        config = at + strlen(",config=");
      }
      if (!*spec || (config && !*config)) {
        fprintf(stderr, "wasmplug-bench-http-native: --filter: expected FILE[,config=JSON-FILE]\n");
        cJSON_Delete(doc);
        return NULL;
      }
      char name[32];
      snprintf(name, sizeof name, "f%d", i + 1);
      cJSON *f = cJSON_AddObjectToObject(defs, name);
      cJSON *item = cJSON_CreateString(name);
      ok = f && item && cJSON_AddStringToObject(f, "path", spec) &&
           (!config || cJSON_AddStringToObject(f, "config_file", config));
      if (item && !(ok && cJSON_AddItemToArray(chain, item))) {
        cJSON_Delete(item);
        ok = false;
      }
    }
  }
  char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (!text) fprintf(stderr, "wasmplug-bench-http-native: out of memory\n");
  return text;
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:8080";
  const char *echo = NULL;
  long workers = 2;
  char **filters = calloc((size_t)argc, sizeof *filters);
  int nfilters = 0;
  if (!filters) return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen = argv[++i];
    else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) filters[nfilters++] = argv[++i];
    else if (strcmp(argv[i], "--echo") == 0 && i + 1 < argc && argv[i + 1][0]) echo = argv[++i];
    else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      char *end;
      workers = strtol(argv[++i], &end, 10);
      if (*end || workers < 1 || workers > 256) return usage(argv[0]);
    } else return usage(argv[0]);
  }

  /* Block the stop signals before any thread starts, then wait for them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  char *config = make_config(listen, workers, filters, nfilters);
  free(filters);
  if (!config) return 1;
  wp_engine *engine = NULL;
  wp_server *srv = NULL;
  wp_error *err = wp_engine_new(NULL, &engine);
  if (!err) err = wp_server_new(engine, config, strlen(config), NULL, &srv);
  cJSON_free(config);
  if (!err) err = wp_server_add_native_route(srv, "/hello", hello, (void *)echo);
  if (!err) err = wp_server_start(srv);
  if (err) {
    fprintf(stderr, "wasmplug-bench-http-native: %s\n", wp_error_get_message(err));
    wp_error_free(err);
    if (srv) wp_server_free(srv);
    if (engine) wp_engine_free(engine);
    return 1;
  }
  char host[256];
  snprintf(host, sizeof host, "%s", listen);
  char *colon = strrchr(host, ':');
  if (colon) *colon = '\0';
  fprintf(stderr, "wasmplug serve: listening on http://%s:%u\n", host, wp_server_get_port(srv));

  int sig = 0;
  sigwait(&stop, &sig);
  wp_server_stop(srv, 1000);
  wp_server_free(srv);
  wp_engine_free(engine);
  return 0;
}
