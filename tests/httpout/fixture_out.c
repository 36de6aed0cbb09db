/*
 * A wasi:http handler component that makes one outgoing request through
 * wasi:http/outgoing-handler (tests/httpout). The incoming request's body
 * says which: "METHOD URL", then optionally "\n" and the outgoing body. It
 * answers 200 with
 *
 *   status=N\nx-reply=V\n\nBODY     the upstream's status, X-Reply and body
 *   refused N[ message]             the error-code's case number (and an
 *                                   internal-error's message)
 *   no answer                       the future gave nothing
 */
#include <stdio.h>
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

static void read_stream(wasi_io_streams_own_input_stream_t in, buf *out) {
  for (;;) {
    proxy_list_u8_t chunk;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(in),
                                                           65536, &chunk, &err)) {
      wasi_io_streams_stream_error_free(&err);
      break;
    }
    append(out, chunk.ptr, chunk.len);
    proxy_list_u8_free(&chunk);
  }
  wasi_io_streams_input_stream_drop_own(in);
}

static void read_request_body(wasi_http_types_borrow_incoming_request_t req, buf *out) {
  wasi_http_types_own_incoming_body_t body;
  wasi_http_types_own_input_stream_t in;
  if (!wasi_http_types_method_incoming_request_consume(req, &body)) return;
  if (wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &in))
    read_stream(in, out);
  wasi_http_types_incoming_body_drop_own(body);
}

static void refused(buf *out, wasi_http_types_error_code_t *err) {
  char msg[64];
  snprintf(msg, sizeof msg, "refused %u", (unsigned)err->tag);
  append(out, msg, strlen(msg));
  if (err->tag == WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR && err->val.internal_error.is_some) {
    append(out, " ", 1);
    append(out, err->val.internal_error.val.ptr, err->val.internal_error.val.len);
  }
  wasi_http_types_error_code_free(err);
}

/* "http://host:port/path" into its parts (pointers into url). */
static bool split(char *url, wasi_http_types_scheme_t *scheme, proxy_string_t *authority,
                  proxy_string_t *path) {
  char *rest;
  if (strncmp(url, "http://", 7) == 0) scheme->tag = WASI_HTTP_TYPES_SCHEME_HTTP, rest = url + 7;
  else if (strncmp(url, "https://", 8) == 0)
    scheme->tag = WASI_HTTP_TYPES_SCHEME_HTTPS, rest = url + 8;
  else return false;
  char *slash = strchr(rest, '/');
  *authority = (proxy_string_t){(uint8_t *)rest, slash ? (size_t)(slash - rest) : strlen(rest)};
  *path = slash ? (proxy_string_t){(uint8_t *)slash, strlen(slash)}
                : (proxy_string_t){(uint8_t *)"/", 1};
  return true;
}

static void send_out(buf *spec, buf *out) {
  append(spec, "", 1); /* NUL */
  char *text = (char *)spec->data, *nl = strchr(text, '\n');
  const char *body = nl ? nl + 1 : NULL;
  if (nl) *nl = '\0';
  char *space = strchr(text, ' ');
  if (!space) __builtin_trap();
  *space = '\0';
  wasi_http_types_scheme_t scheme;
  proxy_string_t authority, path;
  if (!split(space + 1, &scheme, &authority, &path)) __builtin_trap();
  wasi_http_types_own_fields_t fields = wasi_http_types_constructor_fields();
  wasi_http_types_field_name_t xn = {(uint8_t *)"x-test", 6};
  wasi_http_types_field_value_t xv = {(uint8_t *)"from-component", 14};
  wasi_http_types_header_error_t herr;
  if (!wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(fields), &xn, &xv, &herr))
    __builtin_trap();
  wasi_http_types_own_outgoing_request_t req = wasi_http_types_constructor_outgoing_request(fields);
  wasi_http_types_borrow_outgoing_request_t b = wasi_http_types_borrow_outgoing_request(req);
  wasi_http_types_method_t method = {.tag = WASI_HTTP_TYPES_METHOD_GET};
  if (strcmp(text, "POST") == 0) method.tag = WASI_HTTP_TYPES_METHOD_POST;
  if (!wasi_http_types_method_outgoing_request_set_method(b, &method) ||
      !wasi_http_types_method_outgoing_request_set_scheme(b, &scheme) ||
      !wasi_http_types_method_outgoing_request_set_authority(b, &authority) ||
      !wasi_http_types_method_outgoing_request_set_path_with_query(b, &path))
    __builtin_trap();
  wasi_http_types_own_outgoing_body_t ob;
  if (!wasi_http_types_method_outgoing_request_body(b, &ob)) __builtin_trap();
  wasi_http_types_own_future_incoming_response_t fut;
  wasi_http_types_error_code_t err;
  if (!wasi_http_outgoing_handler_handle(req, NULL, &fut, &err)) { /* takes req */
    wasi_http_types_outgoing_body_drop_own(ob);
    refused(out, &err);
    return;
  }
  /* the body after handle: the host waits for it to finish */
  wasi_http_types_own_output_stream_t os;
  if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(ob), &os))
    __builtin_trap();
  if (body && *body) {
    proxy_list_u8_t chunk = {(uint8_t *)body, strlen(body)};
    wasi_io_streams_stream_error_t serr;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(os), &chunk, &serr))
      wasi_io_streams_stream_error_free(&serr);
  }
  wasi_io_streams_output_stream_drop_own(os);
  if (!wasi_http_types_static_outgoing_body_finish(ob, NULL, &err))
    wasi_http_types_error_code_free(&err);

  wasi_http_types_borrow_future_incoming_response_t bf =
      wasi_http_types_borrow_future_incoming_response(fut);
  wasi_io_poll_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(bf);
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
  wasi_io_poll_pollable_drop_own(ready);
  wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
  if (!wasi_http_types_method_future_incoming_response_get(bf, &got) || got.is_err) {
    append(out, "no answer", 9);
  } else if (got.val.ok.is_err) {
    refused(out, &got.val.ok.val.err);
  } else {
    wasi_http_types_own_incoming_response_t resp = got.val.ok.val.ok;
    wasi_http_types_borrow_incoming_response_t br = wasi_http_types_borrow_incoming_response(resp);
    char head[64];
    snprintf(head, sizeof head,
             "status=%u\nx-reply=", (unsigned)wasi_http_types_method_incoming_response_status(br));
    append(out, head, strlen(head));
    wasi_http_types_own_headers_t h = wasi_http_types_method_incoming_response_headers(br);
    wasi_http_types_field_name_t rn = {(uint8_t *)"x-reply", 7};
    wasi_http_types_list_field_value_t vals;
    wasi_http_types_method_fields_get(wasi_http_types_borrow_fields(h), &rn, &vals);
    if (vals.len) append(out, vals.ptr[0].ptr, vals.ptr[0].len);
    wasi_http_types_list_field_value_free(&vals);
    wasi_http_types_fields_drop_own(h);
    append(out, "\n\n", 2);
    wasi_http_types_own_incoming_body_t ib;
    wasi_http_types_own_input_stream_t in;
    if (wasi_http_types_method_incoming_response_consume(br, &ib)) {
      if (wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(ib),
                                                      &in))
        read_stream(in, out);
      wasi_http_types_incoming_body_drop_own(ib);
    }
    wasi_http_types_incoming_response_drop_own(resp);
  }
  wasi_http_types_future_incoming_response_drop_own(fut);
}

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
  buf spec = {0}, out = {0};
  read_request_body(wasi_http_types_borrow_incoming_request(request), &spec);
  wasi_http_types_incoming_request_drop_own(request);
  send_out(&spec, &out);
  wasi_http_types_own_outgoing_response_t resp = wasi_http_types_constructor_outgoing_response(
      wasi_http_types_constructor_fields());
  wasi_http_types_own_outgoing_body_t ob;
  if (!wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response(resp),
                                                     &ob))
    __builtin_trap();
  wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
  result.val.ok = resp;
  wasi_http_types_static_response_outparam_set(response_out, &result);
  wasi_http_types_own_output_stream_t os;
  if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(ob), &os))
    __builtin_trap();
  for (size_t at = 0; at < out.len;) {
    size_t n = out.len - at < 4096 ? out.len - at : 4096;
    proxy_list_u8_t chunk = {out.data + at, n};
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(os), &chunk, &err)) {
      wasi_io_streams_stream_error_free(&err);
      break;
    }
    at += n;
  }
  wasi_io_streams_output_stream_drop_own(os);
  wasi_http_types_error_code_t err;
  if (!wasi_http_types_static_outgoing_body_finish(ob, NULL, &err))
    wasi_http_types_error_code_free(&err);
  free(spec.data);
  free(out.data);
}
