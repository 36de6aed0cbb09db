/*
 * wasmplug_sandbox.h - wasmplug's Rust extensions for the sandbox: one memory
 * budget per store and WASI waits bounded by the call's time (src/sandbox.rs).
 *
 * The C API offers only StoreLimits (a cap per memory and per table) and
 * WASI functions that block the calling thread for as long as the plugin
 * asks; these close both gaps. deps/wasmtime/build.sh installs this header
 * next to wasmtime.h.
 */
#ifndef WASMPLUG_SANDBOX_H
#define WASMPLUG_SANDBOX_H

#include <stdint.h>

#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Limits of one store, and what it uses. The embedder fills the first five
 * fields, zeroes the rest, and keeps the struct alive and in place as long as
 * the store; the limiter updates the usage fields as memories and tables are
 * made and grown (on the thread running the store).
 */
typedef struct wasmplug_limits {
  uint64_t max_bytes;        /* all linear memories + all table elements */
  uint64_t table_elem_bytes; /* bytes charged per table element */
  uint32_t max_instances;    /* core instances (a component has several) */
  uint32_t max_memories;
  uint32_t max_tables;
  uint64_t memory_bytes;     /* in use now */
  uint64_t table_bytes;
  uint64_t refused;          /* growths refused so far */
  uint64_t refused_total;    /* the total the last refused growth asked for */
} wasmplug_limits_t;

/* Replaces the store's limiter with one charging everything to `limits`. */
void wasmplug_store_set_limits(wasmtime_store_t *store, wasmplug_limits_t *limits);

/*
 * Time left for the call running in the store whose data (wasmtime_store_new's
 * `data`) is `store_data`, in nanoseconds: 0 to stop now (the embedder
 * records why; the WASI function then fails with a trap), UINT64_MAX for no
 * limit. Called between slices of a wait, on the thread running the store.
 */
typedef uint64_t (*wasmplug_budget_fn)(void *store_data);

/* Four uint64_t, zero when the store is made, that the embedder keeps per
   store for the bounded poll_oneoff (it caches a trampoline there). */
typedef uint64_t *(*wasmplug_scratch_fn)(void *store_data);

/*
 * Shadows wasi_snapshot_preview1.poll_oneoff in `linker` (which must have
 * WASI already) with a version whose waits ask `budget` every `slice_us`
 * microseconds. Clock subscriptions are waited for here; polls with fd
 * subscriptions go to Wasmtime's implementation, which does not wait for
 * the fds wasmplug grants (byte-buffer stdin, sink stdout/stderr, files).
 */
wasmtime_error_t *wasmplug_linker_bound_wasi(wasmtime_linker_t *linker,
                                             wasmplug_budget_fn budget,
                                             wasmplug_scratch_fn scratch, uint32_t slice_us);

/*
 * Also shadows path_open, which then opens only regular files, directories
 * and symlinks (ENXIO for FIFOs and devices, whose open(2) can block in the
 * kernel until another process opens the other end).
 */

/* The same for WASI preview 2: wasi:io/poll's poll and pollable.block, and
   wasi:filesystem's descriptor.open-at (no-device for FIFOs and devices). */
wasmtime_error_t *wasmplug_component_linker_bound_wasip2(wasmtime_component_linker_t *linker,
                                                         wasmplug_budget_fn budget,
                                                         uint32_t slice_us);

/*
 * Lets a pooling allocator configuration reset instance slots with Linux's
 * PAGEMAP_SCAN ioctl (6.7+) where the kernel has it: only the pages an
 * instance dirtied are restored, instead of a memset of each memory's whole
 * kept-resident prefix (src/pool.rs).
 */
void wasmplug_pooling_config_pagemap_scan(wasmtime_pooling_allocation_config_t *config);

/* A memory's base address and (in *size) its size in bytes, with one lookup
   of the memory in its store instead of wasmtime_memory_data's and
   wasmtime_memory_data_size's two. Valid until the guest runs again. */
uint8_t *wasmplug_memory_view(wasmtime_context_t *context, const wasmtime_memory_t *memory,
                              size_t *size);

#ifdef __cplusplus
}
#endif

#endif
