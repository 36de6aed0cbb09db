/*
 * wasmplug_kv.h - keyvalue buckets for C plugins (core modules): the host's
 * kv_* functions of module "wasmplug" (src/host/keyvalue/core.c), with
 * their framing done for you. Include after (or instead of) wasmplug_pdk.h:
 *
 *   #include "wasmplug_kv.h"
 *
 *   char *err = NULL;
 *   int64_t hits;
 *   if (wp_kv_increment("cache", "hits", 1, &hits, &err) != WP_KV_OK) {
 *     wp_error("keyvalue: %s", err);
 *     free(err);
 *   }
 *
 * Every function returns WP_KV_OK, WP_KV_NONE (kv_get: no such key) or
 * WP_KV_ERROR; on WP_KV_ERROR `*err` (when `err` is not NULL) gets the
 * host's message, malloc'd (free it), e.g. that the bucket is not granted:
 * buckets are granted in the manifest under capabilities.keyvalue.buckets.
 * A malformed call (a key that is not UTF-8 or holds a NUL) fails the
 * plugin's whole call instead.
 */
#ifndef WASMPLUG_KV_H
#define WASMPLUG_KV_H

#include <stdbool.h>

#include "wasmplug_pdk.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WP_KV_OK = 0, WP_KV_NONE = 1, WP_KV_ERROR = 2 };

WP_IMPORT_BYTES("wasmplug", "kv_get", wp__kv_get)
WP_IMPORT_BYTES("wasmplug", "kv_set", wp__kv_set)
WP_IMPORT_BYTES("wasmplug", "kv_delete", wp__kv_delete)
WP_IMPORT_BYTES("wasmplug", "kv_exists", wp__kv_exists)
WP_IMPORT_BYTES("wasmplug", "kv_keys", wp__kv_keys)
WP_IMPORT_BYTES("wasmplug", "kv_increment", wp__kv_increment)
WP_IMPORT_BYTES("wasmplug", "kv_cas", wp__kv_cas)

/* ---- framing (internal): fields of u32-LE length + bytes ------------------- */

typedef struct {
  uint8_t *data;
  size_t len, cap;
} wp__kv_frame;

static inline void wp__kv_put(wp__kv_frame *f, const void *data, size_t len) {
  size_t need = f->len + 4 + len;
  if (need > f->cap) {
    size_t cap = f->cap ? f->cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *d = (uint8_t *)realloc(f->data, cap);
    if (!d) __builtin_trap();
    f->data = d;
    f->cap = cap;
  }
  uint8_t *p = f->data + f->len;
  p[0] = (uint8_t)len, p[1] = (uint8_t)(len >> 8), p[2] = (uint8_t)(len >> 16),
  p[3] = (uint8_t)(len >> 24);
  if (len) memcpy(p + 4, data, len);
  f->len = need;
}

static inline void wp__kv_put_str(wp__kv_frame *f, const char *s) { wp__kv_put(f, s, strlen(s)); }

/* Reads the next field of an answer; false when there is none. */
static inline bool wp__kv_field(const uint8_t **at, size_t *left, const uint8_t **data,
                                size_t *len) {
  if (*left < 4) return false;
  const uint8_t *p = *at;
  size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
  if (n > *left - 4) return false;
  *data = p + 4;
  *len = n;
  *at += 4 + n;
  *left -= 4 + n;
  return true;
}

static inline char *wp__kv_strndup(const void *s, size_t n) {
  char *d = (char *)malloc(n + 1);
  if (!d) __builtin_trap();
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* Calls fn with the frame (freed) and returns the answer's status; on ERROR
   the message goes to *err. The answer is left in *out (free out->ptr). */
static inline int wp__kv_call(wp_bytes (*fn)(const void *, size_t), wp__kv_frame *f, wp_bytes *out,
                              char **err) {
  *out = fn(f->data, f->len);
  free(f->data);
  if (out->len == 0) return WP_KV_ERROR;
  int status = out->ptr[0];
  if (status == WP_KV_ERROR && err) *err = wp__kv_strndup(out->ptr + 1, out->len - 1);
  return status;
}

/* The first field of an OK answer (empty when it has none). */
static inline void wp__kv_first(const wp_bytes *b, const uint8_t **data, size_t *len) {
  const uint8_t *at = b->ptr + 1;
  size_t left = b->len - 1;
  if (!wp__kv_field(&at, &left, data, len)) *len = 0;
}

/* ---- the API ----------------------------------------------------------------- */

/** The value of `key` in `bucket` into `*value` (free value->ptr); WP_KV_NONE if there is none. */
static inline int wp_kv_get(const char *bucket, const char *key, wp_bytes *value, char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_get, &f, &r, err);
  if (st == WP_KV_OK) {
    const uint8_t *d;
    size_t n;
    wp__kv_first(&r, &d, &n);
    value->ptr = (uint8_t *)malloc(n ? n : 1);
    if (!value->ptr) __builtin_trap();
    if (n) memcpy(value->ptr, d, n);
    value->len = n;
  }
  free(r.ptr);
  return st;
}

/** Stores `len` bytes at `value` under `key`. */
static inline int wp_kv_set(const char *bucket, const char *key, const void *value, size_t len,
                            char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  wp__kv_put(&f, value, len);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_set, &f, &r, err);
  free(r.ptr);
  return st;
}

/** Deletes `key` (WP_KV_OK also when there was none). */
static inline int wp_kv_delete(const char *bucket, const char *key, char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_delete, &f, &r, err);
  free(r.ptr);
  return st;
}

/** Whether `key` exists, into `*exists`. */
static inline int wp_kv_exists(const char *bucket, const char *key, bool *exists, char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_exists, &f, &r, err);
  if (st == WP_KV_OK) {
    const uint8_t *d;
    size_t n;
    wp__kv_first(&r, &d, &n);
    *exists = n == 1 && d[0] == 1;
  }
  free(r.ptr);
  return st;
}

/** A page of keys: `keys[0..n)` and the cursor of the next page (NULL: no more). */
typedef struct {
  char **keys;
  size_t n;
  char *cursor;
} wp_kv_page;

static inline void wp_kv_page_free(wp_kv_page *p) {
  for (size_t i = 0; i < p->n; i++) free(p->keys[i]);
  free(p->keys);
  free(p->cursor);
  p->keys = NULL;
  p->n = 0;
  p->cursor = NULL;
}

/** A page of the bucket's keys from `cursor` (NULL: the first page) into `*page`. */
static inline int wp_kv_keys(const char *bucket, const char *cursor, wp_kv_page *page,
                             char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  if (cursor) wp__kv_put_str(&f, cursor);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_keys, &f, &r, err);
  page->keys = NULL;
  page->n = 0;
  page->cursor = NULL;
  if (st == WP_KV_OK) {
    const uint8_t *at = r.ptr + 1, *d;
    size_t left = r.len - 1, n;
    if (wp__kv_field(&at, &left, &d, &n) && n) page->cursor = wp__kv_strndup(d, n);
    size_t cap = 0;
    while (wp__kv_field(&at, &left, &d, &n)) {
      if (page->n == cap) {
        cap = cap ? cap * 2 : 16;
        char **k = (char **)realloc(page->keys, cap * sizeof *k);
        if (!k) __builtin_trap();
        page->keys = k;
      }
      page->keys[page->n++] = wp__kv_strndup(d, n);
    }
  }
  free(r.ptr);
  return st;
}

/** Adds `delta` to the integer at `key` (absent: 0); the new value into `*value`. */
static inline int wp_kv_increment(const char *bucket, const char *key, int64_t delta,
                                  int64_t *value, char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  uint8_t d8[8];
  for (int i = 0; i < 8; i++) d8[i] = (uint8_t)((uint64_t)delta >> (8 * i));
  wp__kv_put(&f, d8, 8);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_increment, &f, &r, err);
  if (st == WP_KV_OK) {
    const uint8_t *d;
    size_t n;
    wp__kv_first(&r, &d, &n);
    uint64_t v = 0;
    for (int i = 7; i >= 0 && n == 8; i--) v = v << 8 | d[i];
    *value = (int64_t)v;
  }
  free(r.ptr);
  return st;
}

/**
 * Compare-and-swap: stores `value` at `key` only if the key holds the
 * `expected_len` bytes at `expected` (expected NULL: only if it is absent).
 * `*swapped` says whether it did.
 */
static inline int wp_kv_cas(const char *bucket, const char *key, const void *expected,
                            size_t expected_len, const void *value, size_t len, bool *swapped,
                            char **err) {
  wp__kv_frame f = {0};
  wp__kv_put_str(&f, bucket);
  wp__kv_put_str(&f, key);
  uint8_t *e = (uint8_t *)malloc(1 + (expected ? expected_len : 0));
  if (!e) __builtin_trap();
  e[0] = expected != NULL;
  if (expected && expected_len) memcpy(e + 1, expected, expected_len);
  wp__kv_put(&f, e, 1 + (expected ? expected_len : 0));
  free(e);
  wp__kv_put(&f, value, len);
  wp_bytes r;
  int st = wp__kv_call(wp__kv_cas, &f, &r, err);
  if (st == WP_KV_OK) {
    const uint8_t *d;
    size_t n;
    wp__kv_first(&r, &d, &n);
    *swapped = n == 1 && d[0] == 1;
  }
  free(r.ptr);
  return st;
}

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_KV_H */
