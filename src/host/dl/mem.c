/*
 * mem.c - blocks, allocs and the numbers in them (mem.h).
 */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dl_block *dl_block_new(dl_type *type) {
  size_t size = dl_type_size(type);
  dl_block *b = calloc(1, sizeof *b);
  uint8_t *mem = calloc(1, size ? size : 1);
  if (!b || !mem) {
    free(b), free(mem);
    dl_type_free(type);
    return NULL;
  }
  *b = (dl_block){.mem = mem, .size = size, .owns_mem = true, .type = type};
  atomic_init(&b->refs, 1);
  return b;
}

bool dl_charge(atomic_size_t *used, size_t n) {
  size_t now = atomic_load(used);
  do {
    if (n > WP_DL_MAX_MEMORY || now > WP_DL_MAX_MEMORY - n) return false;
  } while (!atomic_compare_exchange_weak(used, &now, now + n));
  return true;
}

void dl_uncharge(atomic_size_t *used, size_t n) {
  if (used) atomic_fetch_sub(used, n);
}

bool dl_block_charge(dl_block *b, atomic_size_t *used) {
  size_t n = (b->owns_mem ? b->size : 0) + sizeof *b;
  if (!dl_charge(used, n)) return false;
  b->used = used;
  b->charged = n;
  return true;
}

dl_block *dl_block_bytes(size_t size) {
  dl_block *b = calloc(1, sizeof *b);
  uint8_t *mem = calloc(1, size ? size : 1);
  if (!b || !mem) {
    free(b), free(mem);
    return NULL;
  }
  *b = (dl_block){.mem = mem, .size = size, .owns_mem = true};
  atomic_init(&b->refs, 1);
  return b;
}

/* Pushes `b` on the list of dead blocks when this was its last count. */
static void release(dl_block *b, dl_block **dead) {
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    b->next_dead = *dead;
    *dead = b;
  }
}

/* Without recursion: a plugin may chain blocks as long as it likes. */
void dl_block_unref(dl_block *b) {
  dl_block *dead = NULL;
  release(b, &dead);
  while (dead) {
    dl_block *x = dead;
    dead = x->next_dead;
    for (size_t i = 0; i < x->ndeps; i++) release(x->deps[i].b, &dead);
    release(x->parent, &dead);
    free(x->deps);
    if (x->owns_mem) free(x->mem);
    dl_type_free(x->type);
    if (x->lib) dl_lib_unref(x->lib);
    dl_uncharge(x->used, x->charged);
    free(x);
  }
}

/* A handle's cost: the alloc and its slot in the instance's table. */
#define HANDLE_COST (sizeof(dl_alloc) + 64)

dl_alloc *dl_alloc_new(dl_block *b, size_t off, const dl_type *type, atomic_size_t *used,
                       bool *over) {
  *over = !dl_charge(used, HANDLE_COST);
  dl_alloc *a = *over ? NULL : malloc(sizeof *a);
  if (!a) {
    if (!*over) dl_uncharge(used, HANDLE_COST);
    return NULL;
  }
  *a = (dl_alloc){.b = b, .off = off, .type = type, .used = used};
  atomic_fetch_add(&b->refs, 1);
  return a;
}

void dl_alloc_free(dl_alloc *a) {
  if (!a) return;
  dl_block_unref(a->b);
  dl_uncharge(a->used, HANDLE_COST);
  free(a);
}

/* ---- numbers -------------------------------------------------------------------- */

/* The WIT payload of each primitive-value case: bits, and whether signed. */
static const struct {
  unsigned bits;
  bool sign;
} payload[DL_NPRIM] = {
    [DL_SCHAR] = {8, true},       [DL_UCHAR] = {8, false},   [DL_SHORT] = {16, true},
    [DL_USHORT] = {16, false},    [DL_INT] = {32, true},     [DL_UINT] = {32, false},
    [DL_LONG] = {64, true},       [DL_ULONG] = {64, false},  [DL_LONGLONG] = {64, true},
    [DL_ULONGLONG] = {64, false}, [DL_INT8] = {8, true},     [DL_UINT8] = {8, false},
    [DL_INT16] = {16, true},      [DL_UINT16] = {16, false}, [DL_INT32] = {32, true},
    [DL_UINT32] = {32, false},    [DL_INT64] = {64, true},   [DL_UINT64] = {64, false},
    [DL_SIZE] = {64, false},      [DL_SSIZE] = {64, true},   [DL_POINTER] = {0, false},
    [DL_FLOAT] = {32, true},      [DL_DOUBLE] = {64, true},
};

bool dl_store_prim(dl_prim p, const wp_value *v, void *dst, char *why, size_t size) {
  const char *c = wp_value_get_kind(v) == WP_TYPE_VARIANT ? wp_value_get_case(v) : NULL;
  const wp_value *pl = c ? wp_value_get_payload(v) : NULL;
  if (!c || !pl || strcmp(c, dl_prim_name(p)) != 0 || p == DL_POINTER) {
    snprintf(why, size, "a %s value where the type is %s", c ? c : "malformed", dl_prim_name(p));
    return false;
  }
  size_t sz = dl_type_size(dl_prim_type(p));
  if (p == DL_FLOAT) {
    float f = wp_value_get_f32(pl);
    memcpy(dst, &f, sizeof f);
    return true;
  }
  if (p == DL_DOUBLE) {
    double d = wp_value_get_f64(pl);
    memcpy(dst, &d, sizeof d);
    return true;
  }
  /* The C type is at least as wide as the payload on the platforms libffi's
     WIT mapping assumes (types.c); narrower would need a range check. */
  if (payload[p].sign) {
    int64_t x = wp_value_get_int(pl);
    int8_t i8 = (int8_t)x;
    int16_t i16 = (int16_t)x;
    int32_t i32 = (int32_t)x;
    memcpy(dst, sz == 1 ? (void *)&i8 : sz == 2 ? (void *)&i16 : sz == 4 ? (void *)&i32 : &x, sz);
  } else {
    uint64_t x = wp_value_get_uint(pl);
    uint8_t u8 = (uint8_t)x;
    uint16_t u16 = (uint16_t)x;
    uint32_t u32 = (uint32_t)x;
    memcpy(dst, sz == 1 ? (void *)&u8 : sz == 2 ? (void *)&u16 : sz == 4 ? (void *)&u32 : &x, sz);
  }
  return true;
}

wp_value *dl_load_prim(dl_prim p, const void *src) {
  size_t sz = dl_type_size(dl_prim_type(p));
  wp_value *pl = NULL;
  if (p == DL_FLOAT) {
    float f;
    memcpy(&f, src, sizeof f);
    pl = wp_value_new_f32(f);
  } else if (p == DL_DOUBLE) {
    double d;
    memcpy(&d, src, sizeof d);
    pl = wp_value_new_f64(d);
  } else if (payload[p].sign) {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t x;
    if (sz == 1) memcpy(&i8, src, 1), x = i8;
    else if (sz == 2) memcpy(&i16, src, 2), x = i16;
    else if (sz == 4) memcpy(&i32, src, 4), x = i32;
    else memcpy(&x, src, 8);
    unsigned bits = payload[p].bits;
    pl = bits == 8    ? wp_value_new_s8((int8_t)x)
         : bits == 16 ? wp_value_new_s16((int16_t)x)
         : bits == 32 ? wp_value_new_s32((int32_t)x)
                      : wp_value_new_s64(x);
  } else {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t x;
    if (sz == 1) memcpy(&u8, src, 1), x = u8;
    else if (sz == 2) memcpy(&u16, src, 2), x = u16;
    else if (sz == 4) memcpy(&u32, src, 4), x = u32;
    else memcpy(&x, src, 8);
    unsigned bits = payload[p].bits;
    pl = bits == 8    ? wp_value_new_u8((uint8_t)x)
         : bits == 16 ? wp_value_new_u16((uint16_t)x)
         : bits == 32 ? wp_value_new_u32((uint32_t)x)
                      : wp_value_new_u64(x);
  }
  return pl ? wp_value_new_variant(dl_prim_name(p), pl) : NULL;
}

/* ---- pointers between blocks ------------------------------------------------------- */

/* Whether `from` reaches `to` through dependencies and parents, within a
   budget of blocks visited (exhausting it counts as reaching). */
static bool reaches(const dl_block *from, const dl_block *to, size_t *budget) {
  if (from == to) return true;
  if (*budget == 0) return true;
  (*budget)--;
  for (size_t i = 0; i < from->ndeps; i++)
    if (reaches(from->deps[i].b, to, budget)) return true;
  return from->parent && reaches(from->parent, to, budget);
}

bool dl_block_point(dl_block *b, size_t off, dl_block *to, const uint8_t *ptr, size_t avail,
                    char *why, size_t size) {
  why[0] = '\0';
  size_t budget = 4096;
  if (to == b) to = NULL; /* into its own memory: bounded, but no count on itself */
  else if (to && reaches(to, b, &budget)) {
    snprintf(why, size,
             "storing this pointer would make memory refer to itself (directly or through other "
             "allocs); copy the value instead");
    return false;
  }
  size_t i = 0;
  while (i < b->ndeps && b->deps[i].off != off) i++;
  if (i == b->ndeps) {
    if (!ptr) return true;
    if (b->ndeps == b->capdeps) {
      size_t cap = b->capdeps ? b->capdeps * 2 : 4;
      dl_dep *n = realloc(b->deps, cap * sizeof *n);
      if (!n) return false;
      b->deps = n;
      b->capdeps = cap;
    }
    b->deps[b->ndeps++] = (dl_dep){.off = off};
  } else {
    dl_block_unref(b->deps[i].b);
    if (!ptr) {
      b->deps[i] = b->deps[--b->ndeps];
      return true;
    }
  }
  if (to) atomic_fetch_add(&to->refs, 1);
  b->deps[i] = (dl_dep){.off = off, .b = to, .ptr = ptr, .avail = avail};
  return true;
}

/* A view of plugin memory (a deref of a pointer the plugin stored) lies
   inside its parent's memory: the pointers in it are recorded there. */
static void resolve(dl_block **b, size_t *off) {
  for (;;) {
    dl_block *p = (*b)->parent;
    uintptr_t at = (uintptr_t)(*b)->mem, pm = p ? (uintptr_t)p->mem : 0;
    if (!(*b)->readonly || !p || at < pm || at - pm > p->size || *off > p->size - (at - pm)) return;
    *off += at - pm;
    *b = p;
  }
}

dl_block *dl_block_owner(dl_block *b, size_t off, const uint8_t **ptr, size_t *avail) {
  resolve(&b, &off);
  memcpy(ptr, b->mem + off, sizeof *ptr);
  *avail = SIZE_MAX;
  for (size_t i = 0; i < b->ndeps; i++)
    if (b->deps[i].off == off && b->deps[i].ptr == *ptr) {
      *avail = b->deps[i].avail;
      return b->deps[i].b ? b->deps[i].b : b;
    }
  return b;
}

size_t dl_block_avail(dl_block *b, size_t off, size_t max) {
  const uint8_t *ptr;
  size_t avail;
  dl_block_owner(b, off, &ptr, &avail);
  return avail < max ? avail : max;
}
