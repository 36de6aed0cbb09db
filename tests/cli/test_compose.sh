#!/usr/bin/env bash
# test_compose.sh - `wasmplug compose` and the manifest's "link" on the
# RFC's own test case (docs/compose.md): kv-test imports
# wasi:keyvalue/store, kv-memory serves it; composed and linked, `call run`
# prints the same line. A plug that does not fit fails both ways naming the
# function and both types.
#
# usage: test_compose.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KV_TEST="$PLUG/kv-test.wasm" KV_MEM="$PLUG/kv-memory.wasm" KV_BAD="$PLUG/kv-misfit.wasm"
IFACE="wasi:keyvalue/store@0.2.0-draft" DEBUG="example:compose/debug"
# "live" counts kv-memory's buckets: dropping kv-test's handle drops the plug's.
EXPECTED='"get b=two; exists a=true; delete a; exists a=false; get a=none; keys=b,c; live=1; live=0; reopened: get c=333; live=0;"'

t "compose: kv-test with kv-memory makes one component"
run compose "$KV_TEST" --plug "$KV_MEM" -o "$T/kv.wasm"
rc 0
err_empty

t "compose: the composed component imports no keyvalue and runs"
run inspect "$T/kv.wasm"
rc 0
out_lacks "import wasi:keyvalue"
run call "$T/kv.wasm" run
rc 0
out_line "$EXPECTED"

t "link: the manifest's \"link\" serves the import at load time, same answer"
cp "$KV_MEM" "$T/kv-memory.wasm"
printf '{"link": {"%s": "kv-memory.wasm", "%s": "kv-memory.wasm"}}\n' "$IFACE" "$DEBUG" \
  > "$T/linked.json"
run call "$KV_TEST" run --manifest "$T/linked.json"
rc 0
out_line "$EXPECTED"

t "link: without it the imports are the host's to serve (it has no $DEBUG)"
run call "$KV_TEST" run
rc 3
err_has "$DEBUG"

t "compose: a plug that does not fit names the function and both types"
run compose "$KV_TEST" --plug "$KV_BAD" -o "$T/bad.wasm"
rc 3
err_has "plug '$KV_BAD' does not fit the main component"
err_has "import '$IFACE': function '[method]bucket.get' has the wrong type"
err_has "expected func(self: borrow<resource bucket>, key: string) -> result<option<list<u8>>"
err_has "found func(self: borrow<resource bucket>, key: string) -> result<option<string>"
[ ! -e "$T/bad.wasm" ] && pass || fail "no output expected"

t "link: a plug that does not fit fails the load the same way"
printf '{"link": {"%s": "%s"}}\n' "$IFACE" "$KV_BAD" > "$T/bad.json"
run call "$KV_TEST" run --manifest "$T/bad.json"
rc 3
err_has "does not fit: import '$IFACE': function '[method]bucket.get' has the wrong type"
err_has "option<string>"

t "compose: a plug that serves nothing is an error"
run compose "$KV_TEST" --plug "$PLUG/hello-c-component.wasm" -o "$T/none.wasm"
rc 3
err_has "satisfies none of the imports"

t "compose: usage errors"
run compose "$KV_TEST" -o "$T/x.wasm"
rc 2
err_has "at least one --plug"
run compose --help
rc 0
out_has "usage: wasmplug compose MAIN.wasm --plug PLUG.wasm"

finish
