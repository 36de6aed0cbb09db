/*
 * test_util.c - unit tests for src/util/: the growable buffer (wp_buf) and
 * UTF-8 decoding and encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hex.h"
#include "util/utf8.h"

/* ---- wp_buf ----------------------------------------------------------------- */

static void test_buf_add(void **state) {
  (void)state;
  wp_buf b = {0};
  assert_true(wp_buf_add(&b, "", 0));
  assert_non_null(b.data); /* even empty text is a C string */
  assert_string_equal((char *)b.data, "");
  assert_true(wp_buf_puts(&b, "ab"));
  assert_true(wp_buf_putc(&b, 'c'));
  assert_true(wp_buf_add(&b, "d\0e", 3)); /* bytes, NULs included */
  assert_int_equal(b.len, 6);
  assert_memory_equal(b.data, "abcd\0e", 7);
  assert_false(b.oom);
  wp_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
}

static void test_buf_printf(void **state) {
  (void)state;
  wp_buf b = {0};
  assert_true(wp_buf_printf(&b, "%d-%s", 42, "x"));
  assert_string_equal((char *)b.data, "42-x");
  /* longer than the spare capacity: formatted again after growing */
  char big[1000];
  memset(big, 'y', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_true(wp_buf_printf(&b, "[%s]", big));
  assert_int_equal(b.len, 4 + 2 + 999);
  assert_true(b.cap > b.len);
  assert_int_equal(b.data[4], '[');
  assert_int_equal(b.data[b.len - 1], ']');
  assert_int_equal(b.data[b.len], '\0');
  wp_buf_free(&b);
}

/* A buffer filled through wp_buf_reserve (as instances fill theirs: no NUL,
   len == cap) can still be appended to. */
static void test_buf_reserve_then_append(void **state) {
  (void)state;
  wp_buf b = {0};
  assert_true(wp_buf_reserve(&b, 10));
  assert_int_equal(b.cap, 64);
  memset(b.data, 'z', b.cap);
  b.len = b.cap;
  assert_true(wp_buf_printf(&b, "%s", "!"));
  assert_int_equal(b.len, 65);
  assert_int_equal(b.cap, 128);
  assert_int_equal(b.data[64], '!');
  assert_int_equal(b.data[65], '\0');
  assert_true(wp_buf_reserve(&b, 100)); /* already there: nothing moves */
  assert_int_equal(b.cap, 128);
  wp_buf_free(&b);
}

static void test_buf_sticky_oom(void **state) {
  (void)state;
  wp_buf b = {0};
  assert_true(wp_buf_puts(&b, "kept"));
  b.oom = true; /* as after a failed allocation */
  assert_false(wp_buf_puts(&b, "lost"));
  assert_false(wp_buf_printf(&b, "%s", "lost"));
  assert_string_equal((char *)b.data, "kept");
  wp_buf_free(&b);
  assert_false(b.oom);
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The decoder src/component/wave.c had before it used util/utf8: written
   from the code-point ranges rather than from RFC 3629's byte table, so it
   checks wp_utf8_decode from another side. */
static size_t reference_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  if (n == 0) return 0;
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

static void check_same(const uint8_t *s, size_t n) {
  uint32_t a = 0xFFFFFFFF, b = 0xFFFFFFFF;
  size_t ka = wp_utf8_decode(s, n, &a), kb = reference_decode(s, n, &b);
  if (ka != kb || (ka && a != b))
    fail_msg("%02x %02x %02x %02x (n=%zu): got %zu/U+%04X, want %zu/U+%04X", s[0], n > 1 ? s[1] : 0,
             n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n, ka, (unsigned)a, kb, (unsigned)b);
  assert_int_equal(ka, wp_utf8_seq(s, n));
}

/* Every sequence of up to three bytes, and every four-byte one whose last
   byte is a continuation byte or one of a few others. */
static void test_utf8_decode_matches_reference(void **state) {
  (void)state;
  uint8_t s[4];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (uint8_t)a;
    check_same(s, 1);
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (uint8_t)b;
      check_same(s, 2);
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (uint8_t)c;
        check_same(s, 3);
        if (a < 0xF0 || a > 0xF4) continue;
        for (unsigned d = 0x7F; d <= 0xC0; d++) {
          s[3] = (uint8_t)d;
          check_same(s, 4);
        }
      }
    }
  }
}

static void test_utf8_encode_round_trips(void **state) {
  (void)state;
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    uint8_t s[4];
    uint32_t back = 0xFFFFFFFF;
    size_t n = wp_utf8_encode(cp, s);
    assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
    assert_int_equal(wp_utf8_decode(s, n, &back), n);
    assert_int_equal(back, cp);
  }
}

static void test_utf8_first_invalid(void **state) {
  (void)state;
  const uint8_t ok[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
  assert_int_equal(wp_utf8_first_invalid(ok, sizeof ok - 1), sizeof ok - 1);
  assert_true(wp_utf8_valid(ok, sizeof ok - 1));
  const uint8_t cut[] = "ab\xe2\x82";                 /* a sequence cut short */
  assert_int_equal(wp_utf8_first_invalid(cut, 4), 2);
  const uint8_t surrogate[] = "x\xed\xa0\x80";       /* U+D800 */
  assert_int_equal(wp_utf8_first_invalid(surrogate, 4), 1);
  assert_false(wp_utf8_valid(surrogate, 4));
  const uint8_t overlong[] = "\xc0\xaf";
  assert_int_equal(wp_utf8_first_invalid(overlong, 2), 0);
  assert_int_equal(wp_utf8_first_invalid(NULL, 0), 0);
  /* ASCII is skipped eight bytes at a time: a bad byte at every offset of
     long ASCII runs is still found, and a sequence across a word boundary
     is still read whole */
  uint8_t run[40];
  for (size_t bad = 0; bad < sizeof run; bad++) {
    memset(run, 'a', sizeof run);
    run[bad] = 0xFF;
    assert_int_equal(wp_utf8_first_invalid(run, sizeof run), bad);
    if (bad + 1 < sizeof run) {
      run[bad] = 0xC3, run[bad + 1] = 0xA9; /* é */
      assert_true(wp_utf8_valid(run, sizeof run));
    }
  }
}

/* wp_hex and wp_unhex round-trip; wp_unhex takes either case and refuses
   anything else, a short string's NUL included. */
static void test_hex(void **state) {
  (void)state;
  const uint8_t bytes[] = {0x00, 0x7f, 0xab, 0xff};
  char text[9];
  wp_hex(bytes, 4, text);
  assert_string_equal(text, "007fabff");
  uint8_t back[4];
  assert_true(wp_unhex(text, 4, back));
  assert_memory_equal(back, bytes, 4);
  assert_true(wp_unhex("007FABFF", 4, back));
  assert_memory_equal(back, bytes, 4);
  assert_false(wp_unhex("007fabfg", 4, back));
  assert_false(wp_unhex("0x7fabff", 4, back));
  assert_false(wp_unhex("007fab", 4, back)); /* stops at the NUL */
  assert_true(wp_unhex("", 0, back));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hex),
      cmocka_unit_test(test_buf_add),
      cmocka_unit_test(test_buf_printf),
      cmocka_unit_test(test_buf_reserve_then_append),
      cmocka_unit_test(test_buf_sticky_oom),
      cmocka_unit_test(test_utf8_decode_matches_reference),
      cmocka_unit_test(test_utf8_encode_round_trips),
      cmocka_unit_test(test_utf8_first_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
