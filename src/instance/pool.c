/*
 * pool.c - wp_pool: a per-plugin supply of instances.
 *
 * The lock guards only a free list; making and freeing instances (the slow
 * parts) happen outside it, so threads contend for nanoseconds.
 */
#include <pthread.h>
#include <stdlib.h>

#include "engine/error.h"
#include "instance/instance.h"

/*
 * Output buffers above this capacity are freed when an instance goes back
 * idle, so that an idle pool does not pin the largest output each instance
 * ever produced (up to 4 GiB per instance, times max_idle). Smaller buffers
 * are kept: the common small call then allocates nothing. The cost falls on
 * plugins whose outputs exceed it, which pay one malloc per call, small next
 * to producing and copying that much output.
 */
#define WP_POOL_IDLE_BUF_MAX (64u << 10)

/*
 * An instance that has served max_uses (or failed) loses its sandbox, but
 * its shell (the wp_instance, its export cache, its output buffers) is kept
 * as a spare: the next take that finds no idle instance builds into it
 * instead of allocating everything again. Nothing of the old sandbox stays
 * reachable: wp_instance_retire clears the per-sandbox state and frees the
 * store, or keeps it holding the dead instance for the next one to be
 * instantiated beside (instance.c); wp_pools_reclaim frees such stores when
 * the pooling allocator is full.
 */
struct wp_pool {
  wp_plugin *plugin;
  uint32_t max_uses, max_idle;
  pthread_mutex_t lock;
  wp_instance **idle;
  uint32_t nidle;
  wp_instance **spare; /* torn-down shells, at most max(max_idle, 1) */
  uint32_t nspare;
  wp_pool *prev, *next; /* in the engine's list (engine.h: pools) */
};

static wp_engine *engine_of(const wp_pool *pool) { return pool->plugin->engine; }

wp_error *wp_pool_new(wp_plugin *plugin, uint32_t max_uses, uint32_t max_idle, wp_pool **out) {
  if (!plugin || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pool_new: plugin and out are required");
  wp_pool *pool = calloc(1, sizeof *pool);
  size_t cap = max_idle ? max_idle : 1;
  if (!pool || !(pool->idle = calloc(cap, sizeof *pool->idle)) ||
      !(pool->spare = calloc(cap, sizeof *pool->spare))) {
    if (pool) free(pool->idle);
    free(pool);
    return wp_error_no_memory();
  }
  pool->plugin = wp_plugin_ref(plugin);
  pool->max_uses = max_uses;
  pool->max_idle = max_idle;
  pthread_mutex_init(&pool->lock, NULL);
  wp_engine *e = engine_of(pool);
  pthread_mutex_lock(&e->pools_lock);
  pool->next = e->pools;
  if (e->pools) e->pools->prev = pool;
  e->pools = pool;
  pthread_mutex_unlock(&e->pools_lock);
  *out = pool;
  return NULL;
}

void wp_pool_free(wp_pool *pool) {
  if (!pool) return;
  wp_engine *e = engine_of(pool);
  pthread_mutex_lock(&e->pools_lock);
  if (pool->prev) pool->prev->next = pool->next;
  else e->pools = pool->next;
  if (pool->next) pool->next->prev = pool->prev;
  pthread_mutex_unlock(&e->pools_lock);
  for (uint32_t i = 0; i < pool->nidle; i++) wp_instance_free(pool->idle[i]);
  for (uint32_t i = 0; i < pool->nspare; i++) wp_instance_free(pool->spare[i]);
  pthread_mutex_destroy(&pool->lock);
  free(pool->idle);
  free(pool->spare);
  wp_plugin_free(pool->plugin);
  free(pool);
}

wp_error *wp_pool_take(wp_pool *pool, wp_instance **out) {
  wp_instance *inst = NULL, *shell = NULL;
  pthread_mutex_lock(&pool->lock);
  if (pool->nidle) inst = pool->idle[--pool->nidle];
  else if (pool->nspare) shell = pool->spare[--pool->nspare];
  pthread_mutex_unlock(&pool->lock);
  if (shell) {
    wp_error *err = wp_instance_rebuild(shell);
    if (err) {
      wp_instance_free(shell);
      return err;
    }
    inst = shell;
  } else if (!inst) {
    wp_error *err = wp_instance_new(pool->plugin, &inst);
    if (err) return err;
  }
  inst->uses++;
  *out = inst;
  return NULL;
}

/* Empties a buffer, and frees it if it is above WP_POOL_IDLE_BUF_MAX. */
static void trim_idle_buffer(wp_buf *b) {
  b->len = 0;
  if (b->cap <= WP_POOL_IDLE_BUF_MAX) return;
  free(b->data);
  b->data = NULL;
  b->cap = 0;
}

size_t wp_pool_get_idle(wp_pool *pool) {
  if (!pool) return 0;
  pthread_mutex_lock(&pool->lock);
  size_t n = pool->nidle;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

/* What an instance going back to the pool (idle or as a spare) loses. */
static void clear_for_pool(wp_instance *inst) {
  inst->user_data = NULL;
  /* Outputs are only valid until the instance is released. */
  trim_idle_buffer(&inst->out);
  trim_idle_buffer(&inst->host_out);
  trim_idle_buffer(&inst->stdout_buf);
  trim_idle_buffer(&inst->stderr_buf);
  atomic_store(&inst->interrupt, false);
}

/* Keeps a used-up or failed instance's shell (its store freed now) as a
   spare if there is room; else frees it. An instance in a worker process is
   always freed: its worker goes with it. */
static void retire(wp_pool *pool, wp_instance *inst) {
  bool kept = false;
  if (inst->plugin == pool->plugin && !inst->plugin->kind->build) {
    wp_instance_retire(inst);
    clear_for_pool(inst);
    pthread_mutex_lock(&pool->lock);
    kept = pool->nspare < (pool->max_idle ? pool->max_idle : 1);
    if (kept) pool->spare[pool->nspare++] = inst;
    pthread_mutex_unlock(&pool->lock);
  }
  if (!kept) wp_instance_free(inst);
}

void wp_pool_release(wp_pool *pool, wp_instance *inst) {
  if (!inst) return;
  bool keep = inst->plugin == pool->plugin && !inst->failed &&
              (pool->max_uses == 0 || inst->uses < pool->max_uses);
  if (!keep) {
    retire(pool, inst);
    return;
  }
  clear_for_pool(inst);
  pthread_mutex_lock(&pool->lock);
  keep = pool->nidle < pool->max_idle;
  if (keep) pool->idle[pool->nidle++] = inst;
  pthread_mutex_unlock(&pool->lock);
  if (!keep) wp_instance_free(inst);
}

size_t wp_pools_reclaim(wp_engine *e) {
  size_t freed = 0;
  pthread_mutex_lock(&e->pools_lock);
  for (wp_pool *pool = e->pools; pool; pool = pool->next) {
    pthread_mutex_lock(&pool->lock);
    for (uint32_t i = 0; i < pool->nspare; i++) {
      freed += pool->spare[i]->dead_in_store;
      wp_instance_teardown(pool->spare[i]);
    }
    pthread_mutex_unlock(&pool->lock);
  }
  pthread_mutex_unlock(&e->pools_lock);
  return freed;
}
