/* shared.c - Proxy-Wasm shared data and metrics (shared.h). */
#include "proxywasm/shared.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/hash.h"
#include "util/str.h"

/* ---- a keyed hash --------------------------------------------------------------- */

/* Keys and metric names come from filters, which must not be able to pick
   ones that all land in one chain: SipHash-1-3 under a random key, as
   plugin/manifest.c does for its indexes. */

/* ---- shared data ---------------------------------------------------------------- */

typedef struct entry {
  struct entry *next; /* in its bucket's chain */
  uint64_t hash;
  size_t vm; /* index in pw_shared.vms */
  uint32_t cas;
  uint8_t *value; /* NULL when value_len is 0 */
  size_t value_len, key_len;
  uint8_t key[]; /* key_len bytes */
} entry;

/* A vm id's key space; vm ids come from the embedder's configuration, so
   there are few and a linear search finds them. */
typedef struct vm_space {
  char *id;
  size_t keys, bytes; /* bytes: of its keys and values, within PW_SHARED_MAX_BYTES */
} vm_space;

struct pw_shared {
  pthread_mutex_t lock;
  uint64_t seed[2];
  entry **buckets;
  size_t nbuckets, count; /* nbuckets: a power of two */
  vm_space *vms;
  size_t n_vms, cap_vms;
};

#define NO_VM SIZE_MAX
#define FIRST_BUCKETS 64

pw_shared *pw_shared_new(void) {
  pw_shared *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->buckets = calloc(FIRST_BUCKETS, sizeof *s->buckets);
  if (!s->buckets || pthread_mutex_init(&s->lock, NULL) != 0) {
    free(s->buckets);
    free(s);
    return NULL;
  }
  s->nbuckets = FIRST_BUCKETS;
  wp_hash_seed(s->seed);
  return s;
}

void pw_shared_free(pw_shared *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nbuckets; i++) {
    for (entry *e = s->buckets[i], *next; e; e = next) {
      next = e->next;
      free(e->value);
      free(e);
    }
  }
  for (size_t i = 0; i < s->n_vms; i++) free(s->vms[i].id);
  free(s->vms);
  free(s->buckets);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static size_t find_vm(const pw_shared *s, const char *vm_id) {
  for (size_t i = 0; i < s->n_vms; i++)
    if (strcmp(s->vms[i].id, vm_id) == 0) return i;
  return NO_VM;
}

static size_t add_vm(pw_shared *s, const char *vm_id) {
  if (s->n_vms == s->cap_vms) {
    size_t cap = s->cap_vms ? 2 * s->cap_vms : 4;
    vm_space *v = realloc(s->vms, cap * sizeof *v);
    if (!v) return NO_VM;
    s->vms = v;
    s->cap_vms = cap;
  }
  char *id = wp_strdup_n(vm_id, strlen(vm_id));
  if (!id) return NO_VM;
  s->vms[s->n_vms] = (vm_space){id, 0, 0};
  return s->n_vms++;
}

/* The same key under two vm ids hashes apart: the vm's index is in the key. */
static uint64_t key_hash(const pw_shared *s, size_t vm, const uint8_t *key, size_t len) {
  uint64_t k[2] = {s->seed[0], s->seed[1] ^ (uint64_t)vm};
  return wp_siphash13(k, key, len);
}

static entry *lookup(const pw_shared *s, size_t vm, uint64_t hash, const uint8_t *key, size_t len) {
  for (entry *e = s->buckets[hash & (s->nbuckets - 1)]; e; e = e->next)
    if (e->hash == hash && e->vm == vm && e->key_len == len &&
        (len == 0 || memcmp(e->key, key, len) == 0)) /* the empty key may come as NULL */
      return e;
  return NULL;
}

/* Doubles the buckets to keep chains short; without the memory, chains only
   get longer, so a failure is no error. */
static void rehash(pw_shared *s) {
  if (s->nbuckets > SIZE_MAX / 2 / sizeof *s->buckets) return;
  size_t n = s->nbuckets * 2;
  entry **b = calloc(n, sizeof *b);
  if (!b) return;
  for (size_t i = 0; i < s->nbuckets; i++) {
    for (entry *e = s->buckets[i], *next; e; e = next) {
      next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
    }
  }
  free(s->buckets);
  s->buckets = b;
  s->nbuckets = n;
}

/* A new, empty key (cas 0: its first write makes it 1), under the vm's cap. */
static pw_shared_status insert(pw_shared *s, size_t vm, uint64_t hash, const uint8_t *key,
                               size_t len, entry **out) {
  if (s->vms[vm].keys >= PW_SHARED_MAX_KEYS) return PW_SHARED_TOO_BIG;
  entry *e = calloc(1, sizeof *e + len); /* len <= PW_SHARED_MAX_KEY */
  if (!e) return PW_SHARED_NO_MEMORY;
  if (len) memcpy(e->key, key, len);
  e->key_len = len;
  e->hash = hash;
  e->vm = vm;
  if (s->count >= s->nbuckets) rehash(s);
  entry **head = &s->buckets[hash & (s->nbuckets - 1)];
  e->next = *head;
  *head = e;
  s->count++;
  s->vms[vm].keys++;
  s->vms[vm].bytes += len;
  *out = e;
  return PW_SHARED_OK;
}

pw_shared_status pw_shared_get(pw_shared *s, const char *vm_id, const uint8_t *key, size_t key_len,
                               uint8_t **value, size_t *len, uint32_t *cas) {
  if (key_len > PW_SHARED_MAX_KEY) return PW_SHARED_NOT_FOUND; /* could never have been set */
  pw_shared_status st = PW_SHARED_NOT_FOUND;
  pthread_mutex_lock(&s->lock);
  size_t vm = find_vm(s, vm_id ? vm_id : "");
  entry *e = vm == NO_VM ? NULL : lookup(s, vm, key_hash(s, vm, key, key_len), key, key_len);
  if (e) {
    /* Copied under the lock: a writer may free the value the moment it is released. */
    uint8_t *copy = e->value_len ? malloc(e->value_len) : NULL;
    if (e->value_len && !copy) {
      st = PW_SHARED_NO_MEMORY;
    } else {
      if (copy) memcpy(copy, e->value, e->value_len);
      *value = copy;
      *len = e->value_len;
      *cas = e->cas;
      st = PW_SHARED_OK;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

/* Whether the vm's keys and values stay within PW_SHARED_MAX_BYTES once the
   key (e, or a new one when NULL) holds len bytes: 64 GiB of keys at their
   caps would otherwise be one filter's to fill. */
static bool bytes_fit(const vm_space *v, const entry *e, size_t key_len, size_t len) {
  size_t now = v->bytes - (e ? e->value_len : 0), add = len + (e ? 0 : key_len);
  return now <= PW_SHARED_MAX_BYTES && add <= PW_SHARED_MAX_BYTES - now;
}

/* The write itself, under the lock; takes *copy (the new value) on success. */
static pw_shared_status set_locked(pw_shared *s, const char *vm_id, const uint8_t *key,
                                   size_t key_len, uint8_t **copy, size_t len, uint32_t cas) {
  size_t vm = find_vm(s, vm_id);
  uint64_t hash = vm == NO_VM ? 0 : key_hash(s, vm, key, key_len);
  entry *e = vm == NO_VM ? NULL : lookup(s, vm, hash, key, key_len);
  if (cas != 0 && (!e || e->cas != cas)) return PW_SHARED_CAS_MISMATCH;
  if (vm == NO_VM) {
    if ((vm = add_vm(s, vm_id)) == NO_VM) return PW_SHARED_NO_MEMORY;
    hash = key_hash(s, vm, key, key_len);
  }
  /* Checked before a new key is inserted: a key never exists without a value. */
  if (!bytes_fit(&s->vms[vm], e, key_len, len)) return PW_SHARED_TOO_BIG;
  if (!e) {
    pw_shared_status st = insert(s, vm, hash, key, key_len, &e);
    if (st != PW_SHARED_OK) return st;
  }
  s->vms[vm].bytes = s->vms[vm].bytes - e->value_len + len;
  free(e->value);
  e->value = *copy;
  e->value_len = len;
  *copy = NULL;
  /* 0 means "unconditional" to writers, so a key's cas skips it on wrapping. */
  e->cas = e->cas == UINT32_MAX ? 1 : e->cas + 1;
  return PW_SHARED_OK;
}

pw_shared_status pw_shared_set(pw_shared *s, const char *vm_id, const uint8_t *key, size_t key_len,
                               const uint8_t *value, size_t len, uint32_t cas) {
  if (key_len > PW_SHARED_MAX_KEY || len > PW_SHARED_MAX_VALUE) return PW_SHARED_TOO_BIG;
  /* Copied before taking the lock, which every worker contends for. */
  uint8_t *copy = len ? malloc(len) : NULL;
  if (len && !copy) return PW_SHARED_NO_MEMORY;
  if (len) memcpy(copy, value, len);
  pthread_mutex_lock(&s->lock);
  pw_shared_status st = set_locked(s, vm_id ? vm_id : "", key, key_len, &copy, len, cas);
  pthread_mutex_unlock(&s->lock);
  free(copy); /* NULL unless the write failed */
  return st;
}

/* ---- metrics -------------------------------------------------------------------- */

typedef struct metric {
  char *name;
  size_t name_len;
  uint64_t hash;
  wp_pw_metric_type type;
  int64_t value; /* counter, gauge; histogram: the last value recorded */
  uint64_t count, sum;
} metric;

/* Metrics in definition order (id = index + 1), and an open-addressing index
   by name: slots hold ids, 0 when empty, at most half full. */
struct pw_metrics {
  pthread_mutex_t lock;
  uint64_t seed[2];
  metric *items;
  size_t n, cap;
  uint32_t *slots;
  size_t nslots; /* a power of two */
};

#define FIRST_SLOTS 64

pw_metrics *pw_metrics_new(void) {
  pw_metrics *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->slots = calloc(FIRST_SLOTS, sizeof *m->slots);
  if (!m->slots || pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m->slots);
    free(m);
    return NULL;
  }
  m->nslots = FIRST_SLOTS;
  wp_hash_seed(m->seed);
  return m;
}

void pw_metrics_free(pw_metrics *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) free(m->items[i].name);
  free(m->items);
  free(m->slots);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static bool type_ok(wp_pw_metric_type type) {
  switch (type) {
  case WP_PW_COUNTER:
  case WP_PW_GAUGE:
  case WP_PW_HISTOGRAM: return true;
  }
  return false; /* a guest's number cast to the enum */
}

/* Printable ASCII: names end up in logs and stats pages as they are. */
static bool name_ok(const char *name, size_t len) {
  if (!name || len == 0 || len > PW_METRIC_NAME_MAX) return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e) return false;
  return true;
}

/* The slot holding `name`, or the empty one where it would go (never full). */
static size_t find_slot(const pw_metrics *m, uint64_t hash, const char *name, size_t len) {
  size_t mask = m->nslots - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t id = m->slots[i];
    if (id == 0) return i;
    const metric *x = &m->items[id - 1];
    if (x->hash == hash && x->name_len == len && memcmp(x->name, name, len) == 0) return i;
  }
}

/* Doubles the index (rehashing every metric) once it would be half full. */
static bool grow_slots(pw_metrics *m) {
  if ((m->n + 1) * 2 <= m->nslots) return true;
  uint32_t *old = m->slots;
  size_t old_n = m->nslots;
  m->slots = calloc(old_n * 2, sizeof *m->slots); /* n <= PW_METRICS_MAX: no wrap */
  if (!m->slots) {
    m->slots = old;
    return false;
  }
  m->nslots = old_n * 2;
  for (size_t i = 0; i < m->n; i++) {
    const metric *x = &m->items[i];
    m->slots[find_slot(m, x->hash, x->name, x->name_len)] = (uint32_t)(i + 1);
  }
  free(old);
  return true;
}

static pw_metric_status add_metric(pw_metrics *m, wp_pw_metric_type type, const char *name,
                                   size_t len, uint64_t hash, uint32_t *id) {
  if (m->n >= PW_METRICS_MAX) return PW_METRIC_TOO_MANY;
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 16;
    metric *items = realloc(m->items, cap * sizeof *items);
    if (!items) return PW_METRIC_NO_MEMORY;
    m->items = items;
    m->cap = cap;
  }
  char *copy = wp_strdup_n(name, len);
  if (!copy || !grow_slots(m)) {
    free(copy);
    return PW_METRIC_NO_MEMORY;
  }
  m->items[m->n] = (metric){.name = copy, .name_len = len, .hash = hash, .type = type};
  m->slots[find_slot(m, hash, name, len)] = (uint32_t)(m->n + 1);
  *id = (uint32_t)++m->n;
  return PW_METRIC_OK;
}

pw_metric_status pw_metrics_define(pw_metrics *m, wp_pw_metric_type type, const char *name,
                                   size_t name_len, uint32_t *id) {
  if (!type_ok(type) || !name_ok(name, name_len)) return PW_METRIC_BAD_ARGUMENT;
  pthread_mutex_lock(&m->lock);
  uint64_t hash = wp_siphash13(m->seed, (const uint8_t *)name, name_len);
  uint32_t found = m->slots[find_slot(m, hash, name, name_len)];
  pw_metric_status st;
  if (!found) {
    st = add_metric(m, type, name, name_len, hash, id);
  } else if (m->items[found - 1].type != type) {
    st = PW_METRIC_BAD_ARGUMENT;
  } else {
    *id = found;
    st = PW_METRIC_OK;
  }
  pthread_mutex_unlock(&m->lock);
  return st;
}

/* Saturating, so a filter cannot wrap a counter (or overflow: UB). */
static int64_t add_sat(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

static metric *by_id(pw_metrics *m, uint32_t id) {
  return id >= 1 && id <= m->n ? &m->items[id - 1] : NULL;
}

static pw_metric_status increment_locked(metric *x, int64_t delta) {
  switch (x->type) {
  case WP_PW_COUNTER:
    if (delta < 0) return PW_METRIC_BAD_ARGUMENT;
    x->value = add_sat(x->value, delta);
    return PW_METRIC_OK;
  case WP_PW_GAUGE: x->value = add_sat(x->value, delta); return PW_METRIC_OK;
  case WP_PW_HISTOGRAM: break;
  }
  return PW_METRIC_BAD_ARGUMENT;
}

/* The ABI's value is a u64: one past INT64_MAX arrives negative, and is
   refused for counters and histograms, whose values only add up. */
static pw_metric_status record_locked(metric *x, int64_t value) {
  switch (x->type) {
  case WP_PW_COUNTER: return increment_locked(x, value);
  case WP_PW_GAUGE: x->value = value; return PW_METRIC_OK;
  case WP_PW_HISTOGRAM:
    if (value < 0) return PW_METRIC_BAD_ARGUMENT;
    x->value = value;
    if (x->count < UINT64_MAX) x->count++;
    x->sum = x->sum > UINT64_MAX - (uint64_t)value ? UINT64_MAX : x->sum + (uint64_t)value;
    return PW_METRIC_OK;
  }
  return PW_METRIC_BAD_ARGUMENT;
}

pw_metric_status pw_metrics_increment(pw_metrics *m, uint32_t id, int64_t delta) {
  pthread_mutex_lock(&m->lock);
  metric *x = by_id(m, id);
  pw_metric_status st = x ? increment_locked(x, delta) : PW_METRIC_NOT_FOUND;
  pthread_mutex_unlock(&m->lock);
  return st;
}

pw_metric_status pw_metrics_record(pw_metrics *m, uint32_t id, int64_t value) {
  pthread_mutex_lock(&m->lock);
  metric *x = by_id(m, id);
  pw_metric_status st = x ? record_locked(x, value) : PW_METRIC_NOT_FOUND;
  pthread_mutex_unlock(&m->lock);
  return st;
}

pw_metric_status pw_metrics_get(pw_metrics *m, uint32_t id, int64_t *value) {
  pthread_mutex_lock(&m->lock);
  metric *x = by_id(m, id);
  if (x && x->type == WP_PW_HISTOGRAM)
    *value = x->count > INT64_MAX ? INT64_MAX : (int64_t)x->count;
  else if (x) *value = x->value;
  pthread_mutex_unlock(&m->lock);
  return x ? PW_METRIC_OK : PW_METRIC_NOT_FOUND;
}

void pw_metrics_foreach(pw_metrics *m, void (*fn)(void *user, const wp_pw_metric *metric),
                        void *user) {
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; fn && i < m->n; i++) {
    const metric *x = &m->items[i];
    wp_pw_metric out = {x->name, x->type, x->value, x->count, x->sum};
    fn(user, &out);
  }
  pthread_mutex_unlock(&m->lock);
}
