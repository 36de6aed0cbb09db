#!/usr/bin/env bash
# test_call_kinds.sh - `wasmplug call` with one input convention across kinds
# (issue 10): --input / --input-file on component exports that take and return
# one list<u8> or string, as on core bytes exports; and the errors that point
# at the fix: a bytes export given positional arguments says to use --input
# (with the command), and a WAVE string whose quotes the shell ate says to
# write '"text"'.
#
# usage: test_call_kinds.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh); the
# component fixture is tests/issue10/fixtures/bytes.wat.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BYTES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../issue10/fixtures" && pwd)/bytes.wat
[ -f "$BYTES" ] || { echo "$SCRIPT: missing $BYTES" >&2; exit 2; }
HELLO=$PLUG/hello-c.wasm HELLO_COMP=$PLUG/hello-c-component.wasm

# ---- --input on component exports ---------------------------------------------

t "component list<u8> export with --input"
run call "$BYTES" reverse --input hello
rc 0; out_is "olleh"; err_empty

t "component string export with --input (UTF-8 kept)"
run call "$BYTES" upper --input "héllo"
rc 0; out_is "HéLLO"

t "component export in an interface with --input"
run call "$BYTES" 'example:bytes/api#greet' --input api
rc 0; out_is "API"

t "component mixed shapes with --input"
run call "$BYTES" to-text --input abc
rc 0; out_is "abc"
run call "$BYTES" to-bytes --input abc
rc 0; out_is "abc"

t "component export with --input-file: every byte value, 64 KiB"
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + i // 256) % 256 for i in range(65536)))' \
  >"$T/in.bin"
python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read()[::-1])' "$T/in.bin" \
  >"$T/want.bin"
run call "$BYTES" reverse --input-file "$T/in.bin"
rc 0; out_same_as "$T/want.bin"

t "component export with --input-file - (stdin)"
printf 'from stdin' >"$T/stdin.txt"
run --stdin "$T/stdin.txt" call "$BYTES" upper --input-file -
rc 0; out_is "FROM STDIN"

t "component bytes export without arguments: empty input, as for core"
run call "$BYTES" reverse
rc 0; out_empty

t "the example C component's greet with --input"
run call "$HELLO_COMP" greet --input world --log off
rc 0; out_is "Hello, world!"

t "WAVE arguments still work on the same exports"
run call "$BYTES" upper '"wave"'
rc 0; out_is $'"WAVE"\n'
run call "$BYTES" reverse '[1, 2, 3]'
rc 0; out_is $'[3, 2, 1]\n'

t "--input on a component export of another type"
run call "$BYTES" add --input x
rc 2; err_has "func(a: u32, b: u32) -> u32"; err_has "give its arguments as WAVE values"

t "a component string output that is not UTF-8 is refused by the lift"
run call "$BYTES" bad-utf8 --input x
rc 1; err_has "bad-utf8"

# ---- positional arguments to a bytes export ------------------------------------

t "core bytes export given an argument: use --input, with the command"
run call "$HELLO" greet world
rc 2
err_has "'greet' is a bytes export"
err_has "--input TEXT"
err_has "wasmplug call $HELLO greet --input 'world'"
out_empty

t "core bytes export given several arguments: one --input with them all"
run call "$ECHO" echo "it's" fine
rc 2
err_has "wasmplug call $ECHO echo --input 'it'\\''s fine'"

t "numeric exports still take numbers"
run call "$NUM" add 2 3
rc 0; out_is $'5\n'

t "component list<u8> export given text: the WAVE error, then --input"
run call "$BYTES" reverse hello
rc 2
err_has "argument 1 ('data: list<u8>') of 'reverse'"
err_has "^"
err_has "wasmplug call $BYTES reverse --input 'hello'"

t "component bytes export given two arguments: --input"
run call "$BYTES" reverse a b
rc 2
err_has "takes 1 argument"
err_has "wasmplug call $BYTES reverse --input 'a b'"

# ---- WAVE strings whose quotes the shell ate -------------------------------------

t "unquoted string argument: the caret error and the shell quoting hint"
run call "$HELLO_COMP" greet world
rc 2
err_has "argument 1 ('name: string') of 'greet'"
err_has "^"
err_has "write '\"world\"'"
out_empty

t "unquoted string with a quote inside: the hint escapes it for the shell"
run call "$BYTES" add 1 2
rc 0; out_is $'3\n'
run call "$HELLO_COMP" greet "it's"
rc 2
err_has "write '\"it'\\''s\"'"

t "a quoted string that is wrong otherwise gets no quoting hint"
run call "$HELLO_COMP" greet '"unterminated'
rc 2
err_lacks "write '\""

finish
