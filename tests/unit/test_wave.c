/*
 * test_wave.c - unit tests for src/component/wave.c: reading WAVE text into
 * wp_value trees (type-directed) and writing them back, for every kind of
 * WIT type, and the error messages with their columns and caret lines.
 *
 * The WIT types are built by hand as static struct wp_type trees (their
 * Wasmtime `raw` type left zeroed, never freed), so no plugin or engine is
 * needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/value.h"

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

#define KIDS(...) ((struct wp_type *[]){__VA_ARGS__})
#define NAMES(...) ((char *[]){__VA_ARGS__})

static struct wp_type t_bool = {.kind = WP_TYPE_BOOL};
static struct wp_type t_s8 = {.kind = WP_TYPE_S8};
static struct wp_type t_u8 = {.kind = WP_TYPE_U8};
static struct wp_type t_s16 = {.kind = WP_TYPE_S16};
static struct wp_type t_u16 = {.kind = WP_TYPE_U16};
static struct wp_type t_s32 = {.kind = WP_TYPE_S32};
static struct wp_type t_u32 = {.kind = WP_TYPE_U32};
static struct wp_type t_s64 = {.kind = WP_TYPE_S64};
static struct wp_type t_u64 = {.kind = WP_TYPE_U64};
static struct wp_type t_f32 = {.kind = WP_TYPE_F32};
static struct wp_type t_f64 = {.kind = WP_TYPE_F64};
static struct wp_type t_char = {.kind = WP_TYPE_CHAR};
static struct wp_type t_string = {.kind = WP_TYPE_STRING};

/* With a WIT spelling, which messages use instead of the kind name. */
static struct wp_type t_list_u8 = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_u8), .text = "list<u8>"};
static struct wp_type t_list_string = {.kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_string)};

static struct wp_type t_tuple = {.kind = WP_TYPE_TUPLE, .n = 2, .children = KIDS(&t_u8, &t_string)};

static struct wp_type t_point = {
    .kind = WP_TYPE_RECORD, .n = 2, .children = KIDS(&t_s32, &t_s32), .names = NAMES("x", "y")};

static struct wp_type t_option_u8 = {.kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_u8)};
static struct wp_type t_option_string = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_string)};
static struct wp_type t_option_option = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_option_u8)};

static struct wp_type t_person = {.kind = WP_TYPE_RECORD,
                                  .n = 3,
                                  .children = KIDS(&t_string, &t_option_u8, &t_option_string),
                                  .names = NAMES("name", "age", "nick-name")};

static struct wp_type t_all_optional = {
    .kind = WP_TYPE_RECORD, .n = 1, .children = KIDS(&t_option_u8), .names = NAMES("a")};

static struct wp_type t_empty_record = {.kind = WP_TYPE_RECORD};

static struct wp_type t_response = {.kind = WP_TYPE_VARIANT,
                                    .n = 3,
                                    .children = KIDS(NULL, &t_list_u8, &t_string),
                                    .names = NAMES("empty", "body", "err")};

static struct wp_type t_status = {
    .kind = WP_TYPE_ENUM, .n = 2, .children = KIDS(NULL, NULL), .names = NAMES("ok", "not-found")};

static struct wp_type t_option_status = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_status)};

static struct wp_type t_result = {.kind = WP_TYPE_RESULT,
                                  .n = 2,
                                  .children = KIDS(&t_u8, &t_string),
                                  .names = NAMES("ok", "err")};
static struct wp_type t_result_no_ok = {
    .kind = WP_TYPE_RESULT, .n = 2, .children = KIDS(NULL, &t_string), .names = NAMES("ok", "err")};
static struct wp_type t_result_bare = {
    .kind = WP_TYPE_RESULT, .n = 2, .children = KIDS(NULL, NULL), .names = NAMES("ok", "err")};
static struct wp_type t_result_option = {.kind = WP_TYPE_RESULT,
                                         .n = 2,
                                         .children = KIDS(&t_option_u8, &t_string),
                                         .names = NAMES("ok", "err")};

static struct wp_type t_perms = {.kind = WP_TYPE_FLAGS,
                                 .n = 3,
                                 .children = KIDS(NULL, NULL, NULL),
                                 .names = NAMES("read", "write", "exec")};

/* list<option<result<point, string>>> */
static struct wp_type t_result_point = {.kind = WP_TYPE_RESULT,
                                        .n = 2,
                                        .children = KIDS(&t_point, &t_string),
                                        .names = NAMES("ok", "err")};
static struct wp_type t_option_result_point = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_result_point)};
static struct wp_type t_nested = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_option_result_point)};

static struct wp_type t_own = {.kind = WP_TYPE_OWN, .text = "own<blob>"};
static struct wp_type t_borrow = {.kind = WP_TYPE_BORROW};
static struct wp_type t_future = {.kind = WP_TYPE_FUTURE};
static struct wp_type t_map = {.kind = WP_TYPE_MAP, .n = 2, .children = KIDS(&t_string, &t_u8)};
static struct wp_type t_list_own = {.kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_own)};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static wp_value *parse_at(int line, const wp_type *t, const char *text) {
  wp_value *v = NULL;
  wp_error *err = wp_value_from_wave(t, text, &v);
  if (err) fail_msg("line %d: parsing '%s' failed:\n%s", line, text, wp_error_get_message(err));
  assert_non_null(v);
  return v;
}

/* Reads `in`, which must print as `want`; `want` must read back as the same
   value and print the same again. */
static void wave_at(int line, const wp_type *t, const char *in, const char *want) {
  wp_value *v = parse_at(line, t, in);
  char *s = wp_value_to_wave(v);
  assert_non_null(s);
  if (strcmp(s, want) != 0)
    fail_msg("line %d: '%s' printed as '%s', expected '%s'", line, in, s, want);
  wp_value *v2 = parse_at(line, t, s);
  if (!wp_value_equal(v, v2)) fail_msg("line %d: '%s' read back as another value", line, s);
  char *s2 = wp_value_to_wave(v2);
  assert_string_equal(s2, want);
  wp_free(s);
  wp_free(s2);
  wp_value_free(v);
  wp_value_free(v2);
}

/*
 * Reads `in`, which must fail with WP_ERR_BAD_INPUT at `column` with a
 * message holding `needle`, leaving *out alone. For one-line inputs also
 * checks the excerpt: the input itself (tabs as spaces) and a caret under
 * the column.
 */
static void error_at(int line, const wp_type *t, const char *in, int column, const char *needle) {
  wp_value *sentinel = (wp_value *)&sentinel, *v = sentinel;
  wp_error *err = wp_value_from_wave(t, in, &v);
  if (!err) fail_msg("line %d: '%s' was read without an error", line, in);
  const char *msg = wp_error_get_message(err);
  if (v != sentinel) fail_msg("line %d: *out was changed on failure", line);
  if (wp_error_get_kind(err) != WP_ERR_BAD_INPUT)
    fail_msg("line %d: kind %d for '%s': %s", line, wp_error_get_kind(err), in, msg);
  if (!strstr(msg, needle)) fail_msg("line %d: message lacks \"%s\":\n%s", line, needle, msg);
  char col[48];
  snprintf(col, sizeof col, "column %d: ", column);
  if (!strstr(msg, col)) fail_msg("line %d: message lacks \"%s\":\n%s", line, col, msg);

  if (!strchr(in, '\n') && strlen(in) <= 60) {
    const char *nl = strchr(msg, '\n');
    assert_non_null(nl);
    const char *caret = strchr(nl + 1, '\n');
    assert_non_null(caret);
    size_t n = (size_t)(caret - nl - 1);
    char *shown = calloc(1, n + 1);
    assert_non_null(shown);
    memcpy(shown, nl + 1, n);
    char *want = calloc(1, strlen(in) + 3);
    assert_non_null(want);
    snprintf(want, strlen(in) + 3, "  %s", in);
    for (char *c = want; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7F) *c = ' ';
    /* Bytes that are not UTF-8 show as '?': only compare inputs without. */
    if (!strstr(needle, "UTF-8")) assert_string_equal(shown, want);
    free(shown);
    free(want);
    caret++;
    for (int i = 0; i < column + 1; i++)
      if (caret[i] != ' ') fail_msg("line %d: caret line '%s' for column %d", line, caret, column);
    if (caret[column + 1] != '^' || caret[column + 2] != '\0')
      fail_msg("line %d: caret line '%s' for column %d", line, caret, column);
  }
  wp_error_free(err);
}

/* Prints a value built with the constructors (taken and freed). */
static void print_at(int line, wp_value *v, const char *want) {
  assert_non_null(v);
  char *s = wp_value_to_wave(v);
  assert_non_null(s);
  if (strcmp(s, want) != 0) fail_msg("line %d: printed '%s', expected '%s'", line, s, want);
  wp_free(s);
  wp_value_free(v);
}

#define PARSE(t, in) parse_at(__LINE__, t, in)
#define WAVE(t, in, want) wave_at(__LINE__, t, in, want)
#define SAME(t, in) wave_at(__LINE__, t, in, in)
#define ERROR(t, in, col, needle) error_at(__LINE__, t, in, col, needle)
#define PRINTS(v, want) print_at(__LINE__, v, want)

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

static void test_bool(void **state) {
  (void)state;
  SAME(&t_bool, "true");
  SAME(&t_bool, "false");
  WAVE(&t_bool, "  true  ", "true");
  ERROR(&t_bool, "1", 1, "expected bool, got \"1\"");
  ERROR(&t_bool, "%true", 1, "expected bool, got \"%true\"");
  ERROR(&t_bool, "True", 1, "expected bool, got \"True\"");
}

static void test_integer_bounds(void **state) {
  (void)state;
  SAME(&t_u8, "0");
  SAME(&t_u8, "255");
  SAME(&t_s8, "-128");
  SAME(&t_s8, "127");
  SAME(&t_s16, "-32768");
  SAME(&t_s16, "32767");
  SAME(&t_u16, "65535");
  SAME(&t_s32, "-2147483648");
  SAME(&t_s32, "2147483647");
  SAME(&t_u32, "4294967295");
  SAME(&t_s64, "-9223372036854775808");
  SAME(&t_s64, "9223372036854775807");
  SAME(&t_u64, "18446744073709551615");
  WAVE(&t_s32, "-0", "0");

  wp_value *v = PARSE(&t_s64, "-9223372036854775808");
  assert_int_equal(wp_value_get_kind(v), WP_TYPE_S64);
  assert_true(wp_value_get_int(v) == INT64_MIN);
  wp_value_free(v);
  v = PARSE(&t_u64, "18446744073709551615");
  assert_true(wp_value_get_uint(v) == UINT64_MAX);
  wp_value_free(v);
  v = PARSE(&t_s8, "-128");
  assert_int_equal(wp_value_get_kind(v), WP_TYPE_S8);
  assert_int_equal(wp_value_get_int(v), -128);
  wp_value_free(v);

  PRINTS(wp_value_new_s64(INT64_MIN), "-9223372036854775808");
  PRINTS(wp_value_new_u64(UINT64_MAX), "18446744073709551615");
  PRINTS(wp_value_new_s8(-5), "-5");
  PRINTS(wp_value_new_u16(65535), "65535");
}

static void test_integer_errors(void **state) {
  (void)state;
  ERROR(&t_u8, "256", 1, "expected u8, got \"256\" (out of range)");
  ERROR(&t_s8, "-129", 1, "expected s8, got \"-129\" (out of range)");
  ERROR(&t_s8, "128", 1, "(out of range)");
  ERROR(&t_u16, "65536", 1, "(out of range)");
  ERROR(&t_s32, "2147483648", 1, "(out of range)");
  ERROR(&t_u32, "4294967296", 1, "(out of range)");
  ERROR(&t_u32, "-1", 1, "expected u32, got \"-1\" (out of range)");
  ERROR(&t_u64, "18446744073709551616", 1,
        "expected u64, got \"18446744073709551616\" (out of range)");
  ERROR(&t_u64, "99999999999999999999999", 1, "(out of range)");
  ERROR(&t_s64, "9223372036854775808", 1, "(out of range)");
  ERROR(&t_s64, "-9223372036854775809", 1, "(out of range)");
  ERROR(&t_s32, "1.5", 1, "expected s32, got \"1.5\" (not an integer)");
  ERROR(&t_s32, "1e3", 1, "(not an integer)");
  ERROR(&t_u8, "007", 1, "leading zeros");
  ERROR(&t_u8, "nan", 1, "expected u8, got \"nan\"");
  ERROR(&t_u8, "-inf", 1, "expected u8, got \"-inf\"");
  ERROR(&t_u8, "\"1\"", 1, "expected u8, got string \"1\"");
  ERROR(&t_u8, "-", 2, "expected a digit after '-'");
  ERROR(&t_u8, "+1", 1, "unexpected character '+'");
  ERROR(&t_u8, "0x10", 2, "unexpected \"x10\" after the value");
  /* No sign at all on unsigned types, as in Rust's parser (wasm-wave). */
  ERROR(&t_u8, "-0", 1, "expected u8, got \"-0\" (an unsigned integer has no sign, not even -0)");
  ERROR(&t_u16, "-0", 1, "(an unsigned integer has no sign");
  ERROR(&t_u32, "-0", 1, "(an unsigned integer has no sign");
  ERROR(&t_u64, "-0", 1, "(an unsigned integer has no sign");
  ERROR(&t_u64, "-0.0", 1, "(not an integer)");
}

static void test_floats(void **state) {
  (void)state;
  SAME(&t_f64, "1.5");
  WAVE(&t_f64, "2.0", "2");
  SAME(&t_f64, "2");
  SAME(&t_f64, "-0");
  SAME(&t_f64, "0");
  SAME(&t_f64, "0.1");
  SAME(&t_f64, "3.14");
  SAME(&t_f64, "0.30000000000000004");
  WAVE(&t_f64, "-2.5E3", "-2500");
  WAVE(&t_f64, "6.022e+23", "6.022e23");
  SAME(&t_f64, "100000000000000000000");
  WAVE(&t_f64, "1e21", "1e21");
  WAVE(&t_f64, "1.5e-8", "1.5e-8");
  WAVE(&t_f64, "1e-7", "0.0000001");
  WAVE(&t_f64, "0.00012", "0.00012");
  SAME(&t_f64, "5e-324");
  SAME(&t_f64, "1.7976931348623157e308");
  WAVE(&t_f64, "1e-400", "0");
  WAVE(&t_f64, "0.5e1", "5");
  SAME(&t_f64, "nan");
  SAME(&t_f64, "inf");
  SAME(&t_f64, "-inf");

  SAME(&t_f32, "0.1");
  SAME(&t_f32, "0.33333334");
  SAME(&t_f32, "3.4028235e38");
  WAVE(&t_f32, "16777217", "16777216");
  WAVE(&t_f32, "1e-46", "0");
  SAME(&t_f32, "1e-45");
  SAME(&t_f32, "-inf");
  SAME(&t_f32, "nan");

  wp_value *v = PARSE(&t_f64, "-0");
  assert_true(signbit(wp_value_get_f64(v)));
  wp_value_free(v);
  v = PARSE(&t_f64, "nan");
  assert_true(isnan(wp_value_get_f64(v)));
  wp_value_free(v);
  v = PARSE(&t_f32, "-inf");
  assert_int_equal(wp_value_get_kind(v), WP_TYPE_F32);
  assert_true(isinf(wp_value_get_f32(v)) && wp_value_get_f32(v) < 0);
  wp_value_free(v);

  PRINTS(wp_value_new_f64(1.0 / 3), "0.3333333333333333");
  PRINTS(wp_value_new_f32(1.0f / 3), "0.33333334");
  PRINTS(wp_value_new_f64(100), "100");
  PRINTS(wp_value_new_f64(123456.789), "123456.789");
  PRINTS(wp_value_new_f64(-NAN), "nan");
  PRINTS(wp_value_new_f32(-0.0f), "-0");
  PRINTS(wp_value_new_f64(1e300), "1e300");
}

/*
 * Floats print as Rust prints them: the shortest digits that read back,
 * the closest of those, a tie rounded up. These are the cases "%.17g"-style
 * printing gets wrong (values checked against Rust's Display / {:e}).
 */
static void test_float_shortest(void **state) {
  (void)state;
  /* Powers of two, whose interval is narrower below: the closest 16-digit
     candidate is outside it, the one above is inside. */
  PRINTS(wp_value_new_f64(0x1p-44), "5.684341886080802e-14");
  PRINTS(wp_value_new_f64(0x1p89), "6.189700196426902e26");
  PRINTS(wp_value_new_f32(0x1p-96f), "1.2621775e-29");
  PRINTS(wp_value_new_f64(0x1p-24), "5.960464477539063e-8");
  /* Exact halfway between the two shortest candidates: up, not to even. */
  PRINTS(wp_value_new_f64(0x1p-25), "2.9802322387695313e-8");
  PRINTS(wp_value_new_f64(1125899906842624.25), "1125899906842624.3");
  PRINTS(wp_value_new_f64(1125899906842625.25), "1125899906842625.3");
  PRINTS(wp_value_new_f32(0x1p-12f), "0.00024414063");
  /* The extremes. */
  PRINTS(wp_value_new_f64(0x1p-1074), "5e-324");
  PRINTS(wp_value_new_f64(0x1.fffffffffffffp+1023), "1.7976931348623157e308");
  PRINTS(wp_value_new_f64(0x1p-1022), "2.2250738585072014e-308");
  PRINTS(wp_value_new_f32(0x1p-149f), "1e-45");
  PRINTS(wp_value_new_f32(0x1.fffffep+127f), "3.4028235e38");
  PRINTS(wp_value_new_f32(0x1p-126f), "1.1754944e-38");
  /* And the everyday ones stay short. */
  PRINTS(wp_value_new_f64(0.1 + 0.2), "0.30000000000000004");
  PRINTS(wp_value_new_f32(0.1f), "0.1");
  PRINTS(wp_value_new_f64(9007199254740993.0), "9007199254740992");
}

static void test_float_errors(void **state) {
  (void)state;
  ERROR(&t_f64, "1e309", 1, "expected f64, got \"1e309\" (out of range)");
  ERROR(&t_f64, "-1e309", 1, "(out of range)");
  ERROR(&t_f32, "1e39", 1, "expected f32, got \"1e39\" (out of range)");
  ERROR(&t_f64, "1.", 3, "expected a digit after '.'");
  ERROR(&t_f64, ".5", 1, "unexpected character '.'");
  ERROR(&t_f64, "1e", 3, "expected a digit in the exponent");
  ERROR(&t_f64, "abc", 1, "expected f64, got \"abc\"");
  ERROR(&t_f64, "-infinity", 2, "expected a digit after '-'");
  ERROR(&t_f64, "Infinity", 1, "expected f64, got \"Infinity\"");
  ERROR(&t_f64, "NaN", 1, "expected f64, got \"NaN\"");
}

/* Random bit patterns print as text that reads back to the same bits. */
static void test_float_round_trips(void **state) {
  (void)state;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
    double d;
    float f;
    uint32_t x32 = (uint32_t)(x >> 32);
    memcpy(&d, &x, sizeof d);
    memcpy(&f, &x32, sizeof f);
    if (isnan(d)) d = 1.0;
    if (isnan(f)) f = 1.0f;
    wp_value *vd = wp_value_new_f64(d), *vf = wp_value_new_f32(f);
    char *sd = wp_value_to_wave(vd), *sf = wp_value_to_wave(vf);
    wp_value *rd = PARSE(&t_f64, sd), *rf = PARSE(&t_f32, sf);
    if (!wp_value_equal(vd, rd)) fail_msg("f64 %a printed as %s", d, sd);
    if (!wp_value_equal(vf, rf)) fail_msg("f32 %a printed as %s", (double)f, sf);
    wp_free(sd);
    wp_free(sf);
    wp_value_free(vd);
    wp_value_free(vf);
    wp_value_free(rd);
    wp_value_free(rf);
  }
}

static void test_chars(void **state) {
  (void)state;
  SAME(&t_char, "'x'");
  WAVE(&t_char, "'\\u{1F600}'", "'\xF0\x9F\x98\x80'");
  SAME(&t_char, "'\xE2\x98\x83'");
  SAME(&t_char, "'\\''");
  WAVE(&t_char, "'\"'", "'\\\"'"); /* escaped as wasm-wave does */
  SAME(&t_char, "'\\n'");
  SAME(&t_char, "'\\t'");
  SAME(&t_char, "'\\r'");
  SAME(&t_char, "'\\\\'");
  SAME(&t_char, "'\\u{0}'");
  SAME(&t_char, "'\\u{7f}'");
  WAVE(&t_char, "'\\u{41}'", "'A'");
  WAVE(&t_char, "'\\u{10FFFF}'", "'\\u{10ffff}'"); /* a non-character */
  WAVE(&t_char, "'\\u{00041}'", "'A'");

  wp_value *v = PARSE(&t_char, "'\\u{1F600}'");
  assert_int_equal(wp_value_get_char(v), 0x1F600);
  wp_value_free(v);

  PRINTS(wp_value_new_char(0xD800), "'\\u{d800}'");
  PRINTS(wp_value_new_char(0x110000), "'\\u{110000}'");
  PRINTS(wp_value_new_char(0x1B), "'\\u{1b}'");
  PRINTS(wp_value_new_char(0x85), "'\\u{85}'");
}

/* Invisible, combining and unassigned characters are escaped, as Rust's
   escape_debug (so wasm-wave) escapes them; printable ones are not. */
static void test_char_escapes(void **state) {
  (void)state;
  WAVE(&t_char, "'\xCC\x81'", "'\\u{301}'");         /* combining acute accent */
  WAVE(&t_char, "'\xE2\x80\x8B'", "'\\u{200b}'");    /* zero width space */
  WAVE(&t_char, "'\xC2\xA0'", "'\\u{a0}'");           /* no-break space */
  WAVE(&t_char, "'\xC2\xAD'", "'\\u{ad}'");           /* soft hyphen */
  WAVE(&t_char, "'\xEF\xBB\xBF'", "'\\u{feff}'");    /* byte order mark */
  WAVE(&t_char, "'\xEF\xB8\x8F'", "'\\u{fe0f}'");    /* variation selector */
  WAVE(&t_char, "'\\u{378}'", "'\\u{378}'");          /* unassigned */
  WAVE(&t_char, "'\\u{E000}'", "'\\u{e000}'");        /* private use */
  WAVE(&t_char, "'\\u{E0041}'", "'\\u{e0041}'");      /* tag letter A */
  WAVE(&t_char, "'\\u{2028}'", "'\\u{2028}'");        /* line separator */
  SAME(&t_char, "' '");
  SAME(&t_char, "'\xC3\xA9'");                          /* printable: é */
  SAME(&t_char, "'\xE4\xB8\xAD'");                     /* 中 */
  SAME(&t_char, "'\xF0\x9F\x91\x8B'");                /* an emoji */
  WAVE(&t_string, "\"e\xCC\x81\xE2\x80\x8Dx\"", "\"e\\u{301}\\u{200d}x\"");
}

static void test_char_errors(void **state) {
  (void)state;
  ERROR(&t_char, "'ab'", 3, "a char holds one character");
  ERROR(&t_char, "''", 1, "empty char literal");
  ERROR(&t_char, "'\\u{D800}'", 2, "invalid char \\u{D800}: a surrogate");
  ERROR(&t_char, "'\\u{DFFF}'", 2, "a surrogate");
  ERROR(&t_char, "'\\u{110000}'", 2, "invalid char \\u{110000}: beyond U+10FFFF");
  ERROR(&t_char, "'\\q'", 2, "invalid escape '\\q'");
  ERROR(&t_char, "'\\u{1234567}'", 2, "1 to 6 hex digits");
  ERROR(&t_char, "'\\u{}'", 2, "1 to 6 hex digits");
  ERROR(&t_char, "'\\u41'", 2, "1 to 6 hex digits");
  ERROR(&t_char, "'\\u{4G}'", 2, "1 to 6 hex digits");
  ERROR(&t_char, "'x", 1, "unterminated char");
  ERROR(&t_char, "\"x\"", 1, "expected char, got string \"x\"");
  ERROR(&t_char, "x", 1, "expected char, got \"x\"");
}

static void test_strings(void **state) {
  (void)state;
  SAME(&t_string, "\"abc\\t123\"");
  SAME(&t_string, "\"\"");
  WAVE(&t_string, "\"caf\xC3\xA9 \\u{1F44B}\"", "\"caf\xC3\xA9 \xF0\x9F\x91\x8B\"");
  WAVE(&t_string, "\"it's\"", "\"it\\'s\"");
  SAME(&t_string, "\"a\\\"b\"");
  SAME(&t_string, "\"back\\\\slash\"");
  WAVE(&t_string, "\"a\tb\"", "\"a\\tb\"");
  SAME(&t_string, "\"\\u{0}\\u{1b}\\u{9f}\"");
  WAVE(&t_string, "\"// not a comment\" // a comment", "\"// not a comment\"");

  size_t len;
  wp_value *v = PARSE(&t_string, "\"a\\u{0}b\\u{10FFFF}\"");
  const char *s = wp_value_get_string(v, &len);
  assert_int_equal(len, 7);
  assert_memory_equal(s, "a\0b\xF4\x8F\xBF\xBF", 7);
  wp_value_free(v);

  /* Bytes that are not UTF-8 cannot be written: they print as U+FFFD. */
  PRINTS(wp_value_new_string_n("a\xFFz", 3), "\"a\xEF\xBF\xBDz\"");
  PRINTS(wp_value_new_string("line\nbreak"), "\"line\\nbreak\"");
}

static void test_string_errors(void **state) {
  (void)state;
  ERROR(&t_string, "\"abc", 1, "unterminated string");
  ERROR(&t_string, "\"abc\\\"", 1, "unterminated string");
  ERROR(&t_string, "\"ab\ncd\"", 4, "unterminated string (a line break in it must be written \\n)");
  ERROR(&t_string, "\"a\\xb\"", 3, "invalid escape '\\x'");
  ERROR(&t_string, "\"a\\\xC3\xA9\"", 3, "invalid escape '\\\xC3\xA9'");
  ERROR(&t_string, "\"\\u{DFFF}\"", 2, "a surrogate");
  ERROR(&t_string, "\"ab\xFF\"", 4, "the input is not valid UTF-8");
  ERROR(&t_string, "\"\xC3\xA9\xC3\"", 3, "not valid UTF-8");
  ERROR(&t_string, "\"\xED\xA0\x80\"", 2, "not valid UTF-8"); /* an encoded surrogate */
  ERROR(&t_string, "\"\xC0\xAF\"", 2, "not valid UTF-8");     /* overlong */
  ERROR(&t_string, "abc", 1, "expected string, got \"abc\"");
  ERROR(&t_string, "'a'", 1, "expected string, got char 'a'");
}

static void test_multiline_strings(void **state) {
  (void)state;
  size_t len;
  struct {
    const char *in, *want;
  } cases[] = {
      {"\"\"\"\nA single line\n\"\"\"", "A single line"},
      {"\"\"\"\n    Indentation determined\n      by ending delimiter\n  \"\"\"",
       "  Indentation determined\n    by ending delimiter"},
      {"\"\"\"\r\n  a\r\n  b\r\n  \"\"\"", "a\nb"},
      {"\"\"\"\n  tab\\there \"quoted\" \"\"\\\"\n  \"\"\"", "tab\there \"quoted\" \"\"\""},
      {"\"\"\"\n  a\n\n  b\n  \"\"\"", "a\n\nb"},
      {"\"\"\"\n\"\"\"", ""},
      {"\"\"\"\n  \\r\n  \"\"\"", "\r"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wp_value *v = PARSE(&t_string, cases[i].in);
    const char *s = wp_value_get_string(v, &len);
    if (strcmp(s, cases[i].want) != 0 || len != strlen(cases[i].want))
      fail_msg("multiline %zu read as \"%s\"", i, s);
    wp_value_free(v);
  }
  WAVE(&t_string, "\"\"\"\n  two\n  lines\n  \"\"\"", "\"two\\nlines\"");
  WAVE(&t_list_string, "[\"\"\"\n  a\n  \"\"\", \"b\"]", "[\"a\", \"b\"]");

  ERROR(&t_string, "\"\"\"abc\n\"\"\"", 4, "line break right after the opening \"\"\"");
  ERROR(&t_string, "\"\"\"\"\"\"", 4, "line break right after the opening \"\"\"");
  ERROR(&t_string, "\"\"\"\n  abc\"\"\"", 6, "the closing \"\"\" must be on its own line");
  ERROR(&t_string, "\"\"\"\n abc\n  \"\"\"", 2, "indented less than the closing \"\"\"");
  ERROR(&t_string, "\"\"\"\nabc", 1, "unterminated multiline string");
  ERROR(&t_string, "\"\"\"\n  \\q\n  \"\"\"", 3, "invalid escape '\\q'");
  ERROR(&t_u8, "\"\"\"\n  a\n  \"\"\"", 1, "expected u8, got a multiline string");
}

/* ------------------------------------------------------------------------ */
/* Compound values                                                          */
/* ------------------------------------------------------------------------ */

static void test_lists(void **state) {
  (void)state;
  SAME(&t_list_u8, "[1, 2, 3]");
  SAME(&t_list_u8, "[]");
  WAVE(&t_list_u8, "[1,2,3,]", "[1, 2, 3]");
  WAVE(&t_list_u8, " [ 1 , 2 ] ", "[1, 2]");
  WAVE(&t_list_u8, "[ ]", "[]");
  SAME(&t_list_string, "[\"a\", \"b, c\"]");

  ERROR(&t_list_u8, "[1 2]", 4, "expected ',' or ']', got \"2\"");
  ERROR(&t_list_u8, "[1,", 4, "expected u8, got end of input");
  ERROR(&t_list_u8, "[", 2, "expected u8, got end of input");
  ERROR(&t_list_u8, "[1", 3, "expected ',' or ']', got end of input");
  ERROR(&t_list_u8, "[,]", 2, "expected u8, got \",\"");
  ERROR(&t_list_u8, "[1,,]", 4, "expected u8, got \",\"");
  ERROR(&t_list_u8, "1", 1, "expected list<u8>, got \"1\"");
  ERROR(&t_list_u8, "(1)", 1, "expected list<u8>, got \"(\"");
}

static void test_tuples(void **state) {
  (void)state;
  SAME(&t_tuple, "(123, \"abc\")");
  WAVE(&t_tuple, "(1, \"a\",)", "(1, \"a\")");
  ERROR(&t_tuple, "(1)", 3, "expected 2 elements in the tuple, got 1");
  ERROR(&t_tuple, "()", 2, "expected 2 elements in the tuple, got 0");
  ERROR(&t_tuple, "(1, \"a\", 2)", 10, "too many elements: the tuple has 2");
  ERROR(&t_tuple, "(\"a\", 1)", 2, "expected u8, got string \"a\"");
  ERROR(&t_tuple, "[1, \"a\"]", 1, "expected tuple, got \"[\"");
}

static void test_records(void **state) {
  (void)state;
  SAME(&t_point, "{x: 1, y: -2}");
  WAVE(&t_point, "{y: 2, x: 1}", "{x: 1, y: 2}");
  WAVE(&t_point, "{%x: 1, y: 2,}", "{x: 1, y: 2}");
  WAVE(&t_point, "{ x : 1 , y : 2 }", "{x: 1, y: 2}");
  WAVE(&t_person, "{name: \"Ann\"}", "{name: \"Ann\", age: none, nick-name: none}");
  WAVE(&t_person, "{age: 7, name: \"Bo\"}", "{name: \"Bo\", age: some(7), nick-name: none}");
  SAME(&t_person, "{name: \"Cy\", age: some(1), nick-name: some(\"c\")}");
  WAVE(&t_all_optional, "{:}", "{a: none}");
  WAVE(&t_all_optional, "{}", "{a: none}");
  SAME(&t_empty_record, "{:}");

  wp_value *v = PARSE(&t_person, "{name: \"Ann\", age: 30}");
  assert_int_equal(wp_value_get_count(v), 3);
  assert_string_equal(wp_value_get_name(v, 2), "nick-name");
  assert_int_equal(wp_value_get_uint(wp_value_get_payload(wp_value_get_field(v, "age"))), 30);
  wp_value_free(v);

  const char *names[] = {"x", "y"};
  wp_value *fields[] = {wp_value_new_s32(3), wp_value_new_s32(-4)};
  PRINTS(wp_value_new_record(names, fields, 2), "{x: 3, y: -4}");
  PRINTS(wp_value_new_record(names, NULL, 0), "{:}");
}

static void test_record_errors(void **state) {
  (void)state;
  ERROR(&t_point, "{x: 1}", 6, "missing field \"y\"");
  ERROR(&t_point, "{}", 2, "missing fields \"x\", \"y\"");
  ERROR(&t_point, "{:}", 3, "missing fields \"x\", \"y\"");
  ERROR(&t_person, "{age: 1}", 8, "missing field \"name\"");
  ERROR(&t_point, "{x: 1, z: 2}", 8, "unknown field \"z\" (the record has: x, y)");
  ERROR(&t_point, "{x: 1, x: 2}", 8, "duplicate field \"x\"");
  ERROR(&t_point, "{x: 1, %x: 2}", 8, "duplicate field \"x\"");
  ERROR(&t_point, "{x 1}", 4, "expected ':' after the field name, got \"1\"");
  ERROR(&t_point, "{x: 1 y: 2}", 7, "expected ',' or '}', got \"y\"");
  ERROR(&t_point, "{1: 2}", 2, "expected a field name, got \"1\"");
  ERROR(&t_point, "{x: 1, y: 2", 12, "expected ',' or '}', got end of input");
  ERROR(&t_point, "{:,}", 3, "expected '}' after '{:', got \",\"");
  ERROR(&t_person, "{name: \"a\", age: 300}", 18, "expected u8, got \"300\" (out of range)");
  ERROR(&t_point, "(1, 2)", 1, "expected record, got \"(\"");
  ERROR(&t_point, "{x: 1, y: true}", 11, "expected s32, got \"true\"");
  ERROR(&t_point, "{x: 1, y: 2}}", 13, "unexpected \"}\" after the value");
}

static void test_variants(void **state) {
  (void)state;
  SAME(&t_response, "empty");
  SAME(&t_response, "body([79, 75])");
  SAME(&t_response, "%err(\"oops\")");
  WAVE(&t_response, "err(\"oops\")", "%err(\"oops\")"); /* the % may be left out here */
  WAVE(&t_response, "%empty", "empty");
  WAVE(&t_response, "body ( [ ] )", "body([])");

  wp_value *v = PARSE(&t_response, "body([1])");
  assert_string_equal(wp_value_get_case(v), "body");
  assert_int_equal(wp_value_get_count(wp_value_get_payload(v)), 1);
  wp_value_free(v);

  PRINTS(wp_value_new_variant("none", NULL), "%none");
  PRINTS(wp_value_new_variant("days", wp_value_new_u32(30)), "days(30)");

  ERROR(&t_response, "nope", 1,
        "unknown case \"nope\" of variant (the cases are: empty, body, err)");
  ERROR(&t_response, "empty(1)", 6, "case \"empty\" has no payload");
  ERROR(&t_response, "body", 5, "case \"body\" needs a payload: body(...)");
  ERROR(&t_response, "body([1]", 9, "expected ')' after the payload, got end of input");
  ERROR(&t_response, "body([1] x", 10, "expected ')' after the payload, got \"x\"");
  ERROR(&t_response, "\"x\"", 1, "expected variant, got string \"x\"");
  ERROR(&t_response, "body(\"x\")", 6, "expected list<u8>, got string \"x\"");
  ERROR(&t_response, "%", 2, "expected a label after '%'");
}

static void test_enums(void **state) {
  (void)state;
  SAME(&t_status, "%ok");
  SAME(&t_status, "not-found");
  WAVE(&t_status, "ok", "%ok");

  wp_value *v = PARSE(&t_status, "not-found");
  assert_int_equal(wp_value_get_kind(v), WP_TYPE_ENUM);
  assert_string_equal(wp_value_get_case(v), "not-found");
  wp_value_free(v);
  PRINTS(wp_value_new_enum("west"), "west");
  PRINTS(wp_value_new_enum("inf"), "%inf");

  ERROR(&t_status, "found", 1, "unknown case \"found\" of enum (the cases are: ok, not-found)");
  ERROR(&t_status, "not-found(1)", 10, "unexpected \"(\" after the value");
  ERROR(&t_status, "1", 1, "expected enum, got \"1\"");
}

static void test_options(void **state) {
  (void)state;
  SAME(&t_option_u8, "some(5)");
  SAME(&t_option_u8, "none");
  WAVE(&t_option_u8, "5", "some(5)"); /* the flat form */
  SAME(&t_option_option, "some(none)");
  SAME(&t_option_option, "some(some(1))");
  SAME(&t_option_option, "none");
  WAVE(&t_option_status, "%ok", "some(%ok)");
  SAME(&t_option_status, "none");
  WAVE(&t_option_string, "\"hi\"", "some(\"hi\")");

  wp_value *v = PARSE(&t_option_u8, "none");
  assert_string_equal(wp_value_get_case(v), "none");
  assert_null(wp_value_get_payload(v));
  wp_value_free(v);

  ERROR(&t_option_option, "5", 1, "expected option, got \"5\" (some(...) or none)");
  ERROR(&t_option_u8, "some", 5, "case \"some\" needs a payload: some(...)");
  ERROR(&t_option_u8, "none(1)", 5, "case \"none\" has no payload");
  ERROR(&t_option_u8, "some(300)", 6, "expected u8, got \"300\" (out of range)");
  ERROR(&t_option_u8, "%some(1)", 1, "expected u8, got \"%some\"");
  ERROR(&t_option_u8, "null", 1, "expected u8, got \"null\"");
}

static void test_results(void **state) {
  (void)state;
  SAME(&t_result, "ok(1)");
  SAME(&t_result, "err(\"bad\")");
  WAVE(&t_result, "7", "ok(7)"); /* the flat form */
  SAME(&t_result_no_ok, "ok");
  SAME(&t_result_no_ok, "err(\"x\")");
  SAME(&t_result_bare, "ok");
  SAME(&t_result_bare, "err");
  SAME(&t_result_option, "ok(none)");
  SAME(&t_result_option, "ok(some(2))");

  wp_value *v = PARSE(&t_result, "err(\"e\")");
  assert_string_equal(wp_value_get_case(v), "err");
  assert_string_equal(wp_value_get_string(wp_value_get_payload(v), NULL), "e");
  wp_value_free(v);

  ERROR(&t_result_no_ok, "ok(1)", 3, "case \"ok\" has no payload");
  ERROR(&t_result_no_ok, "\"x\"", 1, "expected result, got string \"x\" (ok or err)");
  ERROR(&t_result_bare, "err(1)", 4, "case \"err\" has no payload");
  ERROR(&t_result, "err", 4, "case \"err\" needs a payload: err(...)");
  ERROR(&t_result_option, "none", 1, "expected result, got \"none\" (ok or err)");
  ERROR(&t_result, "ok(\"x\")", 4, "expected u8, got string \"x\"");
}

static void test_flags(void **state) {
  (void)state;
  SAME(&t_perms, "{read, write}");
  WAVE(&t_perms, "{write, read,}", "{read, write}"); /* the type's order */
  SAME(&t_perms, "{}");
  WAVE(&t_perms, "{%exec}", "{exec}");
  SAME(&t_perms, "{read, write, exec}");

  wp_value *v = PARSE(&t_perms, "{exec, read}");
  assert_int_equal(wp_value_get_count(v), 2);
  assert_true(wp_value_has_flag(v, "exec"));
  assert_false(wp_value_has_flag(v, "write"));
  wp_value_free(v);
  const char *names[] = {"b", "a"};
  PRINTS(wp_value_new_flags(names, 2), "{b, a}");
  PRINTS(wp_value_new_flags(NULL, 0), "{}");

  ERROR(&t_perms, "{read, delete}", 8,
        "unknown flag \"delete\" (the flags are: read, write, exec)");
  ERROR(&t_perms, "{read, read}", 8, "duplicate flag \"read\"");
  ERROR(&t_perms, "{read: true}", 6, "expected ',' or '}', got \":\"");
  ERROR(&t_perms, "{:}", 2, "expected flags, got \":\"");
  ERROR(&t_perms, "{1}", 2, "expected flags, got \"1\"");
  ERROR(&t_perms, "read", 1, "expected flags, got \"read\"");
}

static void test_nested(void **state) {
  (void)state;
  const char *text = "[some(ok({x: 1, y: 2})), none, some(err(\"no\"))]";
  SAME(&t_nested, text);
  WAVE(&t_nested, "[ some( ok( {y: 2, x: 1} ) ), none, some(err(\"no\")), ]", text);

  const char *names[] = {"x", "y"};
  wp_value *xy[] = {wp_value_new_s32(1), wp_value_new_s32(2)};
  wp_value *items[] = {wp_value_new_some(wp_value_new_ok(wp_value_new_record(names, xy, 2))),
                       wp_value_new_none(),
                       wp_value_new_some(wp_value_new_err(wp_value_new_string("no")))};
  wp_value *want = wp_value_new_list(items, 3);
  wp_value *got = PARSE(&t_nested, text);
  assert_true(wp_value_equal(got, want));
  wp_value_free(got);
  wp_value_free(want);

  ERROR(&t_nested, "[some(ok({x: 1, y: 2})), {x: 1, y: 2}]", 26,
        "expected option, got \"{\" (some(...) or none)");
  ERROR(&t_nested, "[some(ok({x: 1, y: \"2\"}))]", 20, "expected s32, got string \"2\"");
}

/* ------------------------------------------------------------------------ */
/* Syntax around values, limits, locations                                  */
/* ------------------------------------------------------------------------ */

static void test_whitespace_and_comments(void **state) {
  (void)state;
  WAVE(&t_list_u8, "  // leading comment\n  [1, // one\n\t2,\r\n 3 // trailing\n]  // end",
       "[1, 2, 3]");
  WAVE(&t_u8, "// only a comment, then\n7", "7");
  WAVE(&t_u8, "7//", "7");
  ERROR(&t_u8, "/ 7", 1, "unexpected character '/'");
}

static void test_trailing_garbage(void **state) {
  (void)state;
  ERROR(&t_u8, "1 2", 3, "unexpected \"2\" after the value");
  ERROR(&t_bool, "true false", 6, "unexpected \"false\" after the value");
  ERROR(&t_list_u8, "[1]]", 4, "unexpected \"]\" after the value");
  ERROR(&t_string, "\"a\" \"b\"", 5, "unexpected string \"b\" after the value");
  ERROR(&t_u8, "1 @", 3, "unexpected character '@'");
  ERROR(&t_u8, "1 \x01", 3, "unexpected character U+0001");
}

static void test_empty_input(void **state) {
  (void)state;
  ERROR(&t_u8, "", 1, "empty input (expected u8)");
  ERROR(&t_list_u8, "   ", 4, "empty input (expected list<u8>)");
  ERROR(&t_u8, "  // nothing", 13, "empty input");
}

static void test_nesting_limit(void **state) {
  (void)state;
  enum { DEEP = 120 };
  static struct wp_type types[DEEP + 1];
  static struct wp_type *kids[DEEP];
  for (int i = 0; i < DEEP; i++) {
    kids[i] = &types[i + 1];
    types[i] = (struct wp_type){.kind = WP_TYPE_LIST, .n = 1, .children = &kids[i]};
  }
  types[DEEP] = (struct wp_type){.kind = WP_TYPE_U8};

  char text[2 * DEEP + 1];
  memset(text, '[', 100);
  memset(text + 100, ']', 100);
  text[200] = '\0';
  wp_value *v = PARSE(&types[0], text);
  wp_value_free(v);

  memset(text, '[', 101);
  memset(text + 101, ']', 101);
  text[202] = '\0';
  error_at(__LINE__, &types[0], text, 101,
           "values are nested too deeply (the limit is 100 levels)");

  /* A flattened option (a plain 1 for some(1)) counts as a level too, so
     that the printed some(1) reads back (wasm-wave does not count it:
     docs/wave.md): 98 lists, the option and the 1 make 100 levels. */
  static struct wp_type *u8_kid[] = {&t_u8};
  struct wp_type opt = {.kind = WP_TYPE_OPTION, .n = 1, .children = u8_kid};
  types[98] = opt;
  memset(text, '[', 98);
  text[98] = '1';
  memset(text + 99, ']', 98);
  text[197] = '\0';
  v = PARSE(&types[0], text);
  char *printed = wp_value_to_wave(v);
  wp_value *back = PARSE(&types[0], printed);
  assert_true(wp_value_equal(v, back));
  wp_free(printed);
  wp_value_free(back);
  wp_value_free(v);
  /* 99 lists, the option and the 1: one too many. */
  types[98] = (struct wp_type){.kind = WP_TYPE_LIST, .n = 1, .children = &kids[98]};
  types[99] = opt;
  memset(text, '[', 99);
  text[99] = '1';
  memset(text + 100, ']', 99);
  text[199] = '\0';
  error_at(__LINE__, &types[0], text, 100, "values are nested too deeply");
}

static void test_unsupported_types(void **state) {
  (void)state;
  ERROR(&t_own, "1", 1, "resources cannot be written in WAVE");
  ERROR(&t_own, "1", 1, "(own<blob>)");
  ERROR(&t_borrow, "x", 1, "resources cannot be written in WAVE");
  ERROR(&t_list_own, "[1]", 2, "resources cannot be written in WAVE");
  ERROR(&t_future, "1", 1, "future values cannot be written in WAVE");
  ERROR(&t_map, "[]", 1, "map values cannot be written in WAVE");
  SAME(&t_list_own, "[]"); /* no element, nothing to refuse */

  /* A handle prints as a placeholder (a dropped one, so nothing to free). */
  struct wp_value handle = {.kind = WP_TYPE_OWN};
  char *s = wp_value_to_wave(&handle);
  assert_string_equal(s, "<resource>");
  wp_free(s);
}

static void test_exact_message(void **state) {
  (void)state;
  wp_value *v = NULL;
  wp_error *err = wp_value_from_wave(&t_list_u8, "[1, 2, 300]", &v);
  assert_non_null(err);
  assert_string_equal(wp_error_get_message(err),
                      "invalid WAVE value at column 8: expected u8, got \"300\" (out of range)\n"
                      "  [1, 2, 300]\n"
                      "         ^");
  wp_error_free(err);
  assert_null(v);

  err = wp_value_from_wave(&t_point, "{\n  x: 1,\n  y: true\n}", &v);
  assert_non_null(err);
  assert_string_equal(wp_error_get_message(err),
                      "invalid WAVE value at line 3, column 6: expected s32, got \"true\"\n"
                      "    y: true\n"
                      "       ^");
  wp_error_free(err);

  err = wp_value_from_wave(&t_string, "\"\"\"\n a\n  \"\"\"", &v);
  assert_non_null(err);
  assert_non_null(strstr(wp_error_get_message(err), "at line 2, column 2: "));
  wp_error_free(err);

  err = wp_value_from_wave(NULL, "1", &v);
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_BAD_INPUT);
  wp_error_free(err);
  assert_null(wp_value_to_wave(NULL));
}

/* A long line is cut to a window around the column, the caret still under
   the offending token. */
static void test_long_line_excerpt(void **state) {
  (void)state;
  char text[1024] = "[";
  for (int i = 0; i < 100; i++) strcat(text, i == 60 ? "300, " : "1, ");
  strcat(text, "1]");
  wp_value *v = NULL;
  wp_error *err = wp_value_from_wave(&t_list_u8, text, &v);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_non_null(strstr(msg, "column 182: expected u8, got \"300\""));
  const char *line = strchr(msg, '\n') + 1, *caret = strchr(line, '\n') + 1;
  size_t line_len = (size_t)(strchr(line, '\n') - line);
  assert_true(line_len <= 2 + 3 + 72 + 3);
  assert_memory_equal(line, "  ...", 5);
  assert_memory_equal(line + line_len - 3, "...", 3);
  size_t col = (size_t)(strchr(caret, '^') - caret);
  assert_true(col < line_len);
  assert_memory_equal(line + col, "300", 3);
  wp_error_free(err);

  /* Near the start: no leading "..." */
  err = wp_value_from_wave(
      &t_list_u8,
      "[300, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]", &v);
  assert_non_null(err);
  msg = wp_error_get_message(err);
  line = strchr(msg, '\n') + 1;
  assert_memory_equal(line, "  [300, 1", 9);
  assert_non_null(strstr(line, "...\n   ^"));
  wp_error_free(err);
}

/* The caret counts characters, not bytes, and shows a tab as one space. */
static void test_excerpt_characters(void **state) {
  (void)state;
  ERROR(&t_list_string, "[\"\xC3\xA9\xC3\xA9\", 1]", 8, "expected string, got \"1\"");
  ERROR(&t_list_u8, "[1,\t300]", 5, "out of range");
}

/* Random strings of all sorts of characters print as text that reads back
   to the same string. */
static void test_string_round_trips(void **state) {
  (void)state;
  static const uint32_t specials[] = {0,      '\t',    '\n',     '\r', '"',  '\'',   '\\',
                                      '{',    '}',     0x7F,     0x85, 0xA0, 0x2028, 0xFEFF,
                                      0xFFFD, 0x1F600, 0x10FFFF, '/',  ' '};
  uint32_t seed = 12345;
  for (int round = 0; round < 500; round++) {
    char s[256];
    size_t n = 0;
    int chars = round % 40;
    for (int i = 0; i < chars; i++) {
      seed = seed * 1103515245u + 12345u;
      uint32_t r = seed >> 8, c;
      switch (r % 4) {
      case 0: c = specials[(r >> 2) % (sizeof specials / sizeof *specials)]; break;
      case 1: c = 0x20 + (r >> 2) % 0x5F; break;
      case 2: c = (r >> 2) % 0x800; break;
      default: c = (r >> 2) % 0x110000; break;
      }
      if (c >= 0xD800 && c <= 0xDFFF) c = 'x';
      if (c < 0x80) s[n++] = (char)c;
      else if (c < 0x800) s[n++] = (char)(0xC0 | c >> 6), s[n++] = (char)(0x80 | (c & 0x3F));
      else if (c < 0x10000)
        s[n++] = (char)(0xE0 | c >> 12), s[n++] = (char)(0x80 | ((c >> 6) & 0x3F)),
        s[n++] = (char)(0x80 | (c & 0x3F));
      else
        s[n++] = (char)(0xF0 | c >> 18), s[n++] = (char)(0x80 | ((c >> 12) & 0x3F)),
        s[n++] = (char)(0x80 | ((c >> 6) & 0x3F)), s[n++] = (char)(0x80 | (c & 0x3F));
    }
    wp_value *v = wp_value_new_string_n(s, n);
    char *text = wp_value_to_wave(v);
    wp_value *back = PARSE(&t_string, text);
    if (!wp_value_equal(v, back)) fail_msg("string printed as %s read back differently", text);
    wp_free(text);
    wp_value_free(v);
    wp_value_free(back);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bool),
      cmocka_unit_test(test_integer_bounds),
      cmocka_unit_test(test_integer_errors),
      cmocka_unit_test(test_floats),
      cmocka_unit_test(test_float_errors),
      cmocka_unit_test(test_float_round_trips),
      cmocka_unit_test(test_float_shortest),
      cmocka_unit_test(test_chars),
      cmocka_unit_test(test_char_errors),
      cmocka_unit_test(test_char_escapes),
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_string_errors),
      cmocka_unit_test(test_multiline_strings),
      cmocka_unit_test(test_lists),
      cmocka_unit_test(test_tuples),
      cmocka_unit_test(test_records),
      cmocka_unit_test(test_record_errors),
      cmocka_unit_test(test_variants),
      cmocka_unit_test(test_enums),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_results),
      cmocka_unit_test(test_flags),
      cmocka_unit_test(test_nested),
      cmocka_unit_test(test_whitespace_and_comments),
      cmocka_unit_test(test_trailing_garbage),
      cmocka_unit_test(test_empty_input),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_unsupported_types),
      cmocka_unit_test(test_exact_message),
      cmocka_unit_test(test_long_line_excerpt),
      cmocka_unit_test(test_excerpt_characters),
      cmocka_unit_test(test_string_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
