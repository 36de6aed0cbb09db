/*
 * fetch.h - one outbound HTTP exchange for a plugin, with libcurl (internal
 * to src/host/http/). Shared by the core-module function
 * (wasmplug.http_request) and the components' wasi:http/outgoing-handler.
 *
 * Every URL, the first and each redirect's, is checked against the grant
 * before anything is sent to it; redirects are followed here (libcurl's
 * own following is off) up to the grant's max_redirects; only http and
 * https; no proxy from the environment; no userinfo in URLs; the response
 * (headers and body) is cut at max_response; the whole exchange ends at
 * timeout_ms.
 */
#ifndef WP_HOST_HTTP_FETCH_H
#define WP_HOST_HTTP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/http/allow.h"

typedef struct wp_httpout_field {
  char *name; /* NUL-terminated */
  size_t name_len;
  uint8_t *value;
  size_t value_len;
} wp_httpout_field;

typedef struct wp_httpout_req {
  const char *method; /* a token */
  const char *url;
  const wp_httpout_field *headers; /* borrowed */
  size_t nheaders;
  const uint8_t *body;
  size_t body_len;
  /* The time left in the plugin's call (wp_host_call_time_left_ms), which
     bounds the exchange when it is shorter than the grant's timeout_ms;
     UINT64_MAX: none. */
  uint64_t call_left_ms;
  /* Polled while the exchange runs: true ends it (WP_HTTPOUT_INTERRUPTED).
     May be NULL. */
  bool (*stop)(void *stop_data);
  void *stop_data;
} wp_httpout_req;

/* What an exchange ended with. */
typedef enum wp_httpout_outcome {
  WP_HTTPOUT_OK = 0,
  WP_HTTPOUT_DENIED,      /* a URL (first or redirect) not in the allowlist */
  WP_HTTPOUT_TOO_BIG,     /* the response passed max_response */
  WP_HTTPOUT_TIMEOUT,     /* timeout_ms passed */
  WP_HTTPOUT_BAD_REQUEST, /* not a URL, bad method or header, too many redirects */
  WP_HTTPOUT_CONNECT,     /* could not resolve or connect */
  WP_HTTPOUT_FAILED,      /* anything else on the way */
  WP_HTTPOUT_INTERRUPTED, /* req->stop said so (the plugin's call was interrupted) */
} wp_httpout_outcome;

typedef struct wp_httpout_resp {
  long status;
  wp_httpout_field *headers; /* of the last response */
  size_t nheaders, capheaders;
  uint8_t *body;
  size_t body_len, body_cap;
  uint64_t received; /* header and body bytes of the current response */
  char message[600]; /* why, when not OK */
} wp_httpout_resp;

/* Runs the exchange; on anything but OK, resp->message says why. Frees
   nothing of req; clear resp after. */
wp_httpout_outcome wp_httpout_fetch(const wp_httpout_grant *g, const wp_httpout_req *req,
                                    wp_httpout_resp *resp);
void wp_httpout_resp_clear(wp_httpout_resp *resp);

#endif
