#!/usr/bin/env bash
# Installs wasmplug into a temporary prefix and builds the example host
# against it twice, through pkg-config and through find_package(wasmplug),
# then runs both binaries on the C hello plugin. Also builds two programs
# through pkg-config: one that includes a focused header alone
# (<wasmplug/error.h>), one that includes only <wasmplug.h> and calls into
# every header's part of the API (so each is installed, and exported from
# libwasmplug.so).
#   test_install.sh BUILD_DIR SOURCE_DIR [--sanitized]
set -euo pipefail
if [ "${3:-}" = --sanitized ]; then
  echo "SKIP: a plain consumer cannot load a library built with -fsanitize; the release build runs this test"
  exit 77
fi
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/wasmplug.h lib/libwasmplug.so lib/libwasmplug.a lib/libwasmplug_wasmtime.so \
         lib/pkgconfig/wasmplug.pc lib/cmake/wasmplug/wasmplugConfig.cmake bin/wasmplug; do
  [ -e "$tmp/prefix/$f" ] || fail "install is missing $f"
done
for h in "$src"/include/wasmplug/*.h; do
  [ -e "$tmp/prefix/include/wasmplug/${h##*/}" ] || fail "install is missing include/wasmplug/${h##*/}"
done

# pkg-config
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror "$src/examples/host/host.c" -o "$tmp/host-pc" \
   $(pkg-config --cflags --libs wasmplug) || fail "building against pkg-config wasmplug"
out=$("$tmp/host-pc" "$build/plugins/hello-c.wasm" greet world 2>/dev/null)
[ "$out" = "Hello, world!" ] || fail "pkg-config build printed '$out'"

# One focused header alone.
cat > "$tmp/error-only.c" <<'C'
#include <wasmplug/error.h>
#include <stdio.h>
int main(void) {
  wp_error *err = wp_error_new(WP_ERR_NOT_FOUND, "no %s", "thing");
  printf("%s: %s\n", wp_error_kind_name(wp_error_get_kind(err)), wp_error_get_message(err));
  wp_error_free(err);
  return 0;
}
C
cc -std=c11 -Wall -Wextra -Werror -pedantic "$tmp/error-only.c" -o "$tmp/error-only" \
   $(pkg-config --cflags --libs wasmplug) || fail "building a program that includes <wasmplug/error.h> alone"
out=$("$tmp/error-only")
[ "$out" = "not found: no thing" ] || fail "<wasmplug/error.h> program printed '$out'"

# Only the umbrella header, and a call into each focused header's functions.
cat > "$tmp/umbrella.c" <<'C'
#include <wasmplug.h>
#include <stdio.h>
#include <string.h>
static wp_error *add(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                     size_t nresults, void *user_data) {
  (void)call, (void)nargs, (void)nresults, (void)user_data;
  results[0] = WP_VAL_I32(args[0].of.i32 + args[1].of.i32);
  return NULL;
}
static wp_error *echo(wp_host_call *call, const wp_value *const *args, size_t nargs,
                      wp_value **result, void *user_data) {
  (void)call, (void)args, (void)nargs, (void)result, (void)user_data;
  return NULL;
}
static int check(wp_error *err) {
  if (!err) return 0;
  fprintf(stderr, "%s\n", wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}
int main(int argc, char **argv) {
  const wp_valkind ii[2] = {WP_I32, WP_I32};
  wp_engine_config *cfg = wp_engine_config_new();                  /* engine.h */
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine *engine;
  if (argc != 2 || check(wp_engine_new(cfg, &engine))) return 1;
  wp_engine_config_free(cfg);
  if (check(wp_engine_define_func(engine, "env", "add", ii, 2, ii, 1, add, NULL, NULL)))
    return 1;                                                      /* host.h, numeric.h */
  if (check(wp_engine_define_component_func(engine, "example:x/y", "echo", echo, NULL, NULL)))
    return 1;                                                      /* component.h */
  wp_manifest *m = wp_manifest_new();                              /* manifest.h */
  uint64_t size = 0;
  if (!wp_parse_size("1MiB", &size) || check(wp_manifest_set_name(m, "hello"))) return 1;
  wp_plugin *plugin;                                               /* plugin.h */
  if (check(wp_plugin_load(engine, argv[1], m, &plugin))) return 1;
  wp_manifest_free(m);
  wp_pool *pool;                                                   /* pool.h */
  wp_instance *inst;                                               /* instance.h */
  const char *out;
  if (check(wp_pool_new(plugin, 0, 1, &pool)) || check(wp_pool_take(pool, &inst)) ||
      check(wp_instance_call_string(inst, "greet", "world", &out)))
    return 1;
  printf("%s %s %s %s ", WASMPLUG_VERSION, wp_plugin_get_name(plugin), out,
         wp_valkind_name(WP_I32));
  wp_pool_release(pool, inst);
  wp_pool_free(pool);
  wp_value *v = wp_value_new_string("hi");                         /* value.h */
  char *wave = wp_value_to_wave(v);
  printf("%s %s %s\n", wave, wp_type_kind_name(wp_value_get_kind(v)),   /* wit.h */
         wp_error_kind_name(WP_ERR_TRAP));                         /* error.h */
  wp_free(wave);                                                   /* common.h */
  wp_value_free(v);
  wp_plugin_free(plugin);
  wp_engine_free(engine);
  return 0;
}
C
cc -std=c11 -Wall -Wextra -Werror -pedantic "$tmp/umbrella.c" -o "$tmp/umbrella" \
   $(pkg-config --cflags --libs wasmplug) || fail "building a program that includes only <wasmplug.h>"
out=$("$tmp/umbrella" "$build/plugins/hello-c.wasm" 2>&1)
[ "$out" = "$(pkg-config --modversion wasmplug) hello Hello, world! i32 \"hi\" string trap" ] || fail "<wasmplug.h> program printed '$out'"

# The server library through pkg-config wasmplug-server: a program that
# serves a native route and a plugin route on port 0, asked over a socket.
cat > "$tmp/embed-server.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmplug.h>
#include <wasmplug/server.h>
int main(int argc, char **argv) {
  (void)argc;
  char cfg[4096];
  snprintf(cfg, sizeof cfg,
           "{\"listen\": \"127.0.0.1:0\", \"access_log\": \"off\", \"watch\": false,"
           " \"plugins\": {\"h\": {\"path\": \"%s\"}},"
           " \"routes\": [{\"match\": {\"path\": \"/...\"}, \"plugin\": \"h\"}]}", argv[1]);
  wp_engine *e;
  wp_server *srv;
  wp_error *err = wp_engine_new(NULL, &e);
  if (!err) err = wp_server_new(e, cfg, strlen(cfg), NULL, &srv);
  if (!err) err = wp_server_start(srv);
  if (err) { fprintf(stderr, "%s\n", wp_error_get_message(err)); return 1; }
  char cmd[256];
  snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%u/embedded", wp_server_get_port(srv));
  int rc = system(cmd);
  wp_server_stop(srv, 1000);
  wp_server_free(srv);
  wp_engine_free(e);
  return rc == 0 ? 0 : 1;
}
C
[ -e "$tmp/prefix/lib/pkgconfig/wasmplug-server.pc" ] || fail "install is missing lib/pkgconfig/wasmplug-server.pc"
cc -std=c11 -Wall -Wextra -Werror "$tmp/embed-server.c" -o "$tmp/embed-server" \
   $(pkg-config --cflags --libs wasmplug-server) || fail "building against pkg-config wasmplug-server"
out=$("$tmp/embed-server" "$build/plugins/http-hello-c.wasm" 2>&1)
[ "$out" = "Hello from C (core)! You asked for GET /embedded" ] || fail "embedded server answered '$out'"

# CMake package
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(wasmplug 0.1 REQUIRED)
add_executable(host-cmake $src/examples/host/host.c)
target_link_libraries(host-cmake PRIVATE wasmplug::wasmplug)
add_executable(host-cmake-static $src/examples/host/host.c)
target_link_libraries(host-cmake-static PRIVATE wasmplug::wasmplug_static)
CMAKE
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null \
  || fail "configuring against find_package(wasmplug)"
cmake --build "$tmp/consumer/build" >/dev/null || fail "building against find_package(wasmplug)"
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/build/host-cmake" "$build/plugins/hello-c.wasm" greet world 2>/dev/null)
[ "$out" = "Hello, world!" ] || fail "CMake package build printed '$out'"
# The static target links everything in: no libwasmplug*.so needed at run time.
ldd "$tmp/consumer/build/host-cmake-static" | grep -q libwasmplug \
  && fail "host-cmake-static still needs a shared libwasmplug"
out=$("$tmp/consumer/build/host-cmake-static" "$build/plugins/hello-c.wasm" greet world 2>/dev/null)
[ "$out" = "Hello, world!" ] || fail "CMake package static build printed '$out'"

# The installed CLI runs from the prefix.
out=$("$tmp/prefix/bin/wasmplug" call "$build/plugins/hello-c.wasm" greet --input world --log off)
[ "$out" = "Hello, world!" ] || fail "installed CLI printed '$out'"
echo "install: ok"
