#!/usr/bin/env bash
# Installs the pinned guest toolchains for Component Model plugins into a
# cache outside the clone, once per set of versions:
#
#   deps/tools/install.sh                 install (if needed), print the paths
#   deps/tools/install.sh --print-env     ... as shell assignments (eval-able)
#   deps/tools/install.sh --cmake FILE    ... and write them as CMake set()s to FILE
#
# What it installs into ${WASMPLUG_CACHE:-~/.cache/wasmplug}/tools-<key>/:
#   bin/wasm-tools, bin/wit-bindgen     cargo install --locked (from crates.io)
#   adapter/wasi_snapshot_preview1.reactor.wasm
#                                       from the crate wasi-preview1-component-
#                                       adapter-provider (same version as Wasmtime)
#   py/bin/componentize-py              pip, in a virtualenv
#   js/node_modules/.bin/{componentize-js,jco}
#                                       npm, versions from deps/tools/js/package-lock.json
#   rust/bin/rustc                      a Rust compiler whose standard library can be
#                                       built for wasm32 (see "Rust" below); optional:
#                                       when it cannot be had, RUSTC_WASM is empty
#   assemblyscript-<version>/node_modules/.bin/asc
#                                       the AssemblyScript compiler (core-module plugins
#                                       with pdk/assemblyscript), npm, versions from
#                                       deps/tools/assemblyscript/package-lock.json
#   wasi-wit-<crate version>/           the WASI 0.2 WIT (wasi:http with its deps io,
#                                       clocks, random, cli, filesystem, sockets) as
#                                       published in the crate `wasi` (see "WASI WIT")
# The key is a hash of the pins below and of the npm lock file, so changing a
# version installs side by side; each part has its own stamp, so an
# interrupted install resumes where it stopped. Needs cargo, python3 (with
# venv), node and npm on PATH. Concurrent runs wait for each other (flock).
set -euo pipefail

WASM_TOOLS_VERSION=1.254.2        # wasmparser/wit-component 0.254, as in Wasmtime 48
WIT_BINDGEN_VERSION=0.60.0        # wit-component ^0.254
WIT_BINDGEN_FEATURES=c,rust,cpp,markdown
ADAPTER_VERSION=48.0.8            # = Wasmtime
COMPONENTIZE_PY_VERSION=0.25.1
# componentize-js 0.22.0 and jco 1.35.0: see js/package.json and its lock file.
# Rust: rustup cannot download the wasm32 standard library here, and Debian's
# libstd-rust-dev-wasm32 is 1.63 (too old for wit-bindgen). Debian 12's
# rustc-web (a security-supported newer rustc, for Firefox builds) comes with
# the standard library's source (rust-web-src), so cargo -Zbuild-std can build
# std for wasm32-unknown-unknown. The .debs are unpacked into the cache, not
# installed; cargo is rustup's.
RUST_DEB_VERSION=1.96.0+dfsg1-1~deb12u2
LLVM_DEB_VERSION=1:22.1.8-1~deb12u1
RUST_DEBS="rustc-web=$RUST_DEB_VERSION libstd-rust-web-1.96=$RUST_DEB_VERSION
           libstd-rust-web-dev=$RUST_DEB_VERSION rust-web-src=$RUST_DEB_VERSION libllvm22=$LLVM_DEB_VERSION"
# WASI WIT: the proxy world for wasi:http guests (WASI_HTTP_WIT: a directory
# whose deps/ hold the wasi:* packages; world `wasi:http/proxy@0.2.4`). Taken
# from the crate `wasi`, which ships wit/ with its deps, rather than kept in
# the tree. At most WASI 0.2.10: componentize-js 0.22 refuses newer. Not in
# the key below: the version is in the part's stamp and directory, so a new
# one is fetched beside the old without reinstalling the other tools.
WASI_WIT_CRATE_VERSION=0.14.2+wasi-0.2.4
# AssemblyScript: the compiler asc, for pdk/assemblyscript (see
# assemblyscript/package.json and its lock file). Not in the key below, like
# the WASI WIT: its directory and stamp carry the version and a hash of the
# lock, so a new pin installs beside the old without reinstalling the rest.
ASSEMBLYSCRIPT_VERSION=0.28.20
WASM_TOOLS_FEATURES=validate,print,parse,dump,objdump,strip,component,metadata,demangle,compose
LAYOUT=1                          # bump when the layout of the cache changes

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
case "$mode" in
  ""|--print-env) ;;
  --cmake) [ -n "${2:-}" ] || { echo "usage: install.sh --cmake FILE" >&2; exit 2; } ;;
  *) echo "usage: install.sh [--print-env | --cmake FILE]" >&2; exit 2 ;;
esac
cache=${WASMPLUG_CACHE:-$HOME/.cache/wasmplug}
key=$( { echo "$LAYOUT $WASM_TOOLS_VERSION $WASM_TOOLS_FEATURES $WIT_BINDGEN_VERSION $WIT_BINDGEN_FEATURES"
         echo "$ADAPTER_VERSION $COMPONENTIZE_PY_VERSION $RUST_DEBS"
         cat "$here/js/package.json" "$here/js/package-lock.json"; } | sha256sum | cut -c1-12)
prefix="$cache/tools-$key"
as_dir="$prefix/assemblyscript-$ASSEMBLYSCRIPT_VERSION"
as_stamp="assemblyscript-$ASSEMBLYSCRIPT_VERSION-$(sha256sum "$here/assemblyscript/package-lock.json" | cut -c1-12)"

log() { echo "tools: $*" >&2; }
need() { command -v "$1" >/dev/null || { log "$1 is required ($2)"; exit 1; }; }
step() { # step NAME: true when NAME still has to be done
  [ ! -f "$prefix/.done-$1" ]
}
done_step() { touch "$prefix/.done-$1"; }

install_all() {
  mkdir -p "$prefix"
  local t0 t
  t0=$(date +%s)

  if step wasm-tools; then
    need cargo "Rust, for wasm-tools"
    log "cargo install wasm-tools $WASM_TOOLS_VERSION"; t=$(date +%s)
    cargo install --quiet --locked --version "$WASM_TOOLS_VERSION" --root "$prefix" \
      --no-default-features --features "$WASM_TOOLS_FEATURES" --target-dir "$prefix/.cargo-target" \
      wasm-tools
    log "wasm-tools: $(( $(date +%s) - t )) s"; done_step wasm-tools
  fi

  if step wit-bindgen; then
    need cargo "Rust, for wit-bindgen"
    log "cargo install wit-bindgen-cli $WIT_BINDGEN_VERSION"; t=$(date +%s)
    cargo install --quiet --locked --version "$WIT_BINDGEN_VERSION" --root "$prefix" \
      --no-default-features --features "$WIT_BINDGEN_FEATURES" --target-dir "$prefix/.cargo-target" wit-bindgen-cli
    log "wit-bindgen: $(( $(date +%s) - t )) s"; done_step wit-bindgen
  fi
  rm -rf "$prefix/.cargo-target" "$prefix/.crates.toml" "$prefix/.crates2.json"

  if step adapter; then
    need cargo "Rust, to fetch the WASI adapter crate"
    # The crate ships the adapters as files; cargo vendor puts its source in
    # a known place without building anything.
    log "WASI preview1 adapter $ADAPTER_VERSION (crates.io)"
    local d="$prefix/.adapter-fetch"
    rm -rf "$d" && mkdir -p "$d/src"
    cat > "$d/Cargo.toml" <<EOF
[package]
name = "fetch-adapter"
version = "0.0.0"
edition = "2021"
publish = false
[lib]
path = "src/lib.rs"
[dependencies]
wasi-preview1-component-adapter-provider = "=$ADAPTER_VERSION"
EOF
    : > "$d/src/lib.rs"
    (cd "$d" && cargo vendor --quiet --versioned-dirs vendor >/dev/null)
    mkdir -p "$prefix/adapter"
    cp "$d"/vendor/wasi-preview1-component-adapter-provider-"$ADAPTER_VERSION"/artefacts/*.wasm "$prefix/adapter/"
    rm -rf "$d"; done_step adapter
  fi

  if step py; then
    need python3 "componentize-py"
    log "pip install componentize-py $COMPONENTIZE_PY_VERSION"; t=$(date +%s)
    rm -rf "$prefix/py"
    python3 -m venv "$prefix/py"
    "$prefix/py/bin/pip" install --quiet --disable-pip-version-check \
      "componentize-py==$COMPONENTIZE_PY_VERSION"
    log "componentize-py: $(( $(date +%s) - t )) s"; done_step py
  fi

  if step js; then
    need node "componentize-js"; need npm "componentize-js"
    log "npm install componentize-js + jco (deps/tools/js/package-lock.json)"; t=$(date +%s)
    rm -rf "$prefix/js" && mkdir -p "$prefix/js"
    cp "$here/js/package.json" "$here/js/package-lock.json" "$prefix/js/"
    # npm install, not npm ci: the lock pins every version, but npm ci
    # refuses it over optional per-platform packages that are not published.
    (cd "$prefix/js" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    log "componentize-js: $(( $(date +%s) - t )) s"; done_step js
  fi

  if step rust; then
    log "Rust for wasm32: Debian packages" $RUST_DEBS; t=$(date +%s)
    rm -rf "$prefix/rust" "$prefix/.rust-debs" && mkdir -p "$prefix/.rust-debs"
    # shellcheck disable=SC2086
    if (cd "$prefix/.rust-debs" && apt-get download -q $RUST_DEBS) >"$prefix/.rust-debs.log" 2>&1; then
      for deb in "$prefix"/.rust-debs/*.deb; do dpkg-deb -x "$deb" "$prefix/rust"; done
      # -Zbuild-std needs library/ only, not the compiler's sources (365 MB).
      rm -rf "$prefix"/rust/usr/src/rustc-*/src "$prefix"/rust/usr/src/rustc-*/compiler "$prefix/rust/usr/share/doc"
      mkdir -p "$prefix/rust/bin"
      # rustc finds its sysroot (and so rust-src) from its own path; it needs
      # the unpacked libLLVM and librustc_driver.
      printf '%s\n' '#!/bin/sh' \
        "export LD_LIBRARY_PATH=\"$prefix/rust/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\"" \
        "exec \"$prefix/rust/usr/bin/rustc\" \"\$@\"" > "$prefix/rust/bin/rustc"
      chmod +x "$prefix/rust/bin/rustc"
      log "$("$prefix/rust/bin/rustc" --version): $(( $(date +%s) - t )) s"
    else
      log "WARNING: could not download the Debian packages above (see $prefix/.rust-debs.log);" \
          "the Rust component will not be built. To retry: rm $prefix/.done-rust $prefix/.complete"
    fi
    rm -rf "$prefix/.rust-debs"; done_step rust
  fi

  if step "wasi-wit-$WASI_WIT_CRATE_VERSION"; then
    need cargo "Rust, to fetch the crate with the WASI WIT"
    log "WASI WIT from the crate wasi $WASI_WIT_CRATE_VERSION (crates.io)"
    local w="$prefix/.wasi-wit-fetch"
    rm -rf "$w" && mkdir -p "$w/src"
    cat > "$w/Cargo.toml" <<EOF
[package]
name = "fetch-wasi-wit"
version = "0.0.0"
edition = "2021"
publish = false
[lib]
path = "src/lib.rs"
[dependencies]
wasi = "=$WASI_WIT_CRATE_VERSION"
EOF
    : > "$w/src/lib.rs"
    (cd "$w" && cargo vendor --quiet --versioned-dirs vendor >/dev/null)
    rm -rf "$prefix/wasi-wit-$WASI_WIT_CRATE_VERSION"
    cp -r "$w/vendor/wasi-$WASI_WIT_CRATE_VERSION/wit" "$prefix/wasi-wit-$WASI_WIT_CRATE_VERSION"
    rm -rf "$w"; done_step "wasi-wit-$WASI_WIT_CRATE_VERSION"
  fi

  if step "$as_stamp"; then
    need node "the AssemblyScript compiler"; need npm "the AssemblyScript compiler"
    log "npm install assemblyscript $ASSEMBLYSCRIPT_VERSION (deps/tools/assemblyscript/package-lock.json)"
    t=$(date +%s)
    rm -rf "$as_dir" && mkdir -p "$as_dir"
    cp "$here/assemblyscript/package.json" "$here/assemblyscript/package-lock.json" "$as_dir/"
    (cd "$as_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    [ "$("$as_dir/node_modules/.bin/asc" --version)" = "Version $ASSEMBLYSCRIPT_VERSION" ] ||
      { log "asc in $as_dir is not version $ASSEMBLYSCRIPT_VERSION"; exit 1; }
    log "assemblyscript: $(( $(date +%s) - t )) s"; done_step "$as_stamp"
  fi

  touch "$prefix/.complete"
  log "installed into $prefix in $(( $(date +%s) - t0 )) s"
}

# Complete, and the parts added after the others are there too (a prefix made
# before such a part has .complete but not its stamp).
installed() {
  [ -f "$prefix/.complete" ] && [ -f "$prefix/.done-wasi-wit-$WASI_WIT_CRATE_VERSION" ] &&
    [ -f "$prefix/.done-$as_stamp" ]
}
if ! installed; then
  mkdir -p "$cache"
  exec 9>"$cache/tools.lock"
  flock 9
  # Not "installed || install_all": set -e does not apply inside a function
  # called from an || list.
  if ! installed; then install_all; fi
  flock -u 9
fi

names=(WASM_TOOLS WIT_BINDGEN WASI_ADAPTER_REACTOR COMPONENTIZE_PY COMPONENTIZE_JS JCO WASI_HTTP_WIT ASC)
paths=("$prefix/bin/wasm-tools" "$prefix/bin/wit-bindgen"
       "$prefix/adapter/wasi_snapshot_preview1.reactor.wasm"
       "$prefix/py/bin/componentize-py"
       "$prefix/js/node_modules/.bin/componentize-js" "$prefix/js/node_modules/.bin/jco"
       "$prefix/wasi-wit-$WASI_WIT_CRATE_VERSION" "$as_dir/node_modules/.bin/asc")
for p in "${paths[@]}"; do
  [ -e "$p" ] || { log "missing $p (remove $prefix and run again)"; exit 1; }
done
# Optional: empty when the Debian packages could not be had.
names+=(RUSTC_WASM)
if [ -x "$prefix/rust/bin/rustc" ]; then paths+=("$prefix/rust/bin/rustc"); else paths+=(""); fi

case "$mode" in
  --print-env)
    for i in "${!names[@]}"; do printf '%s=%q\n' "${names[$i]}" "${paths[$i]}"; done ;;
  --cmake)
    out=$2
    mkdir -p "$(dirname "$out")"
    { echo "# Written by deps/tools/install.sh; pinned guest toolchains."
      for i in "${!names[@]}"; do echo "set(WASMPLUG_${names[$i]} \"${paths[$i]}\")"; done
      echo "set(WASMPLUG_TOOLS_DIR \"$prefix\")"
    } > "$out.tmp"
    # Rewrite only on change, so CMake does not see a new file every configure.
    if cmp -s "$out.tmp" "$out"; then rm "$out.tmp"; else mv "$out.tmp" "$out"; fi ;;
  "")
    for i in "${!names[@]}"; do printf '%-22s %s\n' "${names[$i]}" "${paths[$i]}"; done ;;
esac
