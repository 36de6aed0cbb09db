#!/usr/bin/env bash
# Installs wasmplug into a temporary prefix and builds the example host
# against it twice, through pkg-config and through find_package(wasmplug),
# then runs both binaries on the C hello plugin.
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

# pkg-config
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror "$src/examples/host/host.c" -o "$tmp/host-pc" \
   $(pkg-config --cflags --libs wasmplug) || fail "building against pkg-config wasmplug"
out=$("$tmp/host-pc" "$build/plugins/hello-c.wasm" greet world 2>/dev/null)
[ "$out" = "Hello, world!" ] || fail "pkg-config build printed '$out'"

# CMake package
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(wasmplug 0.1 REQUIRED)
add_executable(host-cmake $src/examples/host/host.c)
target_link_libraries(host-cmake PRIVATE wasmplug::wasmplug)
CMAKE
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null \
  || fail "configuring against find_package(wasmplug)"
cmake --build "$tmp/consumer/build" >/dev/null || fail "building against find_package(wasmplug)"
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/build/host-cmake" "$build/plugins/hello-c.wasm" greet world 2>/dev/null)
[ "$out" = "Hello, world!" ] || fail "CMake package build printed '$out'"

# The installed CLI runs from the prefix.
out=$("$tmp/prefix/bin/wasmplug" call "$build/plugins/hello-c.wasm" greet --input world --log off)
[ "$out" = "Hello, world!" ] || fail "installed CLI printed '$out'"
echo "install: ok"
