/*
 * adv.h - what the adversarial tests share: plugins written inline as WAT,
 * engines with the settings a test needs, a clock, and the check every test
 * ends with: the same engine still loads and runs a good plugin.
 */
#ifndef WP_ADV_H
#define WP_ADV_H

#include <time.h>

#include "helpers.h"

/* Milliseconds on the monotonic clock. */
static inline double adv_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* An engine without disk cache; pooling as given (0: off). */
static inline wp_engine *adv_engine(uint32_t pooling, uint32_t instantiate_timeout_ms) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, pooling);
  wp_engine_config_set_instantiate_timeout_ms(cfg, instantiate_timeout_ms);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

/* Loads WAT text; returns the error (the caller asserts on it) or NULL. */
static inline wp_error *adv_load(wp_engine *e, const char *name, const char *wat,
                                 const wp_manifest *m, wp_plugin **out) {
  *out = NULL;
  return wp_plugin_load_bytes(e, name, wat, strlen(wat), m, out);
}

/* A manifest with a memory limit (bytes) and a timeout (ms); 0 leaves one out. */
static inline wp_manifest *adv_manifest(uint64_t memory, uint32_t timeout_ms) {
  wp_manifest *m = wp_manifest_new();
  if (memory) wp_manifest_set_max_memory(m, memory);
  if (timeout_ms) wp_manifest_set_timeout_ms(m, timeout_ms);
  return m;
}

static const char adv_good_wat[] = "(module (func (export \"add\") (param i32 i32) (result i32)"
                                   " (i32.add (local.get 0) (local.get 1))))";

/* The engine is still good: a fresh plugin loads, instantiates and runs. */
static inline void adv_engine_still_works(wp_engine *e) {
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "good.wat", adv_good_wat, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_val args[2] = {WP_VAL_I32(40), WP_VAL_I32(2)}, r;
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 42);
  wp_instance_free(inst);
  wp_plugin_free(p);
}

/* Calls a numeric export of no arguments returning one i32. */
static inline wp_error *adv_call_i32(wp_instance *inst, const char *name, int32_t *out) {
  wp_val r;
  wp_error *err = wp_instance_call(inst, name, NULL, 0, &r, 1);
  if (!err && out) *out = r.of.i32;
  return err;
}

#endif
