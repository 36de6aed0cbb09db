#!/usr/bin/env bash
# Builds the Rust typed-call benchmark harness (this crate) once per
# Cargo.toml+Cargo.lock+sources, caches the binary outside the clone, then
# copies it to OUT_BIN.
#
#   bench/rust/build.sh OUT_BIN
#
# It shares deps/wasmtime's cargo target dir and, by construction (see
# Cargo.toml), every compiled Wasmtime crate in it: after deps/wasmtime/build.sh
# this compiles only this crate (a few seconds). Run cold it builds Wasmtime
# itself (15-30 min on 2 cores), which deps/wasmtime/build.sh then reuses.
# The cache lives in $WASMPLUG_CACHE (default ~/.cache/wasmplug).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_BIN}
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}

version=$(sed -n 's/^wasmtime = { version = "=\([^"]*\)".*/\1/p' "$here/Cargo.toml")
key=$(cat "$here/Cargo.toml" "$here/Cargo.lock" "$here"/src/*.rs | sha256sum | cut -c1-16)
prefix="$cache/bench-rust-$key"
target="$cache/wasmtime-$version-target"

if [ ! -f "$prefix/.complete" ]; then
  echo "bench/rust: building into $prefix" >&2
  start=$(date +%s)
  CARGO_TARGET_DIR="$target" cargo build --release --locked \
      --manifest-path "$here/Cargo.toml"
  rm -rf "$prefix.tmp" && mkdir -p "$prefix.tmp"
  cp "$target/release/wasmplug-bench-rust" "$prefix.tmp/"
  echo "$(( $(date +%s) - start ))" > "$prefix.tmp/build-seconds"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix" && touch "$prefix/.complete"
  echo "bench/rust: built in $(cat "$prefix/build-seconds") s" >&2
fi

mkdir -p "$(dirname "$out")"
cp "$prefix/wasmplug-bench-rust" "$out.tmp" && mv "$out.tmp" "$out"
