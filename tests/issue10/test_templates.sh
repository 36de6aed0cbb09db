#!/usr/bin/env bash
# Installs wasmplug into a temporary prefix (as tests/install/test_install.sh
# does), then, in a directory outside the source tree, makes a project from
# every template with the installed `wasmplug new`, checks that no generated
# file names the checkout, builds it with its own Makefile and runs its test
# (which calls the plugin with `wasmplug call` or `wasmplug serve`). Also
# checks `wasmplug new --list`, `wasmplug tools`, a bad template, a bad name
# and an existing directory.
#   test_templates.sh BUILD_DIR SOURCE_DIR [TEMPLATE...]   (default: every template)
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
shift 2
tmp=$(mktemp -d /tmp/wasmplug-templates.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
case "$tmp" in "$src"/*) fail "the temporary directory $tmp is inside the checkout";; esac

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
prefix=$tmp/prefix
for f in include/wasmplug/pdk/wasmplug_pdk.h include/wasmplug/pdk/wasmplug_http.h \
         share/wasmplug/wit/plugin.wit share/wasmplug/wit/http.wit share/wasmplug/go/pdk/go.mod \
         share/wasmplug/assemblyscript/pdk/index.ts \
         share/wasmplug/tools.conf share/wasmplug/templates/c/template.conf; do
  [ -e "$prefix/$f" ] || fail "install is missing $f"
done
export PATH="$prefix/bin:$PATH"
wp=$prefix/bin/wasmplug
[ "$(command -v wasmplug)" = "$wp" ] || fail "the installed wasmplug is not first on PATH"

# wasmplug tools
[ "$("$wp" tools path include)" -ef "$prefix/include/wasmplug/pdk" ] \
  || fail "tools path include is '$("$wp" tools path include)'"
[ "$("$wp" tools path go-pdk)" -ef "$prefix/share/wasmplug/go/pdk" ] || fail "tools path go-pdk"
[ "$("$wp" tools path as-pdk)" -ef "$prefix/share/wasmplug/assemblyscript/pdk" ] || fail "tools path as-pdk"
[ -x "$("$wp" tools path clang)" ] || fail "tools path clang"
"$wp" tools env | grep -q "^WASMPLUG_WASM_TOOLS='/" || fail "tools env has no WASMPLUG_WASM_TOOLS"
(eval "$("$wp" tools env)"; [ -d "$WASMPLUG_INCLUDE" ]) || fail "tools env does not eval"
rc=0; "$wp" tools path no-such-tool 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "unknown name 'no-such-tool'" "$tmp/err" || fail "tools path no-such-tool: rc $rc"

# wasmplug new: list and refusals
list=$("$wp" new --list)
templates=$(printf '%s\n' "$list" | awk '{print $1}')
for t in c go c-component http-c http-go python js http-c-wasi rust http-python http-js http-rust \
         assemblyscript; do
  printf '%s\n' "$templates" | grep -qx "$t" || fail "new --list lacks $t: $list"
done
printf '%s\n' "$list" | grep -q '^  c  .*greet' || fail "new --list has no description for c"
mkdir -p "$tmp/work"
cd "$tmp/work"
rc=0; "$wp" new no-such-template x 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "no template 'no-such-template'" "$tmp/err" || fail "bad template: rc $rc"
[ ! -e x ] || fail "a bad template left a directory"
rc=0; "$wp" new c 'bad/name' 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "bad project name" "$tmp/err" || fail "bad name: rc $rc"
rc=0; "$wp" new c ../up 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "name ../up: rc $rc"
mkdir taken && echo keep > taken/file
rc=0; "$wp" new c taken 2>"$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "already exists" "$tmp/err" || fail "existing dir: rc $rc"
[ "$(cat taken/file)" = keep ] && [ "$(ls taken)" = file ] || fail "an existing dir was changed"
mkdir empty
"$wp" new c demo-empty --dir empty >/dev/null || fail "new into an empty --dir"
[ -f empty/demo-empty.c ] || fail "--dir: no empty/demo-empty.c"

# Every template: make, make test, no path of the checkout anywhere.
[ $# -gt 0 ] && templates=$*
needs() {  # the tools a template needs beyond clang and go
  case $1 in
    c-component) echo "wit-bindgen wasm-tools wasi-adapter";;
    python|http-python) echo "componentize-py";;
    js|http-js) echo "componentize-js";;
    rust|http-rust) echo "cargo rustc-wasm wasm-ld wasm-tools";;
    http-c-wasi) echo "wit-bindgen wasm-tools wasi-adapter";;
    assemblyscript) echo "asc";;
  esac
}
# The Rust projects share one target directory: the standard library they
# build from source (-Zbuild-std) is built once.
export CARGO_TARGET_DIR=$tmp/cargo-target
passed=() skipped=()
for t in $templates; do
  missing=
  for tool in $(needs "$t"); do "$wp" tools path "$tool" >/dev/null 2>&1 || missing+=" $tool"; done
  if [ -n "$missing" ]; then skipped+=("$t(no$missing)"); continue; fi
  name=demo-$t
  "$wp" new "$t" "$name" >/dev/null || fail "wasmplug new $t $name"
  [ -f "$name/README.md" ] && [ -f "$name/Makefile" ] || fail "$t: no README.md or Makefile"
  [ ! -e "$name/template.conf" ] || fail "$t: template.conf was copied"
  if grep -rlF "{{name}}" "$name" >/dev/null; then fail "$t: {{name}} left in $(grep -rlF '{{name}}' "$name")"; fi
  if grep -rlF "$src/" "$name" >/dev/null; then fail "$t: generated files name the checkout: $(grep -rlF "$src/" "$name")"; fi
  make -C "$name" >"$tmp/$t.log" 2>&1 || { cat "$tmp/$t.log"; fail "$t: make"; }
  [ -f "$name/$name.wasm" ] || fail "$t: make did not build $name.wasm"
  make -C "$name" test >"$tmp/$t.test.log" 2>&1 || { cat "$tmp/$t.test.log"; fail "$t: make test"; }
  grep -q "test: ok" "$tmp/$t.test.log" || { cat "$tmp/$t.test.log"; fail "$t: make test did not say ok"; }
  if grep -rlF "$src/" "$name" >/dev/null; then fail "$t: built files name the checkout: $(grep -rlF "$src/" "$name")"; fi
  # And called from here, as its README says.
  case $t in
    c|go|assemblyscript) out=$("$wp" call "$name/$name.wasm" greet --input tester --log off)
          [ "$out" = "Hello, tester!" ] || fail "$t: wasmplug call greet printed '$out'";;
    c-component|python|js|rust) out=$("$wp" call "$name/$name.wasm" greet '"tester"' --log off)
          [ "$out" = '"Hello, tester!"' ] || fail "$t: wasmplug call greet printed '$out'";;
  esac
  passed+=("$t")
done
echo "templates built and tested: ${passed[*]}"
[ ${#skipped[@]} = 0 ] || echo "skipped (tools not installed): ${skipped[*]}"
[ ${#passed[@]} -gt 0 ] || fail "no template was tested"
