/*
 * worker.c - wp_pw_worker: one thread's VMs and what drives them outside
 * stream steps: the mailbox other threads post to (HTTP call responses,
 * queue wake-ups), HTTP call timeouts, tick timers, and the stream events
 * they cause, all run by wp_pw_worker_poll on the worker's thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

uint64_t pw_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

wp_error *wp_pw_worker_new(wp_pw_host *h, void *user_data, wp_pw_worker **out) {
  if (!h || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_worker_new: host and out are required");
  wp_pw_worker *w = calloc(1, sizeof *w);
  if (!w) return wp_error_no_memory();
  w->host = h;
  w->user_data = user_data;
  w->next_token = 1;
  pthread_mutex_init(&w->mail_lock, NULL);
  w->mail_tail = &w->mail;
  *out = w;
  return NULL;
}

void pw_mail_free(pw_mail *m) {
  if (!m) return;
  if (m->resp) {
    pw_map_free(&m->resp->headers);
    pw_map_free(&m->resp->trailers);
    pw_buffer_free(&m->resp->body);
    free(m->resp);
  }
  wp_pw_plugin_free(m->plugin);
  free(m);
}

void wp_pw_worker_free(wp_pw_worker *w) {
  if (!w) return;
  pw_queue_forget_worker(w->host, w);
  while (w->vms) {
    pw_vm *vm = w->vms;
    w->vms = vm->next;
    pw_vm_free(vm);
  }
  while (w->calls) {
    pw_pending_call *c = w->calls;
    w->calls = c->next;
    free(c);
  }
  while (w->mail) {
    pw_mail *m = w->mail;
    w->mail = m->next;
    pw_mail_free(m);
  }
  free(w->events);
  while (w->nspare) pw_stream_destroy(w->spare[--w->nspare]);
  pthread_mutex_destroy(&w->mail_lock);
  free(w);
}

void *wp_pw_worker_get_user_data(const wp_pw_worker *w) { return w ? w->user_data : NULL; }

/* ---- VMs that failed --------------------------------------------------------------- */

/* Frees the VMs that failed, after telling their streams; with `restart`,
   the root contexts of a VM that had started come back in a fresh VM, so
   their ticks and queues go on without waiting for traffic. */
static void reap(wp_pw_worker *w, bool restart) {
  wp_pw_plugin *again[32];
  size_t n = 0;
  for (pw_vm **at = &w->vms; *at;) {
    pw_vm *vm = *at;
    if (!vm->failed) {
      at = &vm->next;
      continue;
    }
    *at = vm->next;
    for (size_t i = 0; restart && vm->started && i < vm->nroots && n < 32; i++)
      again[n++] = wp_pw_plugin_ref(vm->roots[i]->plugin);
    pw_vm_fail(vm);
    pw_vm_free(vm);
  }
  for (size_t i = 0; i < n; i++) {
    pw_vm *vm;
    pw_root *root;
    wp_error *err = pw_vm_get(w, again[i], &vm, &root);
    if (err) {
      pw_logf(w->host, again[i], WP_LOG_ERROR, "restarting after a failure: %s",
              wp_error_get_message(err));
      wp_error_free(err);
    }
    wp_pw_plugin_free(again[i]);
  }
  if (n) reap(w, false); /* a restart that failed stays down until the next stream */
}

void pw_worker_reap(wp_pw_worker *w) { reap(w, true); }

wp_error *wp_pw_worker_start_plugin(wp_pw_worker *w, wp_pw_plugin *p) {
  if (!w || !p)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_pw_worker_start_plugin: worker and plugin are required");
  pw_vm *vm;
  pw_root *root;
  wp_error *err = pw_vm_get(w, p, &vm, &root);
  pw_worker_reap(w);
  return err;
}

void wp_pw_worker_stop_plugin(wp_pw_worker *w, wp_pw_plugin *p) {
  if (!w || !p) return;
  for (pw_vm **at = &w->vms; *at;) {
    pw_vm *vm = *at;
    if (pw_vm_stop_root(vm, p)) {
      *at = vm->next;
      pw_vm_free(vm);
    } else {
      at = &vm->next;
    }
  }
  pw_worker_reap(w);
}

/* ---- events ------------------------------------------------------------------------- */

void pw_worker_event(wp_pw_worker *w, wp_pw_stream *s, wp_pw_event ev) {
  for (size_t i = 0; i < w->nevents; i++)
    if (w->events[i].s == s && w->events[i].event == ev) return;
  if (w->nevents == w->events_cap) {
    size_t cap = w->events_cap ? w->events_cap * 2 : 8;
    pw_event *n = realloc(w->events, cap * sizeof *n);
    if (!n) return; /* the stream then waits for its own deadline */
    w->events = n;
    w->events_cap = cap;
  }
  w->events[w->nevents++] = (pw_event){s, ev};
  if (w->host->methods.wake) w->host->methods.wake(w->host->user_data, w);
}

void pw_worker_forget_stream(wp_pw_worker *w, wp_pw_stream *s) {
  size_t j = 0;
  for (size_t i = 0; i < w->nevents; i++)
    if (w->events[i].s != s) w->events[j++] = w->events[i];
  w->nevents = j;
}

/* Delivers queued events one at a time: a handler may free its stream (and
   so drop its other events) or cause new events. */
static void deliver_events(wp_pw_worker *w) {
  while (w->nevents) {
    pw_event ev = w->events[0];
    memmove(w->events, w->events + 1, (w->nevents - 1) * sizeof *w->events);
    w->nevents--;
    if (ev.s->event_fn) ev.s->event_fn(ev.s->user_data, ev.s, ev.event);
  }
}

/* ---- HTTP calls ------------------------------------------------------------------------ */

bool pw_worker_add_call(wp_pw_worker *w, pw_vm *vm, uint32_t root_ctx, uint32_t timeout_ms,
                        uint64_t *token) {
  pw_pending_call *c = calloc(1, sizeof *c);
  if (!c) return false;
  c->token = w->next_token++;
  c->vm = vm;
  c->root_ctx = root_ctx;
  c->deadline_ns = pw_now_ns() + (uint64_t)timeout_ms * 1000000u;
  c->next = w->calls;
  w->calls = c;
  *token = c->token;
  return true;
}

void pw_worker_forget_calls(wp_pw_worker *w, pw_vm *vm, uint32_t root_ctx) {
  for (pw_pending_call **at = &w->calls; *at;) {
    pw_pending_call *c = *at;
    if (c->vm == vm && (!root_ctx || c->root_ctx == root_ctx)) {
      *at = c->next;
      free(c);
    } else {
      at = &c->next;
    }
  }
}

static pw_pending_call *take_call(wp_pw_worker *w, uint64_t token) {
  for (pw_pending_call **at = &w->calls; *at; at = &(*at)->next)
    if ((*at)->token == token) {
      pw_pending_call *c = *at;
      *at = c->next;
      return c;
    }
  return NULL;
}

void pw_pending_call_cancel(wp_pw_worker *w, uint64_t token) { free(take_call(w, token)); }

/* The first of two errors (either may be NULL); the other is freed. */
static wp_error *first_of(wp_error *first, wp_error *err) {
  if (!first) return err;
  wp_error_free(err);
  return first;
}

/* As first_of, logging err (a filter's failure) with the filter's name. */
static wp_error *keep_first(wp_error *first, wp_error *err, pw_vm *vm) {
  if (err)
    pw_log(vm->w->host, pw_vm_plugin(vm), WP_LOG_ERROR, wp_error_get_message(err),
           strlen(wp_error_get_message(err)));
  return first_of(first, err);
}

/* proxy_on_http_call_response(root, token, headers, body size, trailers); no response: zeros. */
static wp_error *deliver_call(pw_pending_call *c, pw_call_response *resp) {
  pw_vm *vm = c->vm;
  uint32_t args[5] = {c->root_ctx, (uint32_t)c->token, 0, 0, 0};
  if (resp) {
    args[2] = (uint32_t)resp->headers.n;
    args[3] = (uint32_t)resp->body.len;
    args[4] = (uint32_t)resp->trailers.n;
  }
  vm->call = resp;
  vm->call_status = resp ? PW_OK : PW_INTERNAL_FAILURE;
  wp_error *err = pw_vm_call(vm, PW_ON_HTTP_CALL_RESPONSE, c->root_ctx, args, 5, 0, NULL);
  vm->call = NULL;
  return err;
}

/* ---- the mailbox -------------------------------------------------------------------------- */

void pw_worker_post(wp_pw_worker *w, pw_mail *m) {
  pthread_mutex_lock(&w->mail_lock);
  *w->mail_tail = m;
  w->mail_tail = &m->next;
  pthread_mutex_unlock(&w->mail_lock);
  if (w->host->methods.wake) w->host->methods.wake(w->host->user_data, w);
}

static bool copy_headers(pw_map *m, const wp_http_header *h, size_t n) {
  return !n || pw_map_set_all(m, h, n) == PW_MAP_OK;
}

void wp_pw_worker_post_http_response(wp_pw_worker *w, uint64_t token,
                                     const wp_pw_http_response *res) {
  if (!w || !res) return;
  pw_mail *m = calloc(1, sizeof *m);
  pw_call_response *r = m ? calloc(1, sizeof *r) : NULL;
  if (!r) {
    free(m);
    wp_pw_worker_post_http_failure(w, token);
    return;
  }
  m->kind = PW_MAIL_HTTP_RESPONSE;
  m->token = token;
  m->resp = r;
  char status[16];
  int n = snprintf(status, sizeof status, "%d", res->status);
  bool ok = pw_map_add(&r->headers, ":status", 7, (const uint8_t *)status, (size_t)n) == PW_MAP_OK;
  for (size_t i = 0; ok && i < res->n_headers; i++)
    ok = pw_map_add(&r->headers, res->headers[i].name, res->headers[i].name_len,
                    res->headers[i].value, res->headers[i].value_len) == PW_MAP_OK;
  ok = ok && copy_headers(&r->trailers, res->trailers, res->n_trailers) &&
       pw_buffer_assign(&r->body, res->body, res->body_len) == PW_BUFFER_OK;
  if (!ok) { /* a response the filter cannot be shown: it sees a failed call */
    pw_mail_free(m);
    wp_pw_worker_post_http_failure(w, token);
    return;
  }
  pw_worker_post(w, m);
}

void wp_pw_worker_post_http_failure(wp_pw_worker *w, uint64_t token) {
  if (!w) return;
  pw_mail *m = calloc(1, sizeof *m);
  if (!m) return; /* the call then times out */
  m->kind = PW_MAIL_HTTP_FAILURE;
  m->token = token;
  pw_worker_post(w, m);
}

static wp_error *handle_mail(wp_pw_worker *w, pw_mail *m) {
  if (m->kind == PW_MAIL_QUEUE) {
    pw_vm *vm;
    pw_root *root;
    wp_error *err = pw_vm_get(w, m->plugin, &vm, &root);
    if (err) return err;
    uint32_t args[2] = {root->ctx, m->queue};
    return keep_first(NULL, pw_vm_call(vm, PW_ON_QUEUE_READY, root->ctx, args, 2, 0, NULL), vm);
  }
  pw_pending_call *c = take_call(w, m->token);
  if (!c) return NULL; /* timed out already, or its VM is gone */
  wp_error *err = keep_first(NULL, deliver_call(c, m->resp), c->vm);
  free(c);
  return err;
}

/* ---- poll ------------------------------------------------------------------------------------ */

static wp_error *run_timeouts(wp_pw_worker *w, uint64_t now) {
  wp_error *first = NULL;
  for (pw_pending_call **at = &w->calls; *at;) {
    pw_pending_call *c = *at;
    if (c->deadline_ns > now) {
      at = &c->next;
      continue;
    }
    *at = c->next;
    first = keep_first(first, deliver_call(c, NULL), c->vm);
    free(c);
    at = &w->calls; /* the callback may have added or removed calls */
  }
  return first;
}

static wp_error *run_ticks(wp_pw_worker *w, uint64_t now) {
  wp_error *first = NULL;
  for (pw_vm *vm = w->vms; vm; vm = vm->next)
    for (size_t i = 0; i < vm->nroots && !vm->failed; i++) {
      pw_root *r = vm->roots[i];
      if (!r->tick_ns || r->next_tick_ns > now) continue;
      r->next_tick_ns = now + r->tick_ns;
      first = keep_first(first, pw_vm_call(vm, PW_ON_TICK, r->ctx, &r->ctx, 1, 0, NULL), vm);
    }
  return first;
}

wp_error *wp_pw_worker_poll(wp_pw_worker *w) {
  if (!w) return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_worker_poll: worker is required");
  pthread_mutex_lock(&w->mail_lock);
  pw_mail *mail = w->mail;
  w->mail = NULL;
  w->mail_tail = &w->mail;
  pthread_mutex_unlock(&w->mail_lock);
  wp_error *first = NULL;
  while (mail) {
    pw_mail *m = mail;
    mail = m->next;
    first = first_of(first, handle_mail(w, m));
    pw_mail_free(m);
  }
  uint64_t now = pw_now_ns();
  first = first_of(first, run_timeouts(w, now));
  first = first_of(first, run_ticks(w, now));
  pw_worker_reap(w);
  deliver_events(w);
  return first;
}

uint32_t wp_pw_worker_next_timeout_ms(const wp_pw_worker *w) {
  if (!w) return UINT32_MAX;
  if (w->nevents) return 0;
  uint64_t now = pw_now_ns(), next = UINT64_MAX;
  for (const pw_pending_call *c = w->calls; c; c = c->next)
    if (c->deadline_ns < next) next = c->deadline_ns;
  for (const pw_vm *vm = w->vms; vm; vm = vm->next)
    for (size_t i = 0; i < vm->nroots; i++)
      if (vm->roots[i]->tick_ns && vm->roots[i]->next_tick_ns < next)
        next = vm->roots[i]->next_tick_ns;
  if (next == UINT64_MAX) return UINT32_MAX;
  if (next <= now) return 0;
  uint64_t ms = (next - now + 999999) / 1000000;
  return ms >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)ms;
}
