/*
 * kv_component.c - the component guest of test_keyvalue, on wasi:keyvalue
 * (0.2.0-draft2; built with -DKV_DRAFT for 0.2.0-draft, which has a u64
 * cursor and increment and no compare-and-swap). Its export kv(command)
 * runs the little language of kv_core.c, with a fresh bucket handle per
 * command:
 *
 *   get|set|delete|exists|keys|incr|count|cas as in kv_core.c, and
 *   casrace B K NEW OTHER   cas on K, then OTHER is set behind its back, then
 *                           swap (must fail) and swap again with the new cas
 *   getmany B K1,K2,..      "ok:K1=V1,K2=<none>,.."
 *   setmany B K1=V1,K2=V2   deletemany B K1,K2
 *
 * Errors answer "err:no-such-store", "err:access-denied" or "err:other:MSG".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtest.h"

#define MAXF 5

typedef wasi_keyvalue_store_error_t kv_error;
typedef wasi_keyvalue_store_borrow_bucket_t bucket;

static char out[65536];

static kvtest_string_t str(const char *s) { return (kvtest_string_t){(uint8_t *)s, strlen(s)}; }

static kvtest_list_u8_t bytes(const char *s) { return (kvtest_list_u8_t){(uint8_t *)s, strlen(s)}; }

static void say_error(kv_error *e) {
  if (e->tag == WASI_KEYVALUE_STORE_ERROR_NO_SUCH_STORE)
    snprintf(out, sizeof out, "err:no-such-store");
  else if (e->tag == WASI_KEYVALUE_STORE_ERROR_ACCESS_DENIED)
    snprintf(out, sizeof out, "err:access-denied");
  else
    snprintf(out, sizeof out, "err:other:%.*s", (int)e->val.other.len,
             (const char *)e->val.other.ptr);
  wasi_keyvalue_store_error_free(e);
}

static void say_value(const kvtest_option_list_u8_t *v) {
  if (v->is_some) snprintf(out, sizeof out, "ok:%.*s", (int)v->val.len, (const char *)v->val.ptr);
  else snprintf(out, sizeof out, "none");
}

/* Splits "a,b,c" in place. */
static size_t split(char *s, char sep, char **items, size_t max) {
  size_t n = 0;
  for (char *p = s, *c; p && *p && n < max; p = c ? c + 1 : NULL) {
    c = strchr(p, sep);
    if (c) *c = '\0';
    items[n++] = p;
  }
  return n;
}

static void run(bucket b, char **f) {
  const char *op = f[0], *k = f[2] ? f[2] : "";
  kv_error e;
  kvtest_string_t key = str(k);
  if (strcmp(op, "get") == 0) {
    kvtest_option_list_u8_t v;
    if (!wasi_keyvalue_store_method_bucket_get(b, &key, &v, &e)) return say_error(&e);
    say_value(&v);
    kvtest_option_list_u8_free(&v);
  } else if (strcmp(op, "set") == 0) {
    kvtest_list_u8_t v = bytes(f[3] ? f[3] : "");
    if (!wasi_keyvalue_store_method_bucket_set(b, &key, &v, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok");
  } else if (strcmp(op, "delete") == 0) {
    if (!wasi_keyvalue_store_method_bucket_delete(b, &key, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok");
  } else if (strcmp(op, "exists") == 0) {
    bool x;
    if (!wasi_keyvalue_store_method_bucket_exists(b, &key, &x, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok:%d", x);
  } else if (strcmp(op, "keys") == 0) {
    wasi_keyvalue_store_key_response_t r;
#ifdef KV_DRAFT
    uint64_t cur = f[2] ? strtoull(f[2], NULL, 10) : 0;
    if (!wasi_keyvalue_store_method_bucket_list_keys(b, f[2] ? &cur : NULL, &r, &e))
      return say_error(&e);
    char cursor[32] = "";
    if (r.cursor.is_some) snprintf(cursor, sizeof cursor, "%llu", (unsigned long long)r.cursor.val);
#else
    kvtest_string_t cur = str(k);
    if (!wasi_keyvalue_store_method_bucket_list_keys(b, f[2] ? &cur : NULL, &r, &e))
      return say_error(&e);
    char cursor[32] = "";
    if (r.cursor.is_some)
      snprintf(cursor, sizeof cursor, "%.*s", (int)r.cursor.val.len,
               (const char *)r.cursor.val.ptr);
#endif
    int at = snprintf(out, sizeof out, "ok:%zu|%s|", r.keys.len, cursor);
    for (size_t i = 0; i < r.keys.len && at < (int)sizeof out; i++)
      at += snprintf(out + at, sizeof out - (size_t)at, "%s%.*s", i ? "," : "",
                     (int)r.keys.ptr[i].len, (const char *)r.keys.ptr[i].ptr);
    wasi_keyvalue_store_key_response_free(&r);
  } else if (strcmp(op, "incr") == 0 || strcmp(op, "count") == 0) {
    bool count = op[0] == 'c';
    long long arg = strtoll(f[3] ? f[3] : "0", NULL, 10), times = count ? arg : 1;
#ifdef KV_DRAFT
    uint64_t v = 0;
    for (long long i = 0; i < times; i++)
      if (!wasi_keyvalue_atomics_increment(b, &key, (uint64_t)(count ? 1 : arg), &v, &e))
        return say_error(&e);
    snprintf(out, sizeof out, "ok:%llu", (unsigned long long)v);
#else
    int64_t v = 0;
    for (long long i = 0; i < times; i++)
      if (!wasi_keyvalue_atomics_increment(b, &key, count ? 1 : arg, &v, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok:%lld", (long long)v);
#endif
  } else if (strcmp(op, "getmany") == 0) {
    char *names[64];
    kvtest_string_t keys[64];
    size_t n = split(f[2] ? f[2] : "", ',', names, 64);
    for (size_t i = 0; i < n; i++) keys[i] = str(names[i]);
    kvtest_list_string_t list = {keys, n};
    kvtest_list_option_tuple2_string_list_u8_t r;
    if (!wasi_keyvalue_batch_get_many(b, &list, &r, &e)) return say_error(&e);
    int at = snprintf(out, sizeof out, "ok:");
    for (size_t i = 0; i < r.len; i++) {
      kvtest_option_tuple2_string_list_u8_t *o = &r.ptr[i];
      if (o->is_some)
        at += snprintf(out + at, sizeof out - (size_t)at, "%s%.*s=%.*s", i ? "," : "",
                       (int)o->val.f0.len, (const char *)o->val.f0.ptr, (int)o->val.f1.len,
                       (const char *)o->val.f1.ptr);
      else at += snprintf(out + at, sizeof out - (size_t)at, "%s%s=<none>", i ? "," : "", names[i]);
    }
    kvtest_list_option_tuple2_string_list_u8_free(&r);
  } else if (strcmp(op, "setmany") == 0) {
    char *pairs[64];
    kvtest_tuple2_string_list_u8_t kvs[64];
    size_t n = split(f[2] ? f[2] : "", ',', pairs, 64);
    for (size_t i = 0; i < n; i++) {
      char *eq = strchr(pairs[i], '=');
      if (eq) *eq = '\0';
      kvs[i] = (kvtest_tuple2_string_list_u8_t){str(pairs[i]), bytes(eq ? eq + 1 : "")};
    }
    kvtest_list_tuple2_string_list_u8_t list = {kvs, n};
    if (!wasi_keyvalue_batch_set_many(b, &list, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok");
  } else if (strcmp(op, "deletemany") == 0) {
    char *names[64];
    kvtest_string_t keys[64];
    size_t n = split(f[2] ? f[2] : "", ',', names, 64);
    for (size_t i = 0; i < n; i++) keys[i] = str(names[i]);
    kvtest_list_string_t list = {keys, n};
    if (!wasi_keyvalue_batch_delete_many(b, &list, &e)) return say_error(&e);
    snprintf(out, sizeof out, "ok");
#ifndef KV_DRAFT
  } else if (strcmp(op, "cas") == 0) {
    const char *exp = f[3] ? f[3] : "";
    kvtest_list_u8_t nv = bytes(f[4] ? f[4] : "");
    wasi_keyvalue_atomics_own_cas_t c;
    if (!wasi_keyvalue_atomics_static_cas_new(b, &key, &c, &e)) return say_error(&e);
    kvtest_option_list_u8_t cur;
    if (!wasi_keyvalue_atomics_method_cas_current(wasi_keyvalue_atomics_borrow_cas(c), &cur, &e)) {
      wasi_keyvalue_atomics_cas_drop_own(c);
      return say_error(&e);
    }
    bool match = strcmp(exp, "<absent>") == 0 ? !cur.is_some
                                              : cur.is_some && cur.val.len == strlen(exp) &&
                                                    memcmp(cur.val.ptr, exp, cur.val.len) == 0;
    kvtest_option_list_u8_free(&cur);
    if (!match) {
      wasi_keyvalue_atomics_cas_drop_own(c);
      snprintf(out, sizeof out, "ok:0");
      return;
    }
    wasi_keyvalue_atomics_cas_error_t ce;
    if (wasi_keyvalue_atomics_swap(c, &nv, &ce)) {
      snprintf(out, sizeof out, "ok:1");
    } else if (ce.tag == WASI_KEYVALUE_ATOMICS_CAS_ERROR_CAS_FAILED) {
      wasi_keyvalue_atomics_cas_drop_own(ce.val.cas_failed);
      snprintf(out, sizeof out, "ok:0");
    } else {
      say_error(&ce.val.store_error);
    }
  } else if (strcmp(op, "casrace") == 0) {
    kvtest_list_u8_t nv = bytes(f[3] ? f[3] : ""), other = bytes(f[4] ? f[4] : "");
    wasi_keyvalue_atomics_own_cas_t c;
    if (!wasi_keyvalue_atomics_static_cas_new(b, &key, &c, &e)) return say_error(&e);
    if (!wasi_keyvalue_store_method_bucket_set(b, &key, &other, &e)) {
      wasi_keyvalue_atomics_cas_drop_own(c);
      return say_error(&e);
    }
    wasi_keyvalue_atomics_cas_error_t ce;
    if (wasi_keyvalue_atomics_swap(c, &nv, &ce)) {
      snprintf(out, sizeof out, "err:the first swap went through");
      return;
    }
    if (ce.tag != WASI_KEYVALUE_ATOMICS_CAS_ERROR_CAS_FAILED) return say_error(&ce.val.store_error);
    /* The new cas saw OTHER: swapping with it works. */
    kvtest_option_list_u8_t cur;
    wasi_keyvalue_atomics_own_cas_t c2 = ce.val.cas_failed;
    if (!wasi_keyvalue_atomics_method_cas_current(wasi_keyvalue_atomics_borrow_cas(c2), &cur, &e)) {
      wasi_keyvalue_atomics_cas_drop_own(c2);
      return say_error(&e);
    }
    char seen[256];
    snprintf(seen, sizeof seen, "%.*s", cur.is_some ? (int)cur.val.len : 6,
             cur.is_some ? (const char *)cur.val.ptr : "<none>");
    kvtest_option_list_u8_free(&cur);
    if (!wasi_keyvalue_atomics_swap(c2, &nv, &ce)) {
      if (ce.tag == WASI_KEYVALUE_ATOMICS_CAS_ERROR_CAS_FAILED) {
        wasi_keyvalue_atomics_cas_drop_own(ce.val.cas_failed);
        snprintf(out, sizeof out, "err:the second swap failed too");
        return;
      }
      return say_error(&ce.val.store_error);
    }
    snprintf(out, sizeof out, "ok:cas-failed, saw %s, swapped", seen);
#endif
  } else {
    snprintf(out, sizeof out, "err:unknown op '%s'", op);
  }
}

void exports_kvtest_kv(kvtest_string_t *command, kvtest_string_t *ret) {
  char *copy = malloc(command->len + 1);
  memcpy(copy, command->ptr, command->len);
  copy[command->len] = '\0';
  kvtest_string_free(command);
  char *f[MAXF] = {0};
  split(copy, '\n', f, MAXF);
  if (!f[0]) f[0] = "";
  kvtest_string_t name = str(f[1] ? f[1] : "");
  wasi_keyvalue_store_own_bucket_t own;
  kv_error e;
  if (wasi_keyvalue_store_open(&name, &own, &e)) {
    run(wasi_keyvalue_store_borrow_bucket(own), f);
    wasi_keyvalue_store_bucket_drop_own(own);
  } else {
    say_error(&e);
  }
  free(copy);
  kvtest_string_dup(ret, out);
}
