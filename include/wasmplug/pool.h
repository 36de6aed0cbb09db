/*
 * wasmplug/pool.h - pools (wp_pool): instances of one plugin, fresh per call
 * or reused.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_POOL_H
#define WASMPLUG_POOL_H

#include "wasmplug/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct wp_pool wp_pool;

/**
 * A supply of instances of `plugin`. Each instance serves at most `max_uses`
 * takes (1: a fresh instance for every call; 0: no limit) and at most
 * `max_idle` instances are kept waiting. An instance whose call failed is
 * never handed out again. Holds a reference to the plugin.
 */
wp_error *wp_pool_new(wp_plugin *plugin, uint32_t max_uses, uint32_t max_idle, wp_pool **out);

/** Frees the pool and its idle instances. Taken instances must be released first. */
void wp_pool_free(wp_pool *pool);

/** Hands out an instance, making one if none is idle. */
wp_error *wp_pool_take(wp_pool *pool, wp_instance **out);

/**
 * Gives an instance back. It is kept for reuse, or its sandbox (store,
 * memory, everything the plugin could touch) is freed if it has served
 * max_uses, its last call failed, or max_idle are already waiting. The pool
 * may keep the empty wp_instance to build a later fresh instance into.
 */
void wp_pool_release(wp_pool *pool, wp_instance *inst);

/** How many instances wait idle in the pool now (for metrics). */
size_t wp_pool_get_idle(wp_pool *pool);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_POOL_H */
