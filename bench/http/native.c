/*
 * native.c - row (a) of `make bench-http`: the hello handler written in C and
 * compiled into a program that embeds the server (include/wasmplug/server.h),
 * so a request costs the HTTP layer and nothing else. The ceiling the plugin
 * rows are compared with.
 *
 *   wasmplug-bench-http-native [--listen HOST:PORT] [--workers N]
 *
 * Serves /hello (exact path, any method) the way every hello handler in the project
 * answers: 200, `content-type: text/plain; charset=utf-8`,
 * `x-wasmplug-example: native`, the request body echoed for POST and PUT,
 * else "Hello from C (native)! You asked for GET /hello\n". Prints
 * "wasmplug serve: listening on http://HOST:PORT" on stderr when ready, like
 * `wasmplug serve`, and exits 0 on SIGTERM or SIGINT.
 *
 * Built by bench/http/run.py (cc, against build/lib).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  (void)user_data;
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
  wp_http_header *headers = calloc(2, sizeof *headers);
  if (!body || !headers || !set_header(&headers[0], "content-type", CONTENT_TYPE) ||
      !set_header(&headers[1], "x-wasmplug-example", VARIANT)) {
    free(body);
    if (headers) {
      free((void *)headers[0].name);
      free((void *)headers[0].value);
    }
    free(headers);
    resp->status = 0; /* the server answers 500 */
    return;
  }
  resp->status = 200;
  resp->headers = headers;
  resp->n_headers = 2;
  resp->body = body;
  resp->body_len = len;
}

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--listen HOST:PORT] [--workers N]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:8080";
  long workers = 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen = argv[++i];
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

  char config[512];
  /* No access log, as the plugin rows run `wasmplug serve --access-log off`. */
  snprintf(config, sizeof config,
           "{\"listen\": \"%s\", \"workers\": %ld, \"access_log\": \"off\", \"watch\": false}",
           listen, workers);
  wp_engine *engine = NULL;
  wp_server *srv = NULL;
  wp_error *err = wp_engine_new(NULL, &engine);
  if (!err) err = wp_server_new(engine, config, strlen(config), NULL, &srv);
  if (!err) err = wp_server_add_native_route(srv, "/hello", hello, NULL);
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
