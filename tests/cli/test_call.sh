#!/usr/bin/env bash
# test_call.sh - `wasmplug call` on numeric exports: arguments parsed by
# type, results printed one per line, argument errors (exit 2), and plugins
# that fail: traps, timeouts, fuel, memory, ABI violations (exit 1).
#
# usage: test_call.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

# ---- call: argument errors (exit 2) ------------------------------------------

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

finish
