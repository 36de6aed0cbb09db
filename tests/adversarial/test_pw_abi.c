/*
 * test_pw_abi.c - a Proxy-Wasm filter as an attacker writes it: every
 * pointer, length, count, enum and allocator answer it gives the host is
 * wrong in turn. Each gets the ABI status that says so (the filter traps
 * if the status is not the expected one, so a passing step proves it), the
 * host never crashes, an allocator that traps fails that stream only, and the
 * next stream runs on a fresh VM. Then what loading refuses, and a tick that
 * runs forever.
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

/* on_request_headers runs case N, N being the number of request headers. */
static const char evil_wat[] =
    "(module\n"
    " (import \"env\" \"proxy_get_header_map_pairs\" (func $pairs (param i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_add_header_map_value\" (func $add (param i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_set_header_map_pairs\" (func $setpairs (param i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_get_buffer_bytes\" (func $getbuf (param i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_set_buffer_bytes\" (func $setbuf (param i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_send_local_response\" (func $local (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_http_call\" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_set_effective_context\" (func $eff (param i32) (result i32)))\n"
    " (import \"env\" \"proxy_log\" (func $log (param i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_get_property\" (func $prop (param i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_define_metric\" (func $defm (param i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_increment_metric\" (func $incm (param i32 i64) (result i32)))\n"
    " (import \"env\" \"proxy_enqueue_shared_queue\" (func $enq (param i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_continue_stream\" (func $cont (param i32) (result i32)))\n"
    " (import \"env\" \"proxy_grpc_call\" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))\n"
    " (import \"env\" \"proxy_set_shared_data\" (func $setsd (param i32 i32 i32 i32 i32) (result i32)))\n"
    " (memory (export \"memory\") 2)\n"
    " (global $heap (mut i32) (i32.const 8192))\n"
    " (global $mode (mut i32) (i32.const 0))\n"
    " (data (i32.const 1024) \"x-k\")\n"
    " (data (i32.const 1040) \"a b\")\n"
    " (data (i32.const 1056) \"v\\0d\\0ax\")\n"
    " (data (i32.const 1072) \"\\ff\\ff\\ff\\7f\")\n"
    " (func (export \"proxy_abi_version_0_2_1\"))\n"
    " ;; a bump allocator that can also lie (mode 1), trap (mode 2) or fail (mode 3)\n"
    " (func (export \"malloc\") (param i32) (result i32) (local $p i32)\n"
    "   (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 0xfffff000))))\n"
    "   (if (i32.eq (global.get $mode) (i32.const 2)) (then unreachable))\n"
    "   (if (i32.eq (global.get $mode) (i32.const 3)) (then (return (i32.const 0))))\n"
    "   (local.set $p (global.get $heap))\n"
    "   (global.set $heap (i32.add (global.get $heap) (local.get 0)))\n"
    "   (if (i32.gt_u (global.get $heap) (i32.const 100000)) (then (global.set $heap (i32.const 8192))))\n"
    "   (local.get $p))\n"
    " (func $expect (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))\n"
    " (func $is (param i32 i32) (result i32) (i32.eq (local.get 0) (local.get 1)))\n"
    " (func (export \"proxy_on_request_headers\") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)\n"
    "  (local $i i32) (local $s i32)\n"
    "  (if (call $is (local.get $n) (i32.const 1)) (then\n"
    "    (call $expect (call $pairs (i32.const 0) (i32.const 0xfffffff0) (i32.const 64)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 2)) (then\n"
    "    (call $expect (call $add (i32.const 0) (i32.const 0xffff0000) (i32.const 10) (i32.const 1056) (i32.const 1)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 3)) (then\n"
    "    (call $expect (call $add (i32.const 0) (i32.const 1024) (i32.const 0x7fffffff) (i32.const 1056) (i32.const 1)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 4)) (then\n"
    "    (call $expect (call $add (i32.const 0) (i32.const 1040) (i32.const 3) (i32.const 1056) (i32.const 1)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 5)) (then\n"
    "    (call $expect (call $add (i32.const 0) (i32.const 1024) (i32.const 3) (i32.const 1056) (i32.const 4)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 6)) (then\n"
    "    (call $expect (call $setpairs (i32.const 0) (i32.const 1072) (i32.const 4)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 7)) (then (global.set $mode (i32.const 1))\n"
    "    (call $expect (call $getbuf (i32.const 7) (i32.const 0) (i32.const -1) (i32.const 64) (i32.const 68)) (i32.const 6))\n"
    "    (global.set $mode (i32.const 0))))\n"
    "  (if (call $is (local.get $n) (i32.const 8)) (then (global.set $mode (i32.const 2))\n"
    "    (drop (call $pairs (i32.const 0) (i32.const 64) (i32.const 68)))))\n"
    "  (if (call $is (local.get $n) (i32.const 9)) (then\n"
    "    (call $expect (call $local (i32.const 42) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 10)) (then\n"
    "    (call $expect (call $call (i32.const 1024) (i32.const 0x7fffffff) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 64)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 11)) (then\n"
    "    (call $expect (call $eff (i32.const 9999)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 12)) (then\n"
    "    (call $expect (call $log (i32.const 99) (i32.const 0xfffffff0) (i32.const 100)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 13)) (then\n"
    "    (call $expect (call $prop (i32.const 1024) (i32.const 0x7fffffff) (i32.const 64) (i32.const 68)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 14)) (then\n"
    "    (call $expect (call $setbuf (i32.const 7) (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 3)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 15)) (then\n"
    "    (call $expect (call $defm (i32.const 7) (i32.const 1024) (i32.const 3) (i32.const 64)) (i32.const 2))))\n"
    "  (if (call $is (local.get $n) (i32.const 16)) (then\n"
    "    (call $expect (call $incm (i32.const 424242) (i64.const 1)) (i32.const 1))))\n"
    "  (if (call $is (local.get $n) (i32.const 17)) (then\n"
    "    (call $expect (call $enq (i32.const 424242) (i32.const 1024) (i32.const 3)) (i32.const 1))))\n"
    "  (if (call $is (local.get $n) (i32.const 18)) (then\n"
    "    (call $expect (call $cont (i32.const 77)) (i32.const 2))))\n"
    "  ;; 19: headers until the map is full: refused at the cap, not before\n"
    "  (if (call $is (local.get $n) (i32.const 19)) (then\n"
    "    (block $full (loop $more\n"
    "      (local.set $s (call $add (i32.const 0) (i32.const 1024) (i32.const 3) (i32.const 1056) (i32.const 1)))\n"
    "      (br_if $full (local.get $s))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $more (i32.lt_u (local.get $i) (i32.const 5000)))))\n"
    "    (call $expect (local.get $s) (i32.const 2))\n"
    "    (call $expect (i32.gt_u (local.get $i) (i32.const 1000)) (i32.const 1))))\n"
    "  (if (call $is (local.get $n) (i32.const 20)) (then\n"
    "    (call $expect (call $setbuf (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 1024) (i32.const 0x7fffffff)) (i32.const 6))))\n"
    "  (if (call $is (local.get $n) (i32.const 21)) (then\n"
    "    (call $expect (call $grpc (i32.const 1024) (i32.const 3) (i32.const 1024) (i32.const 3) (i32.const 1024) (i32.const 3)\n"
    "       (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 64)) (i32.const 12))))\n"
    "  (if (call $is (local.get $n) (i32.const 22)) (then (global.set $mode (i32.const 3))\n"
    "    (call $expect (call $pairs (i32.const 0) (i32.const 64) (i32.const 68)) (i32.const 6))\n"
    "    (global.set $mode (i32.const 0))))\n"
    "  (if (call $is (local.get $n) (i32.const 23)) (then\n"
    "    (call $expect (call $setsd (i32.const 1024) (i32.const 3) (i32.const 0) (i32.const 0x00200000) (i32.const 0)) (i32.const 6))))\n"
    "  (i32.const 0)))";

static void headers_n(wp_http_header *h, size_t n) {
  static char names[32][24];
  for (size_t i = 0; i < n; i++) {
    snprintf(names[i], sizeof names[i], "h%zu", i);
    h[i] = (wp_http_header){names[i], strlen(names[i]), (const uint8_t *)"1", 1};
  }
}

WP_TEST(test_every_bad_argument_gets_its_status) {
  wp_engine *e = adv_engine(4, 0);
  wp_pw_host *h;
  assert_ok(wp_pw_host_new(e, NULL, NULL, &h));
  wp_pw_config *cfg = wp_pw_config_new();
  assert_ok(wp_pw_config_set_plugin_config(cfg, "cfg", 3));
  wp_pw_plugin *p;
  assert_ok(wp_pw_plugin_load_bytes(h, "evil.wat", evil_wat, strlen(evil_wat), cfg, &p));
  wp_pw_config_free(cfg);
  wp_pw_worker *w;
  assert_ok(wp_pw_worker_new(h, NULL, &w));
  for (size_t n = 1; n <= 23; n++) {
    wp_http_header hdrs[32];
    headers_n(hdrs, n);
    wp_pw_stream *s;
    wp_pw_action a;
    assert_ok(wp_pw_stream_new_http(w, p, NULL, NULL, NULL, &s));
    wp_error *err = wp_pw_stream_request_headers(s, hdrs, n, true, &a);
    if (n == 8) { /* the allocator trapped inside the host call: this stream fails */
      assert_error(err, WP_ERR_TRAP, "proxy_on_request_headers");
    } else {
      if (err) print_error("case %zu: %s\n", n, wp_error_get_message(err));
      assert_null(err);
      assert_int_equal(a, WP_PW_CONTINUE);
    }
    wp_pw_stream_free(s);
  }
  wp_pw_worker_free(w);
  wp_pw_plugin_free(p);
  wp_pw_host_free(h);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* ---- what loading refuses -------------------------------------------------------------- */

static void refused(const char *what, const char *body, wp_error_kind kind, const char *needle) {
  wp_engine *e = adv_engine(0, 0);
  wp_pw_host *h;
  assert_ok(wp_pw_host_new(e, NULL, NULL, &h));
  char wat[4096];
  snprintf(wat, sizeof wat, "(module %s)", body);
  wp_pw_plugin *p = NULL;
  wp_error *err = wp_pw_plugin_load_bytes(h, what, wat, strlen(wat), NULL, &p);
  assert_null(p);
  assert_error(err, kind, needle);
  wp_pw_host_free(h);
  wp_engine_free(e);
}

#define ABI "(memory (export \"memory\") 1) (func (export \"proxy_abi_version_0_2_1\")) "
#define MALLOC "(func (export \"malloc\") (param i32) (result i32) (i32.const 16)) "

WP_TEST(test_load_refusals) {
  refused("old.wat",
          "(memory (export \"memory\") 1) (func (export \"proxy_abi_version_0_1_0\"))" MALLOC,
          WP_ERR_LOAD, "ABI version 0_1_0");
  refused("nomem.wat", "(func (export \"proxy_abi_version_0_2_0\"))" MALLOC, WP_ERR_LOAD,
          "must export its memory");
  refused("noalloc.wat", ABI, WP_ERR_LOAD, "must export its allocator");
  refused("badalloc.wat", ABI "(func (export \"malloc\") (param i64) (result i32) (i32.const 0))",
          WP_ERR_LOAD, "'malloc'");
  refused("badcb.wat",
          ABI MALLOC
          "(func (export \"proxy_on_request_headers\") (param i32 i32) (result i32) (i32.const 0))",
          WP_ERR_LOAD, "proxy_on_request_headers");
  refused("import.wat",
          "(import \"env\" \"proxy_frobnicate\" (func (param i32) (result i32)))" ABI MALLOC,
          WP_ERR_LINK, "env.proxy_frobnicate");
  refused("wrongtype.wat",
          "(import \"env\" \"proxy_log\" (func (param i64) (result i32)))" ABI MALLOC, WP_ERR_LINK,
          "proxy_log");
  refused("vmstart.wat",
          ABI MALLOC
          "(func (export \"proxy_on_vm_start\") (param i32 i32) (result i32) (i32.const 0))",
          WP_ERR_BAD_INPUT, "rejected its VM configuration");
  refused("trapstart.wat",
          ABI MALLOC
          "(func (export \"proxy_on_configure\") (param i32 i32) (result i32) unreachable)",
          WP_ERR_TRAP, "proxy_on_configure");
}

/* ---- a tick that never returns --------------------------------------------------------------- */

static const char loop_tick_wat[] =
    "(module (import \"env\" \"proxy_set_tick_period_milliseconds\" (func $tick (param i32) (result i32)))\n" ABI MALLOC
    " (func (export \"proxy_on_configure\") (param i32 i32) (result i32)\n"
    "   (drop (call $tick (i32.const 5))) (i32.const 1))\n"
    " (func (export \"proxy_on_tick\") (param i32) (loop $l (br $l))))";

WP_TEST(test_tick_past_its_time) {
  wp_engine *e = adv_engine(4, 0);
  wp_pw_host *h;
  assert_ok(wp_pw_host_new(e, NULL, NULL, &h));
  wp_pw_config *cfg = wp_pw_config_new();
  wp_manifest *m = adv_manifest(0, 50);
  assert_ok(wp_pw_config_set_manifest(cfg, m));
  wp_manifest_free(m);
  wp_pw_plugin *p;
  assert_ok(wp_pw_plugin_load_bytes(h, "loop.wat", loop_tick_wat, strlen(loop_tick_wat), cfg, &p));
  wp_pw_config_free(cfg);
  wp_pw_worker *w;
  assert_ok(wp_pw_worker_new(h, NULL, &w));
  assert_ok(wp_pw_worker_start_plugin(w, p));
  /* Each tick is stopped at the plugin's timeout; the VM comes back for the next. */
  for (int round = 0; round < 2; round++) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
    double t0 = adv_now_ms();
    assert_error(wp_pw_worker_poll(w), WP_ERR_TIMEOUT, "proxy_on_tick");
    assert_true(adv_now_ms() - t0 < 2000);
    assert_true(wp_pw_worker_next_timeout_ms(w) <= 5);
  }
  wp_pw_worker_free(w);
  wp_pw_plugin_free(p);
  wp_pw_host_free(h);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_bad_argument_gets_its_status),
      cmocka_unit_test(test_load_refusals),
      cmocka_unit_test(test_tick_past_its_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
