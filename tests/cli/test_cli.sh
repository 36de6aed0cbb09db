#!/usr/bin/env bash
# test_cli.sh - end-to-end tests of the wasmplug command (call, run, inspect).
#
# usage: test_cli.sh CLI FIXTURES_DIR PLUGINS_DIR
#   CLI           the wasmplug binary (build/bin/wasmplug)
#   FIXTURES_DIR  tests/fixtures (numeric.wat, echo.wat, command.wat, ...)
#   PLUGINS_DIR   build/plugins (hello-c.wasm, hello-go.wasm, callback-c.wasm)
#
# Every check runs the CLI and compares its exit code, stdout and stderr with
# what the README, the --help texts and docs/abi.md promise. A failing check
# prints the command, what was expected and what came out; the script exits 1
# if any check failed, 2 if it could not start.
set -u

if [ $# -ne 3 ]; then
  echo "usage: $0 CLI FIXTURES_DIR PLUGINS_DIR" >&2
  exit 2
fi
CLI=$1 FIX=$2 PLUG=$3
for f in "$FIX/numeric.wat" "$FIX/echo.wat" "$FIX/command.wat" "$FIX/wasi_read.wat" \
  "$FIX/missing.wat" "$PLUG/hello-c.wasm" "$PLUG/hello-go.wasm"; do
  [ -f "$f" ] || { echo "test_cli.sh: missing $f" >&2; exit 2; }
done
[ -x "$CLI" ] || { echo "test_cli.sh: $CLI is not an executable" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-cli.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# A private compile cache: no state from earlier runs, none left behind.
export XDG_CACHE_HOME="$T/cache"
# A variable the plugins must not see unless granted with --env.
export WASMPLUG_TEST_HOST_ONLY=leak

checks=0 failures=0
NAME="" CMD="" RC=0
OUT="$T/stdout" ERR="$T/stderr"

# ---- the assertion helper ----------------------------------------------------

# t NAME: starts a test case; its checks are reported under NAME.
t() { NAME=$1; }

# run [--stdin FILE] [--limit SECONDS] [--] ARGS...: runs "$CLI ARGS...",
# stdin from FILE (default /dev/null), stdout and stderr to $OUT and $ERR,
# exit code in RC. A run that takes longer than the limit (default 30 s) is
# killed and gets RC 124 (timeout(1)), which no check expects.
run() {
  local stdin=/dev/null limit=30
  while [ $# -gt 0 ]; do
    case $1 in
    --stdin) stdin=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
    esac
  done
  CMD="wasmplug$(printf ' %q' "$@")"
  timeout -k 2 "$limit" "$CLI" "$@" <"$stdin" >"$OUT" 2>"$ERR"
  RC=$?
}

# At most 800 bytes of a file, shown indented, non-printing bytes escaped.
show() {
  if [ ! -s "$1" ]; then printf '      (empty)\n'; return; fi
  head -c 800 "$1" | cat -v | awk '{ print "      | " $0 }'
  [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || printf '      (no newline at the end)\n'
  [ "$(wc -c <"$1")" -le 800 ] || printf '      | ... (%s bytes in all)\n' "$(wc -c <"$1")"
}

pass() { checks=$((checks + 1)); }
fail() {
  checks=$((checks + 1)) failures=$((failures + 1))
  [ -n "${QUIET:-}" ] && return
  printf 'FAIL [%s] %s\n' "$NAME" "$1"
  printf '    command: %s\n' "$CMD"
  printf '    exit code: %s\n    stdout:\n' "$RC"
  show "$OUT"
  printf '    stderr:\n'
  show "$ERR"
}

# rc N: the exit code is N.
rc() {
  if [ "$RC" = "$1" ]; then pass; return; fi
  if [ "$RC" = 124 ]; then fail "expected exit code $1, got 124: killed after its time limit"
  else fail "expected exit code $1, got $RC"; fi
}

# out_is TEXT: stdout is exactly TEXT (byte for byte; use $'...\n' for newlines).
out_is() {
  local got
  got=$(cat "$OUT"; printf x) # the x keeps trailing newlines
  got=${got%x}
  if [ "$got" = "$1" ]; then pass; else fail "expected stdout exactly $(printf %q "$1"), got $(printf %q "$got")"; fi
}

# out_bytes FORMAT [ARGS...]: stdout is exactly the bytes printf FORMAT ARGS
# makes (for output with NUL bytes).
out_bytes() {
  # shellcheck disable=SC2059
  printf "$@" >"$T/expected"
  if cmp -s "$T/expected" "$OUT"; then pass; else
    fail "expected stdout bytes $(od -An -c "$T/expected" | tr -s ' ' | head -c 300)"
  fi
}

# out_same_as FILE: stdout is byte for byte FILE.
out_same_as() {
  if cmp -s "$1" "$OUT"; then pass; else
    fail "expected stdout identical to $1 ($(wc -c <"$1") bytes): $(cmp "$1" "$OUT" 2>&1 | head -1)"
  fi
}

# out_byte N: stdout is the single byte N (decimal).
out_byte() {
  local got
  got=$(od -An -tu1 "$OUT" | tr -d ' \n')
  if [ "$got" = "$1" ]; then pass; else fail "expected stdout to be the one byte $1, got '${got}'"; fi
}

# out_byte_nonzero: stdout is one byte other than 0.
out_byte_nonzero() {
  local got
  got=$(od -An -tu1 "$OUT" | tr -d ' \n')
  if [[ "$(wc -c <"$OUT")" -eq 1 && "$got" != 0 ]]; then pass; else
    fail "expected stdout to be one non-zero byte (an errno), got '${got}'"
  fi
}

# out_has / err_has TEXT: stdout / stderr contains TEXT (fixed string).
out_has() { if grep -qF -- "$1" "$OUT"; then pass; else fail "expected stdout to contain '$1'"; fi; }
err_has() { if grep -qF -- "$1" "$ERR"; then pass; else fail "expected stderr to contain '$1'"; fi; }
# out_lacks / err_lacks TEXT: ... does not contain TEXT.
out_lacks() { if grep -qF -- "$1" "$OUT"; then fail "expected stdout not to contain '$1'"; else pass; fi; }
err_lacks() { if grep -qF -- "$1" "$ERR"; then fail "expected stderr not to contain '$1'"; else pass; fi; }
# out_line LINE: stdout has a line that is exactly LINE.
out_line() { if grep -qxF -- "$1" "$OUT"; then pass; else fail "expected a stdout line exactly '$1'"; fi; }
out_empty() { if [ ! -s "$OUT" ]; then pass; else fail "expected empty stdout"; fi; }
err_empty() { if [ ! -s "$ERR" ]; then pass; else fail "expected empty stderr"; fi; }
# ok COND_DESCRIPTION CMD...: a check on something other than the last run.
ok() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}

# ---- the helper catches what it should ---------------------------------------
# Each assertion must be able to fail: feed each a result that is wrong for it
# and count that it failed.
self_test() {
  local before=$failures expect=0
  QUIET=1
  printf 'x\n' >"$OUT"
  printf 'y\n' >"$ERR"
  RC=0
  rc 1; expect=$((expect + 1))
  out_is 'x'; expect=$((expect + 1)) # the newline is missing
  out_is $'x\n\n'; expect=$((expect + 1))
  out_bytes 'x\0'; expect=$((expect + 1))
  out_same_as "$ERR"; expect=$((expect + 1))
  out_byte 0; expect=$((expect + 1))
  out_byte_nonzero; expect=$((expect + 1)) # two bytes
  out_has 'z'; expect=$((expect + 1))
  err_has 'x'; expect=$((expect + 1))
  out_lacks 'x'; expect=$((expect + 1))
  err_lacks 'y'; expect=$((expect + 1))
  out_line ''; expect=$((expect + 1))
  out_empty; expect=$((expect + 1))
  err_empty; expect=$((expect + 1))
  ok "false" false; expect=$((expect + 1))
  # ... and passes what is right.
  rc 0; out_is $'x\n'; out_has x; err_has y; out_lacks y; err_lacks x; out_line x
  out_bytes 'x\n'
  QUIET=
  local got=$((failures - before))
  checks=$((checks - expect - 8))
  failures=$before
  if [ "$got" -ne "$expect" ]; then
    NAME=self-test CMD="(none)"
    fail "the assertion helper caught $got of $expect planted failures (and passes must not fail)"
  fi
}
self_test

# ---- plugins written for these tests -----------------------------------------

# A WASI command that writes its args to stdout and its environment to stderr,
# each NUL-terminated, as args_get / environ_get lay them out.
cat >"$T/args_env.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $asizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $aget (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $eget (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $asizes (i32.const 0) (i32.const 4)))
    (drop (call $aget (i32.const 1024) (i32.const 4096)))
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.load (i32.const 4)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
    (i32.store (i32.const 4) (i32.const 0))
    (drop (call $esizes (i32.const 0) (i32.const 4)))
    (drop (call $eget (i32.const 1024) (i32.const 8192)))
    (i32.store (i32.const 16) (i32.const 8192))
    (i32.store (i32.const 20) (i32.load (i32.const 4)))
    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 24)))))
EOF

# A WASI command that copies stdin to stdout.
cat >"$T/cat.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (loop $l
      (i32.store (i32.const 0) (i32.const 1024))
      (i32.store (i32.const 4) (i32.const 65536))
      (br_if 1 (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br_if 1 (i32.eqz (i32.load (i32.const 8))))
      (i32.store (i32.const 4) (i32.load (i32.const 8)))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
      (br $l))))
EOF

# WASI commands that exit with a code, return normally, trap, spin.
for code in 0 7 200; do
  printf '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const %d))))\n' \
    "$code" >"$T/exit$code.wat"
done
echo '(module (memory (export "memory") 1) (func (export "_start")))' >"$T/returns.wat"
echo '(module (memory (export "memory") 1) (func (export "_start") unreachable))' >"$T/traps.wat"
echo '(module (memory (export "memory") 1) (func (export "_start") (loop $l br $l)))' >"$T/spins.wat"

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

# Like wasi_read.wat's "open", but creates the file for writing (O_CREAT,
# rights FD_WRITE): returns one byte, path_open's errno.
cat >"$T/create.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get 3 i32.add global.set $heap
    local.get $p)
  (func (export "create") (param $ptr i32) (param $len i32) (result i32)
    i32.const 100
    i32.const 3 i32.const 0 local.get $ptr local.get $len
    i32.const 1 i64.const 64 i64.const 64 i32.const 0 i32.const 16
    call $path_open
    i32.store8
    i32.const 200 i32.const 100 i32.store
    i32.const 204 i32.const 1 i32.store
    i32.const 200))
EOF

NUM=$FIX/numeric.wat ECHO=$FIX/echo.wat

# ---- help and usage ----------------------------------------------------------

t "no command"
run
rc 2; err_has "usage: wasmplug COMMAND"; out_empty

t "unknown command"
run frobnicate
rc 2; err_has "unknown command 'frobnicate'"; err_has "usage:"

for h in --help -h help; do
  t "wasmplug $h"
  run "$h"
  rc 0; out_has "usage: wasmplug COMMAND"; out_has "call PLUGIN EXPORT"; err_empty
done

t "--version"
run --version
rc 0; out_has "wasmplug "

for c in call run inspect; do
  t "$c --help"
  run "$c" --help
  rc 0; out_has "usage: wasmplug $c PLUGIN"; err_empty
  t "$c -h"
  run "$c" -h
  rc 0; out_has "usage: wasmplug $c PLUGIN"
  t "$c without arguments"
  run "$c"
  rc 2; err_has "usage: wasmplug $c"; out_empty
done

t "call --help documents exit codes and options"
run call --help
for opt in --input --input-file --manifest --allow-dir --env --config --timeout-ms \
  --max-memory --max-module-size --max-functions --fuel --log "exit codes"; do
  out_has "$opt"
done

t "call with a plugin but no export"
run call "$NUM"
rc 2; err_has "usage: wasmplug call"

t "inspect with two plugins"
run inspect "$NUM" "$ECHO"
rc 2; err_has "usage: wasmplug inspect"

# ---- call: numeric exports ---------------------------------------------------

t "add 2 3"
run call "$NUM" add 2 3
rc 0; out_is $'5\n'; err_empty

t "add negative numbers"
run call "$NUM" add -2 -3
rc 0; out_is $'-5\n'

t "add hex"
run call "$NUM" add 0x10 0x1
rc 0; out_is $'17\n'

t "add negative hex"
run call "$NUM" add -0x10 0
rc 0; out_is $'-16\n'

t "i32 wraps"
run call "$NUM" add 2147483647 1
rc 0; out_is $'-2147483648\n'

t "i32 given as unsigned"
run call "$NUM" add 0xffffffff 0
rc 0; out_is $'-1\n'

t "i32 range: too large"
run call "$NUM" add 4294967296 0
rc 2; err_has "must be i32"; err_has "4294967296"; out_empty

t "i32 range: too small"
run call "$NUM" add -2147483649 0
rc 2; err_has "must be i32"

t "add64"
run call "$NUM" add64 9000000000 1
rc 0; out_is $'9000000001\n'

t "add64 negative"
run call "$NUM" add64 -9000000000 -1
rc 0; out_is $'-9000000001\n'

t "add64 wraps"
run call "$NUM" add64 0x7fffffffffffffff 1
rc 0; out_is $'-9223372036854775808\n'

t "i64 range"
run call "$NUM" add64 18446744073709551616 0
rc 2; err_has "must be i64"

t "mulf32"
run call "$NUM" mulf32 1.5 -2
rc 0; out_is $'-3\n'

t "f32 results are f32"
run call "$NUM" mulf32 0.1 1
rc 0; out_is $'0.100000001\n'

t "divf64"
run call "$NUM" divf64 1 3
rc 0; out_is $'0.33333333333333331\n'

t "divf64 exact"
run call "$NUM" divf64 7.5 2.5
rc 0; out_is $'3\n'

t "divf64 by zero"
run call "$NUM" divf64 1 0
rc 0; out_is $'inf\n'

t "f64 exponent input"
run call "$NUM" divf64 1e3 -4
rc 0; out_is $'-250\n'

t "pair: two results, one per line"
run call "$NUM" pair 7
rc 0; out_is $'7\n7\n'

t "pair negative (i64 sign-extended)"
run call "$NUM" pair -7
rc 0; out_is $'-7\n-7\n'

t "no results"
run call "$NUM" nothing
rc 0; out_empty; err_empty

t "no arguments"
run call "$NUM" pages
rc 0; out_is $'1\n'

t "-- ends the options"
run call "$NUM" -- add -1 -1
rc 0; out_is $'-2\n'

t "options after the arguments"
run call "$NUM" add 1 2 --timeout-ms 1000
rc 0; out_is $'3\n'

t "--name=value form"
run call "$NUM" add 1 2 --timeout-ms=1000
rc 0; out_is $'3\n'

# ---- call: bytes exports of the example plugins ------------------------------

for p in hello-c hello-go; do
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

# ---- call: the plugin fails (exit 1) -----------------------------------------

t "trap"
run call "$NUM" trap
rc 1; err_has "trapped"; err_has "unreachable"; err_has "wasm backtrace"; out_empty

t "divide by zero"
run call "$NUM" div 1 0
rc 1; err_has "trapped"; err_has "divide by zero"

t "stack overflow"
run call "$NUM" recurse 0
rc 1; err_has "stack"; err_has "wasm backtrace"

t "spin --timeout-ms 50"
start=$(date +%s)
run call "$NUM" spin --timeout-ms 50
rc 1; err_has "timeout"; err_has "50 ms"
ok "the 50 ms timeout took $(($(date +%s) - start)) s (more than 5)" [ $(($(date +%s) - start)) -le 5 ]

t "spin --fuel 1000"
run call "$NUM" spin --fuel 1000
rc 1; err_has "fuel"; err_has "1000"

t "bomb --max-memory 1MiB"
run call "$NUM" bomb --max-memory 1MiB
rc 1; err_has "memory"; err_has "1 MiB"

t "grow past --max-memory is refused"
run call "$NUM" grow 16 --max-memory 1MiB
rc 0; out_is $'-1\n'

t "grow within --max-memory"
run call "$NUM" grow 15 --max-memory 1MiB
rc 0; out_is $'1\n'

t "echo.wat fail reports the plugin's message"
run call "$ECHO" fail --input x
rc 1; err_has "bad things"; err_has "'fail'"; out_empty

t "echo.wat bad_output"
run call "$ECHO" bad_output
rc 1; err_has "outside"; out_empty

t "echo.wat bad_retptr"
run call "$ECHO" bad_retptr
rc 1; err_has "outside"

t "echo.wat bad_log"
run call "$ECHO" bad_log
rc 1; err_has "outside"; err_has "wasmplug.log"

# ---- call: usage errors (exit 2) ---------------------------------------------

t "missing export lists the exports"
run call "$NUM" nope
rc 2; err_has "'nope' not found"; err_has "add, add64"; err_has "spin"; out_empty

t "too few arguments"
run call "$NUM" add 2
rc 2; err_has "takes 2 arguments"; err_has "got 1"; out_empty

t "too many arguments"
run call "$NUM" add 1 2 3
rc 2; err_has "takes 2 arguments"; err_has "got 3"

t "bad number"
run call "$NUM" add abc 1
rc 2; err_has "'abc'"; err_has "argument 1"; out_empty

t "a float for an i32"
run call "$NUM" add 1.5 1
rc 2; err_has "'1.5'"

t "bad float"
run call "$NUM" mulf32 1 x2
rc 2; err_has "argument 2"; err_has "'x2'"

t "empty number"
run call "$NUM" add "" 1
rc 2; err_has "must be i32"

t "unknown option"
run call "$NUM" add 1 2 --bogus 1
rc 2; err_has "unknown option '--bogus'"; out_empty

t "option without its value"
run call "$NUM" add 1 2 --timeout-ms
rc 2; err_has "needs a value"

t "bad --timeout-ms"
run call "$NUM" add 1 2 --timeout-ms soon
rc 2; err_has "'soon'"

t "bad --fuel"
run call "$NUM" add 1 2 --fuel -5
rc 2; err_has "--fuel"

t "bad --max-memory"
run call "$NUM" add 1 2 --max-memory 12XB
rc 2; err_has "'12XB'"

t "bad --log"
run call "$NUM" add 1 2 --log loud
rc 2; err_has "'loud'"

t "bad --config"
run call "$NUM" add 1 2 --config novalue
rc 2; err_has "KEY=VALUE"

t "bad --env"
run call "$NUM" add 1 2 --env =x
rc 2; err_has "KEY=VALUE"

# A limit of 0 would read as "none": refused, with what to do instead.
t "--max-memory 0 is refused"
run call "$NUM" add 1 2 --max-memory 0
rc 2; err_has "--max-memory must be at least 64KiB (one page), got '0'"
err_has "omit it to use the engine's limit"; out_empty

t "--max-memory below one page is refused"
run call "$NUM" add 1 2 --max-memory 65535
rc 2; err_has "at least 64KiB"

t "--max-memory of one page is accepted"
run call "$NUM" add 1 2 --max-memory 64KiB
rc 0; out_is $'3\n'

# Text the plugin would see must be UTF-8; the error names the option.
t "non-UTF-8 --env name"
run call "$NUM" add 1 2 --env $'X\xff=1'
rc 2; err_has '--env: environment variable name "X\xff" is not valid UTF-8'; out_empty

t "non-UTF-8 --env value"
run call "$NUM" add 1 2 --env $'X=a\xc3'
rc 2; err_has '--env: the value of environment variable "X" is not valid UTF-8 ("a\xc3")'

t "non-UTF-8 --config and --allow-dir guest path"
run call "$NUM" add 1 2 --config $'k\x80=v'
rc 2; err_has '--config: config key "k\x80" is not valid UTF-8'
run call "$NUM" add 1 2 --allow-dir "$T:/d"$'\xfe'
rc 2; err_has '--allow-dir: guest path "/d\xfe" is not valid UTF-8'

# The load caps: lowered or raised for one run.
t "--max-functions below a plugin's count"
run call "$NUM" add 1 2 --max-functions 3
rc 3; err_has "functions (0 imported,"; err_has "more than the function limit of 3"

t "bad --max-functions"
run call "$NUM" add 1 2 --max-functions 0
rc 2; err_has "--max-functions takes a number from 1"

t "--max-module-size below a plugin's size"
run call "$NUM" add 1 2 --max-module-size 100
rc 3; err_has "the file is $(wc -c <"$NUM") bytes, more than the module size limit of 100 bytes"

# ---- load and link failures (exit 3) -----------------------------------------

# 100001 imported functions: over the default cap, refused before compiling;
# --max-functions raises it for one run.
{ echo '(module'
  yes '(import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))' | head -n 100000
  echo '(func (export "seven") (result i32) i32.const 7))'; } >"$T/many.wat"
t "more functions than the default cap"
run call "$T/many.wat" seven
rc 3; err_has "100001 functions (100000 imported, 1 defined), more than the function limit of 100000"
err_has "--max-functions"
t "--max-functions raises the cap"
run call "$T/many.wat" seven --max-functions 100001
rc 0; out_is $'7\n'

t "missing plugin file"
run call "$T/no-such.wasm" f
rc 3; err_has "no-such.wasm"; out_empty

t "a directory as plugin"
run call "$T" f
rc 3; err_has "not a regular file"

t "random bytes"
{ printf '\377'; head -c 4096 /dev/urandom; } >"$T/random.wasm"
run call "$T/random.wasm" f
rc 3; err_has "random.wasm"; out_empty

t "a wasm header then garbage"
{ printf '\0asm\1\0\0\0'; head -c 4096 /dev/urandom; } >"$T/corrupt.wasm"
run call "$T/corrupt.wasm" f
rc 3; err_has "corrupt.wasm"

t "empty file"
: >"$T/empty.wasm"
run call "$T/empty.wasm" f
rc 3

t "bad .wat"
echo '(module (func' >"$T/bad.wat"
run call "$T/bad.wat" f
rc 3; err_has "bad.wat"

t "missing.wat names the missing imports"
run call "$FIX/missing.wat" f
rc 3; err_has "env.nowhere"; err_has "env.neither"; out_empty

t "inspect missing.wat"
run inspect "$FIX/missing.wat"
rc 3; err_has "env.nowhere"

t "run missing.wat"
run run "$FIX/missing.wat"
rc 3; err_has "env.nowhere"

t "inspect random bytes"
run inspect "$T/random.wasm"
rc 3

t "run a missing file"
run run "$T/no-such.wasm"
rc 3; err_has "no-such.wasm"

# ---- manifests ---------------------------------------------------------------

cat >"$T/good.json" <<'EOF'
{
  "name": "greeter",
  "config": { "greeting": "Hiya" },
  "limits": { "memory": "16MiB", "timeout_ms": 2000, "fuel": 100000000 }
}
EOF
echo '{ "config": { "greeting": ' >"$T/malformed.json"
echo '{ "limits": { "timout_ms": 5 } }' >"$T/typo.json"
echo '{ "bogus": true }' >"$T/unknown.json"
echo '{ "limits": { "timeout_ms": 50 } }' >"$T/timeout.json"
echo '{ "limits": { "fuel": 1000 } }' >"$T/fuel.json"
echo '{ "limits": { "memory": "1MiB" } }' >"$T/memory.json"
echo '{ "name": "plain" }' >"$T/plain.json"
hello_sha=$(sha256sum "$PLUG/hello-c.wasm" | cut -c1-64)
printf '{ "sources": [ { "path": "%s", "sha256": "%s" } ] }\n' \
  "$PLUG/hello-c.wasm" "$hello_sha" >"$T/pinned.json"
printf '{ "sources": [ { "path": "%s", "sha256": "%s" } ] }\n' \
  "$PLUG/hello-c.wasm" "$(printf '%064d' 0)" >"$T/badpin.json"

t "manifest: config, limits and name"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/good.json"
rc 0; out_is "Hiya, world!"; err_has "greeter"

t "manifest: flags after it add to it"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/good.json" --config greeting=Yo
rc 0; out_is "Yo, world!"

t "manifest: timeout_ms"
run call "$NUM" spin --manifest "$T/timeout.json"
rc 1; err_has "timeout"

t "manifest: fuel"
run call "$NUM" spin --manifest "$T/fuel.json"
rc 1; err_has "fuel"

t "manifest: memory"
run call "$NUM" bomb --manifest "$T/memory.json"
rc 1; err_has "memory"

t "manifest: malformed JSON"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/malformed.json"
rc 2; err_has "malformed.json"; err_has "JSON"; out_empty

t "manifest: unknown field names the field"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/unknown.json"
rc 2; err_has "unknown field 'bogus'"; out_empty

t "manifest: misspelt limit names the field"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/typo.json"
rc 2; err_has "limits.timout_ms"

t "manifest: file missing"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/no-such.json"
rc 2; err_has "no-such.json"

t "manifest: right sha256 pin"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/pinned.json"
rc 0; out_is "Hello, world!"

t "manifest: wrong sha256 pin"
run call "$PLUG/hello-c.wasm" greet --input world --manifest "$T/badpin.json"
rc 3; err_has "sha256 mismatch"; err_has "$hello_sha"; out_empty

t "manifest: wrong sha256 pin stops inspect too"
run inspect "$PLUG/hello-c.wasm" --manifest "$T/badpin.json"
rc 3; err_has "sha256 mismatch"

# Flags given before --manifest must not be lost (the help says the flags add
# to the manifest). Guarded by --limit: if the timeout is dropped, spin runs
# until killed.
t "manifest: flags before it add to it (config)"
run call "$PLUG/hello-c.wasm" greet --input world --config greeting=Yo --manifest "$T/plain.json"
rc 0; out_is "Yo, world!"

t "manifest: flags before it add to it (timeout)"
run --limit 3 call "$NUM" spin --timeout-ms 50 --manifest "$T/plain.json"
rc 1; err_has "timeout"

# ---- --allow-dir -------------------------------------------------------------

mkdir -p "$T/grant/sub" "$T/rw" "$T/ro"
echo inside >"$T/grant/sub/inside.txt"
echo outside >"$T/grant/outside.txt"
G=$T/grant/sub
RD=$FIX/wasi_read.wat

t "allow-dir: a file inside opens"
run call "$RD" open --input inside.txt --allow-dir "$G"
rc 0; out_byte 0

t "allow-dir: ../ escapes are refused"
run call "$RD" open --input ../outside.txt --allow-dir "$G"
rc 0; out_byte_nonzero

t "allow-dir: absolute host paths are refused"
run call "$RD" open --input "$T/grant/outside.txt" --allow-dir "$G"
rc 0; out_byte_nonzero

t "allow-dir: a missing file is ENOENT (44)"
run call "$RD" open --input nothing.txt --allow-dir "$G"
rc 0; out_byte 44

t "allow-dir: without a grant nothing opens (EBADF, 8)"
run call "$RD" open --input inside.txt
rc 0; out_byte 8

t "allow-dir :ro still reads"
run call "$RD" open --input inside.txt --allow-dir "$G:ro"
rc 0; out_byte 0

t "allow-dir HOST:GUEST"
run call "$RD" open --input inside.txt --allow-dir "$G:/data"
rc 0; out_byte 0

t "allow-dir HOST:GUEST:ro"
run call "$RD" open --input inside.txt --allow-dir "$G:/data:ro"
rc 0; out_byte 0

t "allow-dir (read-write by default) creates files"
run call "$T/create.wat" create --input made.txt --allow-dir "$T/rw"
rc 0; out_byte 0
ok "made.txt was not created in the granted directory" [ -f "$T/rw/made.txt" ]

t "allow-dir :ro refuses to create files"
run call "$T/create.wat" create --input made.txt --allow-dir "$T/ro:ro"
rc 0; out_byte_nonzero
ok "made.txt was created in a read-only grant" [ ! -e "$T/ro/made.txt" ]

t "allow-dir: a missing host directory"
run call "$RD" open --input x --allow-dir "$T/no-such-dir"
rc 2; err_has "no-such-dir"

t "allow-dir: a relative guest path"
run call "$RD" open --input x --allow-dir "$G:data"
rc 2; err_has "absolute"

printf '{ "wasi": { "dirs": [ { "host": "grant/sub", "guest": "/data", "mode": "ro" } ] } }\n' \
  >"$T/dirs.json"
t "manifest wasi.dirs (relative to the manifest)"
run call "$RD" open --input inside.txt --manifest "$T/dirs.json"
rc 0; out_byte 0

# ---- run ---------------------------------------------------------------------

t "run command.wat"
run run "$FIX/command.wat"
rc 3; out_is $'hi from wasm\n'; err_has "oops"; err_lacks "wasmplug:"

t "run: exit code 0"
run run "$T/exit0.wat"
rc 0; out_empty

t "run: exit code 7"
run run "$T/exit7.wat"
rc 7

t "run: a _start that returns exits 0"
run run "$T/returns.wat"
rc 0; out_empty; err_empty

t "run: an exit code WASI does not allow"
run run "$T/exit200.wat"
rc 1; err_has "exit"

t "run: trap"
run run "$T/traps.wat"
rc 1; err_has "trapped"; err_has "wasm backtrace"

t "run: --timeout-ms"
run run "$T/spins.wat" --timeout-ms 100
rc 1; err_has "timeout"

t "run: --fuel"
run run "$T/spins.wat" --fuel 10000
rc 1; err_has "fuel"

t "run: no _start"
run run "$NUM"
rc 3; err_has "_start"

t "run: args (argv[0] is the file name; '--' passes options through)"
run run "$T/args_env.wat" a "b c" -- --x
rc 0; out_bytes 'args_env.wat\0a\0b c\0--x\0'

t "run: --env and nothing inherited"
run run "$T/args_env.wat" --env FOO=bar --env X=1
rc 0; out_bytes 'args_env.wat\0'
if [ "$(tr '\0' '\n' <"$ERR" | sort | tr '\n' ' ')" = "FOO=bar X=1 " ]; then pass; else
  fail "expected the environment to be exactly FOO=bar and X=1 (NUL-terminated) on stderr"
fi

t "run: a non-UTF-8 argument is refused, not cut short"
run run "$T/args_env.wat" a $'b\xffc'
rc 2; err_has 'argument argv[2] "b\xffc" is not valid UTF-8'; out_empty

t "run: no environment unless granted"
run run "$T/args_env.wat"
rc 0; err_empty

t "run: --input is stdin"
run run "$T/cat.wat" --input hello
rc 0; out_is "hello"

t "run: --input-file -"
run --stdin "$T/random.bin" run "$T/cat.wat" --input-file -
rc 0; out_same_as "$T/random.bin"

t "run: --input-file"
run run "$T/cat.wat" --input-file "$T/random.bin"
rc 0; out_same_as "$T/random.bin"

t "run: stdin is empty unless given"
run --stdin "$T/random.bin" run "$T/cat.wat"
rc 0; out_empty

t "run: --input-file that does not exist"
run run "$T/cat.wat" --input-file "$T/no-such-input"
rc 2; err_has "no-such-input"

t "run: unknown option"
run run "$FIX/command.wat" --bogus 1
rc 2; err_has "unknown option"; out_empty

# ---- inspect -----------------------------------------------------------------

t "inspect hello-c"
run inspect "$PLUG/hello-c.wasm"
rc 0; err_empty
out_line "sha256:  $hello_sha"
out_line "size:    $(wc -c <"$PLUG/hello-c.wasm") bytes"
out_line "plugin:  hello-c.wasm"
out_has "  greet: func (i32, i32) -> (i32)"
out_has "  cabi_realloc: func (i32, i32, i32, i32) -> (i32)"
out_has "  wasmplug.log: func (i32, i32, i32) -> ()"
out_lacks "wasi_snapshot_preview1"
out_line "wasi:    no"
out_has "bytes abi: yes"

t "inspect hello-go"
run inspect "$PLUG/hello-go.wasm"
rc 0
out_line "sha256:  $(sha256sum "$PLUG/hello-go.wasm" | cut -c1-64)"
out_has "  wasi_snapshot_preview1.fd_write: "
out_has "  wasi_snapshot_preview1.proc_exit: "
out_has "  greet: func (i32, i32) -> (i32)"
out_has "wasi:    yes"

t "inspect numeric.wat"
run inspect "$NUM"
rc 0
out_line "imports: 0"
out_line "  pair: func (i32) -> (i32, i64)"
out_line "  memory: 1 pages (64 KiB) initial, 1000 pages maximum"
out_line "bytes abi: no"

t "inspect a .wat hashes the text file"
run inspect "$FIX/command.wat"
rc 0
out_line "sha256:  $(sha256sum "$FIX/command.wat" | cut -c1-64)"
out_has "wasi_snapshot_preview1.fd_write"
out_has "_start"

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

t "component: --input is refused with a hint"
run call "$C" echo --input x --missing-imports trap
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
    echo "test_cli.sh: SKIP hello-$lang-component: $P was not built" >&2
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

# ---- summary -----------------------------------------------------------------

if [ "$failures" -eq 0 ]; then
  printf 'test_cli.sh: all %d checks passed\n' "$checks"
  exit 0
fi
printf 'test_cli.sh: %d of %d checks FAILED\n' "$failures" "$checks"
exit 1
