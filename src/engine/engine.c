/*
 * engine.c - wp_engine: configuration, the Wasmtime engines, the timer thread.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/error.h"
#include "util/hex.h"

#define WP_WASMTIME_VERSION "48.0.8"

struct wp_engine_config {
  char *cache_dir;
  bool cache_off;
  uint32_t pooling;
  uint64_t max_memory;
  uint32_t tick_us;
  uint32_t instantiate_timeout_ms;
  uint64_t max_module_size;
  uint32_t max_functions;
  uint32_t pool_table_elements;
  uint64_t pool_instance_size;
  wp_log_fn log_fn;
  void *log_user_data;
  void (*log_free)(void *user_data);
  wp_isolation isolation;
  char *worker_path;
};

wp_engine_config *wp_engine_config_new(void) {
  wp_engine_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return NULL;
  cfg->pooling = 256;
  cfg->max_memory = 1ull << 30;
  cfg->tick_us = 1000;
  cfg->instantiate_timeout_ms = 10000;
  return cfg;
}

void wp_engine_config_free(wp_engine_config *cfg) {
  if (!cfg) return;
  free(cfg->cache_dir);
  free(cfg->worker_path);
  free(cfg);
}

void wp_engine_config_set_isolation(wp_engine_config *cfg, wp_isolation isolation) {
  if (isolation <= WP_ISOLATION_PROCESS) cfg->isolation = isolation;
}

void wp_engine_config_set_worker_path(wp_engine_config *cfg, const char *path) {
  free(cfg->worker_path);
  cfg->worker_path = path ? strdup(path) : NULL;
}

#ifndef WASMPLUG_DEFAULT_WORKER
#define WASMPLUG_DEFAULT_WORKER "/usr/local/bin/wasmplug"
#endif

/* The embedder's choice, else $WASMPLUG_WORKER, else the installed wasmplug. */
static char *worker_path(const wp_engine_config *cfg) {
  const char *env = getenv("WASMPLUG_WORKER");
  if (cfg->worker_path) return strdup(cfg->worker_path);
  return strdup(env && *env ? env : WASMPLUG_DEFAULT_WORKER);
}

void wp_engine_config_set_cache_dir(wp_engine_config *cfg, const char *dir) {
  free(cfg->cache_dir);
  cfg->cache_dir = dir ? strdup(dir) : NULL;
  cfg->cache_off = dir == NULL;
}

void wp_engine_config_set_pooling(wp_engine_config *cfg, uint32_t max_instances) {
  cfg->pooling = max_instances;
}

void wp_engine_config_set_max_memory(wp_engine_config *cfg, uint64_t bytes) {
  cfg->max_memory = bytes;
}

/* 0 keeps the default, as for max_memory (see wp_engine_create). */
void wp_engine_config_set_max_module_size(wp_engine_config *cfg, uint64_t bytes) {
  cfg->max_module_size = bytes;
}

void wp_engine_config_set_max_functions(wp_engine_config *cfg, uint32_t n) {
  cfg->max_functions = n;
}

void wp_engine_config_set_pool_table_elements(wp_engine_config *cfg, uint32_t elements) {
  cfg->pool_table_elements = elements;
}

void wp_engine_config_set_pool_instance_size(wp_engine_config *cfg, uint64_t bytes) {
  cfg->pool_instance_size = bytes;
}

void wp_engine_config_set_instantiate_timeout_ms(wp_engine_config *cfg, uint32_t ms) {
  cfg->instantiate_timeout_ms = ms;
}

void wp_engine_config_set_tick_us(wp_engine_config *cfg, uint32_t us) {
  cfg->tick_us = us ? us : 1;
}

void wp_engine_config_set_log(wp_engine_config *cfg, wp_log_fn fn, void *user_data) {
  cfg->log_fn = fn;
  cfg->log_user_data = user_data;
}

void wp_engine_config_set_log_free(wp_engine_config *cfg, void (*free_user_data)(void *)) {
  cfg->log_free = free_user_data;
}

/* $XDG_CACHE_HOME/wasmplug/compiled or ~/.cache/wasmplug/compiled. */
static char *default_cache_dir(void) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char buf[4096];
  if (xdg && *xdg) snprintf(buf, sizeof buf, "%s/wasmplug/compiled", xdg);
  else if (home && *home) snprintf(buf, sizeof buf, "%s/.cache/wasmplug/compiled", home);
  else return NULL;
  return strdup(buf);
}

/* ---- the timer thread ---------------------------------------------------- */

static void *ticker_main(void *arg) {
  struct wp_engine *e = arg;
  struct timespec ts = {.tv_sec = e->tick_us / 1000000,
                        .tv_nsec = (long)(e->tick_us % 1000000) * 1000};
  while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
    nanosleep(&ts, NULL);
    atomic_fetch_add_explicit(&e->ticks, 1, memory_order_relaxed);
    wasmtime_engine_increment_epoch(e->plain.engine);
    /* fuel.engine is written once under the lock; a stale NULL only skips a tick. */
    wasm_engine_t *fe = __atomic_load_n(&e->fuel.engine, __ATOMIC_ACQUIRE);
    if (fe) wasmtime_engine_increment_epoch(fe);
  }
  return NULL;
}

/* ---- flavors --------------------------------------------------------------- */

/*
 * The pooling allocator reserves ~4 GiB of address space per memory slot up
 * front, and Wasmtime's C API aborts the process (an unwrap) when it cannot.
 * So check the address-space limit first and fail with an error instead.
 */
static wp_error *check_address_space(uint32_t slots) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return NULL;
  unsigned long long need = (unsigned long long)slots * ((4ull << 30) + (32ull << 20)) +
                            (1ull << 30);
  if ((unsigned long long)rl.rlim_cur >= need) return NULL;
  return wp_error_new(WP_ERR_HOST,
                      "wasmplug: pooling %u instances needs about %llu GiB of address space but "
                      "the limit (ulimit -v) is %llu GiB; lower wp_engine_config_set_pooling, set "
                      "it to 0, or raise the limit",
                      (unsigned)slots, need >> 30, (unsigned long long)rl.rlim_cur >> 30);
}

/* Builds one Wasmtime engine with our settings and a linker for it. */
static wp_error *flavor_init(struct wp_engine *e, bool fuel, wp_flavor *f) {
  uint32_t slots = fuel ? (e->pooling + 3) / 4 : e->pooling;
  if (e->pooling) {
    wp_error *err = check_address_space(slots);
    if (err) return err;
  }
  wasm_config_t *cfg = wasm_config_new();
  if (!cfg) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory making an engine");
  wasmtime_config_epoch_interruption_set(cfg, true);
  wasmtime_config_consume_fuel_set(cfg, fuel);
  if (e->pooling) {
    wasmtime_pooling_allocation_config_t *pc = wasmtime_pooling_allocation_config_new();
    /* A component instance is several core instances (its module, adapter
       and shims), usually with one memory and a few tables: core instances
       and tables are cheap, memories are what reserve address space. */
    wasmtime_pooling_allocation_config_total_core_instances_set(pc, slots * 8);
    wasmtime_pooling_allocation_config_total_memories_set(pc, slots);
    wasmtime_pooling_allocation_config_total_tables_set(pc, slots * 4);
    wasmtime_pooling_allocation_config_max_memory_size_set(pc, (size_t)e->max_memory);
    wasmtime_pooling_allocation_config_table_elements_set(pc, e->pool_table_elements);
    wasmtime_pooling_allocation_config_max_core_instance_size_set(pc,
                                                                  (size_t)e->pool_instance_size);
    /* Zero the first pages of a freed slot instead of handing them back to
       the kernel: a fresh instance then starts without page faults or TLB
       shootdowns (15.6 -> ~5 us per fresh instance in bench/), at the cost of
       up to 256 KiB resident per slot used. */
    wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pc, 256u << 10);
    wasmtime_pooling_allocation_config_table_keep_resident_set(pc, 64u << 10);
    /* Where the kernel can say which pages an instance dirtied (PAGEMAP_SCAN),
       only those are zeroed: most of the 256 KiB above never was written
       (a third of a fresh pooled instance's time went to that memset). */
    wasmplug_pooling_config_pagemap_scan(pc);
    wasmtime_pooling_allocation_strategy_set(cfg, pc);
    wasmtime_pooling_allocation_config_delete(pc);
  }
  f->engine = wasm_engine_new_with_config(cfg);
  if (!f->engine)
    return wp_error_new(WP_ERR_HOST, "wasmplug: could not make a Wasmtime engine%s",
                        e->pooling ? " (pooling reserves address space up front: lower it with "
                                     "wp_engine_config_set_pooling, or set 0 to turn it off)"
                                   : "");
  f->linker = wasmtime_linker_new(f->engine);
  wasmtime_error_t *werr = wasmtime_linker_define_wasi(f->linker);
  /* Sleeps and polls inside WASI must end when the call's time is up. */
  if (!werr)
    werr = wasmplug_linker_bound_wasi(f->linker, e->hooks->wasi_budget, e->hooks->wasi_scratch,
                                      e->tick_us);
  if (werr) return wp_error_from_wasmtime(WP_ERR_HOST, werr, "wasmplug: defining WASI");

  char text[256];
  snprintf(text, sizeof text,
           "wasmtime %s fuel=%d epoch=1 pooling=%u maxmem=%llu tables=%u inst=%llu",
           WP_WASMTIME_VERSION, (int)fuel, (unsigned)e->pooling, (unsigned long long)e->max_memory,
           (unsigned)e->pool_table_elements, (unsigned long long)e->pool_instance_size);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)text, strlen(text), digest);
  wp_hex(digest, 8, f->cache_key);

  for (wp_def *d = e->defs; d; d = d->next) {
    if (!d->link) continue;
    wp_error *err = d->link(f, d);
    if (err) return err;
  }
  return NULL;
}

static void flavor_fini(wp_flavor *f) {
  if (f->linker) wasmtime_linker_delete(f->linker);
  if (f->engine) wasm_engine_delete(f->engine);
  f->linker = NULL;
  f->engine = NULL;
}

wp_error *wp_engine_flavor(struct wp_engine *e, bool fuel, wp_flavor **out) {
  if (!fuel) {
    *out = &e->plain;
    return NULL;
  }
  wp_error *err = NULL;
  pthread_mutex_lock(&e->lock);
  if (!e->fuel.engine) {
    wp_flavor f = {0};
    err = flavor_init(e, true, &f);
    if (err) {
      flavor_fini(&f);
    } else {
      e->fuel.linker = f.linker;
      memcpy(e->fuel.cache_key, f.cache_key, sizeof f.cache_key);
      __atomic_store_n(&e->fuel.engine, f.engine, __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&e->lock);
  if (!err) *out = &e->fuel;
  return err;
}

/* ---- lifetime ------------------------------------------------------------ */

static void engine_destroy(struct wp_engine *e) {
  if (e->ticker_started) {
    atomic_store(&e->stop, true);
    pthread_join(e->ticker, NULL);
  }
  flavor_fini(&e->fuel);
  flavor_fini(&e->plain);
  while (e->defs) {
    wp_def *d = e->defs;
    e->defs = d->next;
    d->free(d);
  }
  wp_engine_free_capabilities(e); /* after the functions that use their data */
  pthread_mutex_destroy(&e->lock);
  pthread_mutex_destroy(&e->pools_lock);
  free(e->cache_dir);
  free(e->worker_path);
  /* Last: plugins, capabilities and host functions may log until here. */
  if (e->log_free) e->log_free(e->log_user_data);
  free(e);
}

wp_error *wp_engine_create(const wp_engine_config *cfg, const wp_engine_hooks *hooks,
                           struct wp_engine **out) {
  wp_engine_config defaults;
  wp_engine_config *dflt = NULL;
  if (!cfg) {
    dflt = wp_engine_config_new();
    if (!dflt) return wp_error_no_memory();
    defaults = *dflt;
    cfg = &defaults;
  }
  struct wp_engine *e = calloc(1, sizeof *e);
  if (!e) {
    wp_engine_config_free(dflt);
    return wp_error_no_memory();
  }
  atomic_init(&e->refs, 1);
  pthread_mutex_init(&e->lock, NULL);
  pthread_mutex_init(&e->pools_lock, NULL);
  e->hooks = hooks;
  e->pooling = cfg->pooling;
  /* Pooling: an eighth of the slots, but one store's worth (7) in a small
     pool, and never more than half the pool; a full pool takes them back
     (wp_pools_reclaim), but that costs a failed instantiation first. Without
     pooling it bounds the memory they keep (WP_STORE_REUSE_BYTES each). */
  uint32_t eighth = cfg->pooling / 8, small = cfg->pooling / 2 < 7 ? cfg->pooling / 2 : 7;
  e->retain_max = cfg->pooling ? (eighth > small ? eighth : small) : 16;
  atomic_init(&e->retained_dead, 0);
  atomic_init(&e->lives, 0);
  e->max_memory = cfg->max_memory ? cfg->max_memory : 1ull << 30;
  e->tick_us = cfg->tick_us ? cfg->tick_us : 1000;
  e->instantiate_timeout_ns = (uint64_t)cfg->instantiate_timeout_ms * 1000000u;
  e->max_module_size = cfg->max_module_size ? cfg->max_module_size : WP_DEFAULT_MAX_MODULE_SIZE;
  e->max_functions = cfg->max_functions ? cfg->max_functions : WP_DEFAULT_MAX_FUNCTIONS;
  /* Go and other big runtimes have large function tables and instances. */
  e->pool_table_elements = cfg->pool_table_elements ? cfg->pool_table_elements : 100000;
  e->pool_instance_size = cfg->pool_instance_size ? cfg->pool_instance_size : 8u << 20;
  e->log_fn = cfg->log_fn;
  e->log_user_data = cfg->log_user_data;
  e->log_free = cfg->log_free;
  e->isolation = cfg->isolation;
  e->worker_path = worker_path(cfg);
  if (!cfg->cache_off) e->cache_dir = cfg->cache_dir ? strdup(cfg->cache_dir) : default_cache_dir();
  wp_engine_config_free(dflt);

  wp_error *err = flavor_init(e, false, &e->plain);
  if (!err && pthread_create(&e->ticker, NULL, ticker_main, e) != 0)
    err = wp_error_new(WP_ERR_HOST, "wasmplug: could not start the timer thread");
  else if (!err) e->ticker_started = true;
  if (err) {
    e->log_free = NULL; /* the caller still owns the log's data */
    engine_destroy(e);
    return err;
  }
  *out = e;
  return NULL;
}

void wp_engine_log(const wp_engine *e, wp_log_level level, const char *plugin, const char *msg,
                   size_t len) {
  if (e && e->log_fn && msg) e->log_fn(e->log_user_data, level, plugin ? plugin : "", msg, len);
}

struct wp_engine *wp_engine_ref(struct wp_engine *e) {
  atomic_fetch_add(&e->refs, 1);
  return e;
}

void wp_engine_free(wp_engine *e) {
  if (e && atomic_fetch_sub(&e->refs, 1) == 1) engine_destroy(e);
}

const wp_def *wp_engine_find_def(const struct wp_engine *e, wp_def_kind kind, const char *module,
                                 const char *name) {
  for (const wp_def *d = e->defs; d; d = d->next)
    if (d->kind == kind &&
        (d->module == module || (d->module && module && strcmp(d->module, module) == 0)) &&
        strcmp(d->name, name) == 0)
      return d;
  return NULL;
}

wp_error *wp_engine_add_def(struct wp_engine *e, wp_def *d) {
  wp_error *err = NULL;
  pthread_mutex_lock(&e->lock);
  /* Core imports are linked engine-wide, so a name can be defined once;
     component definitions are matched per plugin, the newest first. */
  if (d->kind == WP_DEF_CORE_FUNC && wp_engine_find_def(e, d->kind, d->module, d->name))
    err = wp_error_new(WP_ERR_BAD_INPUT, "host function '%s.%s' is already defined", d->module,
                       d->name);
  if (!err && d->link && e->plain.linker) err = d->link(&e->plain, d);
  if (!err && d->link && e->fuel.linker) err = d->link(&e->fuel, d);
  if (!err) {
    d->next = e->defs;
    e->defs = d;
  }
  pthread_mutex_unlock(&e->lock);
  return err;
}
