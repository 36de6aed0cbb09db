/*
 * core.c - the keyvalue functions core-module plugins import from module
 * `wasmplug` (bytes ABI, framed as host/common/frame.h says):
 *
 *   kv_get(bucket, key)                    OK value | NONE
 *   kv_set(bucket, key, value)             OK
 *   kv_delete(bucket, key)                 OK (also when there was no key)
 *   kv_exists(bucket, key)                 OK u8 (1: there is one)
 *   kv_keys(bucket[, cursor])              OK next-cursor key...  ("" cursor: no more;
 *                                          no or an empty cursor: the first page)
 *   kv_increment(bucket, key, delta i64)   OK i64 (the new value; 8 bytes, little-endian)
 *   kv_cas(bucket, key, expected, value)   OK u8 (1: swapped, 0: the key held something else)
 *                                          expected: u8 0 (the key must be absent) or
 *                                          u8 1 then the bytes it must hold
 *
 * Any failure the plugin can handle (a bucket not granted, a limit, the
 * backend down) is an ERROR answer with a message; a malformed input fails
 * the plugin's call (WP_ERR_ABI), and so does reaching the call's deadline
 * while the backend waits (WP_ERR_TIMEOUT) or an interrupt
 * (WP_ERR_INTERRUPTED): the plugin could not go on anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/common/frame.h"
#include "host/keyvalue/kv.h"

/* The bucket and key every function starts with (key malloc'd). */
typedef struct args {
  const kv_bucket *b;
  char *key;
  size_t klen;
} args;

/* Reads the bucket field and looks it up. NULL + b set, or an error to
   return as is (ABI), or *refused: the bucket is not granted (answered). */
static wp_error *bucket(kv_cap *kc, wp_host_call *call, wp_frame_in *in, const kv_bucket **b,
                        bool *refused) {
  char *name = NULL;
  wp_error *err = wp_frame_string(in, "the bucket name", &name);
  if (err) return err;
  err = kv_bucket_for(kc, call, name, strlen(name), b);
  free(name);
  *refused = err != NULL;
  return err ? wp_frame_error_from(call, err) : NULL;
}

/* Reads bucket and key. On return with *done set, the call is over (err is
   its outcome). */
static wp_error *start(kv_cap *kc, wp_host_call *call, wp_frame_in *in, args *a, bool *done) {
  *a = (args){0};
  bool refused = false;
  wp_error *err = bucket(kc, call, in, &a->b, &refused);
  *done = err || refused;
  if (*done) return err;
  err = wp_frame_string(in, "the key", &a->key);
  if (err) {
    *done = true;
    return err;
  }
  a->klen = strlen(a->key);
  return NULL;
}

/* Answers OK with the fields already put, or ERROR with err; an err that
   ends the call (its deadline, an interrupt) fails it instead. */
static wp_error *answer(wp_host_call *call, wp_error *err, wp_frame_out *out) {
  if (err) {
    free(out->data);
    return kv_ends_call(err) ? err : wp_frame_error_from(call, err);
  }
  return wp_frame_send(call, out);
}

static wp_error *kv_get(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_get", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  if ((err = wp_frame_end(&in))) {
    free(a.key);
    return err;
  }
  bool found = false;
  kv_bytes v = {0};
  err = kv_op_get(a.b, call, a.key, a.klen, &found, &v);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  if (!err && !found) {
    free(out.data);
    return wp_frame_none(call);
  }
  if (!err) wp_frame_put(&out, v.data, v.len);
  free(v.data);
  return answer(call, err, &out);
}

static wp_error *kv_set(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_set", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  const uint8_t *v = NULL;
  size_t vlen = 0;
  err = wp_frame_field(&in, "the value", &v, &vlen);
  if (!err) err = wp_frame_end(&in);
  if (err) {
    free(a.key);
    return err;
  }
  err = kv_op_set(a.b, call, a.key, a.klen, v, vlen);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  return answer(call, err, &out);
}

static wp_error *kv_delete(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_delete", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  if ((err = wp_frame_end(&in))) {
    free(a.key);
    return err;
  }
  err = kv_op_delete(a.b, call, a.key, a.klen);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  return answer(call, err, &out);
}

static wp_error *kv_exists(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_exists", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  if ((err = wp_frame_end(&in))) {
    free(a.key);
    return err;
  }
  bool found = false;
  err = kv_op_exists(a.b, call, a.key, a.klen, &found);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  uint8_t flag = found;
  wp_frame_put(&out, &flag, 1);
  return answer(call, err, &out);
}

static wp_error *kv_keys_fn(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_keys", input, len);
  const kv_bucket *b = NULL;
  bool refused = false;
  wp_error *err = bucket(ud, call, &in, &b, &refused);
  if (err || refused) return err;
  uint64_t cursor = 0;
  if (in.left) {
    const uint8_t *c;
    size_t clen;
    if ((err = wp_frame_field(&in, "the cursor", &c, &clen))) return err;
    if (clen && !kv_parse_cursor((const char *)c, clen, &cursor))
      return wp_frame_error(call,
                            "keyvalue bucket '%s': the cursor is not one kv_keys returned "
                            "(decimal digits)",
                            b->name);
  }
  if ((err = wp_frame_end(&in))) return err;
  kv_keys k;
  err = kv_op_keys(b, call, cursor, &k);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  if (!err) {
    char next[24] = "";
    int n = k.next ? snprintf(next, sizeof next, "%llu", (unsigned long long)k.next) : 0;
    wp_frame_put(&out, next, (size_t)n);
    for (size_t i = 0; i < k.n; i++) wp_frame_put(&out, k.keys[i], strlen(k.keys[i]));
    kv_keys_free(&k);
  }
  return answer(call, err, &out);
}

static wp_error *kv_increment(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_increment", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  uint64_t delta = 0;
  err = wp_frame_u64(&in, "the delta", &delta);
  if (!err) err = wp_frame_end(&in);
  if (err) {
    free(a.key);
    return err;
  }
  int64_t v = 0;
  err = kv_op_increment(a.b, call, a.key, a.klen, (int64_t)delta, &v);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put_u64(&out, (uint64_t)v);
  return answer(call, err, &out);
}

static wp_error *kv_cas(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  wp_frame_in in = wp_frame_in_new("kv_cas", input, len);
  args a;
  bool done;
  wp_error *err = start(ud, call, &in, &a, &done);
  if (done) return err;
  const uint8_t *exp = NULL, *v = NULL;
  size_t elen = 0, vlen = 0;
  err = wp_frame_field(&in, "the expected value", &exp, &elen);
  if (!err && (elen == 0 || exp[0] > 1 || (exp[0] == 0 && elen != 1)))
    err = wp_error_new(WP_ERR_ABI,
                       "wasmplug.kv_cas: the expected value must be the byte 0 (absent) or the "
                       "byte 1 followed by the value");
  if (!err) err = wp_frame_field(&in, "the new value", &v, &vlen);
  if (!err) err = wp_frame_end(&in);
  if (err) {
    free(a.key);
    return err;
  }
  kv_bytes expected = {(uint8_t *)exp + 1, elen - 1};
  bool swapped = false;
  err = kv_op_cas(a.b, call, a.key, a.klen, exp[0] ? &expected : NULL, v, vlen, &swapped);
  free(a.key);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  uint8_t flag = swapped;
  wp_frame_put(&out, &flag, 1);
  return answer(call, err, &out);
}

wp_error *kv_define_core(wp_engine *e, kv_cap *kc) {
  static const struct {
    const char *name;
    wp_host_bytes_fn fn;
  } fns[] = {
      {"kv_get", kv_get},       {"kv_set", kv_set},      {"kv_delete", kv_delete},
      {"kv_exists", kv_exists}, {"kv_keys", kv_keys_fn}, {"kv_increment", kv_increment},
      {"kv_cas", kv_cas},
  };
  wp_error *err = NULL;
  for (size_t i = 0; !err && i < sizeof fns / sizeof *fns; i++)
    err = wp_engine_define_bytes(e, "wasmplug", fns[i].name, fns[i].fn, kc, NULL);
  return err;
}
