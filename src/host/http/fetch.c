/* fetch.c - one outbound HTTP exchange with libcurl, redirects followed and
   checked here (fetch.h). */
#include "host/http/fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void curl_init(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

static wp_httpout_outcome say(wp_httpout_resp *r, wp_httpout_outcome o, const char *fmt, ...)
    WP_PRINTF(3, 4);
static wp_httpout_outcome say(wp_httpout_resp *r, wp_httpout_outcome o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  return o;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void clear_headers(wp_httpout_resp *r) {
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  r->nheaders = 0;
}

void wp_httpout_resp_clear(wp_httpout_resp *r) {
  clear_headers(r);
  free(r->headers);
  free(r->body);
  *r = (wp_httpout_resp){0};
}

/* The parts of a URL the allowlist looks at. */
typedef struct target {
  CURLU *u;
  char *scheme, *host;
  int port;
} target;

static void target_free(target *t) {
  curl_url_cleanup(t->u);
  curl_free(t->scheme);
  curl_free(t->host);
  *t = (target){0};
}

/* Parses url and checks it against the grant. `from` (may be NULL): the
   URL that redirected here, for the message. */
static wp_httpout_outcome check_url(const wp_httpout_grant *g, const char *url, const char *from,
                                    target *t, wp_httpout_resp *r) {
  char a[240], b[240];
  *t = (target){0};
  if (!(t->u = curl_url())) return say(r, WP_HTTPOUT_FAILED, "out of memory");
  char *port = NULL, *user = NULL, *password = NULL;
  bool parsed = curl_url_set(t->u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                curl_url_get(t->u, CURLUPART_SCHEME, &t->scheme, 0) == CURLUE_OK &&
                curl_url_get(t->u, CURLUPART_HOST, &t->host, 0) == CURLUE_OK &&
                curl_url_get(t->u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  bool userinfo = curl_url_get(t->u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                  curl_url_get(t->u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
  t->port = port ? atoi(port) : 0;
  curl_free(port);
  curl_free(user);
  curl_free(password);
  wp_httpout_outcome o = WP_HTTPOUT_OK;
  if (!parsed || !t->host || !*t->host)
    o = say(r, WP_HTTPOUT_BAD_REQUEST, "'%s' is not an absolute http(s) URL",
            wp_httpout_shown(url, a, 200));
  else if (strcmp(t->scheme, "http") != 0 && strcmp(t->scheme, "https") != 0)
    o = say(r, WP_HTTPOUT_DENIED, "'%s': only http and https are allowed",
            wp_httpout_shown(url, a, 200));
  else if (userinfo)
    o = say(r, WP_HTTPOUT_DENIED, "'%s': URLs with a user or password are refused",
            wp_httpout_shown(url, a, 200));
  else if (!wp_httpout_allowed(g, t->scheme, t->host, t->port) && from)
    o = say(r, WP_HTTPOUT_DENIED,
            "redirect from '%s' to '%s' refused: %s://%s:%d is not in "
            "capabilities.http.allowed_hosts",
            wp_httpout_shown(from, b, 200), wp_httpout_shown(url, a, 200), t->scheme, t->host,
            t->port);
  else if (!wp_httpout_allowed(g, t->scheme, t->host, t->port))
    o = say(r, WP_HTTPOUT_DENIED,
            "'%s' refused: %s://%s:%d is not in capabilities.http.allowed_hosts (add it there to "
            "allow it)",
            wp_httpout_shown(url, a, 200), t->scheme, t->host, t->port);
  if (o != WP_HTTPOUT_OK) target_free(t);
  return o;
}

/* State of one transfer, for the callbacks. */
typedef struct xfer {
  wp_httpout_resp *r;
  uint64_t max;
  bool too_big, no_memory;
  const wp_httpout_req *q; /* its stop callback, polled as the transfer runs */
  bool stopped;
} xfer;

/* libcurl's progress callback: non-zero ends the transfer. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  xfer *x = ud;
  if (x->q->stop && x->q->stop(x->q->stop_data)) x->stopped = true;
  return x->stopped;
}

static bool count(xfer *x, size_t n) {
  x->r->received += n;
  if (x->r->received > x->max) x->too_big = true;
  return !x->too_big;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  xfer *x = arg;
  wp_httpout_resp *r = x->r;
  size_t len = size * n;
  if (!count(x, len)) return CURL_WRITEFUNC_ERROR;
  if (r->body_cap - r->body_len < len) {
    size_t cap = r->body_cap ? r->body_cap : 4096;
    while (cap - r->body_len < len) cap *= 2;
    uint8_t *b = realloc(r->body, cap);
    if (!b) {
      x->no_memory = true;
      return CURL_WRITEFUNC_ERROR;
    }
    r->body = b;
    r->body_cap = cap;
  }
  memcpy(r->body + r->body_len, data, len);
  r->body_len += len;
  return len;
}

static bool add_header(wp_httpout_resp *r, const char *name, size_t nlen, const char *value,
                       size_t vlen) {
  if (r->nheaders == r->capheaders) {
    size_t cap = r->capheaders ? r->capheaders * 2 : 16;
    wp_httpout_field *h = realloc(r->headers, cap * sizeof *h);
    if (!h) return false;
    r->headers = h;
    r->capheaders = cap;
  }
  wp_httpout_field f = {strndup(name, nlen), nlen, malloc(vlen ? vlen : 1), vlen};
  if (!f.name || !f.value) {
    free(f.name);
    free(f.value);
    return false;
  }
  memcpy(f.value, value, vlen);
  r->headers[r->nheaders++] = f;
  return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  xfer *x = arg;
  size_t len = size * n;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* a new response (after a 1xx): only the last one's headers count */
    clear_headers(x->r);
    x->r->received = 0;
  }
  if (!count(x, len)) return CURL_WRITEFUNC_ERROR;
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
  const char *colon = memchr(data, ':', len);
  if (!colon || colon == data || (len >= 5 && memcmp(data, "HTTP/", 5) == 0)) return size * n;
  size_t nlen = (size_t)(colon - data);
  const char *v = colon + 1, *end = data + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  if (!add_header(x->r, data, nlen, v, (size_t)(end - v))) {
    x->no_memory = true;
    return CURL_WRITEFUNC_ERROR;
  }
  return size * n;
}

static bool token(const char *s) {
  if (!*s || strlen(s) > WP_HTTPOUT_MAX_METHOD_LEN) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s)) return false;
  return true;
}

/* Headers libcurl writes itself, or that would let a plugin change where
   the request goes or how it is framed. */
static bool forbidden(const char *name) {
  static const char *const names[] = {"host",
                                      "content-length",
                                      "transfer-encoding",
                                      "connection",
                                      "upgrade",
                                      "keep-alive",
                                      "te",
                                      "trailer",
                                      "expect",
                                      "proxy-authorization",
                                      "proxy-connection"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcasecmp(name, names[i]) == 0) return true;
  return false;
}

/* The request headers as libcurl wants them; NULL with r->message set. */
static bool build_headers(const wp_httpout_req *q, bool keep_credentials, struct curl_slist **out,
                          wp_httpout_resp *r) {
  struct curl_slist *list = curl_slist_append(NULL, "Expect:"); /* no 100-continue wait */
  for (size_t i = 0; list && i < q->nheaders; i++) {
    const wp_httpout_field *h = &q->headers[i];
    char a[80];
    if (!wp_http_header_name_valid(h->name, h->name_len) ||
        !wp_http_header_value_valid(h->value, h->value_len)) {
      say(r, WP_HTTPOUT_BAD_REQUEST, "request header '%s' is not a valid name and value",
          wp_httpout_shown(h->name, a, 64));
      curl_slist_free_all(list);
      return false;
    }
    if (forbidden(h->name)) {
      say(r, WP_HTTPOUT_BAD_REQUEST, "request header '%s' is set by the host, not the plugin",
          h->name);
      curl_slist_free_all(list);
      return false;
    }
    if (!keep_credentials &&
        (strcasecmp(h->name, "authorization") == 0 || strcasecmp(h->name, "cookie") == 0))
      continue;
    /* "Name;" is libcurl's way to send an empty value ("Name:" removes it). */
    size_t n = h->name_len + h->value_len + 3;
    char *line = malloc(n);
    if (!line) break;
    snprintf(line, n, "%s%c ", h->name, h->value_len ? ':' : ';');
    if (h->value_len) memcpy(line + h->name_len + 2, h->value, h->value_len);
    line[h->name_len + 2 + h->value_len] = '\0';
    if (!h->value_len) line[h->name_len + 1] = '\0';
    struct curl_slist *more = curl_slist_append(list, line);
    free(line);
    if (!more) break;
    list = more;
  }
  if (!list) {
    say(r, WP_HTTPOUT_FAILED, "out of memory");
    return false;
  }
  *out = list;
  return true;
}

static void setup(CURL *c, const target *t, const char *method, const uint8_t *body,
                  size_t body_len, struct curl_slist *headers, xfer *x, uint64_t left_ms,
                  char *errbuf) {
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_CURLU, t->u);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROXY, ""); /* not the environment's: the allowlist is the truth */
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)left_ms);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (x->q->stop) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  if (strcmp(method, "GET") == 0 && !body_len) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    if (strcmp(method, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body_len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_len ? (const char *)body : "");
    }
  }
}

static wp_httpout_outcome failed(CURLcode rc, const xfer *x, const wp_httpout_grant *g,
                                 const char *url, const char *errbuf, wp_httpout_resp *r) {
  char a[240];
  wp_httpout_shown(url, a, 200);
  if (x->no_memory) return say(r, WP_HTTPOUT_FAILED, "'%s': out of memory", a);
  if (x->stopped)
    return say(r, WP_HTTPOUT_INTERRUPTED, "'%s': the plugin's call was interrupted", a);
  if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
    return say(r, WP_HTTPOUT_TOO_BIG,
               "'%s': the response is larger than capabilities.http.max_response_size (%llu "
               "bytes); it was cut",
               a, (unsigned long long)g->max_response);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return say(r, WP_HTTPOUT_TIMEOUT,
               "'%s' took longer than capabilities.http.timeout_ms (%u ms); it was stopped", a,
               g->timeout_ms);
  bool connect = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT;
  return say(r, connect ? WP_HTTPOUT_CONNECT : WP_HTTPOUT_FAILED, "'%s': %s", a,
             *errbuf ? errbuf : curl_easy_strerror(rc));
}

static bool same_origin(const target *a, const target *b) {
  if (!a->scheme || !a->host || !b->scheme || !b->host) return false;
  return strcmp(a->scheme, b->scheme) == 0 && strcasecmp(a->host, b->host) == 0 &&
         a->port == b->port;
}

wp_httpout_outcome wp_httpout_fetch(const wp_httpout_grant *g, const wp_httpout_req *q,
                                    wp_httpout_resp *r) {
  *r = (wp_httpout_resp){0};
  pthread_once(&curl_once, curl_init);
  if (!curl_ready) return say(r, WP_HTTPOUT_FAILED, "libcurl could not be initialised");
  if (!q->method || !token(q->method))
    return say(r, WP_HTTPOUT_BAD_REQUEST, "the method is not an HTTP token");
  target first, t;
  wp_httpout_outcome o = check_url(g, q->url, NULL, &first, r);
  if (o != WP_HTTPOUT_OK) return o;
  CURL *c = curl_easy_init();
  char *url = strdup(q->url);
  if (!c || !url) {
    curl_easy_cleanup(c);
    free(url);
    target_free(&first);
    return say(r, WP_HTTPOUT_FAILED, "out of memory");
  }
  const char *method = q->method;
  const uint8_t *body = q->body;
  size_t body_len = q->body_len;
  /* The plugin's call deadline bounds the exchange too, when it is nearer. */
  bool call_bound = q->call_left_ms < g->timeout_ms;
  uint64_t deadline = now_ms() + (call_bound ? q->call_left_ms : g->timeout_ms);
  t = first;
  first = (target){0};
  struct curl_slist *headers = NULL;
  for (uint32_t hop = 0;; hop++) {
    char errbuf[CURL_ERROR_SIZE] = "";
    xfer x = {r, g->max_response, false, false, q, false};
    uint64_t now = now_ms();
    if (now >= deadline) {
      o = failed(CURLE_OPERATION_TIMEDOUT, &x, g, url, errbuf, r);
      break;
    }
    curl_slist_free_all(headers);
    headers = NULL;
    /* credentials go only where the plugin sent them */
    if (!build_headers(q, hop == 0 || same_origin(&t, &first), &headers, r)) {
      o = WP_HTTPOUT_BAD_REQUEST;
      break;
    }
    if (hop == 0) {
      /* first keeps the origin the plugin named; t owns the CURLU */
      first.scheme = strdup(t.scheme);
      first.host = strdup(t.host);
      first.port = t.port;
    }
    clear_headers(r);
    r->body_len = 0;
    r->received = 0;
    setup(c, &t, method, body, body_len, headers, &x, deadline - now, errbuf);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      o = failed(rc, &x, g, url, errbuf, r);
      break;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *next = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
    bool redirect = (r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 ||
                     r->status == 308) &&
                    next;
    if (!redirect) {
      o = WP_HTTPOUT_OK;
      break;
    }
    char a[240];
    if (hop >= g->max_redirects) {
      o = say(r, WP_HTTPOUT_BAD_REQUEST,
              "'%s': more redirects than capabilities.http.max_redirects (%u)",
              wp_httpout_shown(q->url, a, 200), g->max_redirects);
      break;
    }
    char *to = strdup(next);
    target n;
    o = to ? check_url(g, to, url, &n, r) : say(r, WP_HTTPOUT_FAILED, "out of memory");
    if (o != WP_HTTPOUT_OK) {
      free(to);
      break;
    }
    /* As browsers and libcurl do: 303 (and 301/302 after a POST) become a GET. */
    if ((r->status == 303 && strcmp(method, "HEAD") != 0) ||
        ((r->status == 301 || r->status == 302) && strcmp(method, "POST") == 0)) {
      method = "GET";
      body = NULL;
      body_len = 0;
    }
    target_free(&t);
    t = n;
    free(url);
    url = to;
  }
  if (o == WP_HTTPOUT_TIMEOUT && call_bound) {
    char a[240];
    say(r, WP_HTTPOUT_TIMEOUT,
        "'%s' ran into the plugin's call deadline (limits.timeout_ms: %llu ms were left); it "
        "was stopped",
        wp_httpout_shown(q->url, a, 200), (unsigned long long)q->call_left_ms);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  target_free(&t);
  free(first.scheme);
  free(first.host);
  free(url);
  if (o != WP_HTTPOUT_OK) {
    clear_headers(r);
    r->body_len = 0;
  }
  return o;
}
