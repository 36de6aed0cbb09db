/*
 * main.c - wasmplug-bench: what the library adds on top of raw Wasmtime for
 * calls, bytes calls, guest-to-host calls, instances, loads and components.
 *
 *   wasmplug-bench [--out PATH] [--quick] [--rust-harness PATH] [--only GROUP,...]
 *
 * --only measures some groups (core, instances, components, proxywasm,
 * keyvalue, httpout, dl), e.g. while working on one.
 * --rust-harness runs bench/rust (the same component called through
 * Wasmtime's Rust API with typed functions) and adds its figures as the
 * baselines of the component rows.
 *
 * Prints a table and writes a JSON list of {"name", "unit", "median", ...}.
 * harness.h says how figures are measured; cases.h where each row lives.
 */
#include <stdio.h>

#include "cases.h"
#include "harness.h"

int main(int argc, char **argv) {
  bench_opts o;
  if (!bench_parse_args(argc, argv, &o)) return 2;
  fprintf(stderr, "wasmplug-bench%s: measuring (progress on stderr, table on stdout)\n",
          bench_quick() ? " --quick" : "");
  bench_env env = {0};
  wp_error *err = bench_setup(&env);
  bool g = WP_BENCH_GUESTS;
  if (!err && bench_wants(&o, "core")) err = bench_core(&env);
  if (!err && g && bench_wants(&o, "instances")) err = bench_instances(&env);
  if (!err && g && bench_wants(&o, "components")) err = bench_components(&env, o.rust_harness);
  if (!err && g && WP_BENCH_FILTERS && bench_wants(&o, "proxywasm")) err = bench_proxywasm(&env);
  if (!err && g && bench_wants(&o, "keyvalue")) err = bench_keyvalue(&env);
  if (!err && g && bench_wants(&o, "httpout")) err = bench_httpout(&env);
  if (!err && g && bench_wants(&o, "dl")) err = bench_dl(&env);
  bench_teardown(&env);
  bench_free_all_temp_dirs();
  if (!err) {
    bench_print_table();
    if (!WP_BENCH_GUESTS)
      printf("(example plugins not built (WASMPLUG_GUESTS=OFF): hello-c/hello-go rows skipped)\n");
    err = bench_write_json(o.out);
  }
  if (!err) return 0;
  fprintf(stderr, "wasmplug-bench: %s error: %s\n", wp_error_kind_name(wp_error_get_kind(err)),
          wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}
