/*
 * cases_dl.c - the dl capability (src/host/dl/, wasi:dl through libffi):
 * zlib's crc32 over 32 bytes from a component (tests/dl's guest: an alloc
 * holding the bytes, written with write-bytes, then function.call through
 * libffi; the library and function are made once per instance), beside the
 * same crc32 called directly from C in the same run. The difference is the
 * cost of the component call, the alloc and the libffi call.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cases.h"
#include "harness.h"

#define DL_COMPONENT WP_BENCH_PLUGINS "/test-dl-component.wasm"

typedef struct dl_ctx {
  uint8_t data[32];
  uLong want;
  wp_instance *inst;
  wp_func_id crc;
  wp_value *arg;
} dl_ctx;

static volatile uLong sink;

static wp_error *run_c(void *ctx, size_t n) {
  dl_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) sink = crc32(0, c->data, sizeof c->data);
  return NULL;
}

static wp_error *run_component(void *ctx, size_t n) {
  dl_ctx *c = ctx;
  const wp_value *args[1] = {c->arg};
  for (size_t i = 0; i < n; i++) {
    wp_value *r = NULL;
    wp_error *err = wp_instance_invoke_func(c->inst, c->crc, args, 1, &r);
    if (err) return err;
    const wp_value *v = wp_value_get_payload(r);
    bool ok = strcmp(wp_value_get_case(r), "ok") == 0 && wp_value_get_uint(v) == c->want;
    if (!ok) {
      err = wp_error_new(WP_ERR_HOST, "bench: the component's crc32 answered %s",
                         v && wp_value_get_kind(v) == WP_TYPE_STRING ? wp_value_get_string(v, NULL)
                                                                     : "a wrong value");
    }
    wp_value_free(r);
    if (err) return err;
  }
  return NULL;
}

wp_error *bench_dl(bench_env *env) {
  if (access(DL_COMPONENT, R_OK) != 0) {
    fprintf(stderr, "  dl rows skipped: %s was not built\n", DL_COMPONENT);
    return NULL;
  }
  static const char json[] = "{\"name\": \"dl-bench\", \"capabilities\": {\"dl\": {\"libraries\": "
                             "{\"libz.so.1\": {\"symbols\": {\"crc32\": {\"args\": [\"c-ulong\", "
                             "\"pointer\", \"c-uint\"], \"ret\": \"c-ulong\"}}}}}}}";
  dl_ctx c = {0};
  for (size_t i = 0; i < sizeof c.data; i++) c.data[i] = (uint8_t)(i * 37 + 11);
  c.want = crc32(0, c.data, sizeof c.data);
  wp_manifest *m = NULL;
  wp_plugin *p = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (!err) err = wp_plugin_load(env->engine, DL_COMPONENT, m, &p);
  wp_manifest_free(m);
  if (!err) err = wp_instance_new(p, &c.inst);
  if (!err) err = wp_plugin_find_func(p, "crc32", &c.crc);
  if (!err && !(c.arg = wp_value_new_bytes(c.data, sizeof c.data)))
    err = wp_error_new(WP_ERR_NO_MEMORY, "bench: out of memory");
  if (!err) err = run_component(&c, 1); /* opens libz and makes the function, untimed */
  bench_case rows[] = {
      {"dl_crc32_32b_c", "ns/op", 1, bench_batch(200000), bench_reps(7), 1, NULL, run_c, NULL, &c},
      {"dl_crc32_32b_component", "ns/op", 1, bench_batch(5000), bench_reps(7), 1, NULL,
       run_component, NULL, &c},
  };
  if (!err) err = bench_measure_group(rows, COUNT(rows));
  if (!err) bench_judge("dl_crc32_32b_component", "dl_crc32_32b_c", TARGET_NONE, 0);
  wp_value_free(c.arg);
  wp_instance_free(c.inst);
  wp_plugin_free(p);
  return err;
}
