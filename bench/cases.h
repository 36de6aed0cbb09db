/*
 * cases.h - what wasmplug-bench measures, one file per topic:
 *
 *   cases_core.c       numeric calls, bytes calls, guest-to-host calls, and
 *                      their raw Wasmtime C API baselines; the same calls in
 *                      process isolation beside in-process; the shared setup
 *   cases_instance.c   instances, pools, loading (cold and cached)
 *   cases_component.c  component calls, and the Rust harness's baselines
 *   cases_proxywasm.c  a Proxy-Wasm filter's cost per HTTP stream (Rust and Go SDKs)
 *   cases_keyvalue.c   keyvalue get/set from a component, beside C on each backend
 *   cases_httpout.c    a GET through the outbound HTTP capability, beside libcurl
 *   cases_dl.c         zlib's crc32 through wasi:dl from a component, beside C
 *
 * Each topic measures its rows with the harness (harness.h) and then states
 * their baselines and targets. A new row goes into its topic's file, next to
 * the row it is compared with.
 */
#ifndef WP_BENCH_CASES_H
#define WP_BENCH_CASES_H

#include <wasmplug.h>

#ifndef WP_BENCH_FIXTURES
#error "WP_BENCH_FIXTURES (the .wat fixture directory) must be defined by the build"
#endif
#ifndef WP_BENCH_PLUGINS
#error "WP_BENCH_PLUGINS (the built example plugins) must be defined by the build"
#endif
#ifndef WP_BENCH_GUESTS
#define WP_BENCH_GUESTS 1
#endif

/*
 * What the cases share, made once before anything is measured: the engine
 * (defaults, pooling on, no disk cache, the test.* host functions) and the
 * plugins, each with one instance and the export that is called.
 * hello-c is only there when the example plugins were built.
 */
typedef struct bench_env {
  wp_engine *engine;
  wp_plugin *numeric, *echo, *host, *hello;
  wp_instance *numeric_inst, *echo_inst, *host_inst, *hello_inst;
  wp_func_id add, echo_fn, call_nop, greet;
} bench_env;

/* Makes the raw Wasmtime baselines' engine, then `env` (cases_core.c). */
wp_error *bench_setup(bench_env *env);

/* Frees all bench_setup made, even after it failed part way. */
void bench_teardown(bench_env *env);

/* Numeric, bytes and guest-to-host calls, in-process and isolated (cases_core.c). */
wp_error *bench_core(bench_env *env);

/* Instances, pools and loads; needs the example plugins (cases_instance.c). */
wp_error *bench_instances(bench_env *env);

/* Component calls; `rust_harness` (may be NULL) adds Wasmtime's Rust API as
   their baseline. Skipped, with a note, without the types component
   (cases_component.c). */
wp_error *bench_components(bench_env *env, const char *rust_harness);

/* Proxy-Wasm streams through the example header filters; needs them built
   (cases_proxywasm.c). */
wp_error *bench_proxywasm(bench_env *env);

/* keyvalue get/set of 100 B from a component on each backend, beside the same
   operation from C on that backend; needs tests/keyvalue's guests
   (cases_keyvalue.c). */
wp_error *bench_keyvalue(bench_env *env);

/* A GET from a core plugin through the outbound HTTP capability, beside the
   same GET made with libcurl; needs tests/httpout's guest (cases_httpout.c). */
wp_error *bench_httpout(bench_env *env);

/* zlib's crc32 over 32 B from a component through wasi:dl (libffi), beside
   the same crc32 called from C; needs tests/dl's guest (cases_dl.c). */
wp_error *bench_dl(bench_env *env);

#endif
