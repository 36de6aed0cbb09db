/*
 * cases_httpout.c - the outbound HTTP capability (src/host/http/): a GET
 * from a core plugin (tests/httpout's guest, through wasmplug.http_request)
 * to a local server, beside the same GET made directly with libcurl in the
 * same run. Both open a fresh connection per request (the server answers
 * with Connection: close), as the capability does, so the difference is the
 * cost of the plugin's call, the allowlist check and the copies.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define HTTPOUT_GUEST WP_BENCH_PLUGINS "/httpout-guest.wasm"

/* ---- a local server: "ok" to every request, then close ---------------------- */

typedef struct upstream {
  int fd, port;
  pthread_t thread;
  atomic_bool stop;
} upstream;

static void *serve(void *arg) {
  upstream *u = arg;
  static const char answer[] =
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  while (!atomic_load(&u->stop)) {
    int c = accept(u->fd, NULL, NULL);
    if (c < 0) continue;
    char buf[4096];
    size_t have = 0;
    while (have < sizeof buf - 1) { /* the request's head; GETs have no body */
      ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
      if (n <= 0) break;
      have += (size_t)n;
      buf[have] = '\0';
      if (strstr(buf, "\r\n\r\n")) break;
    }
    if (write(c, answer, sizeof answer - 1) < 0) { /* the client went away: nothing to do */
    }
    close(c);
  }
  return NULL;
}

static bool upstream_start(upstream *u) {
  *u = (upstream){.fd = socket(AF_INET, SOCK_STREAM, 0)};
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int one = 1;
  setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(u->fd, 64) != 0 ||
      getsockname(u->fd, (struct sockaddr *)&a, &len) != 0) {
    if (u->fd >= 0) close(u->fd);
    return false;
  }
  u->port = ntohs(a.sin_port);
  return pthread_create(&u->thread, NULL, serve, u) == 0;
}

static void upstream_stop(upstream *u) {
  atomic_store(&u->stop, true);
  /* Wakes the accept with one last connection. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)u->port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0) close(s);
  else if (s >= 0) close(s);
  pthread_join(u->thread, NULL);
  close(u->fd);
}

/* ---- the two ways ------------------------------------------------------------- */

typedef struct get_ctx {
  char url[64];
  char cmd[96]; /* the guest's input: "GET URL\n\n" */
  wp_instance *inst;
} get_ctx;

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return size * n;
}

static wp_error *run_curl(void *ctx, size_t n) {
  get_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    CURL *h = curl_easy_init();
    if (!h) return wp_error_new(WP_ERR_HOST, "bench: curl_easy_init failed");
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || status != 200)
      return wp_error_new(WP_ERR_HOST, "bench: curl GET %s: %s (status %ld)", c->url,
                          curl_easy_strerror(rc), status);
  }
  return NULL;
}

static wp_error *run_plugin(void *ctx, size_t n) {
  get_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *out = NULL;
    size_t len = 0;
    wp_error *err = wp_instance_call_bytes(c->inst, "fetch", c->cmd, strlen(c->cmd), &out, &len);
    if (err) return err;
    if (len < 10 || memcmp(out, "status=200", 10) != 0)
      return wp_error_new(WP_ERR_HOST, "bench: the plugin's GET answered %.*s",
                          (int)(len < 200 ? len : 200), (const char *)out);
  }
  return NULL;
}

static wp_error *load(wp_engine *e, int port, wp_plugin **p, wp_instance **inst) {
  char json[256];
  snprintf(json, sizeof json,
           "{\"name\": \"httpout-bench\", \"capabilities\": {\"http\": "
           "{\"allowed_hosts\": [\"http://127.0.0.1:%d\"]}}}",
           port);
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (!err) err = wp_plugin_load(e, HTTPOUT_GUEST, m, p);
  wp_manifest_free(m);
  if (!err) err = wp_instance_new(*p, inst);
  return err;
}

wp_error *bench_httpout(bench_env *env) {
  upstream u;
  if (!upstream_start(&u)) return wp_error_new(WP_ERR_IO, "bench: cannot start a local server");
  get_ctx c = {0};
  snprintf(c.url, sizeof c.url, "http://127.0.0.1:%d/", u.port);
  snprintf(c.cmd, sizeof c.cmd, "GET %s\n\n", c.url);
  wp_plugin *p = NULL;
  wp_error *err = load(env->engine, u.port, &p, &c.inst);
  if (!err) err = run_plugin(&c, 1); /* one real GET before timing */
  bench_case gets[] = {
      {"http_out_get_libcurl", "us/op", 1e3, bench_batch(200), bench_reps(7), 1, NULL, run_curl,
       NULL, &c},
      {"http_out_get_plugin", "us/op", 1e3, bench_batch(200), bench_reps(7), 1, NULL, run_plugin,
       NULL, &c},
  };
  if (!err) err = bench_measure_group(gets, COUNT(gets));
  if (!err) bench_judge("http_out_get_plugin", "http_out_get_libcurl", TARGET_NONE, 0);
  wp_instance_free(c.inst);
  wp_plugin_free(p);
  upstream_stop(&u);
  return err;
}
