/*
 * test_httpclient.c - the server's asynchronous HTTP client (server/
 * httpclient.c) against a real HTTP server: libmicrohttpd inside this test,
 * a thread per connection, counting the connections it accepts.
 *
 *   /echo          201, "x-test: yes", "X-Mixed-Case: V"; the body is
 *                  "METHOD PATH x-in=VALUE body=BODY"
 *   /slow          answers after 1.5 s
 *   /big?n=N       N bytes with a Content-Length
 *   /chunked?n=N   N bytes, chunked (no length known beforehand)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "server.h"

/* ---- the test server --------------------------------------------------------------- */

static atomic_uint connections;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  (void)cls, (void)c, (void)socket_context;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&connections, 1);
}

typedef struct body_buf {
  char data[4096];
  size_t len;
} body_buf;

static ssize_t fill_x(void *cls, uint64_t pos, char *buf, size_t max) {
  uint64_t n = (uint64_t)(uintptr_t)cls;
  if (pos >= n) return MHD_CONTENT_READER_END_OF_STREAM;
  size_t k = (size_t)(n - pos) < max ? (size_t)(n - pos) : max;
  if (k > 1000) k = 1000; /* several chunks */
  memset(buf, 'x', k);
  return (ssize_t)k;
}

static struct MHD_Response *answer(struct MHD_Connection *c, const char *url, const char *method,
                                   const body_buf *b, unsigned *status) {
  const char *n = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
  size_t size = n ? (size_t)strtoull(n, NULL, 10) : 0;
  *status = 200;
  if (strcmp(url, "/big") == 0) {
    char *data = malloc(size ? size : 1);
    memset(data, 'x', size);
    return MHD_create_response_from_buffer(size, data, MHD_RESPMEM_MUST_FREE);
  }
  if (strcmp(url, "/chunked") == 0)
    return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, fill_x,
                                             (void *)(uintptr_t)size, NULL);
  if (strcmp(url, "/slow") == 0) sleep_ms(1500);
  const char *in = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-in");
  char text[8192];
  int len = snprintf(text, sizeof text, "%s %s x-in=%s body=%.*s", method, url, in ? in : "",
                     (int)b->len, b->data);
  struct MHD_Response *r = MHD_create_response_from_buffer((size_t)len, text,
                                                           MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "x-test", "yes");
  MHD_add_response_header(r, "X-Mixed-Case", "V");
  *status = strcmp(url, "/echo") == 0 ? 201 : 200;
  return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)cls, (void)version;
  body_buf *b = *con_cls;
  if (!b) {
    *con_cls = calloc(1, sizeof *b);
    return *con_cls ? MHD_YES : MHD_NO;
  }
  if (*upload_size) {
    size_t k = *upload_size < sizeof b->data - b->len ? *upload_size : sizeof b->data - b->len;
    memcpy(b->data + b->len, upload, k);
    b->len += k;
    *upload_size = 0;
    return MHD_YES;
  }
  unsigned status;
  struct MHD_Response *r = answer(c, url, method, b, &status);
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)c, (void)toe;
  free(*con_cls);
  *con_cls = NULL;
}

static struct MHD_Daemon *server_start(uint16_t *port) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
      NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
  assert_non_null(d);
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  assert_non_null(di);
  *port = di->port;
  return d;
}

/* ---- waiting for results -------------------------------------------------------------- */

/* One call's outcome, copied out of the callback. */
typedef struct outcome {
  int calls; /* how often the callback ran for it */
  bool ok;
  int status;
  char error[512], body[512], x_test[64], mixed[64];
  size_t body_len;
  unsigned id; /* for the concurrent test: the body must name it */
} outcome;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done_count;

static const char *header(const srv_http_result *res, const char *name) {
  for (size_t i = 0; i < res->n_headers; i++)
    if (strcmp(res->headers[i].name, name) == 0) return (const char *)res->headers[i].value;
  return NULL;
}

static void on_done(void *user, const srv_http_result *res) {
  outcome *o = user;
  pthread_mutex_lock(&lock);
  o->calls++;
  o->ok = res->ok;
  o->status = res->status;
  snprintf(o->error, sizeof o->error, "%s", res->ok ? "" : res->error);
  o->body_len = res->body_len;
  snprintf(o->body, sizeof o->body, "%.*s", (int)(res->body_len < 511 ? res->body_len : 511),
           res->body ? (const char *)res->body : "");
  const char *x = header(res, "x-test"), *m = header(res, "x-mixed-case");
  snprintf(o->x_test, sizeof o->x_test, "%s", x ? x : "");
  snprintf(o->mixed, sizeof o->mixed, "%s", m ? m : "");
  done_count++;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
}

static void wait_for(int n) {
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += 30;
  pthread_mutex_lock(&lock);
  while (done_count < n)
    if (pthread_cond_timedwait(&cond, &lock, &end) != 0) break;
  int got = done_count;
  pthread_mutex_unlock(&lock);
  assert_int_equal(got, n);
}

static void reset_count(void) {
  pthread_mutex_lock(&lock);
  done_count = 0;
  pthread_mutex_unlock(&lock);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t port;

static void get(srv_http_client *c, const char *path, srv_http_call call, outcome *o) {
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
  call.url = url;
  assert_int_equal(httpclient_submit(c, &call, on_done, o), 0);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_success(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  assert_non_null(c);
  reset_count();
  wp_http_header h[] = {{"X-In", 4, (const uint8_t *)"hello", 5}, {"x-empty", 7, NULL, 0}};
  outcome a = {0}, b = {0};
  get(c, "/echo?q=1", (srv_http_call){.headers = h, .n_headers = 2}, &a);
  get(c, "/echo", (srv_http_call){.method = "POST", .body = (const uint8_t *)"abc", .body_len = 3},
      &b);
  wait_for(2);
  assert_true(a.ok);
  assert_int_equal(a.status, 201);
  assert_string_equal(a.body, "GET /echo x-in=hello body=");
  assert_string_equal(a.x_test, "yes");
  assert_string_equal(a.mixed, "V"); /* found under its lower-case name */
  assert_true(b.ok);
  assert_string_equal(b.body, "POST /echo x-in= body=abc");
  assert_int_equal(a.calls + b.calls, 2);
  httpclient_free(c);
}

static void test_timeout(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  outcome o = {0};
  double t = now_s();
  get(c, "/slow", (srv_http_call){.timeout_ms = 300}, &o);
  wait_for(1);
  double took = now_s() - t;
  assert_false(o.ok);
  assert_non_null(strstr(o.error, "timed out after 300 ms"));
  assert_true(took > 0.25 && took < 1.4);
  httpclient_free(c);
}

static uint16_t closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  close(fd);
  return ntohs(sa.sin_port);
}

static void test_refused(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  outcome o = {0};
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", closed_port());
  assert_int_equal(httpclient_submit(c, &(srv_http_call){.url = url}, on_done, &o), 0);
  wait_for(1);
  assert_false(o.ok);
  assert_non_null(strstr(o.error, "connection refused"));
  httpclient_free(c);
}

static void test_too_big(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  outcome a = {0}, b = {0}, ok1 = {0}, ok2 = {0};
  get(c, "/big?n=100000", (srv_http_call){.max_response_bytes = 1000}, &a);
  get(c, "/chunked?n=100000", (srv_http_call){.max_response_bytes = 1000}, &b);
  get(c, "/big?n=1000", (srv_http_call){.max_response_bytes = 1000}, &ok1);
  get(c, "/chunked?n=5000", (srv_http_call){.max_response_bytes = 5000}, &ok2);
  wait_for(4);
  assert_false(a.ok);
  assert_non_null(strstr(a.error, "too large"));
  assert_false(b.ok);
  assert_non_null(strstr(b.error, "too large"));
  assert_true(ok1.ok);
  assert_int_equal(ok1.body_len, 1000);
  assert_true(ok2.ok);
  assert_int_equal(ok2.body_len, 5000);
  httpclient_free(c);
}

/* Sequential calls to one host: one connection, kept alive. */
static void test_reuse(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  unsigned before = atomic_load(&connections);
  outcome o[20] = {0};
  for (int i = 0; i < 20; i++) {
    get(c, "/echo", (srv_http_call){0}, &o[i]);
    wait_for(i + 1);
    assert_int_equal(o[i].status, 201);
  }
  assert_int_equal(atomic_load(&connections) - before, 1);
  httpclient_free(c);
}

enum { THREADS = 4, PER_THREAD = 50 };

typedef struct submitter {
  srv_http_client *c;
  outcome *o;
} submitter;

static void *submit_many(void *arg) {
  submitter *s = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    char path[64], id[16];
    snprintf(path, sizeof path, "/echo?i=%u", s->o[i].id);
    snprintf(id, sizeof id, "%u", s->o[i].id);
    wp_http_header h = {"x-in", 4, (const uint8_t *)id, strlen(id)};
    get(s->c, path, (srv_http_call){.headers = &h, .n_headers = 1}, &s->o[i]);
  }
  return NULL;
}

static void test_concurrent(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  static outcome o[THREADS * PER_THREAD];
  memset(o, 0, sizeof o);
  for (unsigned i = 0; i < THREADS * PER_THREAD; i++) o[i].id = i;
  pthread_t t[THREADS];
  submitter s[THREADS];
  for (int i = 0; i < THREADS; i++) {
    s[i] = (submitter){c, &o[i * PER_THREAD]};
    assert_int_equal(pthread_create(&t[i], NULL, submit_many, &s[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  wait_for(THREADS * PER_THREAD);
  for (unsigned i = 0; i < THREADS * PER_THREAD; i++) {
    char want[64];
    snprintf(want, sizeof want, "GET /echo x-in=%u body=", i);
    assert_int_equal(o[i].calls, 1);
    assert_true(o[i].ok);
    assert_string_equal(o[i].body, want);
  }
  httpclient_free(c);
}

static void test_free_pending(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  reset_count();
  outcome o[5] = {0};
  for (int i = 0; i < 5; i++) get(c, "/slow", (srv_http_call){.timeout_ms = 10000}, &o[i]);
  sleep_ms(100); /* some are started, maybe all */
  double t = now_s();
  httpclient_free(c);
  assert_true(now_s() - t < 1.0);
  pthread_mutex_lock(&lock);
  int n = done_count;
  pthread_mutex_unlock(&lock);
  assert_int_equal(n, 5);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(o[i].calls, 1);
    assert_false(o[i].ok);
    assert_non_null(strstr(o[i].error, "cancelled"));
  }
  /* Freed at once after being made, and with calls still queued. */
  httpclient_free(httpclient_new());
  c = httpclient_new();
  reset_count();
  outcome q = {0};
  get(c, "/echo", (srv_http_call){0}, &q);
  httpclient_free(c);
  assert_int_equal(q.calls, 1);
}

static void test_bad_submit(void **state) {
  (void)state;
  srv_http_client *c = httpclient_new();
  outcome o = {0};
  assert_int_equal(httpclient_submit(c, &(srv_http_call){0}, on_done, &o), -1);
  wp_http_header bad = {"bad name", 8, (const uint8_t *)"v", 1};
  srv_http_call call = {.url = "http://127.0.0.1:1/", .headers = &bad, .n_headers = 1};
  assert_int_equal(httpclient_submit(c, &call, on_done, &o), -1);
  wp_http_header crlf = {"x", 1, (const uint8_t *)"a\r\nb", 4};
  call.headers = &crlf;
  assert_int_equal(httpclient_submit(c, &call, on_done, &o), -1);
  assert_int_equal(httpclient_submit(c, &call, NULL, &o), -1);
  /* https is refused by the transfer: a callback with the reason. */
  reset_count();
  assert_int_equal(
      httpclient_submit(c, &(srv_http_call){.url = "https://127.0.0.1:1/"}, on_done, &o), 0);
  wait_for(1);
  assert_false(o.ok);
  assert_int_equal(o.calls, 1);
  httpclient_free(c);
  httpclient_free(NULL);
}

int main(void) {
  struct MHD_Daemon *d = server_start(&port);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_success),      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_refused),      cmocka_unit_test(test_too_big),
      cmocka_unit_test(test_reuse),        cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_free_pending), cmocka_unit_test(test_bad_submit),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  MHD_stop_daemon(d);
  return rc;
}
