/*
 * kv.h - the keyvalue capability's insides (src/host/keyvalue/): buckets
 * granted by manifests, the backends behind a methods table (as SQLite's
 * sqlite3_io_methods), and the checked operations both the core-module
 * functions (core.c) and wasi:keyvalue (component.c) call.
 *
 * A backend "connection" (kv_conn) is shared by every bucket that names the
 * same store: one per engine for memory, one per database file for sqlite,
 * one per URL for redis. Buckets live in it under their namespace: the
 * manifest's "prefix" followed by the bucket's name.
 */
#ifndef WP_HOST_KEYVALUE_KV_H
#define WP_HOST_KEYVALUE_KV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"
#include "wasmplug/keyvalue.h"

/* The limits (key length, page size, defaults and ceilings) are public:
   WP_KV_* in wasmplug/keyvalue.h. */

/* The host ran out of memory (the wording of the library's own). */
#define KV_OOM() wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory")

typedef struct kv_conn kv_conn;

/* Bytes a backend hands back (malloc'd; free with free()). */
typedef struct kv_bytes {
  uint8_t *data;
  size_t len;
} kv_bytes;

/* A page of keys: NUL-terminated UTF-8 strings (malloc'd), and the cursor
   of the next page (0: no more). */
typedef struct kv_keys {
  char **keys;
  size_t n, cap;
  uint64_t next;
} kv_keys;

bool kv_keys_add(kv_keys *k, const char *key, size_t len);
void kv_keys_free(kv_keys *k);

/* What a backend is told on every call: the bucket, and how long the
   operation may wait. */
typedef struct kv_ns {
  const char *name; /* namespace: prefix + bucket name */
  size_t len;
  uint64_t max_keys; /* 0: no limit */
  /* Milliseconds left in the plugin's call when the operation started
     (wp_host_call_time_left_ms; UINT64_MAX: no deadline). A backend that
     waits (network, locks) waits at most min(its own timeout, this), and
     when this is what stopped it fails with WP_ERR_TIMEOUT saying the
     call's deadline was reached (KV_DEADLINE). */
  uint64_t budget_ms;
} kv_ns;

/* The message of a wait cut short by the plugin's call deadline (printf
   format, then the budget in ms as unsigned long long). */
#define KV_DEADLINE                                                                    \
  "the plugin's call deadline was reached (limits.timeout_ms; %llu ms were left when " \
  "the operation started); raise limits.timeout_ms if the store is slow"

/*
 * A backend. Every method may run on any thread, several at once; a method
 * that fails returns a message (WP_ERR_HOST) without the plugin's name,
 * which the caller adds. Keys are checked UTF-8 without NUL, at most
 * WP_KV_MAX_KEY bytes. A set or increment that would add a key to a bucket
 * holding max_keys fails with a message saying so.
 */
typedef struct kv_methods {
  const char *name;
  /* Opens the store `target` names (NULL for memory; a path; a URL). */
  wp_error *(*open)(const char *target, void **state);
  void (*close)(void *state);
  wp_error *(*get)(void *state, const kv_ns *ns, const char *key, size_t klen, bool *found,
                   kv_bytes *value);
  wp_error *(*set)(void *state, const kv_ns *ns, const char *key, size_t klen, const uint8_t *v,
                   size_t vlen);
  wp_error *(*del)(void *state, const kv_ns *ns, const char *key, size_t klen);
  wp_error *(*exists)(void *state, const kv_ns *ns, const char *key, size_t klen, bool *found);
  /* A page of keys from `cursor` (0: the first page). */
  wp_error *(*keys)(void *state, const kv_ns *ns, uint64_t cursor, kv_keys *out);
  /* Adds delta to the decimal integer stored at key (absent: 0). */
  wp_error *(*increment)(void *state, const kv_ns *ns, const char *key, size_t klen, int64_t delta,
                         int64_t *out);
  /* Stores v if the key holds `expected` (expected == NULL: if it is
     absent); *swapped says whether it did. */
  wp_error *(*cas)(void *state, const kv_ns *ns, const char *key, size_t klen,
                   const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped);
} kv_methods;

extern const kv_methods kv_memory_methods, kv_sqlite_methods, kv_redis_methods;

/* A bucket a plugin was granted. */
typedef struct kv_bucket {
  char *name; /* as the plugin opens it */
  char *ns;   /* prefix + name */
  kv_conn *conn;
  uint64_t max_value, max_keys;
} kv_bucket;

typedef struct kv_grant {
  char *plugin;
  kv_bucket *buckets;
  size_t n;
} kv_grant;

/* A bucket spec, checked: what a bucket in a manifest (or the engine's
   default) says. m NULL: no backend given. */
typedef struct kv_spec {
  const kv_methods *m;
  char *target; /* sqlite: an absolute path; redis: the URL; NULL for memory */
  char *prefix; /* NULL: not given */
  bool has_max_value, has_max_keys;
  uint64_t max_value, max_keys;
} kv_spec;

/* The capability's data: the engine's open stores, and the default spec
   of buckets without a backend (wp_engine_set_keyvalue_default). */
typedef struct kv_cap {
  pthread_mutex_t lock; /* guards conns and dflt */
  kv_conn *conns;
  kv_spec dflt; /* dflt.m NULL: none */
  char *dflt_json; /* the text dflt was parsed from (for a worker's engine) */
  const wp_capability *cap;
} kv_cap;

/* The bucket `name` granted to the plugin that made this call, or NULL with
   an error naming the missing grant. */
wp_error *kv_bucket_for(kv_cap *kc, wp_host_call *call, const char *name, size_t len,
                        const kv_bucket **out);

/* Checks a key from a plugin (UTF-8 done by the caller: non-empty, no NUL,
   at most WP_KV_MAX_KEY bytes). */
wp_error *kv_check_key(const kv_bucket *b, const char *key, size_t len);

/* The operations, with the bucket's limits applied, for the plugin's call
   `call` (NULL: no deadline): each is given the time left in the call when
   it starts, and an interrupted call runs no more of them. Errors name the
   bucket; WP_ERR_TIMEOUT and WP_ERR_INTERRUPTED end the plugin's call
   (kv_ends_call), other errors are the plugin's to handle. */
wp_error *kv_op_get(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    bool *found, kv_bytes *out);
wp_error *kv_op_set(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    const uint8_t *v, size_t vlen);
wp_error *kv_op_delete(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen);
wp_error *kv_op_exists(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                       bool *found);
wp_error *kv_op_keys(const kv_bucket *b, const wp_host_call *call, uint64_t cursor, kv_keys *out);
wp_error *kv_op_increment(const kv_bucket *b, const wp_host_call *call, const char *key,
                          size_t klen, int64_t delta, int64_t *out);
wp_error *kv_op_cas(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped);

/* Whether an operation's error ends the plugin's call (its deadline was
   reached, or it was interrupted) rather than being answered to it. */
bool kv_ends_call(const wp_error *err);

/* Parses a decimal i64 as increments store it ("-12"); false if it is not one. */
bool kv_parse_i64(const uint8_t *s, size_t len, int64_t *out);
/* delta + *v without overflow; false (and *v untouched) if it would. */
bool kv_add_i64(int64_t *v, int64_t delta);
/* A cursor as text ("" never: the first page is no cursor) and back. */
bool kv_parse_cursor(const char *s, size_t len, uint64_t *out);

/* The host functions (core.c, component.c). */
wp_error *kv_define_core(wp_engine *e, kv_cap *kc);
wp_error *kv_define_component(wp_engine *e, kv_cap *kc);

#endif
