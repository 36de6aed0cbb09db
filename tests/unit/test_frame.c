/*
 * test_frame.c - the framing of the capabilities' core-module functions
 * (src/host/common/frame.h): fields in, checked against the input's end,
 * UTF-8 text and u64s; outputs with a status byte and fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/common/frame.h"

/* Appends a field to buf at *n. */
static void field(uint8_t *buf, size_t *n, const void *data, uint32_t len) {
  buf[(*n)++] = (uint8_t)len, buf[(*n)++] = (uint8_t)(len >> 8);
  buf[(*n)++] = (uint8_t)(len >> 16), buf[(*n)++] = (uint8_t)(len >> 24);
  memcpy(buf + *n, data, len);
  *n += len;
}

static void assert_abi_error(wp_error *err, const char *needle) {
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_ABI);
  if (!strstr(wp_error_get_message(err), needle)) fail_msg("%s", wp_error_get_message(err));
  wp_error_free(err);
}

static void test_fields(void **state) {
  (void)state;
  uint8_t buf[128];
  size_t n = 0;
  field(buf, &n, "bucket", 6);
  field(buf, &n, "", 0);
  uint8_t eight[8] = {0x2a, 0, 0, 0, 0, 0, 0, 0x80};
  field(buf, &n, eight, 8);
  wp_frame_in in = wp_frame_in_new("kv_get", buf, n);
  char *s = NULL;
  assert_null(wp_frame_string(&in, "the bucket", &s));
  assert_string_equal(s, "bucket");
  free(s);
  const uint8_t *d;
  size_t len = 99;
  assert_null(wp_frame_field(&in, "the key", &d, &len));
  assert_int_equal(len, 0);
  uint64_t v = 0;
  assert_null(wp_frame_u64(&in, "the delta", &v));
  assert_true(v == 0x800000000000002aull);
  assert_null(wp_frame_end(&in));
  /* Past the end: named. */
  assert_abi_error(wp_frame_field(&in, "the value", &d, &len),
                   "wasmplug.kv_get: the input ends before the value");
}

static void test_bad_inputs(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n = 0;
  /* A length that runs past the end. */
  field(buf, &n, "abc", 3);
  buf[0] = 200;
  wp_frame_in in = wp_frame_in_new("kv_set", buf, n);
  const uint8_t *d;
  size_t len;
  assert_abi_error(wp_frame_field(&in, "the key", &d, &len),
                   "the key is 200 bytes but only 3 follow");
  /* A length near 2^32 cannot wrap the check. */
  buf[0] = buf[1] = buf[2] = buf[3] = 0xff;
  in = wp_frame_in_new("kv_set", buf, n);
  assert_abi_error(wp_frame_field(&in, "the key", &d, &len), "4294967295 bytes");
  /* Text: not UTF-8, an overlong form, a surrogate, a NUL. */
  const char *bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "a\0b"};
  const uint32_t lens[] = {1, 2, 3, 3};
  for (int i = 0; i < 4; i++) {
    n = 0;
    field(buf, &n, bad[i], lens[i]);
    in = wp_frame_in_new("kv_get", buf, n);
    char *s = NULL;
    assert_abi_error(wp_frame_string(&in, "the key", &s), "the key is not UTF-8");
    assert_null(s);
  }
  /* A u64 of the wrong size; bytes after the last field. */
  n = 0;
  field(buf, &n, "1234", 4);
  field(buf, &n, "x", 1);
  in = wp_frame_in_new("kv_increment", buf, n);
  uint64_t v;
  assert_abi_error(wp_frame_u64(&in, "the delta", &v), "the delta must be 8 bytes, got 4");
  assert_abi_error(wp_frame_end(&in), "5 bytes follow the last field");
  /* Short of a length word. */
  in = wp_frame_in_new("kv_get", buf, 3);
  assert_abi_error(wp_frame_field(&in, "the bucket", &d, &len), "ends before the bucket");
}

static void test_output(void **state) {
  (void)state;
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, "value", 5);
  wp_frame_put_u64(&out, 7);
  assert_false(out.no_memory);
  assert_int_equal(out.len, 1 + 4 + 5 + 4 + 8);
  assert_int_equal(out.data[0], WP_FRAME_OK);
  /* What the plugin gets reads back with the input side. */
  wp_frame_in in = wp_frame_in_new("t", out.data + 1, out.len - 1);
  const uint8_t *d;
  size_t len;
  assert_null(wp_frame_field(&in, "a", &d, &len));
  assert_memory_equal(d, "value", 5);
  uint64_t v;
  assert_null(wp_frame_u64(&in, "b", &v));
  assert_true(v == 7);
  assert_null(wp_frame_end(&in));
  /* Big enough to grow the buffer several times. */
  static uint8_t big[100000];
  memset(big, 'z', sizeof big);
  wp_frame_put(&out, big, sizeof big);
  assert_false(out.no_memory);
  assert_int_equal(out.len, 1 + 4 + 5 + 4 + 8 + 4 + sizeof big);
  assert_int_equal(out.data[out.len - 1], 'z');
  free(out.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_output),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
