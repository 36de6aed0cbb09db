/*
 * queue.c - shared queues: a filter registers a queue by name under its vm
 * id, others resolve it by (vm id, name) and enqueue; the registering root
 * context hears proxy_on_queue_ready on its own worker's thread (a mail to
 * that worker) and dequeues. As in Envoy, the latest registration of a name
 * is the one told; registrations of a worker that goes away are forgotten.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

typedef struct pw_item {
  uint8_t *data;
  size_t len;
  struct pw_item *next;
} pw_item;

struct pw_queue {
  uint32_t id;
  char *vm_id;
  char *name;
  size_t name_len;
  pw_item *head, **tail;
  size_t count;
  wp_pw_worker *owner;  /* who hears about new items; NULL when gone */
  wp_pw_plugin *plugin; /* its root (a reference) */
  struct pw_queue *next;
};

/* Under h->lock. */
static pw_queue *find_by_name(wp_pw_host *h, const char *vm_id, size_t vm_len, const uint8_t *name,
                              size_t len) {
  for (pw_queue *q = h->queues; q; q = q->next)
    if (strlen(q->vm_id) == vm_len && memcmp(q->vm_id, vm_id, vm_len) == 0 && q->name_len == len &&
        memcmp(q->name, name, len) == 0)
      return q;
  return NULL;
}

static pw_queue *find_by_id(wp_pw_host *h, uint32_t id) {
  for (pw_queue *q = h->queues; q; q = q->next)
    if (q->id == id) return q;
  return NULL;
}

static pw_queue *queue_new(wp_pw_host *h, const char *vm_id, const uint8_t *name, size_t len) {
  pw_queue *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->vm_id = strdup(vm_id);
  q->name = malloc(len + 1);
  if (!q->vm_id || !q->name) {
    free(q->vm_id);
    free(q->name);
    free(q);
    return NULL;
  }
  memcpy(q->name, name, len);
  q->name[len] = '\0';
  q->name_len = len;
  q->tail = &q->head;
  q->id = ++h->next_queue_id;
  q->next = h->queues;
  h->queues = q;
  return q;
}

int pw_queue_register(wp_pw_host *h, const char *vm_id, const uint8_t *name, size_t len,
                      wp_pw_worker *w, wp_pw_plugin *p, uint32_t *id) {
  pthread_mutex_lock(&h->lock);
  pw_queue *q = find_by_name(h, vm_id, strlen(vm_id), name, len);
  if (!q) q = queue_new(h, vm_id, name, len);
  if (q) {
    wp_pw_plugin_free(q->plugin);
    q->plugin = wp_pw_plugin_ref(p);
    q->owner = w;
    *id = q->id;
  }
  bool wake = q && q->count > 0;
  pthread_mutex_unlock(&h->lock);
  if (!q) return PW_INTERNAL_FAILURE;
  /* Items that came while nobody listened are announced now. */
  if (wake) {
    pw_mail *m = calloc(1, sizeof *m);
    if (m) {
      m->kind = PW_MAIL_QUEUE;
      m->queue = *id;
      m->plugin = wp_pw_plugin_ref(p);
      pw_worker_post(w, m);
    }
  }
  return PW_OK;
}

int pw_queue_resolve(wp_pw_host *h, const uint8_t *vm_id, size_t vm_len, const uint8_t *name,
                     size_t len, uint32_t *id) {
  pthread_mutex_lock(&h->lock);
  pw_queue *q = find_by_name(h, (const char *)vm_id, vm_len, name, len);
  if (q) *id = q->id;
  pthread_mutex_unlock(&h->lock);
  return q ? PW_OK : PW_NOT_FOUND;
}

int pw_queue_enqueue(wp_pw_host *h, uint32_t id, const uint8_t *data, size_t len) {
  pw_item *it = calloc(1, sizeof *it);
  if (!it || len > PW_QUEUE_MAX_ITEM || !(it->data = malloc(len ? len : 1))) {
    free(it);
    return PW_INTERNAL_FAILURE;
  }
  if (len) memcpy(it->data, data, len);
  it->len = len;
  pw_mail *m = calloc(1, sizeof *m);
  pthread_mutex_lock(&h->lock);
  pw_queue *q = find_by_id(h, id);
  int status = !q                                     ? PW_NOT_FOUND
               : q->count >= PW_QUEUE_MAX_ITEMS || !m ? PW_INTERNAL_FAILURE
                                                      : PW_OK;
  wp_pw_worker *owner = NULL;
  if (status == PW_OK) {
    *q->tail = it;
    q->tail = &it->next;
    q->count++;
    if ((owner = q->owner)) {
      m->kind = PW_MAIL_QUEUE;
      m->queue = id;
      m->plugin = wp_pw_plugin_ref(q->plugin);
      /* Posted under the host's lock: the owner cannot be freed meanwhile
         (pw_queue_forget_worker takes this lock). */
      pw_worker_post(owner, m);
    }
  }
  pthread_mutex_unlock(&h->lock);
  if (status != PW_OK) {
    free(it->data);
    free(it);
  }
  if (!owner) free(m);
  return status;
}

int pw_queue_dequeue(wp_pw_host *h, uint32_t id, uint8_t **data, size_t *len) {
  pthread_mutex_lock(&h->lock);
  pw_queue *q = find_by_id(h, id);
  pw_item *it = q ? q->head : NULL;
  if (it) {
    q->head = it->next;
    if (!q->head) q->tail = &q->head;
    q->count--;
  }
  pthread_mutex_unlock(&h->lock);
  if (!q) return PW_NOT_FOUND;
  if (!it) return PW_EMPTY;
  *data = it->data;
  *len = it->len;
  free(it);
  return PW_OK;
}

void pw_queue_forget_worker(wp_pw_host *h, wp_pw_worker *w) {
  pthread_mutex_lock(&h->lock);
  for (pw_queue *q = h->queues; q; q = q->next) {
    if (q->owner != w) continue;
    q->owner = NULL;
    wp_pw_plugin_free(q->plugin);
    q->plugin = NULL;
  }
  pthread_mutex_unlock(&h->lock);
}

void pw_queue_free_all(wp_pw_host *h) {
  while (h->queues) {
    pw_queue *q = h->queues;
    h->queues = q->next;
    while (q->head) {
      pw_item *it = q->head;
      q->head = it->next;
      free(it->data);
      free(it);
    }
    wp_pw_plugin_free(q->plugin);
    free(q->vm_id);
    free(q->name);
    free(q);
  }
}
