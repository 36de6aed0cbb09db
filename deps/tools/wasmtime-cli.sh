#!/usr/bin/env bash
# Builds `wasmtime` (the wasmtime-cli crate, at the Wasmtime version wasmplug
# pins) once, with only what `wasmtime serve` needs, caches it outside the
# clone, then copies it to OUT_PATH. It is the baseline of `make bench-http`.
#
#   deps/tools/wasmtime-cli.sh OUT_PATH
#
# Cache: ${WASMPLUG_CACHE:-~/.cache/wasmplug}/wasmtime-cli-<version>-<key>/bin/wasmtime,
# the key a hash of this script (so of the version and the features). The
# cargo target dir, wasmtime-cli-<version>-target beside it, is kept, so a
# change of features recompiles only what it changes. Cold: 6 minutes on two
# cores (crate sources already downloaded); cached: no cargo, no network.
# Concurrent runs wait for each other (flock).
set -euo pipefail

VERSION=48.0.8                    # = Wasmtime (deps/wasmtime/Cargo.toml)
# What `serve` needs, read from wasmtime-cli 48.0.8's Cargo.toml and sources:
#   serve              the command; brings wasi-http and component-model
#   run                serve.rs uses wasmtime_wasi and common.rs (RunCommon),
#                      which only "run" (or "wizer") compiles in
#   component-model-async  serve.rs (48.0.8) uses `futures` and ProxyPre::P3
#                      without a cfg, and only this feature brings them: serve
#                      alone fails to compile (E0433, E0599). It makes -S p3
#                      the default, which changes nothing for 0.2.x handlers
#   cranelift          a compiler; without it (or winch) nothing is compiled
#   pooling-allocator  serve turns the pooling allocator on by default where
#                      the address space allows; without the feature it
#                      stops with "support for pooling-allocator disabled"
#   parallel-compilation  compile on every core at start-up, as wasmplug's
#                      engine does (componentize-py handlers are tens of MB)
#   clap/default       part of the crate's defaults: without it clap has no
#                      --help and its errors say only "unexpected argument"
# Left out: cache, wat, gc, winch, pulley, wasi-nn/config/keyvalue/tls,
# debug, profiling, and the other commands. -S cli=y (which componentize-py
# and componentize-js handlers need) is part of serve itself.
FEATURES=run,serve,component-model-async,cranelift,pooling-allocator,parallel-compilation,clap/default

out=${1:?usage: wasmtime-cli.sh OUT_PATH}
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}
key=$(sha256sum "$0" | cut -c1-16)
prefix="$cache/wasmtime-cli-$VERSION-$key"
target="$cache/wasmtime-cli-$VERSION-target"

log() { echo "wasmtime-cli: $*" >&2; }

build() {
  command -v cargo >/dev/null || { log "cargo is required (Rust, from rustup)"; exit 1; }
  log "cargo install wasmtime-cli $VERSION --features $FEATURES into $prefix"
  local start
  start=$(date +%s)
  rm -rf "$prefix.tmp"
  cargo install --quiet --locked --version "$VERSION" --no-default-features \
    --features "$FEATURES" --root "$prefix.tmp" --target-dir "$target" wasmtime-cli
  rm -f "$prefix.tmp/.crates.toml" "$prefix.tmp/.crates2.json"
  echo "$(( $(date +%s) - start ))" > "$prefix.tmp/build-seconds"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix" && touch "$prefix/.complete"
  log "built in $(cat "$prefix/build-seconds") s"
}

if [ ! -f "$prefix/.complete" ]; then
  mkdir -p "$cache"
  exec 9>"$cache/wasmtime-cli.lock"
  flock 9
  # Not "[ ... ] || build": set -e does not apply inside a function called
  # from an || list.
  if [ ! -f "$prefix/.complete" ]; then build; fi
  flock -u 9
fi

# Copy only on change, so make sees the same file when nothing was rebuilt.
if ! cmp -s "$prefix/bin/wasmtime" "$out"; then
  mkdir -p "$(dirname "$out")"
  cp "$prefix/bin/wasmtime" "$out.tmp" && mv "$out.tmp" "$out"
fi
