/*
 * shared.h - Proxy-Wasm shared data and metrics (internal): state that every
 * VM of a host sees, across workers (threads), under a lock.
 */
#ifndef WP_PROXYWASM_SHARED_H
#define WP_PROXYWASM_SHARED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"
#include "wasmplug/proxywasm.h"

/* ---- shared data: per vm id, key -> (value, cas) ------------------------------ */

#define PW_SHARED_MAX_KEYS 65536          /* per vm id */
#define PW_SHARED_MAX_VALUE (1u << 20)    /* bytes per value */
#define PW_SHARED_MAX_KEY 4096            /* bytes per key */
#define PW_SHARED_MAX_BYTES (64u << 20)   /* keys and values per vm id */

typedef enum pw_shared_status {
  PW_SHARED_OK = 0,
  PW_SHARED_NOT_FOUND,
  PW_SHARED_CAS_MISMATCH,
  PW_SHARED_TOO_BIG, /* key, value, key count or bytes over the caps */
  PW_SHARED_NO_MEMORY,
} pw_shared_status;

typedef struct pw_shared pw_shared;

pw_shared *pw_shared_new(void);
void pw_shared_free(pw_shared *s);

/*
 * Reads key of vm_id: a malloc'ed copy of the value in *value (NULL if
 * len 0 is fine too; the caller frees), its length and its cas (never 0).
 */
pw_shared_status pw_shared_get(pw_shared *s, const char *vm_id, const uint8_t *key, size_t key_len,
                               uint8_t **value, size_t *len, uint32_t *cas);

/*
 * Writes key of vm_id. cas 0 writes unconditionally; otherwise the write
 * happens only if the key's current cas equals it (a missing key never
 * matches a nonzero cas). Each write gives the key a new cas (never 0).
 */
pw_shared_status pw_shared_set(pw_shared *s, const char *vm_id, const uint8_t *key, size_t key_len,
                               const uint8_t *value, size_t len, uint32_t cas);

/* ---- metrics: shared by name ----------------------------------------------------- */

#define PW_METRICS_MAX 10000
#define PW_METRIC_NAME_MAX 256

typedef enum pw_metric_status {
  PW_METRIC_OK = 0,
  PW_METRIC_NOT_FOUND,    /* unknown id */
  PW_METRIC_BAD_ARGUMENT, /* bad type or name, a counter going down, increment of a histogram */
  PW_METRIC_TOO_MANY,
  PW_METRIC_NO_MEMORY,
} pw_metric_status;

typedef struct pw_metrics pw_metrics;

pw_metrics *pw_metrics_new(void);
void pw_metrics_free(pw_metrics *m);

/* Defines (or finds: same name and type give the same id) a metric. The
   name must be 1..PW_METRIC_NAME_MAX bytes of printable ASCII. Ids are
   nonzero. A name defined with another type -> BAD_ARGUMENT. */
pw_metric_status pw_metrics_define(pw_metrics *m, wp_pw_metric_type type, const char *name,
                                   size_t name_len, uint32_t *id);
/* Counter: delta must be >= 0; gauge: any delta; histogram: BAD_ARGUMENT. */
pw_metric_status pw_metrics_increment(pw_metrics *m, uint32_t id, int64_t delta);
/* Gauge: sets; histogram: records (count, sum, last); counter: adds, as Envoy. Counters
   and histograms refuse value < 0 (BAD_ARGUMENT): the ABI's u64 past INT64_MAX. */
pw_metric_status pw_metrics_record(pw_metrics *m, uint32_t id, int64_t value);
/* Counter and gauge: the value; histogram: how many values were recorded. */
pw_metric_status pw_metrics_get(pw_metrics *m, uint32_t id, int64_t *value);
void pw_metrics_foreach(pw_metrics *m, void (*fn)(void *user, const wp_pw_metric *metric),
                        void *user);

#endif
