/*
 * test_server.c - wasmplug/server.h from C, as an embedding program uses it:
 * a server on port 0 with a native route and a plugin route, changed through
 * wp_server_control, config errors, metrics; requests over a real socket.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "wasmplug.h"
#include "wasmplug/server.h"

/* One HTTP/1.1 request on a new connection; returns the status, and the
   whole response in `out`. */
static int http(uint16_t port, const char *method, const char *path, char *out, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[512];
  int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                   method, path);
  assert_int_equal(write(fd, req, (size_t)n), n);
  size_t got = 0;
  ssize_t r;
  while (got + 1 < size && (r = read(fd, out + got, size - 1 - got)) > 0) got += (size_t)r;
  out[got] = 0;
  /* Bodies may hold NUL bytes (the echo handler's is binary): make the
     text searchable with strstr. */
  for (size_t i = 0; i < got; i++)
    if (!out[i]) out[i] = '.';
  close(fd);
  int status = 0;
  sscanf(out, "HTTP/1.1 %d", &status);
  return status;
}

static void native_hello(void *ud, const wp_http_request *req, wp_http_response *resp) {
  (*(int *)ud)++;
  const char *text = "native hello";
  resp->status = 200;
  resp->body = malloc(strlen(text));
  memcpy(resp->body, text, strlen(text));
  resp->body_len = strlen(text);
  (void)req;
}

static wp_engine *engine(void) {
  wp_engine *e = NULL;
  wp_error *err = wp_engine_new(NULL, &e);
  assert_null(err);
  return e;
}

static void test_native_and_control(void **state) {
  (void)state;
  wp_engine *e = engine();
  const char *cfg = "{\"listen\": \"127.0.0.1:0\", \"access_log\": \"off\", \"watch\": false}";
  wp_server *srv = NULL;
  wp_error *err = wp_server_new(e, cfg, strlen(cfg), NULL, &srv);
  assert_null(err);
  int calls = 0;
  assert_null(wp_server_add_native_route(srv, "/native", native_hello, &calls));
  assert_null(wp_server_start(srv));
  uint16_t port = wp_server_get_port(srv);
  assert_true(port > 0);

  char buf[8192];
  assert_int_equal(http(port, "GET", "/native?x=1", buf, sizeof buf), 200);
  assert_non_null(strstr(buf, "native hello"));
  assert_int_equal(calls, 1);
  assert_int_equal(http(port, "GET", "/plugin", buf, sizeof buf), 404);

  /* Add a plugin and a route through the control API, no listener needed. */
  char body[1024];
  int status;
  char *resp;
  snprintf(body, sizeof body, "{\"path\": \"%s/http_echo.wat\"}", WP_FIXTURES);
  wp_server_control(srv, "PUT", "/config/plugins", (const uint8_t *)"{}", 2, &status, &resp);
  assert_int_equal(status, 200);
  free(resp);
  wp_server_control(srv, "PUT", "/config/plugins/echo", (const uint8_t *)body, strlen(body),
                    &status, &resp);
  assert_int_equal(status, 200);
  free(resp);
  const char *route = "[{\"match\": {\"path\": \"/plugin\"}, \"plugin\": \"echo\"}]";
  wp_server_control(srv, "PUT", "/config/routes", (const uint8_t *)route, strlen(route), &status,
                    &resp);
  assert_int_equal(status, 200);
  free(resp);
  assert_int_equal(http(port, "GET", "/plugin?q=1", buf, sizeof buf), 200);
  assert_non_null(strstr(buf, "/plugin?q=1")); /* the echo handler returns the request */

  /* A bad change: refused with the reason, nothing changed. */
  const char *bad = "{\"match\": {\"path\": \"/plugin\"}, \"plugin\": \"nope\"}";
  wp_server_control(srv, "PUT", "/config/routes/0", (const uint8_t *)bad, strlen(bad), &status,
                    &resp);
  assert_int_equal(status, 422);
  assert_non_null(strstr(resp, "routes[0].plugin: no plugin 'nope'"));
  free(resp);
  assert_int_equal(http(port, "GET", "/plugin", buf, sizeof buf), 200);
  wp_server_control(srv, "GET", "/config/routes/0/plugin", NULL, 0, &status, &resp);
  assert_int_equal(status, 200);
  assert_string_equal(resp, "\"echo\"");
  free(resp);

  char *metrics = wp_server_metrics(srv);
  assert_non_null(metrics);
  assert_non_null(
      strstr(metrics, "wasmplug_http_requests_total{route=\"/native\",code=\"2xx\"} 1"));
  assert_non_null(
      strstr(metrics, "wasmplug_http_requests_total{route=\"/plugin\",code=\"2xx\"} 2"));
  assert_non_null(strstr(metrics, "wasmplug_reload_failures_total 1"));
  free(metrics);

  assert_int_equal(wp_server_stop(srv, 1000), 0);
  wp_server_free(srv);
  wp_engine_free(e);
}

static void expect_config_error_kind(wp_engine *e, const char *cfg, wp_error_kind kind,
                                     const char *want) {
  wp_server *srv = NULL;
  wp_error *err = wp_server_new(e, cfg, strlen(cfg), NULL, &srv);
  assert_non_null(err);
  assert_null(srv);
  assert_int_equal(wp_error_get_kind(err), kind);
  if (!strstr(wp_error_get_message(err), want))
    fail_msg("error '%s' does not name '%s'", wp_error_get_message(err), want);
  wp_error_free(err);
}

static void expect_config_error(wp_engine *e, const char *cfg, const char *want) {
  expect_config_error_kind(e, cfg, WP_ERR_BAD_INPUT, want);
}

static void test_config_errors(void **state) {
  (void)state;
  wp_engine *e = engine();
  expect_config_error(e, "{\"workers\": 0}", "workers: must be a whole number from 1");
  expect_config_error(e, "{\"routes\": {}}", "routes: must be an array");
  expect_config_error(e, "{\"limits\": {\"grace\": 1}}", "limits.grace: unknown field");
  expect_config_error(e, "{\"plugins\": {\"a\": {}}}", "plugins.a: \"path\"");
  expect_config_error(e, "{\"plugins\": {\"a b\": {\"path\": \"x\"}}}",
                      "plugins.a b: a plugin name");
  expect_config_error(e, "[1, 2]", "must be a JSON object");
  expect_config_error(e, "{\"listen\": ", "not valid JSON");
  expect_config_error_kind(e,
                           "{\"plugins\": {\"a\": {\"path\": \"/nonexistent/x.wasm\"}},"
                           " \"routes\": [{\"match\": {\"path\": \"/\"}, \"plugin\": \"a\"}]}",
                           WP_ERR_IO, "/nonexistent/x.wasm");
  wp_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_native_and_control),
      cmocka_unit_test(test_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
