/*
 * httpclient.c - an asynchronous HTTP client for calls the server makes on
 * behalf of filters (Proxy-Wasm's http_call): one thread runs a curl multi
 * handle; any thread submits a call and gets its result through a callback
 * run on that thread.
 *
 * A submitted call is made ready (its easy handle set up) on the submitting
 * thread, then queued under a lock; the client thread takes the queue when
 * curl_multi_wakeup interrupts its poll, so no curl handle is ever touched by
 * two threads at once. The multi handle owns the connection cache, so calls
 * to the same host:port reuse kept-alive connections even though each call
 * has its own easy handle.
 *
 * Every accepted call ends in exactly one callback: with the response, with
 * the transfer's error, or with "cancelled" when the client is freed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "server.h"

#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)

typedef struct pending {
  CURL *easy;
  struct curl_slist *hdrs;
  char *url, *method;
  uint8_t *body;
  uint32_t timeout_ms;
  srv_curl_sink sink;
  char errbuf[CURL_ERROR_SIZE];
  srv_http_done done;
  void *user;
  struct pending *prev, *next;
} pending;

struct srv_http_client {
  CURLM *multi;
  pthread_t thread;
  pthread_mutex_t lock;
  pending *queue, **queue_tail; /* submitted, not yet started (lock) */
  bool closing;                 /* (lock) */
  pending *active;              /* started: the client thread's alone */
};

/* ---- one call ------------------------------------------------------------------ */

static void pending_free(pending *p) {
  if (!p) return;
  if (p->easy) curl_easy_cleanup(p->easy);
  curl_slist_free_all(p->hdrs);
  wp_http_response_clear(&p->sink.resp);
  free(p->url);
  free(p->method);
  free(p->body);
  free(p);
}

static bool call_valid(const srv_http_call *call) {
  if (!call->url || (call->body_len && !call->body)) return false;
  for (size_t i = 0; i < call->n_headers; i++) {
    const wp_http_header *h = &call->headers[i];
    if (!h->name || !wp_http_header_name_valid(h->name, h->name_len) ||
        (h->value_len && !h->value) || !wp_http_header_value_valid(h->value, h->value_len))
      return false;
  }
  return true;
}

/* curl takes header names NUL-terminated: copies of the call's pairs. */
static struct curl_slist *call_headers(const srv_http_call *call) {
  wp_http_header *h = calloc(call->n_headers ? call->n_headers : 1, sizeof *h);
  size_t n = 0;
  bool ok = h != NULL;
  for (; ok && n < call->n_headers; n++) {
    h[n] = call->headers[n];
    ok = (h[n].name = strndup(call->headers[n].name, call->headers[n].name_len)) != NULL;
    if (!ok) break;
  }
  struct curl_slist *l = ok ? srv_curl_headers(h, n) : NULL;
  for (size_t i = 0; h && i < n; i++) free((char *)h[i].name);
  free(h);
  return l;
}

static void setup_easy(pending *p, const srv_http_call *call) {
  CURL *e = p->easy;
  curl_easy_setopt(e, CURLOPT_URL, p->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never the environment's http_proxy */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, p);
  srv_curl_sink_attach(e, &p->sink);
  srv_curl_method(e, p->method, p->body, call->body_len, call->body != NULL);
}

static pending *pending_new(const srv_http_call *call, srv_http_done done, void *user) {
  pending *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->done = done;
  p->user = user;
  p->timeout_ms = call->timeout_ms ? call->timeout_ms : SRV_DEFAULT_TIMEOUT_MS;
  p->sink.max_body = call->max_response_bytes ? call->max_response_bytes : DEFAULT_MAX_RESPONSE;
  p->url = strdup(call->url);
  p->method = strdup(call->method ? call->method : "GET");
  if (call->body_len) p->body = malloc(call->body_len);
  if (p->body) memcpy(p->body, call->body, call->body_len);
  p->easy = curl_easy_init();
  p->hdrs = call_headers(call);
  if (!p->url || !p->method || (call->body_len && !p->body) || !p->easy || !p->hdrs) {
    pending_free(p);
    return NULL;
  }
  setup_easy(p, call);
  return p;
}

/* ---- the client thread ---------------------------------------------------------- */

static void describe(CURLcode rc, const pending *p, char *out, size_t size) {
  if (p->sink.too_big || rc == CURLE_FILESIZE_EXCEEDED)
    snprintf(out, size, "response too large: the body is over %llu bytes",
             (unsigned long long)p->sink.max_body);
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    snprintf(out, size, "timed out after %u ms", p->timeout_ms);
  else if (p->sink.bad) snprintf(out, size, "malformed response: a bad header line");
  else if (rc == CURLE_COULDNT_CONNECT) /* errno's text is not in curl's message */
    snprintf(out, size, "connection refused or unreachable: %s", p->errbuf);
  else snprintf(out, size, "%s%s%s", curl_easy_strerror(rc), p->errbuf[0] ? ": " : "", p->errbuf);
}

/* Ends a started call: its one callback, then it is gone. */
static void finish(srv_http_client *c, pending *p, CURLcode rc, const char *cancelled) {
  curl_multi_remove_handle(c->multi, p->easy);
  if (p->prev) p->prev->next = p->next;
  else c->active = p->next;
  if (p->next) p->next->prev = p->prev;
  long status = 0;
  curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
  char why[CURL_ERROR_SIZE + 128];
  srv_http_result res = {.error = why};
  if (cancelled) snprintf(why, sizeof why, "%s", cancelled);
  else if (rc == CURLE_OK && (status < 100 || status > 599))
    snprintf(why, sizeof why, "malformed response: status %ld", status);
  else if (rc != CURLE_OK) describe(rc, p, why, sizeof why);
  else
    res = (srv_http_result){.ok = true,
                            .status = (uint16_t)status,
                            .headers = p->sink.resp.headers,
                            .n_headers = p->sink.resp.n_headers,
                            .body = p->sink.resp.body,
                            .body_len = p->sink.resp.body_len};
  p->done(p->user, &res);
  pending_free(p);
}

/* Moves the submitted calls into the multi handle. */
static void start_queued(srv_http_client *c, pending *q) {
  while (q) {
    pending *p = q;
    q = q->next;
    p->prev = NULL;
    p->next = c->active;
    if (c->active) c->active->prev = p;
    c->active = p;
    CURLMcode mc = curl_multi_add_handle(c->multi, p->easy);
    if (mc != CURLM_OK) finish(c, p, CURLE_FAILED_INIT, curl_multi_strerror(mc));
  }
}

static void collect_done(srv_http_client *c) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    pending *p = NULL;
    CURLcode rc = m->data.result; /* m is invalid once its handle is removed */
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
    finish(c, p, rc, NULL);
  }
}

static void *client_main(void *arg) {
  srv_http_client *c = arg;
  for (;;) {
    pthread_mutex_lock(&c->lock);
    pending *q = c->queue;
    c->queue = NULL;
    c->queue_tail = &c->queue;
    bool closing = c->closing;
    pthread_mutex_unlock(&c->lock);
    start_queued(c, q);
    /* Nothing is queued after `closing` was seen (submit checks it under
       the lock), so failing the active calls ends every call. */
    if (closing) break;
    int running;
    curl_multi_perform(c->multi, &running);
    collect_done(c);
    curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
  }
  while (c->active) finish(c, c->active, CURLE_OK, "cancelled: the HTTP client is closing");
  return NULL;
}

/* ---- the API ----------------------------------------------------------------------- */

srv_http_client *httpclient_new(void) {
  if (!srv_curl_init()) return NULL;
  srv_http_client *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->queue_tail = &c->queue;
  if (!(c->multi = curl_multi_init())) {
    free(c);
    return NULL;
  }
  /* Idle connections kept for reuse, beyond curl's default of 4 per handle
     (each call's handle is gone once it ends). */
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 64L);
  pthread_mutex_init(&c->lock, NULL);
  if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
    pthread_mutex_destroy(&c->lock);
    curl_multi_cleanup(c->multi);
    free(c);
    return NULL;
  }
  return c;
}

void httpclient_free(srv_http_client *c) {
  if (!c) return;
  pthread_mutex_lock(&c->lock);
  c->closing = true;
  pthread_mutex_unlock(&c->lock);
  curl_multi_wakeup(c->multi);
  pthread_join(c->thread, NULL);
  curl_multi_cleanup(c->multi);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

int httpclient_submit(srv_http_client *c, const srv_http_call *call, srv_http_done done,
                      void *user) {
  if (!c || !call || !done || !call_valid(call)) return -1;
  pending *p = pending_new(call, done, user);
  if (!p) return -1;
  pthread_mutex_lock(&c->lock);
  bool closing = c->closing;
  if (!closing) {
    *c->queue_tail = p;
    c->queue_tail = &p->next;
  }
  pthread_mutex_unlock(&c->lock);
  if (closing) {
    pending_free(p);
    return -1;
  }
  curl_multi_wakeup(c->multi);
  return 0;
}
