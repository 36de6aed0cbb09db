/*
 * wasmplug/http.h - HTTP handler plugins: one request in, one response out,
 * whatever kind of plugin handles it.
 *
 * Three kinds of plugin can handle HTTP requests, and the same call drives
 * them all:
 *
 *  - WP_HTTP_WASI: a component exporting `wasi:http/incoming-handler@0.2.x`,
 *    the standard handler world that `wasmtime serve` and Spin run;
 *  - WP_HTTP_WASMPLUG: a component exporting wasmplug's own small world,
 *    `wasmplug:http/handler@0.1.0` (pdk/wit/http.wit): a request record in,
 *    a response record out;
 *  - WP_HTTP_CORE: a core module exporting `handle` under the bytes ABI
 *    (docs/abi.md), with the request and response encoded as docs/http-abi.md
 *    describes (the C and Go PDKs have helpers).
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_HTTP_H
#define WASMPLUG_HTTP_H

#include "wasmplug/instance.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** How a plugin handles HTTP requests, found from its exports. */
typedef enum wp_http_kind {
  WP_HTTP_NONE = 0, /**< the plugin is not an HTTP handler */
  WP_HTTP_WASI,     /**< component exporting wasi:http/incoming-handler@0.2.x */
  WP_HTTP_WASMPLUG, /**< component exporting wasmplug:http/handler@0.1.0 */
  WP_HTTP_CORE,     /**< core module exporting `handle` (bytes ABI, docs/http-abi.md) */
} wp_http_kind;

/** One header field. Names are lower-case tokens; values are bytes without CR, LF or NUL. */
typedef struct wp_http_header {
  const char *name;
  size_t name_len;
  const uint8_t *value;
  size_t value_len;
} wp_http_header;

/** A request, all borrowed from the caller for the length of the call. */
typedef struct wp_http_request {
  const char *method;          /**< "GET", "POST"...; NUL-terminated */
  const char *scheme;          /**< "http" or "https"; NUL-terminated */
  const char *authority;       /**< host[:port] (the Host header); NUL-terminated, may be "" */
  const char *path_with_query; /**< "/items?id=3"; NUL-terminated, starts with '/' */
  const wp_http_header *headers;
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
} wp_http_request;

/**
 * A response, filled by wp_instance_handle_http and owned by the caller until
 * wp_http_response_clear. Start from a zeroed struct.
 */
typedef struct wp_http_response {
  uint16_t status; /**< 100-599 */
  wp_http_header *headers;
  size_t n_headers;
  uint8_t *body;
  size_t body_len;
} wp_http_response;

/** Which kind of HTTP handler `plugin` is (WP_HTTP_NONE if none). */
wp_http_kind wp_plugin_get_http_kind(const wp_plugin *plugin);

/** "wasi:http", "wasmplug:http", "core" or "none". */
const char *wp_http_kind_name(wp_http_kind kind);

/**
 * Handles one request on `inst`, under the plugin's limits (timeout, fuel,
 * memory). `max_response_body` caps the body the plugin may answer with (0:
 * 64 MiB); a longer one is WP_ERR_ABI. Everything the plugin returns is
 * checked: the status is 100-599, header names are tokens and values have
 * no CR, LF or NUL, else WP_ERR_ABI naming what is wrong. On success `*out`
 * (zeroed first) holds the response; on failure it is left empty. Errors
 * have the kinds of any call (WP_ERR_TRAP, WP_ERR_TIMEOUT...), and
 * WP_ERR_NOT_FOUND if the plugin is not an HTTP handler.
 */
wp_error *wp_instance_handle_http(wp_instance *inst, const wp_http_request *req,
                                  size_t max_response_body, wp_http_response *out);

/** Frees what `resp` holds and zeroes it. */
void wp_http_response_clear(wp_http_response *resp);

/**
 * Whether `name` (`len` bytes) is an HTTP token (RFC 9110 field name
 * characters) and `value` has no CR, LF or NUL: what a header must be to be
 * sent. The server checks requests with these too.
 */
bool wp_http_header_name_valid(const char *name, size_t len);
bool wp_http_header_value_valid(const uint8_t *value, size_t len);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
