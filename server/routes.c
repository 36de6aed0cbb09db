/*
 * routes.c - which route serves a request. By path first: an exact path
 * beats any prefix, and the longest prefix wins; then by method among the
 * routes of that path (405 with Allow if none takes it). HEAD goes where GET
 * goes. Paths are compared as sent, before percent-decoding. A route with
 * match.host takes only requests for that host, and beats one without.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server.h"

/* Whether the route takes requests for this Host (its port, if any, aside). */
static bool host_ok(const cfg_route *r, const char *host) {
  if (!r->host) return true;
  if (!host) return false;
  size_t n = strcspn(host, ":");
  if (host[0] == '[') n = strcspn(host, "]") + 1; /* [v6]:port */
  return strlen(r->host) == n && strncasecmp(r->host, host, n) == 0;
}

/* How well a route matches: 0 none, else higher is better. A route for the
   request's host beats one for any host with the same path. */
static size_t path_score(const cfg_route *r, const char *path, size_t len, const char *host) {
  if (!host_ok(r, host)) return 0;
  size_t n = strlen(r->path), s;
  if (!r->prefix) s = n == len && memcmp(r->path, path, len) == 0 ? SIZE_MAX / 2 : 0;
  else s = len >= n && memcmp(r->path, path, n) == 0 ? n + 1 : 0;
  return s ? 2 * s + (r->host != NULL) : 0;
}

static bool method_ok(const cfg_route *r, const char *method) {
  if (!r->methods) return true;
  for (size_t i = 0; i < r->nmethods; i++) {
    if (strcmp(r->methods[i], method) == 0) return true;
    if (strcmp(method, "HEAD") == 0 && strcmp(r->methods[i], "GET") == 0) return true;
  }
  return false;
}

const route *routes_match(const srv_state *st, const char *path, size_t path_len,
                          const char *method, const char *host, int *status, char *allow,
                          size_t allow_size) {
  const srv_config *c = st->config;
  size_t best = 0;
  for (size_t i = 0; i < c->nroutes; i++) {
    size_t s = path_score(&c->routes[i], path, path_len, host);
    if (s > best) best = s;
  }
  if (!best) {
    *status = 404;
    return NULL;
  }
  for (size_t i = 0; i < c->nroutes; i++)
    if (path_score(&c->routes[i], path, path_len, host) == best && method_ok(&c->routes[i], method))
      return &st->routes[i];
  /* The path is routed, not for this method: say which methods are. */
  size_t n = 0;
  if (allow_size) allow[0] = 0;
  for (size_t i = 0; i < c->nroutes; i++) {
    const cfg_route *r = &c->routes[i];
    if (path_score(r, path, path_len, host) != best) continue;
    for (size_t j = 0; j < r->nmethods && n < allow_size; j++) {
      bool dup = strstr(allow, r->methods[j]) != NULL;
      if (!dup)
        n += (size_t)snprintf(allow + n, allow_size - n, "%s%s", n ? ", " : "", r->methods[j]);
    }
  }
  *status = 405;
  return NULL;
}
