/*
 * upstream.c - reverse-proxy routes: a request forwarded to an HTTP upstream
 * with libcurl, on the worker thread that received it (like a plugin
 * handler, it holds its worker for the exchange, bounded by the route's
 * timeout).
 *
 * Each worker thread keeps one curl easy handle for its whole life (a
 * pthread key whose destructor frees it when libmicrohttpd ends the thread):
 * the handle's connection cache is what keeps TCP connections to upstreams
 * open across requests, so a keep-alive client costs the upstream one
 * connection per worker, not one per request. The handle is reset after
 * each request (curl_easy_reset keeps live connections).
 *
 * Headers follow RFC 9110 section 7.6.1: hop-by-hop ones (connection,
 * keep-alive, proxy-connection, transfer-encoding, te, trailer, upgrade, and
 * those the Connection header names) are dropped both ways, and so is
 * Content-Length (curl and libmicrohttpd frame the bodies). Host is the
 * client's, as Envoy and NGINX with `proxy_set_header Host $host` send it;
 * x-forwarded-for gets the client's address appended, x-forwarded-proto is
 * set to "http".
 *
 * The pieces at the end (the response sink, header lists, method and body)
 * are shared with httpclient.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "server.h"

#define MAX_RESPONSE_HEADERS 256

/* ---- URLs ------------------------------------------------------------------------ */

static bool host_char(char ch) {
  return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

/* The end of HOST in "HOST[:PORT]...", or NULL (with *why) if it is not one. */
static const char *scan_host(const char *h, const char **why) {
  const char *end;
  if (*h == '[') {
    for (end = h + 1; isxdigit((unsigned char)*end) || *end == ':' || *end == '.'; end++) {}
    if (*end != ']' || end == h + 1) {
      *why = "an IPv6 host is hex digits and ':' in brackets, e.g. [::1]";
      return NULL;
    }
    return end + 1;
  }
  for (end = h; host_char(*end); end++) {}
  if (end == h || end - h > 253 || (*end && *end != ':' && *end != '/')) {
    *why = "the host must be a name, an IPv4 address or [IPv6], e.g. http://127.0.0.1:9000";
    return NULL;
  }
  return end;
}

const char *upstream_url_check(const char *url, bool with_path) {
  if (strncmp(url, "https://", 8) == 0)
    return "only http:// upstreams are supported (no TLS to upstreams yet)";
  if (strncmp(url, "http://", 7) != 0)
    return "must be an http:// URL such as \"http://127.0.0.1:9000\"";
  const char *why = NULL, *p = scan_host(url + 7, &why);
  if (!p) return why;
  if (*p == ':') {
    char *end;
    unsigned long port = isdigit((unsigned char)p[1]) ? strtoul(p + 1, &end, 10) : 0;
    if (!port || port > 65535 || end - p > 6 || (*end && *end != '/'))
      return "the port must be a number from 1 to 65535";
    p = end;
  }
  if (!*p) return NULL;
  if (!with_path && strcmp(p, "/") != 0) return "must be http://HOST:PORT, without a path";
  for (; *p; p++)
    if (*p == '?' || *p == '#' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
      return "the base path must not contain '?', '#', spaces, control or non-ASCII characters";
  return NULL;
}

char *upstream_url_normalize(const char *url) {
  char *out = strdup(url);
  size_t n = out ? strlen(out) : 0;
  while (n > 7 && out[n - 1] == '/') out[--n] = 0;
  return out;
}

/* ---- the thread's handle ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t easy_key;
static bool curl_ready;

static void free_easy(void *easy) { curl_easy_cleanup(easy); }

static void curl_setup(void) {
  /* curl_global_init is not thread-safe in every libcurl: once, here. */
  curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK &&
               pthread_key_create(&easy_key, free_easy) == 0;
}

bool srv_curl_init(void) {
  pthread_once(&curl_once, curl_setup);
  return curl_ready;
}

static CURL *thread_easy(void) {
  if (!srv_curl_init()) return NULL;
  CURL *easy = pthread_getspecific(easy_key);
  if (easy) return easy;
  if ((easy = curl_easy_init()) && pthread_setspecific(easy_key, easy) != 0) {
    curl_easy_cleanup(easy);
    easy = NULL;
  }
  return easy;
}

/* ---- request headers ------------------------------------------------------------------ */

static const char *const HOP_BY_HOP[] = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding",
    "te",         "trailer",    "upgrade",          "content-length",
    NULL};

/* Whether a Connection header among h names `name` (its listed fields are
   hop-by-hop too). */
static bool named_by_connection(const char *name, const wp_http_header *h, size_t n) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(h[i].name, "connection") != 0) continue;
    const char *v = (const char *)h[i].value, *end = v + h[i].value_len;
    while (v < end) {
      while (v < end && (*v == ' ' || *v == '\t' || *v == ',')) v++;
      const char *tok = v;
      while (v < end && *v != ',' && *v != ' ' && *v != '\t') v++;
      if ((size_t)(v - tok) == len && strncasecmp(tok, name, len) == 0) return true;
    }
  }
  return false;
}

static bool hop_by_hop(const char *name, const wp_http_header *h, size_t n) {
  for (size_t i = 0; HOP_BY_HOP[i]; i++)
    if (strcmp(name, HOP_BY_HOP[i]) == 0) return true;
  return named_by_connection(name, h, n);
}

/* "earlier, values, REMOTE": the client's x-forwarded-for with its address
   appended (malloc'd). */
static char *forwarded_for(const upstream_request *req) {
  size_t len = strlen(req->remote) + 1;
  for (size_t i = 0; i < req->n_headers; i++)
    if (strcmp(req->headers[i].name, "x-forwarded-for") == 0) len += req->headers[i].value_len + 2;
  char *out = malloc(len), *p = out;
  if (!out) return NULL;
  for (size_t i = 0; i < req->n_headers; i++)
    if (strcmp(req->headers[i].name, "x-forwarded-for") == 0 && req->headers[i].value_len) {
      memcpy(p, req->headers[i].value, req->headers[i].value_len);
      p += req->headers[i].value_len;
      *p++ = ',';
      *p++ = ' ';
    }
  strcpy(p, req->remote);
  return out;
}

/* The headers sent upstream (borrowing req's and xff): n_headers + 2 slots. */
static size_t outgoing_headers(const upstream_request *req, const char *xff, wp_http_header *out) {
  size_t n = 0;
  for (size_t i = 0; i < req->n_headers; i++) {
    const char *name = req->headers[i].name;
    if (hop_by_hop(name, req->headers, req->n_headers) || strcmp(name, "expect") == 0 ||
        strcmp(name, "x-forwarded-for") == 0 || strcmp(name, "x-forwarded-proto") == 0)
      continue;
    out[n++] = req->headers[i];
  }
  out[n++] = (wp_http_header){"x-forwarded-for", 15, (const uint8_t *)xff, strlen(xff)};
  out[n++] = (wp_http_header){"x-forwarded-proto", 17, (const uint8_t *)"http", 4};
  return n;
}

/* ---- forwarding ------------------------------------------------------------------------- */

static bool failed(upstream_failure *why, int status, const char *reason, const char *detail) {
  why->status = status;
  why->reason = reason;
  snprintf(why->detail, sizeof why->detail, "%s", detail);
  return false;
}

/* Shutdown sets *cancel: curl calls this at least once a second. */
static int on_progress(void *cancel, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)a, (void)b, (void)c, (void)d;
  return atomic_load_explicit((const atomic_bool *)cancel, memory_order_relaxed);
}

static void set_options(CURL *easy, const upstream_request *req, const char *url,
                        struct curl_slist *hl, char *errbuf) {
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never the environment's http_proxy */
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L); /* forward "/../" as sent */
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  if (req->cancel) {
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, (void *)req->cancel);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  }
  bool has_body = req->body_len > 0;
  for (size_t i = 0; i < req->n_headers && !has_body; i++)
    has_body = strcmp(req->headers[i].name, "content-length") == 0 ||
               strcmp(req->headers[i].name, "transfer-encoding") == 0;
  srv_curl_method(easy, req->method, req->body, req->body_len, has_body);
}

static bool classify(CURLcode rc, const srv_curl_sink *sink, const upstream_request *req,
                     const char *errbuf, upstream_failure *why) {
  char detail[300];
  snprintf(detail, sizeof detail, "%s%s%s", curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf);
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return failed(why, 503, "the server is shutting down", "cancelled by shutdown");
  if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    snprintf(detail, sizeof detail, "response body over max_response_body (%llu bytes)",
             (unsigned long long)req->max_response_body);
    return failed(why, 502, "the upstream's response is too large", detail);
  }
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return failed(why, 504, "the upstream did not answer in time", detail);
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
    return failed(why, 502, "the upstream cannot be reached", detail);
  if (rc == CURLE_URL_MALFORMAT)
    return failed(why, 400, "the request target cannot be forwarded", detail);
  if (sink->bad) snprintf(detail, sizeof detail, "a malformed header line in the response");
  return failed(why, 502, "the upstream's response was malformed or cut short", detail);
}

/* Drops the response's hop-by-hop headers, in place (decided first: the
   Connection header itself is among those dropped). */
static void drop_hop_by_hop(wp_http_response *resp) {
  bool drop[MAX_RESPONSE_HEADERS];
  for (size_t i = 0; i < resp->n_headers; i++)
    drop[i] = hop_by_hop(resp->headers[i].name, resp->headers, resp->n_headers);
  size_t n = 0;
  for (size_t i = 0; i < resp->n_headers; i++) {
    if (!drop[i]) {
      resp->headers[n++] = resp->headers[i];
      continue;
    }
    free((char *)resp->headers[i].name);
    free((uint8_t *)resp->headers[i].value);
  }
  resp->n_headers = n;
}

static bool perform(CURL *easy, const upstream_request *req, const char *url, struct curl_slist *hl,
                    wp_http_response *resp, upstream_failure *why) {
  char errbuf[CURL_ERROR_SIZE] = "";
  srv_curl_sink sink = {.max_body = req->max_response_body};
  set_options(easy, req, url, hl, errbuf);
  srv_curl_sink_attach(easy, &sink);
  CURLcode rc = curl_easy_perform(easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  /* Forget the pointers to this frame; live connections stay. */
  curl_easy_reset(easy);
  if (rc == CURLE_OK && (status < 100 || status > 599)) {
    rc = CURLE_WEIRD_SERVER_REPLY;
    snprintf(errbuf, sizeof errbuf, "status %ld", status);
  }
  if (rc != CURLE_OK) {
    wp_http_response_clear(&sink.resp);
    return classify(rc, &sink, req, errbuf, why);
  }
  sink.resp.status = (uint16_t)status;
  drop_hop_by_hop(&sink.resp);
  *resp = sink.resp;
  return true;
}

bool upstream_forward(const upstream_request *req, wp_http_response *resp, upstream_failure *why) {
  memset(resp, 0, sizeof *resp);
  CURL *easy = thread_easy();
  size_t ulen = strlen(req->base) + strlen(req->uri) + 1;
  char *url = malloc(ulen), *xff = forwarded_for(req);
  wp_http_header *out = calloc(req->n_headers + 2, sizeof *out);
  struct curl_slist *hl = NULL;
  bool ok = false;
  if (easy && url && xff && out) {
    snprintf(url, ulen, "%s%s", req->base, req->uri);
    hl = srv_curl_headers(out, outgoing_headers(req, xff, out));
  }
  if (hl) ok = perform(easy, req, url, hl, resp, why);
  else failed(why, 503, "out of memory", "out of memory");
  curl_slist_free_all(hl);
  free(out);
  free(xff);
  free(url);
  return ok;
}

/* ---- shared with httpclient.c ------------------------------------------------------------ */

static void sink_clear_headers(srv_curl_sink *s) {
  for (size_t i = 0; i < s->resp.n_headers; i++) {
    free((char *)s->resp.headers[i].name);
    free((uint8_t *)s->resp.headers[i].value);
  }
  s->resp.n_headers = 0;
}

static bool sink_add_header(srv_curl_sink *s, const char *name, size_t nlen, const char *value,
                            size_t vlen) {
  if (s->resp.n_headers == MAX_RESPONSE_HEADERS) return false;
  if (!s->resp.headers &&
      !(s->resp.headers = calloc(MAX_RESPONSE_HEADERS, sizeof *s->resp.headers)))
    return false;
  char *n = strndup(name, nlen), *v = strndup(value, vlen);
  if (!n || !v) {
    free(n);
    free(v);
    return false;
  }
  for (char *p = n; *p; p++) *p = (char)tolower((unsigned char)*p);
  s->resp.headers[s->resp.n_headers++] = (wp_http_header){n, nlen, (const uint8_t *)v, vlen};
  return true;
}

/* One header line of a response ("Name: value\r\n", the status line, or
   the blank line that ends them); 0 makes curl fail the transfer. */
static size_t on_header(char *buf, size_t size, size_t count, void *user) {
  srv_curl_sink *s = user;
  size_t total = size * count, len = total;
  if (s->in_body) return total; /* trailers: not headers of the response */
  if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
    sink_clear_headers(s); /* a new response: forget a 1xx one's headers */
    return total;
  }
  while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
  if (!len) return total;
  const char *colon = memchr(buf, ':', len);
  /* No colon, a bad name, or obsolete line folding (a leading space). */
  if (!colon || !wp_http_header_name_valid(buf, (size_t)(colon - buf))) {
    s->bad = true;
    return 0;
  }
  const char *v = colon + 1, *end = buf + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  if (!wp_http_header_value_valid((const uint8_t *)v, (size_t)(end - v)) ||
      !sink_add_header(s, buf, (size_t)(colon - buf), v, (size_t)(end - v))) {
    s->bad = true;
    return 0;
  }
  return total;
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
  srv_curl_sink *s = user;
  size_t len = size * count;
  s->in_body = true;
  if (s->resp.body_len + len > s->max_body) {
    s->too_big = true;
    return 0;
  }
  if (s->resp.body_len + len > s->body_cap) {
    size_t cap = s->body_cap ? s->body_cap : 16384;
    while (cap < s->resp.body_len + len) cap *= 2;
    uint8_t *b = realloc(s->resp.body, cap);
    if (!b) return 0;
    s->resp.body = b;
    s->body_cap = cap;
  }
  memcpy(s->resp.body + s->resp.body_len, data, len);
  s->resp.body_len += len;
  return len;
}

void srv_curl_sink_attach(void *easy, srv_curl_sink *s) {
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, s);
  /* A declared length over the cap fails before any of the body is read. */
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_body);
}

/* Appends "name: value" ("name;" for an empty value: curl's spelling, as
   "name:" means "do not send"); frees the list and gives NULL on failure. */
static struct curl_slist *add_line(struct curl_slist *l, const char *name, const uint8_t *v,
                                   size_t vlen) {
  size_t n = strlen(name) + vlen + 3;
  char *line = malloc(n);
  struct curl_slist *out = NULL;
  if (line) {
    if (vlen) snprintf(line, n, "%s: %.*s", name, (int)vlen, (const char *)v);
    else snprintf(line, n, "%s;", name);
    out = curl_slist_append(l, line);
  }
  free(line);
  if (!out) curl_slist_free_all(l);
  return out;
}

static bool has_header(const wp_http_header *h, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(h[i].name, name) == 0) return true;
  return false;
}

struct curl_slist *srv_curl_headers(const wp_http_header *h, size_t n) {
  struct curl_slist *l = NULL;
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(h[i].name, "expect") == 0) continue;
    if (!(l = add_line(l, h[i].name, h[i].value, h[i].value_len))) return NULL;
  }
  /* "Name:" stops curl adding its own: no Accept: * / *, no waiting for a
     100 Continue, no form Content-Type on a body the client did not type. */
  static const char *const defaults[] = {"Accept", "Content-Type", NULL};
  for (size_t i = 0; defaults[i]; i++)
    if (!has_header(h, n, defaults[i])) {
      struct curl_slist *o = curl_slist_append(l, i ? "Content-Type:" : "Accept:");
      if (!o) curl_slist_free_all(l);
      if (!(l = o)) return NULL;
    }
  struct curl_slist *o = curl_slist_append(l, "Expect:");
  if (!o) curl_slist_free_all(l);
  return o;
}

void srv_curl_method(void *easy, const char *method, const uint8_t *body, size_t len,
                     bool has_body) {
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  if (has_body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  if (has_body || strcmp(method, "GET") != 0) curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
}
