#!/usr/bin/env bash
# test_isolation.sh - `--isolation process` on `wasmplug call` and `wasmplug
# run`: the same results, errors and exit codes as in-process, the plugin in
# a worker process (`wasmplug worker`, this very binary).
#
# usage: test_isolation.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset WASMPLUG_WORKER

echo '(module (memory (export "memory") 1) (func (export "_start") (loop $l br $l)))' >"$T/spins.wat"

t "call: numbers"
run call --isolation process "$NUM" add 2 3
rc 0; out_is $'5\n'

t "call: bytes, and the plugin's log reaches the host's stderr"
run call --isolation process "$ECHO" echo --input hello
rc 0; out_is "hello"; err_has "echoing"

t "call: a trap keeps its message and backtrace"
run call --isolation process "$NUM" trap
rc 1; err_has "call 'trap' trapped: wasm \`unreachable\`"; err_has "wasm backtrace"

t "call: --timeout-ms, enforced in the worker"
run call --isolation process --timeout-ms 50 "$NUM" spin
rc 1; err_has "call 'spin' ran past its 50 ms timeout (set by --timeout-ms"

t "call: --fuel"
run call --isolation process --fuel 10000 "$NUM" spin
rc 1; err_has "ran out of fuel (limit 10000"

t "call: --max-memory"
run call --isolation process --max-memory 256KiB "$NUM" bomb
rc 1; err_has "memory reached the 256 KiB limit"

t "run: stdout, stderr and exit code of a WASI command"
run run --isolation process "$FIX/command.wat"
rc 3; out_is $'hi from wasm\n'; err_has "oops"

t "run: --timeout-ms"
run run --isolation process "$T/spins.wat" --timeout-ms 100
rc 1; err_has "timeout"

t "a manifest that asks for it"
printf '{"isolation": "process", "limits": {"timeout_ms": 50}}' >"$T/m.json"
run call --manifest "$T/m.json" "$NUM" spin
rc 1; err_has "ran past its 50 ms timeout"

t "--isolation takes none or process"
run call --isolation thread "$NUM" add 2 3
rc 2; err_has "--isolation takes none or process, got 'thread'"

t "a missing worker program is named"
WASMPLUG_WORKER=/nonexistent/wasmplug run call --isolation process "$NUM" add 2 3
rc 3; err_has "cannot start its worker process '/nonexistent/wasmplug'"

t "worker: not for people"
run worker
rc 2; err_has "usage: wasmplug worker --fd N"

finish
