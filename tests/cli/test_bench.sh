#!/usr/bin/env bash
# test_bench.sh - `wasmplug bench`: the call is made as `wasmplug call` makes
# it (numbers, bytes, WAVE), timed on a reused and on fresh instances, the
# JSON has one object per mode with sane numbers, and failures, usage errors
# and load errors exit as documented. Times themselves are not judged here
# (make bench does that); only that they are positive and ordered.
#
# usage: test_bench.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NUM="$FIX/numeric.wat"
HELLO="$PLUG/hello-c.wasm"
COMP="$PLUG/hello-c-component.wasm"

# json_check FILE MODES...: the file is a JSON list of one object per mode,
# in order, with min <= median <= max, all > 0, and the given reps.
json_check() {
  python3 - "$@" <<'PY'
import json, sys
path, reps, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = json.load(open(path))
assert [r["name"] for r in rows] == modes, rows
for r in rows:
    assert r["unit"] == "ns/call", r
    assert 0 < r["min"] <= r["median"] <= r["max"], r
    assert r["reps"] == reps and r["iterations"] >= 1, r
PY
}

t "numeric export, both modes, text"
run bench "$NUM" add 2 3 --reps 3 --iterations 200
rc 0
out_has "numeric.wat add: medians of 3 repetitions"
out_has "reused instance"
out_has "fresh instance"
out_has "200 calls per repetition"

t "bytes export with --input, JSON, reused only"
run bench "$HELLO" greet --input world --reps 5 --mode reused --format json
rc 0
ok "the JSON has one reused_instance row with 5 reps" json_check "$OUT" 5 reused_instance
# The first call shows the plugin's log line once; the timed calls are silent.
ok "the plugin's log shows once (the first call)" \
  test "$(grep -c 'greeting world' "$ERR")" -eq 1

t "fresh instances cost more than a reused one"
run bench "$NUM" add 2 3 --reps 3 --iterations 300 --format json
rc 0
ok "both rows" json_check "$OUT" 3 reused_instance fresh_instance
ok "fresh median above reused median" python3 -c '
import json, sys
r = {x["name"]: x["median"] for x in json.load(open(sys.argv[1]))}
sys.exit(0 if r["fresh_instance"] > r["reused_instance"] else 1)' "$OUT"

t "component function with --input (string -> string)"
run bench "$COMP" greet --input world --reps 3 --iterations 50 --mode fresh --format json
rc 0
ok "one fresh_instance row" json_check "$OUT" 3 fresh_instance

t "calibrated: no --iterations"
run bench "$NUM" add 1 1 --reps 1 --mode reused --format json
rc 0
ok "calibration picked many calls" python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))[0]["iterations"] > 1000 else 1)' "$OUT"

t "a trapping export: exit 1, the trap reported"
run bench "$NUM" trap --reps 2
rc 1
err_has "trapped"
out_empty

t "a call past its timeout: exit 1"
run bench "$NUM" spin --timeout-ms 50 --reps 2
rc 1
err_has "timeout"

t "wrong argument count: exit 2"
run bench "$NUM" add 1
rc 2
err_has "'add' takes 2 arguments"

t "a bytes export given arguments: exit 2, with the bench command that works"
run bench "$HELLO" greet world
rc 2
err_has "is a bytes export"
err_has "wasmplug bench $HELLO greet --input 'world'"

t "bad option values: exit 2"
for bad in "--reps 0" "--reps x" "--iterations 0" "--mode sometimes" "--format xml"; do
  # shellcheck disable=SC2086
  run bench "$NUM" add 1 2 $bad
  rc 2
  err_has "${bad%% *}"
done

t "an option of another command is refused"
run bench "$NUM" add 1 2 --port 80
rc 2
err_has "unknown option '--port'"

t "unknown export: exit 2; missing file: exit 3"
run bench "$NUM" nosuch
rc 2
err_has "export 'nosuch' not found"
run bench "$T/nope.wasm" f
rc 3

t "--help"
run bench --help
rc 0
out_has "usage: wasmplug bench PLUGIN EXPORT"

finish
