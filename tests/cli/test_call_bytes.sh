#!/usr/bin/env bash
# test_call_bytes.sh - `wasmplug call` on bytes exports (docs/abi.md): --input,
# --input-file (and stdin), --config, --log with the example plugins in C, Go
# and AssemblyScript and with echo.wat; binary and large inputs; WASI output
# kept off stdout.
#
# usage: test_call_bytes.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- plugins written for these tests -----------------------------------------

# A bytes export that writes "noise\n" to its WASI stdout, then echoes.
cat >"$T/noisy.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 100) "noise\n")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get 3 i32.add global.set $heap
    local.get $p)
  (func (export "noisy") (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 200) (local.get $ptr))
    (i32.store (i32.const 204) (local.get $len))
    i32.const 200))
EOF

# ---- call: bytes exports of the example plugins ------------------------------

# The AssemblyScript hello when the build has it (tests/CMakeLists.txt sets
# WP_AS_PLUGINS=1 then): the same checks, the same answers.
hellos="hello-c hello-go"
if [ "${WP_AS_PLUGINS:-0}" = 1 ]; then
  hellos="$hellos hello-as"
else
  echo "SKIP: hello-as, callback-as: the AssemblyScript examples were not built (WASMPLUG_COMPONENTS=OFF)"
fi

for p in $hellos; do
  W=$PLUG/$p.wasm

  t "$p greet --input world"
  run call "$W" greet --input world
  rc 0; out_is "Hello, world!"; err_has "greeting world"; err_has "[info]"; out_lacks "greeting"

  t "$p greet --log off"
  run call "$W" greet --input world --log off
  rc 0; out_is "Hello, world!"; err_empty

  t "$p greet --log warn hides info"
  run call "$W" greet --input world --log warn
  rc 0; out_is "Hello, world!"; err_lacks "greeting"

  t "$p greet --log debug shows info"
  run call "$W" greet --input world --log debug
  rc 0; err_has "greeting world"

  t "$p greet --config greeting=Howdy"
  run call "$W" greet --input world --config greeting=Howdy
  rc 0; out_is "Howdy, world!"

  t "$p greet --config=greeting=Howdy"
  run call "$W" greet --input world --config=greeting=Howdy
  rc 0; out_is "Howdy, world!"

  t "$p greet with an unrelated config key"
  run call "$W" greet --input world --config other=x
  rc 0; out_is "Hello, world!"

  t "$p greet --input-file"
  printf 'file' >"$T/name.txt"
  run call "$W" greet --input-file "$T/name.txt"
  rc 0; out_is "Hello, file!"

  t "$p greet --input-file - (stdin)"
  printf 'stdin' >"$T/stdin.txt"
  run --stdin "$T/stdin.txt" call "$W" greet --input-file -
  rc 0; out_is "Hello, stdin!"

  t "$p greet --input-file - keeps the newline"
  printf 'line\n' >"$T/stdin.txt"
  run --stdin "$T/stdin.txt" call "$W" greet --input-file -
  rc 0; out_is $'Hello, line\n!'

  t "$p greet with no input"
  run call "$W" greet
  rc 0; out_is "Hello, !"

  t "$p greet UTF-8"
  run call "$W" greet --input "wörld ✓"
  rc 0; out_is "Hello, wörld ✓!"

  t "$p missing export lists exports"
  run call "$W" nope --input x
  rc 2; err_has "'nope' not found"; err_has "greet"; out_empty
done

t "--input-file that does not exist"
run call "$PLUG/hello-c.wasm" greet --input-file "$T/no-such-input"
rc 2; err_has "no-such-input"; out_empty

t "callback plugin needs a host function the CLI does not have"
if [ -f "$PLUG/callback-c.wasm" ]; then
  run call "$PLUG/callback-c.wasm" callback --input x
  rc 3; err_has "plugin.call_me"
fi
if [ "${WP_AS_PLUGINS:-0}" = 1 ]; then
  t "callback-as needs a host function the CLI does not have"
  run call "$PLUG/callback-as.wasm" callback --input x
  rc 3; err_has "plugin.call_me"
fi

# ---- call: bytes through echo.wat --------------------------------------------

t "echo --input"
run call "$ECHO" echo --input hello
rc 0; out_is "hello"; err_has "echoing"

t "echo with no input is empty"
run call "$ECHO" echo --log off
rc 0; out_empty; err_empty

t "echo binary file round trip"
head -c 300000 /dev/urandom >"$T/random.bin"
printf '\0\n\r\377' >>"$T/random.bin"
run call "$ECHO" echo --input-file "$T/random.bin" --log off
rc 0; out_same_as "$T/random.bin"; err_empty

t "echo binary from stdin"
run --stdin "$T/random.bin" call "$ECHO" echo --input-file - --log off
rc 0; out_same_as "$T/random.bin"

t "echo a 3 MiB input (guest memory grows)"
head -c 3145728 /dev/urandom >"$T/big.bin"
run call "$ECHO" echo --input-file "$T/big.bin" --log off
rc 0; out_same_as "$T/big.bin"

t "config reaches the plugin verbatim"
run call "$ECHO" greeting --config "greeting=a=b c"
rc 0; out_is "a=b c"

t "plugin WASI stdout goes to stderr; stdout carries only the result"
run call "$T/noisy.wat" noisy --input data
rc 0; out_is "data"; err_has "noise"

finish
