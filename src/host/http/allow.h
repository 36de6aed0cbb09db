/*
 * allow.h - the http capability's grant (internal to src/host/http/): its
 * manifest section, parsed and checked, and the allowlist match.
 *
 *   "http": {"allowed_hosts": ["https://api.example.com", "http://10.0.0.7:8080"],
 *            "max_response_size": "4MiB", "timeout_ms": 10000, "max_redirects": 5}
 *
 * (wildcards read "http://" then "*.internal:8080", "https://" then
 * "*.example.org:*": C comments cannot hold them whole). Defaults: 4 MiB,
 * 10000 ms, 5 redirects.
 *
 * An entry is scheme://host[:port], nothing else (no user, path, query):
 * - scheme: http or https, matched exactly;
 * - host: a name or an IP literal (IPv6 in brackets), matched without regard
 *   to case; "*.example.com" matches any name of ONE OR MORE labels under
 *   example.com (a.example.com, a.b.example.com), never example.com itself
 *   and never an IP literal;
 * - port: absent = the scheme's default port (80, 443), a number, or "*"
 *   for any port.
 * No section, or an empty list: nothing is allowed.
 */
#ifndef WP_HOST_HTTP_ALLOW_H
#define WP_HOST_HTTP_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"

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

enum {
  WP_HTTPOUT_DEFAULT_MAX_RESPONSE = 4u << 20,
  WP_HTTPOUT_DEFAULT_TIMEOUT_MS = 10000,
  WP_HTTPOUT_DEFAULT_MAX_REDIRECTS = 5,
};

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
