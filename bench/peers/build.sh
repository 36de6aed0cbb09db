#!/usr/bin/env bash
# Builds what `make bench-peers` needs beside wasmplug's own build, once, into
# a cache outside the clone, and copies it to OUT_DIR:
#   OUT_DIR/wasmplug-bench-peers   the Extism harness (this crate, src/main.rs)
#   OUT_DIR/hello-go-extism.wasm   the Extism Go guest (guests/hello-go)
#
#   bench/peers/build.sh OUT_DIR
#
# The extism crate brings its own Wasmtime (not wasmplug's 48.0.8), a long
# compile (15-30 min on 2 cores): its cargo target dir is
# $WASMPLUG_CACHE/peers/extism-<version>-<Cargo.lock hash>-target, so it is
# compiled once per Cargo.lock, and later source changes relink this crate only.
# The cache lives in $WASMPLUG_CACHE (default ~/.cache/wasmplug).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}/peers
jobs=${PEERS_JOBS:-2}

fail() {
  echo "bench/peers: $*" >&2
  exit 1
}

command -v cargo >/dev/null || fail "cargo not found: install Rust (rustup), as deps/setup.sh says"
command -v go >/dev/null || fail "go not found: Go 1.24+ builds the Extism Go guest (deps/setup.sh)"

version=$(sed -n 's/^extism = { version = "=\([^"]*\)".*/\1/p' "$here/Cargo.toml")
[ -n "$version" ] || fail "no pinned extism version in $here/Cargo.toml"
lock=$(sha256sum "$here/Cargo.lock" | cut -c1-12)
target="$cache/extism-$version-$lock-target"
key=$(cat "$here/Cargo.toml" "$here/Cargo.lock" "$here"/src/*.rs | sha256sum | cut -c1-16)
prefix="$cache/harness-$key"

if [ ! -f "$prefix/.complete" ]; then
  echo "bench/peers: building the Extism $version harness (target dir $target)" >&2
  start=$(date +%s)
  if ! CARGO_TARGET_DIR="$target" cargo build --release --locked -j "$jobs" \
      --manifest-path "$here/Cargo.toml"; then
    fail "cargo could not build the Extism harness (extism $version, Rust $(rustc --version 2>/dev/null | cut -d' ' -f2)); see the errors above. Cargo.lock pins what builds with Rust 1.95: regenerate it with CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo generate-lockfile only when bumping extism"
  fi
  rm -rf "$prefix.tmp" && mkdir -p "$prefix.tmp"
  cp "$target/release/wasmplug-bench-peers" "$prefix.tmp/"
  echo "$(( $(date +%s) - start ))" > "$prefix.tmp/build-seconds"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix" && touch "$prefix/.complete"
  echo "bench/peers: built in $(cat "$prefix/build-seconds") s" >&2
fi

gokey=$( (go version; cat "$here"/guests/hello-go/go.mod "$here"/guests/hello-go/*.go) | sha256sum | cut -c1-16)
guest="$cache/hello-go-extism-$gokey.wasm"
if [ ! -f "$guest" ]; then
  echo "bench/peers: building the Extism Go guest" >&2
  (cd "$here/guests/hello-go" && GOOS=wasip1 GOARCH=wasm GOFLAGS=-mod=mod \
     go build -buildmode=c-shared -o "$guest.tmp" .) ||
    fail "go could not build guests/hello-go"
  mv "$guest.tmp" "$guest"
fi

mkdir -p "$out"
cp "$prefix/wasmplug-bench-peers" "$out/wasmplug-bench-peers.tmp"
mv "$out/wasmplug-bench-peers.tmp" "$out/wasmplug-bench-peers"
cp "$guest" "$out/hello-go-extism.wasm"
