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

struct wp_pool {
  wp_plugin *plugin;
  uint32_t max_uses, max_idle;
  pthread_mutex_t lock;
  wp_instance **idle;
  uint32_t nidle;
};

wp_error *wp_pool_new(wp_plugin *plugin, uint32_t max_uses, uint32_t max_idle, wp_pool **out) {
  if (!plugin || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pool_new: plugin and out are required");
  wp_pool *pool = calloc(1, sizeof *pool);
  if (!pool || !(pool->idle = calloc(max_idle ? max_idle : 1, sizeof *pool->idle))) {
    free(pool);
    return wp_error_no_memory();
  }
  pool->plugin = wp_plugin_ref(plugin);
  pool->max_uses = max_uses;
  pool->max_idle = max_idle;
  pthread_mutex_init(&pool->lock, NULL);
  *out = pool;
  return NULL;
}

void wp_pool_free(wp_pool *pool) {
  if (!pool) return;
  for (uint32_t i = 0; i < pool->nidle; i++) wp_instance_free(pool->idle[i]);
  pthread_mutex_destroy(&pool->lock);
  free(pool->idle);
  wp_plugin_free(pool->plugin);
  free(pool);
}

wp_error *wp_pool_take(wp_pool *pool, wp_instance **out) {
  wp_instance *inst = NULL;
  pthread_mutex_lock(&pool->lock);
  if (pool->nidle) inst = pool->idle[--pool->nidle];
  pthread_mutex_unlock(&pool->lock);
  if (!inst) {
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

void wp_pool_release(wp_pool *pool, wp_instance *inst) {
  if (!inst) return;
  bool keep = inst->plugin == pool->plugin && !inst->failed &&
              (pool->max_uses == 0 || inst->uses < pool->max_uses);
  if (keep) {
    inst->user_data = NULL;
    /* Outputs are only valid until the instance is released. */
    trim_idle_buffer(&inst->out);
    trim_idle_buffer(&inst->host_out);
    trim_idle_buffer(&inst->stdout_buf);
    trim_idle_buffer(&inst->stderr_buf);
    atomic_store(&inst->interrupt, false);
    pthread_mutex_lock(&pool->lock);
    keep = pool->nidle < pool->max_idle;
    if (keep) pool->idle[pool->nidle++] = inst;
    pthread_mutex_unlock(&pool->lock);
  }
  if (!keep) wp_instance_free(inst);
}
