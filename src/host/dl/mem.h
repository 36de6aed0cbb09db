/*
 * mem.h - what the plugin's handles refer to (dl.wit's resources), and the
 * memory of `alloc`s.
 *
 * A block is a piece of memory: host memory the plugin allocated (zeroed,
 * writable, freed with the block) or a view of native memory (deref,
 * read-only). An alloc is a handle to one value inside a block: the block,
 * an offset, a type. Blocks are counted: an alloc, a view of a field, a
 * deref, and a pointer the plugin stored in another block (its
 * dependencies) each hold one, so nothing a pointer refers to is freed
 * while the pointer can still be read or passed. A block holding a pointer
 * that native code returned keeps that code's library open.
 *
 * A plugin's handles live in one instance and are used by the thread that
 * runs it; the counts are atomic all the same, as drops may come from the
 * thread freeing the instance.
 */
#ifndef WP_HOST_DL_MEM_H
#define WP_HOST_DL_MEM_H

#include <stdatomic.h>
#include <stdint.h>

#include "grant.h"

/* An open library (dl.c). */
typedef struct dl_lib {
  atomic_size_t refs;
  void *handle;
  char *name; /* for messages: the granted name, or "the main program" */
  const dl_lib_grant *grant; /* the plugin's, which outlives its instances */
  atomic_size_t *used;       /* the plugin's memory budget (dl_grant) */
} dl_lib;

void dl_lib_ref(dl_lib *l);
void dl_lib_unref(dl_lib *l);

typedef struct dl_block dl_block;

/* A pointer stored at `off` of a block, to memory of block `b`: `ptr` was
   stored, with `avail` bytes readable from it. */
typedef struct dl_dep {
  size_t off;
  dl_block *b;
  const uint8_t *ptr;
  size_t avail;
} dl_dep;

struct dl_block {
  atomic_size_t refs;
  uint8_t *mem;
  size_t size;
  bool readonly;    /* native memory */
  bool owns_mem;
  dl_type *type;    /* the root type (owned); NULL for bytes */
  dl_block *parent; /* a deref's: the block whose pointer it follows */
  dl_lib *lib;      /* the library that returned the pointer held here */
  size_t ndeps, capdeps;
  dl_dep *deps;
  dl_block *next_dead; /* dl_block_unref's list */
  atomic_size_t *used; /* the budget charged (dl_block_charge), or NULL */
  size_t charged;
};

/* What an alloc handle refers to. */
typedef struct dl_alloc {
  dl_block *b;
  size_t off;
  const dl_type *type; /* inside b->type */
  atomic_size_t *used; /* the budget it is charged to */
} dl_alloc;

/* Charges `n` bytes to a plugin's budget (WP_DL_MAX_MEMORY for all its
   instances together): false, charging nothing, when it would go over. */
bool dl_charge(atomic_size_t *used, size_t n);
void dl_uncharge(atomic_size_t *used, size_t n);
/* Charges a new block (its memory when it owns it, and itself) to `used`. */
bool dl_block_charge(dl_block *b, atomic_size_t *used);

/* A new zeroed block for one value of `type` (taken). NULL: out of memory. */
dl_block *dl_block_new(dl_type *type);
/* A new zeroed block of `size` bytes (at least 1 allocated), untyped. */
dl_block *dl_block_bytes(size_t size);
void dl_block_unref(dl_block *b);

/* A new alloc referring to (b, off, type), holding a count on b, charged
   to `used`; NULL when out of memory, or over the budget (*over set). */
dl_alloc *dl_alloc_new(dl_block *b, size_t off, const dl_type *type, atomic_size_t *used,
                       bool *over);
void dl_alloc_free(dl_alloc *a);

/* Where an alloc's value is. */
static inline uint8_t *dl_alloc_mem(const dl_alloc *a) { return a->b->mem + a->off; }

/* Stores a primitive-value `v` of type `p` at `dst`; false with why[] when
   its case is not `p`'s. */
bool dl_store_prim(dl_prim p, const wp_value *v, void *dst, char *why, size_t size);
/* The primitive-value for a number of type `p` at `src` (NULL: out of memory). */
wp_value *dl_load_prim(dl_prim p, const void *src);

/* Records that the pointer at `off` of `b` now points into `to` (NULL: not
   to plugin memory), `avail` bytes readable there; false when it would
   make a cycle of blocks (why[] says so) or out of memory (why[0] NUL). */
bool dl_block_point(dl_block *b, size_t off, dl_block *to, const uint8_t *ptr, size_t avail,
                    char *why, size_t size);
/* The block owning what the pointer at `off` of `b` points to, when the
   plugin stored it there (`b` itself for a pointer into its own memory);
   else `b`, which keeps the library that returned it. *ptr gets the
   pointer, *avail the bytes readable there (SIZE_MAX: unknown, native). */
dl_block *dl_block_owner(dl_block *b, size_t off, const uint8_t **ptr, size_t *avail);
/* How many bytes may be read where the pointer at `off` of `b` points:
   known for plugin memory, else `max`. */
size_t dl_block_avail(dl_block *b, size_t off, size_t max);

#endif
