#!/usr/bin/env bash
# Builds Wasmtime's C API (this crate) once per version+features+sources and
# installs it into a cache outside the clone, then links it into OUT.
#
#   deps/wasmtime/build.sh OUT_DIR
#
# Leaves OUT_DIR/include (wasm.h, wasi.h, wasmtime.h, wasmtime/..., and our
# wasmplug_ext.h declaring the Rust extensions in src/) and
# OUT_DIR/lib (libwasmplug_wasmtime.so, libwasmplug_wasmtime.a).
# The cache lives in $WASMPLUG_CACHE (default ~/.cache/wasmplug); a cold
# build on 2 cores takes a while, later builds are a copy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}

version=$(sed -n 's/.*wasmtime-c-api-impl = { version = "=\([^"]*\)".*/\1/p' "$here/Cargo.toml")
# The key covers everything that changes the produced library.
key=$(cat "$here/Cargo.toml" "$here/Cargo.lock" "$here"/src/*.rs "$here"/include/*.h | sha256sum | cut -c1-16)
prefix="$cache/wasmtime-$version-$key"
# One cargo target dir per version, so an edit to src/*.rs rebuilds only our crate.
target="$cache/wasmtime-$version-target"

if [ ! -f "$prefix/.complete" ]; then
  echo "wasmtime $version: building into $prefix (cold builds take 15-30 min on 2 cores)" >&2
  start=$(date +%s)
  CARGO_TARGET_DIR="$target" cargo build --release --locked \
      --manifest-path "$here/Cargo.toml"
  rm -rf "$prefix.tmp" && mkdir -p "$prefix.tmp/lib" "$prefix.tmp/include"
  cp "$target/release/libwasmplug_wasmtime.so" "$target/release/libwasmplug_wasmtime.a" "$prefix.tmp/lib/"
  # The C API's build script installs headers (with the generated conf.h) into its OUT_DIR.
  inc=$(ls -td "$target"/release/build/wasmtime-c-api-impl-*/out/include | head -1)
  cp -r "$inc"/. "$prefix.tmp/include/"
  # Our extensions' declarations, next to wasmtime.h.
  cp "$here"/include/*.h "$prefix.tmp/include/"
  echo "$(( $(date +%s) - start ))" > "$prefix.tmp/build-seconds"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix" && touch "$prefix/.complete"
  echo "wasmtime $version: built in $(cat "$prefix/build-seconds") s" >&2
fi

mkdir -p "$out"
rm -rf "$out/include" "$out/lib"
cp -r "$prefix/include" "$prefix/lib" "$out/"
