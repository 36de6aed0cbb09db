/*
 * kv_core.c - the core-module guest of test_keyvalue: one export, "kv",
 * that runs one keyvalue operation through pdk/c/wasmplug_kv.h and answers
 * in text the test can compare.
 *
 * Input, fields separated by '\n':  OP BUCKET [KEY [ARG1 [ARG2]]]
 *   get B K | set B K V | delete B K | exists B K | keys B [CURSOR]
 *   incr B K DELTA | cas B K EXPECTED|<absent> NEW | count B K N (N increments of 1)
 * Output: "ok", "ok:VALUE", "none", "err:MESSAGE".
 */
#include <stdlib.h>

#include "wasmplug_kv.h"

#define MAXF 5

static void answer(int st, const char *text, char *err) {
  if (st == WP_KV_ERROR) {
    size_t n = strlen(err ? err : "");
    char *out = malloc(n + 5);
    memcpy(out, "err:", 4);
    memcpy(out + 4, err ? err : "", n + 1);
    wp_output_take(out, n + 4);
  } else if (st == WP_KV_NONE) {
    wp_output_str("none");
  } else if (text) {
    size_t n = strlen(text);
    char *out = malloc(n + 4);
    memcpy(out, "ok:", 3);
    memcpy(out + 3, text, n + 1);
    wp_output_take(out, n + 3);
  } else {
    wp_output_str("ok");
  }
  free(err);
}

static void do_kv(const uint8_t *in, size_t len) {
  char *copy = wp__kv_strndup(in, len);
  char *f[MAXF] = {0};
  size_t n = 0;
  for (char *p = copy, *nl; n < MAXF && p; p = nl ? nl + 1 : NULL) {
    nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    f[n++] = p;
  }
  const char *op = f[0], *b = f[1] ? f[1] : "", *k = f[2] ? f[2] : "";
  char *err = NULL, num[32];
  int st;
  if (strcmp(op, "get") == 0) {
    wp_bytes v = {0};
    st = wp_kv_get(b, k, &v, &err);
    char *text = st == WP_KV_OK ? wp_bytes_to_cstr(v) : NULL;
    answer(st, text, err);
    free(text);
  } else if (strcmp(op, "set") == 0) {
    st = wp_kv_set(b, k, f[3] ? f[3] : "", f[3] ? strlen(f[3]) : 0, &err);
    answer(st, NULL, err);
  } else if (strcmp(op, "delete") == 0) {
    answer(wp_kv_delete(b, k, &err), NULL, err);
  } else if (strcmp(op, "exists") == 0) {
    bool e = false;
    st = wp_kv_exists(b, k, &e, &err);
    answer(st, e ? "1" : "0", err);
  } else if (strcmp(op, "keys") == 0) {
    /* One page: "N|NEXT-CURSOR|KEY,KEY,..." */
    wp_kv_page page;
    st = wp_kv_keys(b, f[2], &page, &err);
    if (st == WP_KV_OK) {
      size_t total = 32;
      for (size_t i = 0; i < page.n; i++) total += strlen(page.keys[i]) + 1;
      char *text = malloc(total);
      int at = snprintf(text, total, "%zu|%s|", page.n, page.cursor ? page.cursor : "");
      for (size_t i = 0; i < page.n; i++)
        at += snprintf(text + at, total - (size_t)at, "%s%s", i ? "," : "", page.keys[i]);
      answer(st, text, err);
      free(text);
    } else {
      answer(st, NULL, err);
    }
    wp_kv_page_free(&page);
  } else if (strcmp(op, "incr") == 0 || strcmp(op, "count") == 0) {
    bool count = op[0] == 'c';
    long long arg = strtoll(f[3] ? f[3] : "0", NULL, 10), times = count ? arg : 1;
    int64_t v = 0;
    st = WP_KV_OK;
    for (long long i = 0; i < times && st == WP_KV_OK; i++)
      st = wp_kv_increment(b, k, count ? 1 : arg, &v, &err);
    snprintf(num, sizeof num, "%lld", (long long)v);
    answer(st, num, err);
  } else if (strcmp(op, "cas") == 0) {
    const char *exp = f[3] ? f[3] : "", *nv = f[4] ? f[4] : "";
    bool absent = strcmp(exp, "<absent>") == 0, swapped = false;
    st = wp_kv_cas(b, k, absent ? NULL : exp, absent ? 0 : strlen(exp), nv, strlen(nv), &swapped,
                   &err);
    answer(st, swapped ? "1" : "0", err);
  } else {
    wp_error("kv: unknown op '%s'", op);
  }
  free(copy);
}
WP_EXPORT_BYTES(kv, do_kv)
