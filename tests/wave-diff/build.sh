#!/usr/bin/env bash
# Builds the wasm-wave half of the WAVE differential test (this crate) once
# per Cargo.toml+Cargo.lock+sources, caches the binary outside the clone,
# then copies it to OUT_BIN.
#
#   tests/wave-diff/build.sh OUT_BIN
#
# A cold build compiles wasm-wave and its few dependencies (logos, thiserror,
# syn...), about 20 s on 2 cores; later builds are a copy. It has its own
# cargo target dir rather than Wasmtime's: none of Wasmtime's compiled
# crates would be reused (another profile and other features), and it would
# have to wait for the lock of a Wasmtime build running at the same time.
# Crates already in ~/.cargo are used offline; others are fetched.
# The cache lives in $WASMPLUG_CACHE (default ~/.cache/wasmplug).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_BIN}
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}

key=$(cat "$here/Cargo.toml" "$here/Cargo.lock" "$here"/src/*.rs | sha256sum | cut -c1-16)
prefix="$cache/wave-diff-$key"
target="$cache/wave-diff-target"
bin=wasmplug-wave-diff

mkdir -p "$cache"
exec 9>"$cache/wave-diff.lock" # two build trees may run this at once
flock 9
if [ ! -f "$prefix/.complete" ]; then
  echo "wave-diff: building into $prefix" >&2
  start=$(date +%s)
  build() { CARGO_TARGET_DIR="$target" cargo build --locked "$@" --manifest-path "$here/Cargo.toml"; }
  build --offline 2>/dev/null || build
  rm -rf "$prefix.tmp" && mkdir -p "$prefix.tmp"
  cp "$target/debug/$bin" "$prefix.tmp/"
  echo "$(( $(date +%s) - start ))" > "$prefix.tmp/build-seconds"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix" && touch "$prefix/.complete"
  echo "wave-diff: built in $(cat "$prefix/build-seconds") s" >&2
fi

mkdir -p "$(dirname "$out")"
cp "$prefix/$bin" "$out.tmp" && mv "$out.tmp" "$out"
