# env.sh - sourced by test.sh and bench.sh: checks the toolchain and points
# cgo at the installed libwasmplug ($WASMPLUG_PREFIX).
if [ -z "${WASMPLUG_PREFIX:-}" ]; then
  echo "bindings/go: WASMPLUG_PREFIX is not set (the installed wasmplug tree)" >&2
  exit 1
fi
for tool in go pkg-config cc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bindings/go: '$tool' is not installed; the Go binding needs Go >= 1.24, pkg-config and a C compiler" >&2
    exit 1
  fi
done
if [ ! -f "$WASMPLUG_PREFIX/lib/pkgconfig/wasmplug.pc" ]; then
  echo "bindings/go: $WASMPLUG_PREFIX/lib/pkgconfig/wasmplug.pc not found: is WASMPLUG_PREFIX an installed tree?" >&2
  exit 1
fi
export PKG_CONFIG_PATH="$WASMPLUG_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# Find the library at run time without LD_LIBRARY_PATH.
export CGO_LDFLAGS="-Wl,-rpath,$WASMPLUG_PREFIX/lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
export CGO_ENABLED=1
# The module needs nothing beyond the standard library: never fetch a toolchain.
export GOTOOLCHAIN=local
