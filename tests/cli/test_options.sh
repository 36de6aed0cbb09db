#!/usr/bin/env bash
# test_options.sh - the options `wasmplug call` shares with the other
# commands: malformed values (exit 2), the load caps, manifests (grants,
# limits, sha256 pins; flags add to them) and --allow-dir grants.
#
# usage: test_options.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- plugins written for these tests -----------------------------------------

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

# ---- option errors (exit 2) --------------------------------------------------

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

finish
