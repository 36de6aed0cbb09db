/*
 * test_leaf_calls.c - component exports of scalars, strings, list<u8>,
 * records and tuples take the leaf path (src/component/leaves.c, Wasmtime's
 * typed lowering through deps/wasmtime/src/leaves.rs). A guest that returns
 * lies through it (bad chars, pointers outside memory or misaligned, strings
 * that are not UTF-8 or run past memory) gets the same clear errors as on
 * the value path, the instance resets and calls again, and the values that
 * are right arrive exactly: every field of a mixed record and tuple, wide
 * integers truncated as the canonical ABI says, record fields given in any
 * order, and a function of 17 parameters (too many for core values) through
 * the value path.
 */
#include "adv.h"

static const char leaves_wat[] =
    "(component\n"
    "  (core module $m\n"
    "    (memory (export \"memory\") 1)\n"
    "    (global $heap (mut i32) (i32.const 4096))\n"
    "    (func (export \"realloc\") (param i32 i32 i32 i32) (result i32) (local $r i32)\n"
    "      (local.set $r (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))\n"
    "      (global.set $heap (i32.add (local.get $r) (local.get 3))) (local.get $r))\n"
    "    (data (i32.const 64) \"\\ff\\fe\")\n"
    "    (data (i32.const 80) \"ok\")\n"
    "    (func (export \"bad-char\") (result i32) (i32.const 0xD800))\n"
    "    (func (export \"wide-bool\") (result i32) (i32.const 7))\n"
    "    (func (export \"wide-u8\") (result i32) (i32.const 0x1ff))\n"
    "    (func (export \"wide-s16\") (result i32) (i32.const 0x18000))\n"
    "    (func (export \"far-point\") (result i32) (i32.const -8))\n"
    "    (func (export \"edge-point\") (result i32) (i32.const 65532))\n"
    "    (func (export \"odd-point\") (result i32) (i32.const 257))\n"
    "    (func $text (param $p i32) (param $n i32) (result i32)\n"
    "      (i32.store (i32.const 256) (i32.const 5)) (i32.store (i32.const 260) (local.get $p))\n"
    "      (i32.store (i32.const 264) (local.get $n)) (i32.const 256))\n"
    "    (func (export \"bad-text\") (result i32) (call $text (i32.const 64) (i32.const 2)))\n"
    "    (func (export \"long-text\") (result i32) (call $text (i32.const 80) (i32.const 0x7fffffff)))\n"
    "    (func (export \"good-text\") (result i32) (call $text (i32.const 80) (i32.const 2)))\n"
    "    (func (export \"bump\") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))\n"
    /* mix(a: u32, b: s8, c: f64, p: point, s: string, d: list<u8>)
       -> tuple<s64, f64, point, string, list<u8>>: (a + b, c * 2, p swapped, s, d) */
    "    (func (export \"mix\") (param $a i32) (param $b i32) (param $c f64) (param $x i32)\n"
    "      (param $y i32) (param $sp i32) (param $sl i32) (param $dp i32) (param $dl i32) (result i32)\n"
    "      (i64.store (i32.const 512) (i64.add (i64.extend_i32_u (local.get $a))\n"
    "                                          (i64.extend_i32_s (local.get $b))))\n"
    "      (f64.store (i32.const 520) (f64.mul (local.get $c) (f64.const 2)))\n"
    "      (i32.store (i32.const 528) (local.get $y)) (i32.store (i32.const 532) (local.get $x))\n"
    "      (i32.store (i32.const 536) (local.get $sp)) (i32.store (i32.const 540) (local.get $sl))\n"
    "      (i32.store (i32.const 544) (local.get $dp)) (i32.store (i32.const 548) (local.get $dl))\n"
    "      (i32.const 512))\n"
    /* many(17 x u32) -> u32: the parameters arrive in memory. */
    "    (func (export \"many\") (param $p i32) (result i32) (local $i i32) (local $s i32)\n"
    "      (loop $l (local.set $s (i32.add (local.get $s)\n"
    "          (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))\n"
    "        (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "        (br_if $l (i32.lt_u (local.get $i) (i32.const 17))))\n"
    "      (local.get $s)))\n"
    "  (core instance $i (instantiate $m))\n"
    "  (type $point' (record (field \"x\" s32) (field \"y\" s32)))\n"
    "  (export $point \"point\" (type $point'))\n"
    "  (type $one' (record (field \"v\" u16)))\n"
    "  (export $one \"one\" (type $one'))\n"
    "  (func (export \"bad-char\") (result char) (canon lift (core func $i \"bad-char\")))\n"
    "  (func (export \"wide-bool\") (result bool) (canon lift (core func $i \"wide-bool\")))\n"
    "  (func (export \"wide-u8\") (result u8) (canon lift (core func $i \"wide-u8\")))\n"
    "  (func (export \"wide-s16\") (result s16) (canon lift (core func $i \"wide-s16\")))\n"
    "  (func (export \"bump\") (param \"o\" $one) (result $one) (canon lift (core func $i \"bump\")))\n"
    "  (func (export \"far-point\") (result $point)\n"
    "    (canon lift (core func $i \"far-point\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"edge-point\") (result $point)\n"
    "    (canon lift (core func $i \"edge-point\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"odd-point\") (result $point)\n"
    "    (canon lift (core func $i \"odd-point\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"bad-text\") (result (tuple u32 string))\n"
    "    (canon lift (core func $i \"bad-text\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"long-text\") (result (tuple u32 string))\n"
    "    (canon lift (core func $i \"long-text\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"good-text\") (result (tuple u32 string))\n"
    "    (canon lift (core func $i \"good-text\") (memory (core memory $i \"memory\"))))\n"
    "  (func (export \"mix\") (param \"a\" u32) (param \"b\" s8) (param \"c\" f64)\n"
    "    (param \"p\" $point) (param \"s\" string) (param \"d\" (list u8))\n"
    "    (result (tuple s64 f64 $point string (list u8)))\n"
    "    (canon lift (core func $i \"mix\") (memory (core memory $i \"memory\"))\n"
    "      (realloc (core func $i \"realloc\"))))\n"
    "  (func (export \"many\") (param \"a\" u32) (param \"b\" u32) (param \"c\" u32) (param \"d\" u32)\n"
    "    (param \"e\" u32) (param \"f\" u32) (param \"g\" u32) (param \"h\" u32) (param \"i\" u32)\n"
    "    (param \"j\" u32) (param \"k\" u32) (param \"l\" u32) (param \"m\" u32) (param \"n\" u32)\n"
    "    (param \"o\" u32) (param \"p\" u32) (param \"q\" u32) (result u32)\n"
    "    (canon lift (core func $i \"many\") (memory (core memory $i \"memory\"))\n"
    "      (realloc (core func $i \"realloc\")))))";

static wp_plugin *load(wp_engine *e) {
  wp_plugin *p = NULL;
  assert_ok(adv_load(e, "leaves.wat", leaves_wat, NULL, &p));
  return p;
}

static wp_value *point(int32_t x, int32_t y, bool reversed) {
  const char *names[] = {"x", "y"}, *rnames[] = {"y", "x"};
  if (reversed)
    return wp_value_new_record(rnames, (wp_value *[]){wp_value_new_s32(y), wp_value_new_s32(x)}, 2);
  return wp_value_new_record(names, (wp_value *[]){wp_value_new_s32(x), wp_value_new_s32(y)}, 2);
}

/* The result of a call of no arguments, as WAVE text (NULL on error, with *err). */
static char *call_text(wp_instance *inst, const char *fn, wp_error **err) {
  wp_value *r = NULL;
  *err = wp_instance_invoke(inst, fn, NULL, 0, &r);
  char *text = r ? wp_value_to_wave(r) : NULL;
  wp_value_free(r);
  return text;
}

static void expect_text(wp_instance *inst, const char *fn, const char *want) {
  wp_error *err = NULL;
  char *got = call_text(inst, fn, &err);
  assert_ok(err);
  assert_non_null(got);
  if (strcmp(got, want) != 0) {
    print_error("%s: got %s, want %s\n", fn, got, want);
    wp_free(got);
    fail();
  }
  wp_free(got);
}

WP_TEST(test_results_the_guest_gets_wrong) {
  wp_engine *e = adv_engine(0, 0);
  wp_plugin *p = load(e);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  struct {
    const char *fn;
    wp_error_kind kind;
    const char *says;
  } cases[] = {
      {"bad-char", WP_ERR_ABI, "char"},
      {"far-point", WP_ERR_ABI, "out of bounds"},
      {"edge-point", WP_ERR_ABI, "out of bounds"},
      {"odd-point", WP_ERR_ABI, "not aligned"},
      {"bad-text", WP_ERR_ABI, "utf-8"},
      {"long-text", WP_ERR_ABI, "out of bounds"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wp_error *err = NULL;
    char *text = call_text(inst, cases[i].fn, &err);
    assert_null(text);
    assert_error(err, cases[i].kind, cases[i].says);
    assert_ok(wp_instance_reset(inst));
    expect_text(inst, "good-text", "(5, \"ok\")");
  }
  wp_instance_free(inst);
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

WP_TEST(test_wide_scalars_truncate) {
  wp_engine *e = adv_engine(0, 0);
  wp_plugin *p = load(e);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  /* The canonical ABI keeps the low bits of an i32 for narrow integers and
     reads any non-zero bool as true. */
  expect_text(inst, "wide-bool", "true");
  expect_text(inst, "wide-u8", "255");
  expect_text(inst, "wide-s16", "-32768");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_mixed_values_exact) {
  wp_engine *e = adv_engine(0, 0);
  wp_plugin *p = load(e);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  for (int round = 0; round < 2; round++) {
    static const uint8_t bytes[] = {0, 1, 2, 0xfe, 0xff};
    wp_value *args[] = {wp_value_new_u32(4000000000u),
                        wp_value_new_s8(-100),
                        wp_value_new_f64(-1.25),
                        point(-7, 9, round == 1),
                        wp_value_new_string("grüße"),
                        round ? wp_value_new_bytes(bytes, sizeof bytes)
                              : wp_value_new_list(NULL, 0)};
    wp_value *r = NULL;
    assert_ok(wp_instance_invoke(inst, "mix", (const wp_value *const *)args, 6, &r));
    char *got = wp_value_to_wave(r);
    const char *want = round ? "(3999999900, -2.5, {x: 9, y: -7}, \"grüße\", [0, 1, 2, 254, 255])"
                             : "(3999999900, -2.5, {x: 9, y: -7}, \"grüße\", [])";
    if (strcmp(got, want) != 0) {
      print_error("mix: got %s, want %s\n", got, want);
      fail();
    }
    /* The list<u8> comes back as one buffer. */
    size_t len = 99;
    const uint8_t *data = wp_value_get_bytes(wp_value_get_item(r, 4), &len);
    assert_int_equal(len, round ? sizeof bytes : 0);
    if (round) assert_memory_equal(data, bytes, sizeof bytes);
    wp_free(got);
    wp_value_free(r);
    for (size_t i = 0; i < 6; i++) wp_value_free(args[i]);
  }
  /* A record of one field is one core value each way. */
  const char *v[] = {"v"};
  wp_value *one = wp_value_new_record(v, (wp_value *[]){wp_value_new_u16(41)}, 1), *r = NULL;
  assert_ok(wp_instance_invoke(inst, "bump", (const wp_value *const *)&one, 1, &r));
  char *got = wp_value_to_wave(r);
  assert_string_equal(got, "{v: 42}");
  wp_free(got);
  wp_value_free(r);
  wp_value_free(one);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_parameters_past_core_values) {
  wp_engine *e = adv_engine(0, 0);
  wp_plugin *p = load(e);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *args[17];
  uint32_t sum = 0;
  for (uint32_t i = 0; i < 17; i++) {
    args[i] = wp_value_new_u32(1000 + i * i);
    sum += 1000 + i * i;
  }
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, "many", (const wp_value *const *)args, 17, &r));
  assert_int_equal(wp_value_get_kind(r), WP_TYPE_U32);
  assert_int_equal(wp_value_get_uint(r), sum);
  wp_value_free(r);
  for (size_t i = 0; i < 17; i++) wp_value_free(args[i]);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_results_the_guest_gets_wrong),
      cmocka_unit_test(test_wide_scalars_truncate),
      cmocka_unit_test(test_mixed_values_exact),
      cmocka_unit_test(test_parameters_past_core_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
