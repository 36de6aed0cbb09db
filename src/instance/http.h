/*
 * http.h - building a wp_http_response from what a plugin returned
 * (internal). The kinds' HTTP handlers (core: bytes ABI, component:
 * wasi:http and wasmplug:http) fill responses only through these, so every
 * kind's output gets the same checks.
 */
#ifndef WP_INSTANCE_HTTP_H
#define WP_INSTANCE_HTTP_H

#include "instance/instance.h"

/* The cap used when the caller passes 0. */
#define WP_HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)

/* At most this many response headers, and this many bytes of them in total
   (names and values), from any plugin. */
#define WP_HTTP_MAX_HEADERS 1024
#define WP_HTTP_MAX_HEADER_BYTES ((size_t)1 << 20)

/* RFC 9110 tchar: whether a byte may be part of a header name (the table
   behind wp_http_header_name_valid, for loops that check as they go). */
extern const bool wp_http_tchar[256];

/* Sets the status (WP_ERR_ABI naming the plugin unless 100-599). */
wp_error *wp_http_response_set_status(wp_instance *inst, wp_http_response *r, uint32_t status);

/* Appends a copy of one header after checking it: a token name (stored
   lower-cased) and a value without CR, LF or NUL, within the header limits
   above. WP_ERR_ABI naming the plugin and the header otherwise. */
wp_error *wp_http_response_add_header(wp_instance *inst, wp_http_response *r, const char *name,
                                      size_t name_len, const uint8_t *value, size_t value_len);

/* Sets the body to a copy of `len` bytes (WP_ERR_ABI if over `max_body`). */
wp_error *wp_http_response_set_body(wp_instance *inst, wp_http_response *r, const uint8_t *body,
                                    size_t len, size_t max_body);

/* Takes ownership of a malloc'd body (freed here on error, WP_ERR_ABI if
   over `max_body`), to avoid a copy. */
wp_error *wp_http_response_take_body(wp_instance *inst, wp_http_response *r, uint8_t *body,
                                     size_t len, size_t max_body);

#endif
