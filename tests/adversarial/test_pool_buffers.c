/*
 * test_pool_buffers.c - issue 7, item 10: a pooled instance that once
 * produced a huge output must not keep it while idle. A plugin returns
 * 4 MiB (through a host function's 4 MiB result) and writes 512 KiB to
 * stdout and stderr (captured); after wp_pool_release the idle instance's
 * buffers are back under the threshold, small ones are kept for reuse, and
 * the next calls, small and big, work.
 *
 * Reads the instance's internal buffers (instance/instance.h): the point is
 * memory the API does not show.
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

#include "instance/instance.h"

/* WP_POOL_IDLE_BUF_MAX in src/instance/pool.c. */
#define IDLE_BUF_MAX (64u << 10)

#define BIG_OUT (4u << 20)
#define BIG_STDIO (512u << 10)

/*
 * "sized" takes [n: u32, s: u32]; it asks the host function test.produce
 * for n bytes, writes s bytes to stdout and to stderr, and returns the
 * host's bytes as its output.
 */
static const char plugin_wat[] =
    "(module\n"
    "  (import \"test\" \"produce\" (func $produce (param i32 i32 i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
    "    (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $heap (mut i32) (i32.const 1024))\n"
    "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
    "    (local $p i32)\n"
    "    (local.set $p (global.get $heap))\n"
    "    (global.set $heap (i32.add (local.get $p) (local.get 3)))\n"
    "    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))\n"
    "      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap)\n"
    "                 (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1)))\n"
    "                 (i32.const -1)) (then unreachable))))\n"
    "    (local.get $p))\n"
    "  (func (export \"cabi_post_sized\") (param i32) (global.set $heap (i32.const 1024)))\n"
    "  (func (export \"sized\") (param $ptr i32) (param $len i32) (result i32)\n"
    "    (call $produce (local.get $ptr) (i32.const 4) (i32.const 8))\n"
    "    (i32.store (i32.const 16) (i32.const 0))\n"
    "    (i32.store (i32.const 20) (i32.load offset=4 (local.get $ptr)))\n"
    "    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))\n"
    "    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 24)))\n"
    "    (i32.const 8)))\n";

/* test.produce: n bytes of 'h', n read from the guest's 4-byte input. */
static wp_error *produce(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  (void)ud;
  uint32_t n;
  if (len != 4) return wp_error_new(WP_ERR_HOST, "produce takes 4 bytes, got %zu", len);
  memcpy(&n, input, 4);
  uint8_t *bytes = malloc(n ? n : 1);
  if (!bytes) return wp_error_new(WP_ERR_HOST, "out of memory");
  memset(bytes, 'h', n);
  wp_error *err = wp_host_call_set_output(call, bytes, n);
  free(bytes);
  return err;
}

typedef struct pool_env {
  wp_engine *engine;
  wp_plugin *plugin;
  wp_pool *pool;
} pool_env;

static void env_open(pool_env *env) {
  env->engine = test_engine();
  assert_ok(wp_engine_define_bytes(env->engine, "test", "produce", produce, NULL, NULL));
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_stdout(m, WP_STDIO_CAPTURE, NULL, NULL);
  wp_manifest_set_stderr(m, WP_STDIO_CAPTURE, NULL, NULL);
  assert_ok(wp_plugin_load_bytes(env->engine, "sized.wat", plugin_wat, sizeof plugin_wat - 1, m,
                                 &env->plugin));
  wp_manifest_free(m);
  assert_ok(wp_pool_new(env->plugin, 0, 2, &env->pool));
}

static void env_close(pool_env *env) {
  wp_pool_free(env->pool);
  wp_plugin_free(env->plugin);
  wp_engine_free(env->engine);
}

/* Calls "sized" for n output bytes and s bytes of stdout/stderr; checks them
   (captured output accumulates over an instance's calls until it is released). */
static void call_sized(wp_instance *inst, uint32_t n, uint32_t s) {
  uint32_t in[2] = {n, s};
  const uint8_t *out;
  size_t out_len, out_before, err_before, std_len;
  wp_instance_get_stdout(inst, &out_before);
  wp_instance_get_stderr(inst, &err_before);
  assert_ok(wp_instance_call_bytes(inst, "sized", in, sizeof in, &out, &out_len));
  assert_int_equal(out_len, n);
  if (n) assert_true(out[0] == 'h' && out[n - 1] == 'h');
  wp_instance_get_stdout(inst, &std_len);
  assert_int_equal(std_len, out_before + s);
  wp_instance_get_stderr(inst, &std_len);
  assert_int_equal(std_len, err_before + s);
}

static size_t largest_buffer(const wp_instance *inst) {
  size_t caps[] = {inst->out.cap, inst->host_out.cap, inst->stdout_buf.cap, inst->stderr_buf.cap};
  size_t max = 0;
  for (size_t i = 0; i < 4; i++)
    if (caps[i] > max) max = caps[i];
  return max;
}

WP_TEST(test_idle_instance_drops_big_buffers) {
  pool_env env;
  env_open(&env);
  wp_instance *inst;
  assert_ok(wp_pool_take(env.pool, &inst));
  call_sized(inst, BIG_OUT, BIG_STDIO);
  /* Before release the instance does hold the big buffers. */
  assert_true(inst->out.cap > BIG_OUT && inst->host_out.cap > BIG_OUT);
  assert_true(inst->stdout_buf.cap > BIG_STDIO && inst->stderr_buf.cap > BIG_STDIO);

  wp_instance *idle = inst;
  wp_pool_release(env.pool, inst);
  /* Still pooled (not freed), so its fields may be read: all under the threshold. */
  assert_true(largest_buffer(idle) <= IDLE_BUF_MAX);
  assert_null(idle->out.data);
  assert_int_equal(idle->out.len + idle->stdout_buf.len + idle->stderr_buf.len, 0);

  /* The same instance comes back and works, for a small call and a big one. */
  assert_ok(wp_pool_take(env.pool, &inst));
  assert_ptr_equal(inst, idle);
  call_sized(inst, 16, 16);
  call_sized(inst, BIG_OUT, BIG_STDIO);
  call_sized(inst, 16, 16);
  wp_pool_release(env.pool, inst);
  assert_true(largest_buffer(idle) <= IDLE_BUF_MAX);
  adv_engine_still_works(env.engine);
  env_close(&env);
}

/* Buffers under the threshold are kept, so small calls reuse them. */
WP_TEST(test_idle_instance_keeps_small_buffers) {
  pool_env env;
  env_open(&env);
  wp_instance *inst;
  assert_ok(wp_pool_take(env.pool, &inst));
  call_sized(inst, 1000, 100);
  const uint8_t *kept = inst->out.data;
  size_t cap = inst->out.cap;
  assert_true(cap > 0 && cap <= IDLE_BUF_MAX);
  wp_pool_release(env.pool, inst);
  assert_ptr_equal(inst->out.data, kept);
  assert_int_equal(inst->out.cap, cap);
  assert_non_null(inst->stdout_buf.data);

  wp_instance *again;
  assert_ok(wp_pool_take(env.pool, &again));
  assert_ptr_equal(again, inst);
  call_sized(again, 1000, 100);
  assert_ptr_equal(again->out.data, kept); /* no new allocation */
  wp_pool_release(env.pool, again);
  env_close(&env);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_instance_drops_big_buffers),
      cmocka_unit_test(test_idle_instance_keeps_small_buffers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
