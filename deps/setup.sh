#!/usr/bin/env bash
# Puts on a Debian 12 machine what building and testing wasmplug needs:
# installs the Debian packages below that are missing (apt-get, as root or
# through sudo), and checks for what Debian cannot give in a recent enough
# version (Rust's cargo, Go, Node.js with npm). `make` runs it before
# configuring (WASMPLUG_NO_SETUP=1 skips it), .ci/run before `make test`.
# When nothing is missing it asks dpkg once, prints nothing and takes some
# tens of milliseconds: no apt-get update then.
#
#   deps/setup.sh            install what is missing, then check the rest
#   deps/setup.sh --check    only say what is missing (exit 1 if anything is)
set -euo pipefail

# libclang-rt-19-dev: clang's libFuzzer and sanitizer runtimes (make fuzz).
# nodejs and python3-venv: componentize-js, componentize-py and the
# AssemblyScript compiler, which deps/tools/install.sh installs (pinned,
# cached) for the component and AssemblyScript examples.
# clang-format-19: the formatter .clang-format is written for.
# libmicrohttpd-dev: the HTTP server of `wasmplug serve`; wrk and curl: its
# benchmark (make bench-http) and tests, as real HTTP clients.
# libcurl4-openssl-dev: the server's upstream routes and outgoing HTTP calls.
# zlib1g-dev: the Proxy-Wasm foreign functions compress and uncompress.
# libsqlite3-dev, libhiredis-dev: the keyvalue backends; redis-server for their tests.
# libffi-dev: wasi:dl's calls into native libraries (src/host/dl).
# valgrind: make bench-callgrind (instruction counts of the benchmark rows).
packages="clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 libclang-rt-19-dev libcjson-dev
          libcmocka-dev libssl-dev pkg-config cmake ninja-build nodejs python3-venv clang-format-19
          libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev wrk curl
          libhiredis-dev libsqlite3-dev redis-server libffi-dev valgrind"
# For testing this script only: more package names (e.g. made-up ones).
packages="$packages ${WASMPLUG_SETUP_TEST_PACKAGES:-}"
NODE_MIN=20                       # componentize-js 0.22's dependencies ask for node >= 20

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
  ""|--check) ;;
  *) echo "usage: deps/setup.sh [--check]" >&2; exit 2 ;;
esac
again="then run make again (make WASMPLUG_NO_SETUP=1 ... skips this check)"

log() { echo "setup: $*" >&2; }

# The packages not installed, from one dpkg-query for all of them.
missing_packages() {
  local installed p out=""
  # shellcheck disable=SC2086  # dpkg-query exits 1 on a package it does not know: missing too
  installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null |
                sed -n 's/^\([^ ]*\) [a-z]* ok installed$/\1/p' | tr '\n' ' ') " || true
  for p in $packages; do
    case "$installed" in *" $p "*) ;; *) out="$out $p" ;; esac
  done
  echo "$out"
}

install_packages() { # install_packages " p1 p2...": exits with a message when it cannot
  local missing=$1 sudo=""
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "missing Debian packages:$missing"
      log "you are not root and there is no sudo: as root, run"
      log "  apt-get update && apt-get install$missing"
      log "$again"
      exit 1
    fi
    sudo="sudo"
    log "installing$missing with sudo apt-get (sudo may ask for your password)"
  else
    log "installing$missing with apt-get"
  fi
  # sudo resets the environment, hence env. The lock timeout makes a second
  # make wait for the first one's apt-get instead of failing.
  local apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600"
  $apt update || log "apt-get update failed; trying the install with the package lists there are"
  # shellcheck disable=SC2086
  if ! $apt install -y $missing; then
    log "apt-get could not install:$missing (its message is above)"
    log "install them by hand, $again"
    exit 1
  fi
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    log "still not installed after apt-get:$missing"
    log "$again"
    exit 1
  fi
}

# version_at_least HAVE WANT: dotted versions compared numerically ("1.9" < "1.24").
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# Rust, Go and Node.js: Debian 12's are too old, so they are checked, not installed.
check_tools() {
  problems=()
  if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      problems+=("cargo is in ~/.cargo/bin but not on PATH: run '. ~/.cargo/env' (or open a new shell)")
    else
      problems+=("cargo (Rust) is needed to build Wasmtime: install it with rustup, https://rustup.rs (Debian 12's cargo is too old)")
    fi
  fi

  local go go_min go_have
  go=$(command -v go || true)
  [ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go   # CMake looks there too
  go_min=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$root/pdk/go/go.mod")
  if [ -z "$go" ]; then
    problems+=("Go $go_min or later is needed for the Go plugins: https://go.dev/doc/install, into /usr/local/go (Debian 12's golang-go is 1.19, too old)")
  else
    go_have=$("$go" env GOVERSION 2>/dev/null || true)
    go_have=${go_have#go}
    if ! version_at_least "${go_have:-0}" "$go_min"; then
      problems+=("Go $go_min or later is needed for the Go plugins (pdk/go/go.mod); $go is ${go_have:-of an unknown version}: https://go.dev/doc/install")
    fi
  fi

  local node_have npm_have=yes
  node_have=$(node --version 2>/dev/null || true)
  node_have=${node_have#v}
  command -v npm >/dev/null || npm_have=none
  if [ -z "$node_have" ] || ! version_at_least "$node_have" "$NODE_MIN" || [ "$npm_have" = none ]; then
    problems+=("Node.js $NODE_MIN or later with npm is needed for componentize-js (the JavaScript plugin) and asc (the AssemblyScript plugins; assemblyscript 0.28 asks for node >= 20); found node ${node_have:-none}, npm $npm_have. Debian 12's nodejs is 18, without npm: add NodeSource's repository (https://github.com/nodesource/distributions), then apt-get install nodejs")
  fi
}

missing=""
if ! command -v dpkg-query >/dev/null; then
  # shellcheck disable=SC2086
  log "not a Debian system: make sure these (or your system's equivalents) are installed:" $packages
else
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    if [ "$mode" = --check ]; then
      log "missing Debian packages:$missing"
    else
      install_packages "$missing"
    fi
  fi
fi

check_tools
for p in "${problems[@]}"; do log "$p"; done
if [ ${#problems[@]} -gt 0 ]; then
  log "$again"
  exit 1
fi
if [ "$mode" = --check ] && [ -n "$missing" ]; then exit 1; fi
exit 0
