/*
 * A wasi:http handler that misbehaves on request (tests/http): the path
 * picks what it does.
 *
 *   /trap            traps
 *   /loop            never returns
 *   /bad-status      answers status 999 (wasi:http allows up to 999)
 *   /no-response     returns without setting a response
 *   /error-code      sets an error-code instead of a response
 *   /unfinished      writes part of the body and returns without finishing it
 *   /big?n=BYTES     answers a body of BYTES bytes ('x')
 *   /outgoing        sends a request to http://example.com/ and answers
 *                    "sent", "refused N" (N: the error-code's case) or
 *                    "no answer"
 *   anything else    echoes: status 200, the request's headers back with
 *                    "x-echo-" in front of their names, the request body
 */
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

typedef struct buf {
  uint8_t *data;
  size_t len, cap;
} buf;

static void append(buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) __builtin_trap();
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}

static bool starts(const proxy_string_t *s, const char *lit) {
  return s->len >= strlen(lit) && memcmp(s->ptr, lit, strlen(lit)) == 0;
}

static size_t number_after(const proxy_string_t *s, const char *key) {
  size_t n = 0, k = strlen(key);
  for (size_t i = 0; i + k <= s->len; i++) {
    if (memcmp(s->ptr + i, key, k) != 0) continue;
    for (i += k; i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9'; i++)
      n = n * 10 + (size_t)(s->ptr[i] - '0');
    break;
  }
  return n;
}

static void read_body(wasi_http_types_borrow_incoming_request_t req, buf *out) {
  wasi_http_types_own_incoming_body_t body;
  wasi_http_types_own_input_stream_t in;
  if (!wasi_http_types_method_incoming_request_consume(req, &body)) return;
  if (wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body),
                                                  &in)) {
    for (;;) {
      proxy_list_u8_t chunk;
      wasi_io_streams_stream_error_t err;
      if (!wasi_io_streams_method_input_stream_blocking_read(
              wasi_io_streams_borrow_input_stream(in), 65536, &chunk, &err)) {
        wasi_io_streams_stream_error_free(&err);
        break;
      }
      append(out, chunk.ptr, chunk.len);
      proxy_list_u8_free(&chunk);
    }
    wasi_io_streams_input_stream_drop_own(in);
  }
  wasi_http_types_incoming_body_drop_own(body);
}

/* The request's headers, renamed x-echo-NAME, in a new fields resource. */
static wasi_http_types_own_fields_t echo_headers(wasi_http_types_borrow_incoming_request_t req) {
  wasi_http_types_own_fields_t in = wasi_http_types_method_incoming_request_headers(req);
  wasi_http_types_list_tuple2_field_name_field_value_t entries;
  wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields(in), &entries);
  wasi_http_types_own_fields_t out = wasi_http_types_constructor_fields();
  for (size_t i = 0; i < entries.len; i++) {
    buf name = {0};
    append(&name, "x-echo-", 7);
    append(&name, entries.ptr[i].f0.ptr, entries.ptr[i].f0.len);
    wasi_http_types_field_name_t n = {name.data, name.len};
    wasi_http_types_header_error_t err;
    if (!wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(out), &n,
                                              &entries.ptr[i].f1, &err))
      __builtin_trap();
    free(name.data);
  }
  wasi_http_types_list_tuple2_field_name_field_value_free(&entries);
  wasi_http_types_fields_drop_own(in);
  return out;
}

static void respond(wasi_http_types_own_response_outparam_t out,
                    wasi_http_types_own_fields_t headers, uint16_t status, const buf *body,
                    size_t repeat_x, bool finish) {
  wasi_http_types_own_outgoing_response_t resp = wasi_http_types_constructor_outgoing_response(
      headers);
  if (!wasi_http_types_method_outgoing_response_set_status_code(
          wasi_http_types_borrow_outgoing_response(resp), status))
    __builtin_trap();
  wasi_http_types_own_outgoing_body_t ob;
  if (!wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response(resp),
                                                     &ob))
    __builtin_trap();
  wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
  result.val.ok = resp;
  wasi_http_types_static_response_outparam_set(out, &result);
  wasi_http_types_own_output_stream_t os;
  if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(ob), &os))
    __builtin_trap();
  static uint8_t xs[4096];
  memset(xs, 'x', sizeof xs);
  size_t total = body ? body->len : repeat_x;
  for (size_t at = 0; at < total;) {
    size_t n = total - at < 4096 ? total - at : 4096;
    proxy_list_u8_t chunk = {body ? body->data + at : xs, n};
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(os), &chunk, &err)) {
      wasi_io_streams_stream_error_free(&err);
      break;
    }
    at += n;
  }
  if (!finish) return; /* leaves the stream and the body with the host */
  wasi_io_streams_output_stream_drop_own(os);
  wasi_http_types_error_code_t err;
  if (!wasi_http_types_static_outgoing_body_finish(ob, NULL, &err))
    wasi_http_types_error_code_free(&err);
}

/* What became of an outgoing request ("sent", "refused N", "no answer"). */
static const char *send_out(char *msg) {
  wasi_http_types_own_outgoing_request_t req = wasi_http_types_constructor_outgoing_request(
      wasi_http_types_constructor_fields());
  wasi_http_types_borrow_outgoing_request_t b = wasi_http_types_borrow_outgoing_request(req);
  wasi_http_types_scheme_t scheme = {.tag = WASI_HTTP_TYPES_SCHEME_HTTP};
  proxy_string_t authority = {(uint8_t *)"example.com", 11}, path = {(uint8_t *)"/", 1};
  if (!wasi_http_types_method_outgoing_request_set_scheme(b, &scheme) ||
      !wasi_http_types_method_outgoing_request_set_authority(b, &authority) ||
      !wasi_http_types_method_outgoing_request_set_path_with_query(b, &path))
    __builtin_trap();
  wasi_http_types_own_future_incoming_response_t fut;
  wasi_http_types_error_code_t err;
  if (!wasi_http_outgoing_handler_handle(req, NULL, &fut, &err)) { /* takes req */
    msg[0] = 0;
    strcat(msg, "refused ");
    msg[8] = (char)('0' + err.tag / 10), msg[9] = (char)('0' + err.tag % 10), msg[10] = 0;
    wasi_http_types_error_code_free(&err);
    return msg;
  }
  wasi_http_types_borrow_future_incoming_response_t bf =
      wasi_http_types_borrow_future_incoming_response(fut);
  wasi_io_poll_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(bf);
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
  wasi_io_poll_pollable_drop_own(ready);
  wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
  const char *what = "no answer";
  if (wasi_http_types_method_future_incoming_response_get(bf, &got) && !got.is_err) {
    if (got.val.ok.is_err) {
      strcpy(msg, "refused ");
      msg[8] = (char)('0' + got.val.ok.val.err.tag / 10);
      msg[9] = (char)('0' + got.val.ok.val.err.tag % 10), msg[10] = 0;
      wasi_http_types_error_code_free(&got.val.ok.val.err);
      what = msg;
    } else {
      wasi_http_types_incoming_response_drop_own(got.val.ok.val.ok);
      what = "sent";
    }
  }
  wasi_http_types_future_incoming_response_drop_own(fut);
  return what;
}

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
  wasi_http_types_borrow_incoming_request_t req = wasi_http_types_borrow_incoming_request(request);
  proxy_string_t path = {NULL, 0};
  bool has_path = wasi_http_types_method_incoming_request_path_with_query(req, &path);
  if (starts(&path, "/trap")) __builtin_trap();
  if (starts(&path, "/loop")) {
    volatile unsigned spin = 0;
    for (;;) spin++;
  }
  if (starts(&path, "/no-response")) {
    wasi_http_types_response_outparam_drop_own(response_out);
  } else if (starts(&path, "/error-code")) {
    wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = true};
    result.val.err.tag = WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR;
    result.val.err.val.internal_error.is_some = false;
    wasi_http_types_static_response_outparam_set(response_out, &result);
  } else if (starts(&path, "/big")) {
    respond(response_out, wasi_http_types_constructor_fields(), 200, NULL,
            number_after(&path, "n="), true);
  } else if (starts(&path, "/bad-status")) {
    respond(response_out, wasi_http_types_constructor_fields(), 999, NULL, 0, true);
  } else if (starts(&path, "/outgoing")) {
    char msg[16];
    const char *what = send_out(msg);
    buf body = {0};
    append(&body, what, strlen(what));
    respond(response_out, wasi_http_types_constructor_fields(), 200, &body, 0, true);
    free(body.data);
  } else if (starts(&path, "/unfinished")) {
    respond(response_out, wasi_http_types_constructor_fields(), 200, NULL, 10, false);
  } else {
    buf body = {0};
    wasi_http_types_own_fields_t headers = echo_headers(req);
    read_body(req, &body);
    respond(response_out, headers, 200, &body, 0, true);
    free(body.data);
  }
  if (has_path) proxy_string_free(&path);
  wasi_http_types_incoming_request_drop_own(request);
}
