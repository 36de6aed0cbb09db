/*
 * allow.h - the http capability's grant (internal to src/host/http/): its
 * manifest section, parsed and checked, and the allowlist match. The
 * section's form, its defaults and its limits are public:
 * include/wasmplug/outbound_http.h.
 */
#ifndef WP_HOST_HTTP_ALLOW_H
#define WP_HOST_HTTP_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"
#include "wasmplug/outbound_http.h"

typedef struct wp_httpout_rule {
  bool https;    /* else http */
  bool wildcard; /* host is the suffix after "*." */
  int port;      /* 1..65535, or -1: any */
  char *host;    /* lower case; IPv6 with its brackets */
} wp_httpout_rule;

typedef struct wp_httpout_grant {
  char *plugin; /* the plugin's name, for messages */
  wp_httpout_rule *rules;
  size_t nrules;
  uint64_t max_response; /* bytes of headers and body, each response */
  uint32_t timeout_ms;   /* the whole exchange, redirects included */
  uint32_t max_redirects;
} wp_httpout_grant;

/* Parses the section (JSON text) into *out (NULL when it allows nothing);
   WP_ERR_BAD_INPUT naming the field. */
wp_error *wp_httpout_grant_parse(const char *plugin, const char *section, wp_httpout_grant **out);
void wp_httpout_grant_free(wp_httpout_grant *g);

/* Whether scheme/host/port (host as curl's URL parser gives it: IPv6 in
   brackets) is allowed. */
bool wp_httpout_allowed(const wp_httpout_grant *g, const char *scheme, const char *host, int port);

/* A printable copy of s for messages (other bytes as '?'), cut with "..."
   to fit `cap` bytes with its NUL; returns buf. */
const char *wp_httpout_shown(const char *s, char *buf, size_t cap);

#endif
