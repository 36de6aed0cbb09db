/*
 * wasmplug_http.h - wasmplug's Rust extensions for HTTP handler components
 * (src/http.rs): wasi:http for the component linker, and one request through
 * `wasi:http/incoming-handler@0.2.x#handle` or wasmplug's own
 * `wasmplug:http/handler@0.1.0#handle`, run in the embedder's store (its
 * limiter, epoch deadline, fuel and bounded WASI waits apply).
 * deps/wasmtime/build.sh installs this header next to wasmtime.h.
 *
 * No function unwinds into C: a Rust panic is reported as an error.
 */
#ifndef WASMPLUG_HTTP_EXT_H
#define WASMPLUG_HTTP_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <wasmplug_sandbox.h>
#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Adds wasi:http/types and wasi:http/outgoing-handler to `linker`, which must
 * have WASI p2 already (wasmtime_component_linker_add_wasip2): their
 * resources live in the store's WASI p2 table, so a store using them must
 * have WASI set (wasmtime_context_set_wasi). Outgoing requests go to the
 * hooks set with wasmplug_http_set_outgoing (below), and are refused
 * (error-code HTTP-request-denied) while there are none.
 */
wasmtime_error_t *wasmplug_component_linker_add_wasi_http(wasmtime_component_linker_t *linker);

/* One header field; names and values are bytes with a length. */
typedef struct wasmplug_http_field {
  const char *name;
  size_t name_len;
  const uint8_t *value;
  size_t value_len;
} wasmplug_http_field_t;

/* A request, borrowed for the call. Strings are NUL-terminated UTF-8;
   header names are UTF-8. scheme and authority matter to wasi:http only
   (authority "": the host header, else "localhost"). */
typedef struct wasmplug_http_request {
  const char *method;
  const char *scheme;
  const char *authority;
  const char *path_with_query;
  const wasmplug_http_field_t *headers;
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
} wasmplug_http_request_t;

/*
 * What a handler answered, as it answered it (nothing checked but the body's
 * size): free with wasmplug_http_response_free. `body` is malloc'd: the
 * caller may take it (then sets it to NULL) and free() it later. `message`
 * says what went wrong for outcomes other than OK and CALL_FAILED.
 * `leftover` (wasi:http): how many wasi:http resources more the table holds
 * after the call than before it, i.e. what the guest kept of this request
 * (0 for a guest that drops everything).
 */
typedef struct wasmplug_http_response {
  uint32_t status;
  wasmplug_http_field_t *headers;
  size_t n_headers;
  uint8_t *body;
  size_t body_len;
  char *message;
  uint32_t leftover;
  void *internal;
} wasmplug_http_response_t;

/* What a handle call returns. */
enum {
  WASMPLUG_HTTP_OK = 0,
  WASMPLUG_HTTP_CALL_FAILED = 1,  /* the call failed (trap, timeout...): *error says why */
  WASMPLUG_HTTP_NO_RESPONSE = 2,  /* wasi:http: handle returned without response-outparam.set */
  WASMPLUG_HTTP_ERROR_CODE = 3,   /* wasi:http: the handler set an error-code, no response */
  WASMPLUG_HTTP_BODY_TOO_BIG = 4, /* the body passed max_body (the guest's stream was closed) */
  WASMPLUG_HTTP_BAD_BODY = 5,     /* wasi:http: the body failed, or was not finished by return */
  WASMPLUG_HTTP_BAD_TYPE = 6,     /* the export's type is not the handle expected */
  WASMPLUG_HTTP_BAD_REQUEST = 7,  /* the request could not be made (not UTF-8, bad URI...) */
};

/*
 * One request through `func`, a `wasi:http/incoming-handler@0.2.x#handle`
 * resolved in an instance living in `store`. The response body is read while
 * the guest runs, up to `max_body` bytes; after handle returns, the rest is
 * awaited within `budget` (asked with the store's data; 0 stops the wait,
 * which is then CALL_FAILED). On CALL_FAILED, *error (owned by the caller)
 * holds the failure.
 */
int wasmplug_http_handle(wasmtime_context_t *store, const wasmtime_component_func_t *func,
                         wasmplug_budget_fn budget, const wasmplug_http_request_t *req,
                         size_t max_body, wasmplug_http_response_t *out,
                         wasmtime_error_t **error);

/*
 * One request through `func`, a `wasmplug:http/handler@0.1.0#handle`
 * (pdk/wit/http.wit) resolved in an instance living in `store`, with
 * Wasmtime's typed calls (the body crosses as one copy each way; the
 * export's post-return runs inside the call). scheme and authority are not
 * passed to this world.
 */
int wasmplug_http_own_handle(wasmtime_context_t *store, const wasmtime_component_func_t *func,
                             const wasmplug_http_request_t *req, size_t max_body,
                             wasmplug_http_response_t *out, wasmtime_error_t **error);

/* Frees what a handle call left in `r` and zeroes it. NULL is a no-op. */
void wasmplug_http_response_free(wasmplug_http_response_t *r);

/*
 * Outgoing requests of components (wasi:http/outgoing-handler.handle):
 * refused (HTTP-request-denied) unless the embedder sets these hooks, which
 * then decide and send every request. wasmplug's http capability sets them
 * (src/host/http/outgoing.c).
 *
 * - open: on the guest's thread, inside outgoing-handler.handle.
 *   `store_data` is the data the store was made with (wasmtime_store_new).
 *   Returns a context for send and close, or NULL to refuse the request
 *   (the guest gets HTTP-request-denied). Sets *max_request_body: a request
 *   body longer than that fails with HTTP-request-body-size.
 * - send: on a blocking thread of Wasmtime's runtime, once the guest has
 *   finished the request body: sends `req` (scheme, authority and path as
 *   the guest set them; no Host or Content-Length header) and fills *out,
 *   whose pointers stay valid until close.
 * - close: once per context that open returned, on any thread, after send
 *   or instead of it (the guest dropped the request first).
 * Any of them may run on several threads at once.
 */
enum {
  WASMPLUG_HTTP_OUT_OK = 0,
  WASMPLUG_HTTP_OUT_DENIED = 1,      /* error-code HTTP-request-denied */
  WASMPLUG_HTTP_OUT_TOO_BIG = 2,     /* HTTP-response-body-size */
  WASMPLUG_HTTP_OUT_TIMEOUT = 3,     /* connection-timeout */
  WASMPLUG_HTTP_OUT_CONNECT = 4,     /* connection-refused */
  WASMPLUG_HTTP_OUT_FAILED = 5,      /* internal-error(message) */
};

typedef struct wasmplug_http_outgoing_result {
  int outcome; /* WASMPLUG_HTTP_OUT_* */
  uint16_t status;
  const wasmplug_http_field_t *headers;
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
  const char *message; /* why, for FAILED (NUL-terminated; may be NULL) */
} wasmplug_http_outgoing_result_t;

typedef struct wasmplug_http_outgoing {
  void *(*open)(void *store_data, size_t *max_request_body);
  void (*send)(void *ctx, const wasmplug_http_request_t *req,
               wasmplug_http_outgoing_result_t *out);
  void (*close)(void *ctx);
} wasmplug_http_outgoing_t;

/* Sets the hooks for every store of the process (`hooks` must stay valid
   until replaced; NULL: refuse every outgoing request again). */
void wasmplug_http_set_outgoing(const wasmplug_http_outgoing_t *hooks);

#ifdef __cplusplus
}
#endif

#endif
