/*
 * test_host.c - host functions (numeric, bytes, failing), link errors, WASI
 * grants, WASI commands and captured output.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static wp_error *h_add(wp_host_call *c, const wp_val *a, size_t na, wp_val *r, size_t nr,
                       void *ud) {
  (void)na;
  (void)nr;
  assert_null(wp_host_call_get_functype(c)); /* a core import has no WIT type */
  (*(int *)ud)++;
  r[0] = WP_VAL_I32(a[0].of.i32 + a[1].of.i32);
  return NULL;
}

static wp_error *h_scale(wp_host_call *c, const wp_val *a, size_t na, wp_val *r, size_t nr,
                         void *ud) {
  (void)c;
  (void)na;
  (void)nr;
  (void)ud;
  r[0] = WP_VAL_F64((double)a[0].of.i64 * a[1].of.f64);
  return NULL;
}

static wp_error *h_fail(wp_host_call *c, const wp_val *a, size_t na, wp_val *r, size_t nr,
                        void *ud) {
  (void)c;
  (void)na;
  (void)ud;
  (void)nr;
  if (a[0].of.i32 < 0) return wp_error_new(WP_ERR_HOST, "negative input %d refused", a[0].of.i32);
  r[0] = WP_VAL_I32(a[0].of.i32);
  return NULL;
}

static wp_error *h_nop(wp_host_call *c, const wp_val *a, size_t na, wp_val *r, size_t nr,
                       void *ud) {
  (void)c;
  (void)a;
  (void)na;
  (void)r;
  (void)nr;
  (void)ud;
  return NULL;
}

static wp_error *h_upper(wp_host_call *c, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  char buf[256];
  if (len > sizeof buf) return wp_error_new(WP_ERR_HOST, "too long");
  for (size_t i = 0; i < len; i++) buf[i] = (char)toupper(in[i]);
  assert_non_null(wp_host_call_get_instance(c));
  return wp_host_call_set_output(c, buf, len);
}

static int freed;
static void count_free(void *ud) {
  (void)ud;
  freed++;
}

/* An engine offering everything host.wat imports. */
static wp_engine *host_engine(int *adds) {
  wp_engine *e = test_engine();
  static const wp_valkind ii[] = {WP_I32, WP_I32}, i[] = {WP_I32}, lf[] = {WP_I64, WP_F64},
                          f[] = {WP_F64};
  assert_ok(wp_engine_define_func(e, "test", "add", ii, 2, i, 1, h_add, adds, count_free));
  assert_ok(wp_engine_define_func(e, "test", "scale", lf, 2, f, 1, h_scale, NULL, NULL));
  assert_ok(wp_engine_define_func(e, "test", "fail", i, 1, i, 1, h_fail, NULL, NULL));
  assert_ok(wp_engine_define_func(e, "test", "nop", NULL, 0, NULL, 0, h_nop, NULL, NULL));
  assert_ok(wp_engine_define_string(e, "test", "upper", h_upper, NULL, NULL));
  return e;
}

WP_TEST(test_host_functions) {
  int adds = 0;
  freed = 0;
  wp_engine *e = host_engine(&adds);
  assert_error(wp_engine_define_func(e, "test", "nop", NULL, 0, NULL, 0, h_nop, NULL, NULL),
               WP_ERR_BAD_INPUT, "'test.nop' is already defined");
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, fixture("host.wat"), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_val args[2] = {WP_VAL_I32(30), WP_VAL_I32(12)}, r;
  assert_ok(wp_instance_call(inst, "call_add", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 42);
  assert_int_equal(adds, 1);
  wp_val sargs[2] = {WP_VAL_I64(3), WP_VAL_F64(0.5)};
  assert_ok(wp_instance_call(inst, "call_scale", sargs, 2, &r, 1));
  assert_true(r.of.f64 == 1.5);
  wp_val n = WP_VAL_I32(1000);
  assert_ok(wp_instance_call(inst, "call_nop", &n, 1, NULL, 0));

  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "shout", "quiet please", 12, &out, &len));
  assert_int_equal(len, 12);
  assert_memory_equal(out, "QUIET PLEASE", 12);

  /* A failing host callback fails the guest call with its message... */
  wp_val neg = WP_VAL_I32(-5);
  assert_error(
      wp_instance_call(inst, "call_fail", &neg, 1, &r, 1), WP_ERR_HOST,
      "'call_fail' failed in a host function: host function 'test.fail' failed: negative input -5 refused");
  /* ...and the next call works. */
  assert_ok(wp_instance_reset(inst));
  wp_val pos = WP_VAL_I32(5);
  assert_ok(wp_instance_call(inst, "call_fail", &pos, 1, &r, 1));
  assert_int_equal(r.of.i32, 5);

  /* A lying pointer passed to a host function is caught. */
  assert_error(
      wp_instance_call_bytes(inst, "shout_bad", "", 0, &out, &len), WP_ERR_ABI,
      "passed input [ptr=0x7fffff00, len=512] to 'test.upper', outside its memory of 64 KiB");
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_call_bytes(inst, "shout", "ok", 2, &out, &len));
  assert_memory_equal(out, "OK", 2);

  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
  assert_int_equal(freed, 1); /* free_user_data ran once, with the engine */
}

WP_TEST(test_missing_imports) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  assert_error(
      wp_plugin_load(e, fixture("missing.wat"), NULL, &p), WP_ERR_LINK,
      "2 imports are not provided by the host: env.nowhere (func (i32) -> (i32)), env.neither (func () -> ())");
  /* Defined with another signature: a link error naming the import. */
  static const wp_valkind i64s[] = {WP_I64};
  assert_ok(wp_engine_define_func(e, "env", "nowhere", i64s, 1, NULL, 0, h_nop, NULL, NULL));
  assert_ok(wp_engine_define_func(e, "env", "neither", NULL, 0, NULL, 0, h_nop, NULL, NULL));
  assert_error(wp_plugin_load(e, fixture("missing.wat"), NULL, &p), WP_ERR_LINK, "cannot link");
  assert_null(p);
  wp_engine_free(e);
}

/* Calls wasi_read.wat's open(path) and returns the errno byte. */
static int open_errno(wp_instance *inst, const char *path) {
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "open", path, strlen(path), &out, &len));
  assert_int_equal(len, 1);
  return out[0];
}

WP_TEST(test_wasi_dirs) {
  char dir[] = "/tmp/wp-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[4200], inside[4300], outside[4300];
  snprintf(sub, sizeof sub, "%s/granted", dir);
  mkdir(sub, 0700);
  snprintf(inside, sizeof inside, "%s/inside.txt", sub);
  snprintf(outside, sizeof outside, "%s/outside.txt", dir);
  FILE *f = fopen(inside, "w");
  fputs("in", f);
  fclose(f);
  f = fopen(outside, "w");
  fputs("out", f);
  fclose(f);

  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_allow_dir(m, sub, "/data", false));
  wp_plugin *granted, *denied;
  wp_instance *gi, *di;
  assert_ok(wp_plugin_load(e, fixture("wasi_read.wat"), m, &granted));
  assert_ok(wp_plugin_load(e, fixture("wasi_read.wat"), NULL, &denied));
  assert_ok(wp_instance_new(granted, &gi));
  assert_ok(wp_instance_new(denied, &di));
  assert_int_equal(open_errno(gi, "inside.txt"), 0);
  assert_int_not_equal(open_errno(gi, "../outside.txt"), 0); /* outside the grant */
  assert_int_not_equal(open_errno(gi, "missing.txt"), 0);
  assert_int_not_equal(open_errno(di, "inside.txt"), 0);      /* nothing granted */

  wp_manifest *bad = wp_manifest_new();
  assert_ok(wp_manifest_allow_dir(bad, "/no/such/dir", "/x", false));
  wp_plugin *p = NULL;
  assert_error(wp_plugin_load(e, fixture("wasi_read.wat"), bad, &p), WP_ERR_BAD_INPUT,
               "granted directory '/no/such/dir' is not a directory");

  wp_instance_free(gi);
  wp_instance_free(di);
  wp_plugin_free(granted);
  wp_plugin_free(denied);
  wp_manifest_free(m);
  wp_manifest_free(bad);
  wp_engine_free(e);
  unlink(inside);
  unlink(outside);
  rmdir(sub);
  rmdir(dir);
}

static int seen_stdout;
static int on_out(void *ud, wp_instance *inst, const uint8_t *data, size_t len) {
  (void)inst;
  assert_ptr_equal(ud, &seen_stdout);
  assert_memory_equal(data, "hi from wasm\n", len);
  seen_stdout += (int)len;
  return 0;
}

WP_TEST(test_command_and_capture) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_stdout(m, WP_STDIO_CAPTURE, NULL, NULL);
  wp_manifest_set_stderr(m, WP_STDIO_CAPTURE, NULL, NULL);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, fixture("command.wat"), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  int code = -1;
  assert_ok(wp_instance_run(inst, &code));
  assert_int_equal(code, 3);
  size_t len;
  const uint8_t *out = wp_instance_get_stdout(inst, &len);
  assert_int_equal(len, 13);
  assert_memory_equal(out, "hi from wasm\n", 13);
  out = wp_instance_get_stderr(inst, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "oops\n", 5);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* The same through a callback; and discarded by default. */
  seen_stdout = 0;
  wp_manifest_set_stdout(m, WP_STDIO_CALLBACK, on_out, &seen_stdout);
  assert_ok(wp_plugin_load(e, fixture("command.wat"), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_run(inst, &code));
  assert_int_equal(seen_stdout, 13);
  wp_instance_free(inst);
  wp_plugin_free(p);
  assert_ok(wp_plugin_load(e, fixture("command.wat"), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_run(inst, &code));
  wp_instance_get_stdout(inst, &len);
  assert_int_equal(len, 0);
  /* Not a command: a clear error. */
  wp_plugin *q;
  wp_instance *qi;
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &q));
  assert_ok(wp_instance_new(q, &qi));
  assert_error(wp_instance_run(qi, &code), WP_ERR_NOT_FOUND, "not a WASI command");
  wp_instance_free(qi);
  wp_plugin_free(q);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

WP_TEST(test_manifest_errors_reach_load) {
  wp_manifest *m = NULL;
  const char *unknown = "{\"limits\": {\"memroy\": \"1MiB\"}}";
  assert_error(wp_manifest_parse(unknown, strlen(unknown), NULL, &m), WP_ERR_BAD_INPUT,
               "unknown field 'limits.memroy'");
  const char *malformed = "{\"limits\": {\"timeout_ms\": 5,}";
  assert_error(wp_manifest_parse(malformed, strlen(malformed), NULL, &m), WP_ERR_BAD_INPUT,
               "invalid JSON");
  assert_null(m);
  /* A good manifest with a memory limit above the engine's maximum. */
  const char *big = "{\"limits\": {\"memory\": \"8GiB\"}}";
  assert_ok(wp_manifest_parse(big, strlen(big), NULL, &m));
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  assert_error(wp_plugin_load(e, fixture("numeric.wat"), m, &p), WP_ERR_BAD_INPUT,
               "manifest memory limit 8 GiB is above the engine's maximum 1 GiB");
  wp_manifest_free(m);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_host_functions),
      cmocka_unit_test(test_missing_imports),
      cmocka_unit_test(test_wasi_dirs),
      cmocka_unit_test(test_command_and_capture),
      cmocka_unit_test(test_manifest_errors_reach_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
