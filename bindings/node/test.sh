#!/bin/sh
# The Node.js binding's tests (ctest's binding_node): builds the addon
# against the installed wasmplug in $WASMPLUG_PREFIX (build.sh) and runs
# node's built-in test runner over test/*.test.js. Needs Node.js 20+ and a C
# compiler; nothing is downloaded. Env (bindings/CMakeLists.txt):
# WASMPLUG_PREFIX, WP_PLUGINS, WP_FIXTURES.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for v in WASMPLUG_PREFIX WP_PLUGINS WP_FIXTURES; do
  eval "val=\${$v:-}"
  [ -n "$val" ] || { echo "bindings/node/test.sh: $v is not set" >&2; exit 1; }
done
command -v node >/dev/null 2>&1 || { echo "bindings/node/test.sh: node not found: install Node.js 20+" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "bindings/node/test.sh: Node.js 20+ needed, found $(node --version)" >&2; exit 1; }
WASMPLUG_NODE_ADDON=$("$here/build.sh")
export WASMPLUG_NODE_ADDON
cd "$here"
exec node --expose-gc --test --test-reporter=spec test/
