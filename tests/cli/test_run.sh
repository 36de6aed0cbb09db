#!/usr/bin/env bash
# test_run.sh - `wasmplug run`: WASI commands, their exit codes, traps and
# limits, arguments, environment and stdin.
#
# usage: test_run.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

# Binary input, with a NUL, a CR and a byte that is not UTF-8.
head -c 300000 /dev/urandom >"$T/random.bin"
printf '\0\n\r\377' >>"$T/random.bin"

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

finish
