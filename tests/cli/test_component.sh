#!/usr/bin/env bash
# test_component.sh - the CLI on Component Model plugins: call with WAVE
# arguments and results, their errors, limits, missing imports, inspect
# printing the world as WIT; the example components in C, Python and JS when
# they were built.
#
# usage: test_component.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- components ----------------------------------------------------------------

C="$FIX/component.wat"
t "component: numbers in and out as WAVE"
run call "$C" add 40 2 --missing-imports trap
rc 0
out_line "42"

t "component: string echo in WAVE, escapes and non-ASCII"
run call "$C" echo '"tab\there \u{1F600} \"q\""' --missing-imports trap
rc 0
out_line '"tab\there 😀 \"q\""'

t "component: a WAVE syntax error points at the character"
run call "$C" add 4x 2 --missing-imports trap
rc 2
err_has "argument 1 ('a: u32') of 'add': invalid WAVE value at column 2"
err_has "  4x"
err_has "   ^"

t "component: a WAVE type error names the type"
run call "$C" echo 42 --missing-imports trap
rc 2
err_has "argument 1 ('s: string') of 'echo'"
err_has "expected string"

t "component: out-of-range number"
run call "$C" add 4294967296 1 --missing-imports trap
rc 2
err_has "out of range"

t "component: wrong argument count"
run call "$C" add 1 --missing-imports trap
rc 2
err_has "'add' takes 2 arguments (func(a: u32, b: u32) -> u32), got 1"

t "component: a function inside an exported interface, missing import traps"
run call "$C" 'example:test/api#quadruple' 3 --missing-imports trap
rc 1
err_has "twice"

t "component: missing imports fail the load and are listed"
run call "$C" add 1 2
rc 3
err_has "1 import is not provided by the host: example:test/host#twice (func(x: u32) -> u32)"

t "component: a trap exits 1"
run call "$C" crash --missing-imports trap
rc 1
err_has "unreachable"

t "component: a timeout exits 1"
run call "$C" spin 0 --timeout-ms 50 --missing-imports trap
rc 1
err_has "50 ms timeout"

t "component: fuel"
run call "$C" spin 0 --fuel 10000 --missing-imports trap
rc 1
err_has "ran out of fuel"

t "component: --input on a function that is not list<u8>/string is refused with a hint"
run call "$C" add --input x --missing-imports trap
rc 2
err_has "give its arguments as WAVE values"

t "inspect a component prints its world as WIT"
run inspect "$C"
rc 0
out_line "kind:    component"
out_has "world root {"
out_has "  export echo: func(s: string) -> string;"
out_has "  import example:test/host;"
out_line "  example:test/api#quadruple: func(x: u32) -> u32"
out_line "wasi:    no"

for lang in c py js; do
  P="$PLUG/hello-$lang-component.wasm"
  if [ ! -f "$P" ]; then
    echo "$SCRIPT: SKIP hello-$lang-component: $P was not built" >&2
    continue
  fi
  t "hello-$lang-component: greet through wasmplug call"
  run --limit 120 call "$P" greet '"world"'
  rc 0
  out_line '"Hello, world!"'
  err_has "greet"   # the plugin's host log line

  t "hello-$lang-component: the interface export"
  run --limit 120 call "$P" 'example:hello/greeter#greet' '"Nic"' --log off
  rc 0
  out_line '"Hello, Nic!"'
  err_empty

  t "hello-$lang-component: inspect prints the world"
  run --limit 120 inspect "$P"
  rc 0
  out_has "import wasmplug:plugin/host@0.1.0;"
  out_has "export greet: func(name: string) -> string;"
  out_has "export example:hello/greeter;"
done
if [ -f "$PLUG/hello-py-component.wasm" ]; then
  # Trap mode must stub only what is missing: the WASI imports (another 0.2.x
  # than Wasmtime's) still go to WASI, so greet works.
  t "hello-py-component: --missing-imports trap keeps WASI working"
  run --limit 120 call "$PLUG/hello-py-component.wasm" greet '"world"' --missing-imports trap --log off
  rc 0
  out_line '"Hello, world!"'
fi
if [ -f "$PLUG/hello-py.wasm" ]; then
  t "hello-py.wasm is the Python component"
  run --limit 120 call "$PLUG/hello-py.wasm" greet '"world"' --log off
  rc 0
  out_line '"Hello, world!"'
fi

finish
