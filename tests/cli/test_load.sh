#!/usr/bin/env bash
# test_load.sh - plugins that cannot be loaded or linked (exit 3), for
# call, inspect and run: missing, unreadable or corrupt files, bad .wat, more
# functions than the cap, missing imports.
#
# usage: test_load.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

finish
