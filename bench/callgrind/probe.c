/*
 * probe.c - wasmplug-callgrind-probe: runs one benchmark row's operation N
 * times, for bench/callgrind/run.sh to count its instructions under
 * callgrind (repeatable on a noisy machine, where times are not).
 *
 *   wasmplug-callgrind-probe ROW N
 *
 * The rows are those of `make bench` whose targets need the most care; each
 * performs the same operation as its row in bench/cases_*.c, without timing.
 * Pooling is off except in the pooled rows (callgrind cannot reserve the
 * pool's address space for many slots: those use one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug.h>
#include <wasmtime.h>

#define TYPES WP_PROBE_PLUGINS "/types-c-component.wasm"
#define HELLO WP_PROBE_PLUGINS "/hello-c.wasm"

typedef struct probe {
  wp_engine *engine;
  wp_plugin *plugin;
  wp_instance *inst;
  wp_pool *pool;
  wp_func_id fn;
  wp_value *arg;
  /* numeric_call_raw: numeric.wat's `add` through Wasmtime's C API alone,
     as bench/cases_core.c's baseline calls it. */
  wasm_engine_t *raw_engine;
  wasmtime_store_t *raw_store;
  wasmtime_context_t *raw_ctx;
  wasmtime_func_t raw_add;
} probe;

static int fail(wp_error *err) {
  fprintf(stderr, "wasmplug-callgrind-probe: %s\n", wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}

/* The pooled rows' engine: enough slots that a fresh pool keeps as many
   dead instances in a reused store as with wasmplug-bench's default 256
   (src/engine/engine.c: retain_max), few enough for valgrind, which cannot
   reserve much more than 64 GiB of address space (4 GiB a slot). */
#define PROBE_POOLING 14

static wp_error *setup(probe *pr, const char *path, const char *fn, uint32_t pooling,
                       bool trap_missing) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, pooling);
  wp_error *err = wp_engine_new(cfg, &pr->engine);
  wp_engine_config_free(cfg);
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, trap_missing);
  if (!err) err = wp_plugin_load(pr->engine, path, m, &pr->plugin);
  wp_manifest_free(m);
  if (!err) err = wp_plugin_find_func(pr->plugin, fn, &pr->fn);
  if (!err && !pooling) err = wp_instance_new(pr->plugin, &pr->inst);
  if (!err && pooling) err = wp_pool_new(pr->plugin, 1, 1, &pr->pool);
  return err;
}

static wp_error *raw_error(wasmtime_error_t *werr) {
  wasm_message_t msg;
  wasmtime_error_message(werr, &msg);
  wp_error *err = wp_error_new(WP_ERR_HOST, "probe: %.*s", (int)msg.size, msg.data);
  wasm_byte_vec_delete(&msg);
  wasmtime_error_delete(werr);
  return err;
}

static wp_error *raw_setup(probe *pr) {
  FILE *f = fopen(WP_PROBE_FIXTURES "/numeric.wat", "rb");
  char text[8192];
  size_t len = f ? fread(text, 1, sizeof text, f) : 0;
  if (f) fclose(f);
  if (!len) return wp_error_new(WP_ERR_IO, "probe: cannot read numeric.wat");
  wasm_byte_vec_t wasm;
  wasmtime_error_t *werr = wasmtime_wat2wasm(text, len, &wasm);
  if (werr) return raw_error(werr);
  /* Epoch interruption on, as wasmplug's engine and the bench's baseline. */
  wasm_config_t *cfg = wasm_config_new();
  wasmtime_config_epoch_interruption_set(cfg, true);
  pr->raw_engine = wasm_engine_new_with_config(cfg);
  wasmtime_module_t *module = NULL;
  werr = wasmtime_module_new(pr->raw_engine, (const uint8_t *)wasm.data, wasm.size, &module);
  wasm_byte_vec_delete(&wasm);
  if (werr) return raw_error(werr);
  pr->raw_store = wasmtime_store_new(pr->raw_engine, NULL, NULL);
  pr->raw_ctx = wasmtime_store_context(pr->raw_store);
  wasmtime_context_set_epoch_deadline(pr->raw_ctx, UINT64_C(1) << 40);
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  werr = wasmtime_instance_new(pr->raw_ctx, module, NULL, 0, &instance, &trap);
  wasmtime_module_delete(module);
  if (werr) return raw_error(werr);
  if (trap) {
    wasm_trap_delete(trap);
    return wp_error_new(WP_ERR_TRAP, "probe: numeric.wat trapped at instantiation");
  }
  wasmtime_extern_t item;
  if (!wasmtime_instance_export_get(pr->raw_ctx, &instance, "add", 3, &item) ||
      item.kind != WASMTIME_EXTERN_FUNC)
    return wp_error_new(WP_ERR_NOT_FOUND, "probe: numeric.wat exports no 'add'");
  pr->raw_add = item.of.func;
  return NULL;
}

static wp_error *invoke(probe *pr) {
  wp_value *r = NULL;
  wp_error *err = wp_instance_invoke_func(pr->inst, pr->fn, (const wp_value *const *)&pr->arg,
                                          pr->arg ? 1 : 0, &r);
  if (!err && pr->arg && !wp_value_equal(r, pr->arg))
    err = wp_error_new(WP_ERR_HOST, "probe: an echo returned something else");
  wp_value_free(r);
  return err;
}

/* One operation of each row (chosen once: no per-iteration dispatch). */
typedef wp_error *(*op_fn)(probe *pr, long i);

static wp_error *op_numeric(probe *pr, long i) {
  wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
  return wp_instance_call_func(pr->inst, pr->fn, args, 2, &res, 1);
}

static wp_error *op_numeric_raw(probe *pr, long i) {
  wasmtime_val_raw_t raw[2] = {{.i32 = (int32_t)i}, {.i32 = 1}};
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(pr->raw_ctx, &pr->raw_add, raw, 2, &trap);
  if (werr) wasmtime_error_delete(werr);
  if (trap) wasm_trap_delete(trap);
  return werr || trap ? wp_error_new(WP_ERR_TRAP, "probe: the raw call failed") : NULL;
}

static wp_error *op_bytes_echo(probe *pr, long i) {
  (void)i;
  static const char in[33] = "0123456789abcdef0123456789abcdef";
  const uint8_t *out;
  size_t len;
  return wp_instance_call_func_bytes(pr->inst, pr->fn, in, 32, &out, &len);
}

static wp_error *op_pooled_fresh(probe *pr, long i) {
  (void)i;
  wp_instance *inst;
  const uint8_t *out;
  size_t len;
  wp_error *err = wp_pool_take(pr->pool, &inst);
  if (err) return err;
  err = wp_instance_call_func_bytes(inst, pr->fn, "world", 5, &out, &len);
  wp_pool_release(pr->pool, inst);
  return err;
}

static wp_error *op_invoke(probe *pr, long i) {
  (void)i;
  return invoke(pr);
}

static wp_error *op_component_pooled_fresh(probe *pr, long i) {
  (void)i;
  wp_error *err = wp_pool_take(pr->pool, &pr->inst);
  if (!err) err = invoke(pr);
  wp_pool_release(pr->pool, pr->inst);
  pr->inst = NULL;
  return err;
}

static wp_error *prepare(probe *pr, const char *row, op_fn *op) {
  const char *xy[] = {"x", "y"};
  *op = op_invoke;
  if (!strcmp(row, "numeric_call")) {
    *op = op_numeric;
    return setup(pr, WP_PROBE_FIXTURES "/numeric.wat", "add", 0, false);
  }
  if (!strcmp(row, "numeric_call_raw")) {
    *op = op_numeric_raw;
    return raw_setup(pr);
  }
  if (!strcmp(row, "bytes_echo_32B")) {
    *op = op_bytes_echo;
    return setup(pr, WP_PROBE_FIXTURES "/echo.wat", "echo", 0, false);
  }
  if (!strcmp(row, "pooled_fresh_instance")) {
    *op = op_pooled_fresh;
    return setup(pr, HELLO, "greet", PROBE_POOLING, false);
  }
  if (!strcmp(row, "component_pooled_fresh")) {
    *op = op_component_pooled_fresh;
    return setup(pr, TYPES, "nop", PROBE_POOLING, true);
  }
  const char *fn = !strcmp(row, "component_nop")          ? "nop"
                   : !strcmp(row, "component_echo_32B")   ? "example:types/echo#echo-string"
                   : !strcmp(row, "component_echo_u32")   ? "example:types/echo#echo-u32"
                   : !strcmp(row, "component_echo_point") ? "example:types/echo#echo-point"
                                                          : NULL;
  if (!fn) return wp_error_new(WP_ERR_BAD_INPUT, "probe: unknown row '%s'", row);
  if (!strcmp(row, "component_echo_32B"))
    pr->arg = wp_value_new_string("0123456789abcdef0123456789abcdef");
  if (!strcmp(row, "component_echo_u32")) pr->arg = wp_value_new_u32(4000000000u);
  if (!strcmp(row, "component_echo_point"))
    pr->arg = wp_value_new_record(xy, (wp_value *[]){wp_value_new_s32(-7), wp_value_new_s32(9)}, 2);
  return setup(pr, TYPES, fn, 0, true);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: wasmplug-callgrind-probe ROW N\n");
    return 2;
  }
  probe pr = {0};
  op_fn op;
  wp_error *err = prepare(&pr, argv[1], &op);
  long n = atol(argv[2]);
  for (long i = 0; !err && i < n; i++) err = op(&pr, i);
  int rc = err ? fail(err) : 0;
  wp_value_free(pr.arg);
  wp_instance_free(pr.inst);
  wp_pool_free(pr.pool);
  wp_plugin_free(pr.plugin);
  wp_engine_free(pr.engine);
  if (pr.raw_store) wasmtime_store_delete(pr.raw_store);
  if (pr.raw_engine) wasm_engine_delete(pr.raw_engine);
  return rc;
}
