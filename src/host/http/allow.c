/* allow.c - the http capability's manifest section and allowlist (allow.h). */
#include "host/http/allow.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD "capabilities.http"

/* As the library words it (engine/error.c), which this floor cannot include. */
static wp_error *no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
}

static wp_error *bad(const char *plugin, const char *fmt, const char *field, const char *detail) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, field, detail ? detail : "");
  return wp_error_new(WP_ERR_BAD_INPUT, "plugin '%s': %s", plugin, msg);
}

const char *wp_httpout_shown(const char *s, char *buf, size_t cap) {
  size_t i = 0;
  for (; s[i] && i + 4 < cap; i++) buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
  if (s[i]) buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
  buf[i] = '\0';
  return buf;
}

/* A host name: labels of letters, digits and '-', dot-separated; or an
   IPv4 literal (digits and dots); or an IPv6 literal in brackets. */
static bool host_ok(const char *h, size_t n) {
  if (!n || n > 253) return false;
  if (h[0] == '[') {
    if (n < 3 || h[n - 1] != ']') return false;
    for (size_t i = 1; i + 1 < n; i++)
      if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.') return false;
    return true;
  }
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (c == '.') {
      if (!label) return false;
      label = 0;
    } else if (isalnum((unsigned char)c) || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;
}

static bool is_ip_literal(const char *h) {
  if (h[0] == '[') return true;
  for (const char *c = h; *c; c++)
    if (!isdigit((unsigned char)*c) && *c != '.') return false;
  return true;
}

/* "scheme://host[:port]" into *r; false if it is not of that form. */
static bool parse_entry(const char *s, wp_httpout_rule *r) {
  const char *rest;
  if (strncmp(s, "https://", 8) == 0) r->https = true, rest = s + 8;
  else if (strncmp(s, "http://", 7) == 0) r->https = false, rest = s + 7;
  else return false;
  if (strncmp(rest, "*.", 2) == 0) r->wildcard = true, rest += 2;
  const char *end = rest;
  if (*end == '[') {
    end = strchr(end, ']');
    if (!end) return false;
    end++;
  } else {
    end += strcspn(end, ":/");
  }
  size_t hlen = (size_t)(end - rest);
  if (!host_ok(rest, hlen)) return false;
  r->port = r->https ? 443 : 80;
  if (*end == ':') {
    const char *p = end + 1;
    if (strcmp(p, "*") == 0) {
      r->port = -1;
    } else {
      if (!*p || strlen(p) > 5) return false;
      long v = 0;
      for (; *p; p++) {
        if (!isdigit((unsigned char)*p)) return false;
        v = v * 10 + (*p - '0');
      }
      if (v < 1 || v > 65535) return false;
      r->port = (int)v;
    }
  } else if (*end != '\0') {
    return false; /* a path, query or anything else */
  }
  r->host = strndup(rest, hlen);
  if (!r->host) return false;
  for (char *c = r->host; *c; c++) *c = (char)tolower((unsigned char)*c);
  if (r->wildcard && is_ip_literal(r->host)) {
    free(r->host);
    r->host = NULL;
    return false;
  }
  return true;
}

/* "4MiB", "64 KiB", "1000", or a number. */
static bool parse_size(const cJSON *v, uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (d < 1 || d > 1e15 || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
  }
  if (!cJSON_IsString(v) || !isdigit((unsigned char)v->valuestring[0])) return false;
  errno = 0;
  char *end;
  unsigned long long n = strtoull(v->valuestring, &end, 10);
  if (errno || !n) return false;
  if (*end == ' ' && end[1]) end++; /* "16 MiB"; but "16 " has nothing after the space */
  static const struct {
    const char *unit;
    uint64_t mult;
  } units[] = {{"", 1},           {"B", 1},          {"K", 1000},       {"KB", 1000},
               {"M", 1000000},    {"MB", 1000000},   {"G", 1000000000}, {"GB", 1000000000},
               {"KiB", 1u << 10}, {"MiB", 1u << 20}, {"GiB", 1u << 30}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    if (strcmp(end, units[i].unit) != 0 ||
        (i == 0 && end != v->valuestring + strlen(v->valuestring)))
      continue;
    if (n > UINT64_MAX / units[i].mult) return false;
    *out = n * units[i].mult;
    return true;
  }
  return false;
}

static bool parse_count(const cJSON *v, uint32_t min, uint32_t *out) {
  if (!cJSON_IsNumber(v)) return false;
  double d = v->valuedouble;
  if (d < min || d > UINT32_MAX || d != (double)(uint32_t)d) return false;
  *out = (uint32_t)d;
  return true;
}

static wp_error *parse_hosts(const char *plugin, const cJSON *list, wp_httpout_grant *g) {
  if (!cJSON_IsArray(list))
    return bad(plugin, "%s.allowed_hosts must be a list of \"scheme://host[:port]\" strings%s",
               FIELD, NULL);
  int n = cJSON_GetArraySize(list);
  if (n > 0 && !(g->rules = calloc((size_t)n, sizeof *g->rules))) return no_memory();
  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    char buf[96];
    if (!cJSON_IsString(item))
      return bad(plugin, "%s.allowed_hosts[%s] must be a string", FIELD,
                 (snprintf(buf, sizeof buf, "%zu", g->nrules), buf));
    if (!parse_entry(item->valuestring, &g->rules[g->nrules]))
      return bad(plugin,
                 "%s.allowed_hosts: '%s' is not \"http[s]://host[:port]\" (host: a name, an IP "
                 "or \"*.\" and a domain; port: a number or \"*\"; no path or user)",
                 FIELD, wp_httpout_shown(item->valuestring, buf, sizeof buf));
    g->nrules++;
  }
  return NULL;
}

static wp_error *parse_object(const char *plugin, const cJSON *root, wp_httpout_grant *g) {
  if (!cJSON_IsObject(root))
    return bad(plugin, "%s must be an object such as {\"allowed_hosts\": [...]}%s", FIELD, NULL);
  const cJSON *f;
  cJSON_ArrayForEach(f, root) {
    char buf[96];
    const char *k = f->string;
    wp_error *err = NULL;
    if (strcmp(k, "allowed_hosts") == 0) {
      err = parse_hosts(plugin, f, g);
    } else if (strcmp(k, "max_response_size") == 0) {
      if (!parse_size(f, &g->max_response))
        err = bad(plugin,
                  "%s.max_response_size must be a size of at least 1 byte, such as 65536 or "
                  "\"4MiB\"%s",
                  FIELD, NULL);
    } else if (strcmp(k, "timeout_ms") == 0) {
      if (!parse_count(f, 1, &g->timeout_ms))
        err = bad(plugin, "%s.timeout_ms must be a whole number of milliseconds from 1%s", FIELD,
                  NULL);
    } else if (strcmp(k, "max_redirects") == 0) {
      if (!parse_count(f, 0, &g->max_redirects) ||
          g->max_redirects > WP_HTTPOUT_MAX_REDIRECTS_LIMIT)
        err = bad(plugin, "%s.max_redirects must be a whole number from 0 to %s", FIELD,
                  (snprintf(buf, sizeof buf, "%u", WP_HTTPOUT_MAX_REDIRECTS_LIMIT), buf));
    } else {
      err = bad(plugin,
                "%s: unknown field '%s' (fields: allowed_hosts, max_response_size, timeout_ms, "
                "max_redirects)",
                FIELD, wp_httpout_shown(k, buf, sizeof buf));
    }
    if (err) return err;
  }
  return NULL;
}

wp_error *wp_httpout_grant_parse(const char *plugin, const char *section, wp_httpout_grant **out) {
  *out = NULL;
  if (!section) return NULL;
  cJSON *root = cJSON_Parse(section);
  if (!root) return bad(plugin, "%s is not valid JSON%s", FIELD, NULL);
  wp_httpout_grant *g = calloc(1, sizeof *g);
  wp_error *err = g ? NULL : no_memory();
  if (g) {
    g->max_response = WP_HTTPOUT_DEFAULT_MAX_RESPONSE_SIZE;
    g->timeout_ms = WP_HTTPOUT_DEFAULT_TIMEOUT_MS;
    g->max_redirects = WP_HTTPOUT_DEFAULT_MAX_REDIRECTS;
    err = parse_object(plugin, root, g);
  }
  cJSON_Delete(root);
  if (!err && g && !(g->plugin = strdup(plugin))) err = no_memory();
  if (err || !g->nrules) {
    wp_httpout_grant_free(g);
    return err;
  }
  *out = g;
  return NULL;
}

void wp_httpout_grant_free(wp_httpout_grant *g) {
  if (!g) return;
  for (size_t i = 0; i < g->nrules; i++) free(g->rules[i].host);
  free(g->rules);
  free(g->plugin);
  free(g);
}

static bool host_matches(const wp_httpout_rule *r, const char *host) {
  if (!r->wildcard) return strcasecmp(r->host, host) == 0;
  if (is_ip_literal(host)) return false;
  size_t n = strlen(host), m = strlen(r->host);
  /* at least one label, then ".", then the domain */
  return n > m + 1 && host[n - m - 1] == '.' && strcasecmp(host + n - m, r->host) == 0;
}

bool wp_httpout_allowed(const wp_httpout_grant *g, const char *scheme, const char *host, int port) {
  if (!g || !scheme || !host) return false;
  bool https = strcmp(scheme, "https") == 0;
  if (!https && strcmp(scheme, "http") != 0) return false;
  for (size_t i = 0; i < g->nrules; i++) {
    const wp_httpout_rule *r = &g->rules[i];
    if (r->https == https && (r->port == -1 || r->port == port) && host_matches(r, host))
      return true;
  }
  return false;
}
