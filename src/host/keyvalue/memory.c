/*
 * memory.c - the memory backend: per engine, each bucket a sorted array of
 * entries (binary search; a page of keys is a range of it, the cursor its
 * offset), all under one lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/keyvalue/kv.h"

typedef struct entry {
  char *key;
  size_t klen;
  uint8_t *val;
  size_t vlen;
} entry;

typedef struct table {
  char *ns;
  entry *e;
  size_t n, cap;
  struct table *next;
} table;

typedef struct mem {
  pthread_mutex_t lock;
  table *tables;
} mem;

static wp_error *mem_open(const char *target, void **state) {
  (void)target;
  mem *m = calloc(1, sizeof *m);
  if (!m) return KV_OOM();
  pthread_mutex_init(&m->lock, NULL);
  *state = m;
  return NULL;
}

static void mem_close(void *state) {
  mem *m = state;
  for (table *t = m->tables, *next; t; t = next) {
    next = t->next;
    for (size_t i = 0; i < t->n; i++) free(t->e[i].key), free(t->e[i].val);
    free(t->e);
    free(t->ns);
    free(t);
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}

/* The bucket's table; created when `create`. NULL when absent or out of memory. */
static table *find_table(mem *m, const kv_ns *ns, bool create) {
  for (table *t = m->tables; t; t = t->next)
    if (strcmp(t->ns, ns->name) == 0) return t;
  if (!create) return NULL;
  table *t = calloc(1, sizeof *t);
  if (!t || !(t->ns = strdup(ns->name))) {
    free(t);
    return NULL;
  }
  t->next = m->tables;
  m->tables = t;
  return t;
}

static int cmp(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? c : (an > bn) - (an < bn);
}

/* The index of key, or where it would go (*hit false). */
static size_t search(const table *t, const char *key, size_t klen, bool *hit) {
  size_t lo = 0, hi = t ? t->n : 0;
  *hit = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp(t->e[mid].key, t->e[mid].klen, key, klen);
    if (c == 0) {
      *hit = true;
      return mid;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static uint8_t *dup_bytes(const uint8_t *v, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  if (d && n) memcpy(d, v, n);
  return d;
}

static wp_error *full(const kv_ns *ns) {
  return wp_error_new(WP_ERR_HOST,
                      "the bucket holds its max_keys (%llu) keys; delete some or raise max_keys",
                      (unsigned long long)ns->max_keys);
}

/* Stores a copy of v at key; lock held. */
static wp_error *put(mem *m, const kv_ns *ns, const char *key, size_t klen, const uint8_t *v,
                     size_t vlen) {
  table *t = find_table(m, ns, true);
  if (!t) return KV_OOM();
  bool hit;
  size_t i = search(t, key, klen, &hit);
  uint8_t *copy = dup_bytes(v, vlen);
  if (!copy) return KV_OOM();
  if (hit) {
    free(t->e[i].val);
    t->e[i].val = copy;
    t->e[i].vlen = vlen;
    return NULL;
  }
  if (ns->max_keys && t->n >= ns->max_keys) {
    free(copy);
    return full(ns);
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    entry *e = realloc(t->e, cap * sizeof *e);
    if (!e) {
      free(copy);
      return KV_OOM();
    }
    t->e = e;
    t->cap = cap;
  }
  char *k = malloc(klen);
  if (!k) {
    free(copy);
    return KV_OOM();
  }
  memcpy(k, key, klen);
  memmove(&t->e[i + 1], &t->e[i], (t->n - i) * sizeof *t->e);
  t->e[i] = (entry){k, klen, copy, vlen};
  t->n++;
  return NULL;
}

static wp_error *mem_get(void *state, const kv_ns *ns, const char *key, size_t klen, bool *found,
                         kv_bytes *value) {
  mem *m = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&m->lock);
  table *t = find_table(m, ns, false);
  bool hit;
  size_t i = search(t, key, klen, &hit);
  *found = hit;
  if (hit) {
    value->data = dup_bytes(t->e[i].val, t->e[i].vlen);
    value->len = t->e[i].vlen;
    if (!value->data) err = KV_OOM();
  }
  pthread_mutex_unlock(&m->lock);
  return err;
}

static wp_error *mem_set(void *state, const kv_ns *ns, const char *key, size_t klen,
                         const uint8_t *v, size_t vlen) {
  mem *m = state;
  pthread_mutex_lock(&m->lock);
  wp_error *err = put(m, ns, key, klen, v, vlen);
  pthread_mutex_unlock(&m->lock);
  return err;
}

static wp_error *mem_del(void *state, const kv_ns *ns, const char *key, size_t klen) {
  mem *m = state;
  pthread_mutex_lock(&m->lock);
  table *t = find_table(m, ns, false);
  bool hit;
  size_t i = search(t, key, klen, &hit);
  if (hit) {
    free(t->e[i].key);
    free(t->e[i].val);
    memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof *t->e);
    t->n--;
  }
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

static wp_error *mem_exists(void *state, const kv_ns *ns, const char *key, size_t klen,
                            bool *found) {
  mem *m = state;
  pthread_mutex_lock(&m->lock);
  search(find_table(m, ns, false), key, klen, found);
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

static wp_error *mem_keys(void *state, const kv_ns *ns, uint64_t cursor, kv_keys *out) {
  mem *m = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&m->lock);
  table *t = find_table(m, ns, false);
  size_t n = t ? t->n : 0;
  for (uint64_t i = cursor; !err && i < n && out->n < WP_KV_PAGE; i++)
    if (!kv_keys_add(out, t->e[i].key, t->e[i].klen)) err = KV_OOM();
  out->next = cursor + out->n < n ? cursor + out->n : 0;
  pthread_mutex_unlock(&m->lock);
  return err;
}

static wp_error *mem_increment(void *state, const kv_ns *ns, const char *key, size_t klen,
                               int64_t delta, int64_t *out) {
  mem *m = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&m->lock);
  table *t = find_table(m, ns, false);
  bool hit;
  size_t i = search(t, key, klen, &hit);
  int64_t v = 0;
  if (hit && !kv_parse_i64(t->e[i].val, t->e[i].vlen, &v))
    err = wp_error_new(WP_ERR_HOST, "the value of '%.*s' is not a decimal integer", (int)klen, key);
  else if (!kv_add_i64(&v, delta))
    err = wp_error_new(WP_ERR_HOST, "incrementing '%.*s' by %lld would overflow a 64-bit integer",
                       (int)klen, key, (long long)delta);
  if (!err) {
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)v);
    err = put(m, ns, key, klen, (const uint8_t *)text, (size_t)n);
  }
  if (!err) *out = v;
  pthread_mutex_unlock(&m->lock);
  return err;
}

static wp_error *mem_cas(void *state, const kv_ns *ns, const char *key, size_t klen,
                         const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped) {
  mem *m = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&m->lock);
  table *t = find_table(m, ns, false);
  bool hit;
  size_t i = search(t, key, klen, &hit);
  bool match = expected
                   ? hit && t->e[i].vlen == expected->len &&
                         (!expected->len || memcmp(t->e[i].val, expected->data, expected->len) == 0)
                   : !hit;
  if (match) err = put(m, ns, key, klen, v, vlen);
  *swapped = match && !err;
  pthread_mutex_unlock(&m->lock);
  return err;
}

const kv_methods kv_memory_methods = {
    .name = "memory",
    .open = mem_open,
    .close = mem_close,
    .get = mem_get,
    .set = mem_set,
    .del = mem_del,
    .exists = mem_exists,
    .keys = mem_keys,
    .increment = mem_increment,
    .cas = mem_cas,
};
