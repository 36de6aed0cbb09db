/*
 * test_wave_wit.c - issue 7, item 11: WAVE and WIT agree with the reference
 * implementations (wasm-wave, wit-component), where a plugin's values and
 * types meet a person or another tool.
 *
 *  - `-0` is refused for every unsigned type (Rust's parser, so wasm-wave
 *    and Wasmtime, refuse it), wherever it appears in a value;
 *  - floats print as Rust prints them: the shortest digits that read back,
 *    the closest of those, a tie rounded up (the cases a "%.17g" printer
 *    gets wrong);
 *  - invisible and combining characters a plugin returns are escaped, so
 *    printed output cannot hide or reorder text (bidi overrides, zero-width
 *    characters, combining marks over the closing quote);
 *  - a component using component-model async (async functions, streams,
 *    futures) fails to load naming the feature, while its WIT still prints,
 *    through the API and `wasmplug inspect`, and the engine works after.
 *
 * The differential test against wasm-wave itself is tests/wave-diff.
 */
#include "adv.h"

#include <sys/wait.h>

#include "component/value.h"

#ifndef WP_ADV_FIXTURES
#error "WP_ADV_FIXTURES must name the tests/adversarial/fixtures directory"
#endif

/* Types built by hand (their Wasmtime `raw` zeroed), as in test_wave.c. */
static struct wp_type t_u8 = {.kind = WP_TYPE_U8, .text = "u8"};
static struct wp_type t_u16 = {.kind = WP_TYPE_U16, .text = "u16"};
static struct wp_type t_u32 = {.kind = WP_TYPE_U32, .text = "u32"};
static struct wp_type t_u64 = {.kind = WP_TYPE_U64, .text = "u64"};
static struct wp_type t_s8 = {.kind = WP_TYPE_S8, .text = "s8"};
static struct wp_type t_s64 = {.kind = WP_TYPE_S64, .text = "s64"};
static struct wp_type t_f32 = {.kind = WP_TYPE_F32, .text = "f32"};
static struct wp_type t_f64 = {.kind = WP_TYPE_F64, .text = "f64"};
static struct wp_type t_char = {.kind = WP_TYPE_CHAR, .text = "char"};
static struct wp_type t_string = {.kind = WP_TYPE_STRING, .text = "string"};
static struct wp_type *u32_kid[] = {&t_u32};
static struct wp_type t_list_u32 = {
    .kind = WP_TYPE_LIST, .n = 1, .children = u32_kid, .text = "list<u32>"};
static struct wp_type t_option_u64 = {.kind = WP_TYPE_OPTION,
                                      .n = 1,
                                      .children = (struct wp_type *[]){&t_u64},
                                      .text = "option<u64>"};

/* Reads `text` as `t`; returns the value (the caller frees it) or fails. */
static wp_value *read_ok(const struct wp_type *t, const char *text) {
  wp_value *v = NULL;
  assert_ok(wp_value_from_wave(t, text, &v));
  return v;
}

/* `v` (taken) prints as `want` and reads back to an equal value. */
static void assert_prints(const struct wp_type *t, wp_value *v, const char *want) {
  char *text = wp_value_to_wave(v);
  assert_non_null(text);
  if (strcmp(text, want) != 0) {
    print_error("printed %s, expected %s\n", text, want);
    fail();
  }
  wp_value *back = read_ok(t, text);
  assert_true(wp_value_equal(v, back));
  wp_free(text);
  wp_value_free(back);
  wp_value_free(v);
}

/* ---- -0 for unsigned types ------------------------------------------------- */

WP_TEST(test_unsigned_minus_zero) {
  const struct wp_type *unsigned_types[] = {&t_u8, &t_u16, &t_u32, &t_u64};
  for (size_t i = 0; i < 4; i++) {
    wp_value *v = NULL;
    assert_error(wp_value_from_wave(unsigned_types[i], "-0", &v), WP_ERR_BAD_INPUT,
                 "an unsigned integer has no sign, not even -0");
    assert_null(v);
    assert_error(wp_value_from_wave(unsigned_types[i], "  -0 ", &v), WP_ERR_BAD_INPUT,
                 "at column 3");
    /* The next read of the same type works. */
    v = read_ok(unsigned_types[i], "0");
    assert_int_equal(wp_value_get_uint(v), 0);
    wp_value_free(v);
  }
  /* Deep inside a value too, with the position of the offending number. */
  wp_value *v = NULL;
  assert_error(wp_value_from_wave(&t_list_u32, "[1, 2, -0]", &v), WP_ERR_BAD_INPUT,
               "at column 8: expected u32, got \"-0\"");
  assert_error(wp_value_from_wave(&t_option_u64, "some(-0)", &v), WP_ERR_BAD_INPUT,
               "at column 6: expected u64, got \"-0\" (an unsigned integer has no sign");
  assert_error(wp_value_from_wave(&t_option_u64, "-0", &v), WP_ERR_BAD_INPUT, "not even -0");
  /* Signed types take it (as Rust does), as plain zero. */
  v = read_ok(&t_s8, "-0");
  assert_int_equal(wp_value_get_int(v), 0);
  assert_prints(&t_s8, v, "0");
  assert_prints(&t_s64, read_ok(&t_s64, "-0"), "0");
}

/* ---- shortest float printing ------------------------------------------------ */

WP_TEST(test_float_hard_cases) {
  static const struct {
    double x;
    const char *want; /* what Rust prints: Display, {:e} outside [1e-7, 1e21) */
  } f64s[] = {
      {0x1p-44, "5.684341886080802e-14"},     /* narrow interval below a power of 2 */
      {0x1p-24, "5.960464477539063e-8"},      /* ... and a tie between the two candidates */
      {0x1p-25, "2.9802322387695313e-8"},     /* a tie: up, not to even */
      {0x1p89, "6.189700196426902e26"},
      {1125899906842624.25, "1125899906842624.3"}, /* a tie at 2^50 */
      {1125899906842624.75, "1125899906842624.8"},
      {0x1p-1074, "5e-324"},
      {0x1p-1022, "2.2250738585072014e-308"},
      {0x1.fffffffffffffp+1023, "1.7976931348623157e308"},
      {1e21, "1e21"},
      {0x1.b1ae4d6e2ef4fp+69, "999999999999999900000"}, /* just below 1e21: still plain */
      {1e-7, "0.0000001"},
      {0.1 + 0.2, "0.30000000000000004"},
      {-0.0, "-0"},
  };
  for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++)
    assert_prints(&t_f64, wp_value_new_f64(f64s[i].x), f64s[i].want);

  static const struct {
    float x;
    const char *want;
  } f32s[] = {
      {0x1p-96f, "1.2621775e-29"},
      {0x1p-12f, "0.00024414063"}, /* a tie: up */
      {0x1p-149f, "1e-45"},
      {0x1p-126f, "1.1754944e-38"},
      {0x1.fffffep+127f, "3.4028235e38"},
      {16777217.0f, "16777216"},
      {0.1f, "0.1"},
  };
  for (size_t i = 0; i < sizeof f32s / sizeof *f32s; i++)
    assert_prints(&t_f32, wp_value_new_f32(f32s[i].x), f32s[i].want);

  /* Reading rounds half to even, as Rust's parser: halfway between 0 and
     the smallest subnormal is 0, a hair above is that subnormal. */
  wp_value *v = read_ok(&t_f64, "2.4703282292062327e-324");
  assert_true(wp_value_get_f64(v) == 0.0);
  wp_value_free(v);
  v = read_ok(&t_f64, "2.4703282292062328e-324");
  assert_true(wp_value_get_f64(v) == 0x1p-1074);
  wp_value_free(v);
  /* Overflow is an error, not infinity (docs/wave.md); `inf` reads. */
  assert_error(wp_value_from_wave(&t_f32, "3.5e38", &v), WP_ERR_BAD_INPUT,
               "expected f32, got \"3.5e38\" (out of range)");
  v = read_ok(&t_f32, "inf");
  assert_prints(&t_f32, v, "inf");
}

/* ---- escaping ------------------------------------------------------------------ */

/* A string (UTF-8) that a plugin could return, and how it must print. */
static const struct {
  const char *utf8, *want, *what;
} escapes[] = {
    {"a\xE2\x80\xAE"
     "cba",
     "\"a\\u{202e}cba\"", "right-to-left override"},
    {"x\xE2\x80\x8By", "\"x\\u{200b}y\"", "zero width space"},
    {"x\xE2\x80\x8Cy\xE2\x80\x8Dz", "\"x\\u{200c}y\\u{200d}z\"", "zero width (non-)joiner"},
    {"\xE2\x81\xA0word", "\"\\u{2060}word\"", "word joiner"},
    {"\xEF\xBB\xBFhead", "\"\\u{feff}head\"", "byte order mark"},
    {"soft\xC2\xADhyphen", "\"soft\\u{ad}hyphen\"", "soft hyphen"},
    {"no\xC2\xA0"
     "break",
     "\"no\\u{a0}break\"", "no-break space"},
    {"\xE3\x80\x80", "\"\\u{3000}\"", "ideographic space"},
    {"e\xCC\x81", "\"e\\u{301}\"", "combining acute accent"},
    {"\xCC\x81\"", "\"\\u{301}\\\"\"", "a combining mark on the closing quote"},
    {"\xE2\x9D\xA4\xEF\xB8\x8F", "\"\xE2\x9D\xA4\\u{fe0f}\"", "variation selector"},
    {"\xF3\xA0\x81\x81", "\"\\u{e0041}\"", "tag character"},
    {"line\xE2\x80\xA8next", "\"line\\u{2028}next\"", "line separator"},
    {"\xEE\x80\x80", "\"\\u{e000}\"", "private use"},
    {"\xCD\xB8", "\"\\u{378}\"", "unassigned"},
    {"\xEF\xBF\xBF", "\"\\u{ffff}\"", "non-character"},
    {"\x1B[31m", "\"\\u{1b}[31m\"", "terminal escape"},
    /* Printable text stays as it is. */
    {"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x91\x8B \xED\x95\x9C",
     "\"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x91\x8B \xED\x95\x9C\"", "printable"},
};

WP_TEST(test_invisible_and_combining_escaped) {
  for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
    wp_value *v = wp_value_new_string(escapes[i].utf8);
    char *text = wp_value_to_wave(v);
    assert_non_null(text);
    if (strcmp(text, escapes[i].want) != 0) {
      print_error("%s: printed %s, expected %s\n", escapes[i].what, text, escapes[i].want);
      fail();
    }
    /* It reads back to the same string. */
    wp_value *back = read_ok(&t_string, text);
    assert_true(wp_value_equal(v, back));
    wp_free(text);
    wp_value_free(back);
    wp_value_free(v);
  }
  /* The same for char values. */
  assert_prints(&t_char, wp_value_new_char(0x202E), "'\\u{202e}'");
  assert_prints(&t_char, wp_value_new_char(0x301), "'\\u{301}'");
  assert_prints(&t_char, wp_value_new_char(0x10FFFF), "'\\u{10ffff}'");
  assert_prints(&t_char, wp_value_new_char(0xE9), "'\xC3\xA9'");
  /* Reading takes them literally or escaped alike. */
  wp_value *a = read_ok(&t_char, "'\xCC\x81'"), *b = read_ok(&t_char, "'\\u{301}'");
  assert_true(wp_value_equal(a, b));
  wp_value_free(a);
  wp_value_free(b);
}

/* ---- an async component ---------------------------------------------------------- */

static const char *adv_fixture(const char *name) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", WP_ADV_FIXTURES, name);
  return path;
}

/* An async function alone, and a future alone: each is named. */
static const char async_func_wat[] =
    "(component"
    "  (core module $m (func (export \"f\") (result i32) unreachable)"
    "    (func (export \"cb\") (param i32 i32 i32) (result i32) unreachable))"
    "  (core instance $i (instantiate $m))"
    "  (alias core export $i \"cb\" (core func $cb))"
    "  (func (export \"f\") async (canon lift (core func $i \"f\") async (callback $cb))))";
static const char future_wat[] =
    "(component"
    "  (core module $m (func (export \"f\") (result i32) unreachable))"
    "  (core instance $i (instantiate $m))"
    "  (type $later (future u32))"
    "  (func (export \"f\") (result $later) (canon lift (core func $i \"f\"))))";

WP_TEST(test_async_component_load) {
  wp_engine *e = adv_engine(16, 0);
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load(e, adv_fixture("wit_async.wat"), NULL, &p);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_null(strstr(msg, "not a valid WebAssembly component"));
  assert_error(err, WP_ERR_LOAD,
               "uses component-model async (async functions, streams or futures), which wasmplug "
               "cannot run: `stream` requires the component model async feature");
  assert_null(p);
  assert_error(adv_load(e, "async-func.wat", async_func_wat, NULL, &p), WP_ERR_LOAD,
               "async component functions require the component model async feature");
  assert_error(adv_load(e, "future.wat", future_wat, NULL, &p), WP_ERR_LOAD,
               "`future` requires the component model async feature");
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* Reads a whole file into a malloc'ed buffer. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *data = malloc(1 << 16);
  assert_non_null(data);
  *len = fread(data, 1, (1 << 16) - 1, f);
  data[*len] = '\0';
  fclose(f);
  return data;
}

static const char async_world[] = "world root {\n"
                                  "  export fetch: async func(url: string) -> string;\n"
                                  "  export pipe: func(input: stream<u8>) -> future<string>;\n"
                                  "}";

WP_TEST(test_async_component_wit) {
  size_t len;
  char *wat = slurp(adv_fixture("wit_async.wat"), &len), *wit = NULL;
  assert_ok(wp_component_wit(wat, len, &wit));
  if (!strstr(wit, async_world)) {
    print_error("WIT:\n%s\nlacks:\n%s\n", wit, async_world);
    fail();
  }
  wp_free(wit);
  free(wat);
  /* A core module still has no WIT world. */
  assert_error(wp_component_wit(adv_good_wat, strlen(adv_good_wat), &wit), WP_ERR_LOAD,
               "a core module");
}

/* `wasmplug inspect` prints the WIT, a note, and the load error naming the
   feature; exit code 3 (could not be loaded). */
WP_TEST(test_async_component_inspect) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' inspect '%s' 2>&1", WP_CLI, adv_fixture("wit_async.wat"));
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  char *out = malloc(1 << 16);
  assert_non_null(out);
  size_t n = fread(out, 1, (1 << 16) - 1, f);
  out[n] = '\0';
  int status = pclose(f);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 3);
  const char *wants[] = {"kind:    component\n", async_world,
                         "calls:   none: wasmplug cannot load this component",
                         "wasmplug: plugin 'wit_async.wat': uses component-model async",
                         "`stream` requires the component model async feature"};
  for (size_t i = 0; i < sizeof wants / sizeof *wants; i++) {
    if (!strstr(out, wants[i])) {
      print_error("inspect printed:\n%s\nlacking:\n%s\n", out, wants[i]);
      fail();
    }
  }
  assert_null(strstr(out, "not a valid WebAssembly component"));
  free(out);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unsigned_minus_zero),
      cmocka_unit_test(test_float_hard_cases),
      cmocka_unit_test(test_invisible_and_combining_escaped),
      cmocka_unit_test(test_async_component_load),
      cmocka_unit_test(test_async_component_wit),
      cmocka_unit_test(test_async_component_inspect),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
