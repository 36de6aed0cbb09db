#!/bin/sh
# Builds the N-API addon (src/addon.c) with cc against the installed
# wasmplug in $WASMPLUG_PREFIX and Node's own headers; no node-gyp, no
# download. The .node goes to $WASMPLUG_NODE_BUILD (default
# ~/.cache/wasmplug/node/<hash of the prefix>), never into the source tree;
# prints its path. Rebuilds only when the source or the library changed.
#   WASMPLUG_NODE_SANITIZE=address  builds with ASan (run node with LD_PRELOAD=libasan)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${WASMPLUG_PREFIX:?set WASMPLUG_PREFIX to an installed wasmplug (include/, lib/)}"
prefix=$(cd "$WASMPLUG_PREFIX" && pwd)
command -v node >/dev/null 2>&1 || { echo "build.sh: node not found (Node.js 20+ is needed)" >&2; exit 1; }
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || { echo "build.sh: no C compiler ($CC)" >&2; exit 1; }
nodeinc=$(node -p "require('path').resolve(process.execPath, '..', '..', 'include', 'node')")
[ -f "$nodeinc/node_api.h" ] || { echo "build.sh: node_api.h not found in $nodeinc" >&2; exit 1; }
[ -f "$prefix/include/wasmplug.h" ] || { echo "build.sh: $prefix/include/wasmplug.h not found" >&2; exit 1; }
[ -f "$prefix/lib/libwasmplug.so" ] || { echo "build.sh: $prefix/lib/libwasmplug.so not found" >&2; exit 1; }
san=${WASMPLUG_NODE_SANITIZE:-}
key=$(printf '%s|%s' "$prefix" "$san" | cksum | cut -d' ' -f1)
out=${WASMPLUG_NODE_BUILD:-$HOME/.cache/wasmplug/node/$key}
mkdir -p "$out"
addon="$out/wasmplug.node"
if [ -f "$addon" ] && [ "$addon" -nt "$here/src/addon.c" ] && [ "$addon" -nt "$prefix/lib/libwasmplug.so" ] \
   && [ "$addon" -nt "$here/build.sh" ]; then
  echo "$addon"; exit 0
fi
# Compile flags from pkg-config when it finds the prefix's wasmplug.pc, else plain -I/-L.
if command -v pkg-config >/dev/null 2>&1 && \
   PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --exists wasmplug 2>/dev/null; then
  wpcflags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags wasmplug)
  wplibs=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs wasmplug)
else
  wpcflags="-I$prefix/include"; wplibs="-L$prefix/lib -lwasmplug"
fi
sanflags=""
[ -n "$san" ] && sanflags="-fsanitize=$san -fno-omit-frame-pointer"
# shellcheck disable=SC2086
$CC -std=c11 -D_GNU_SOURCE -O2 -g -fPIC -shared -Wall -Wextra -Werror $sanflags \
  -I"$nodeinc" $wpcflags -o "$addon.tmp" "$here/src/addon.c" \
  $wplibs -Wl,-rpath,"$prefix/lib" -lpthread
mv "$addon.tmp" "$addon"
echo "$addon"
