#!/usr/bin/env bash
# test_inspect.sh - `wasmplug inspect` on core modules: hash, size, imports,
# exports and their types, WASI and bytes-ABI verdicts.
#
# usage: test_inspect.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hello_sha=$(sha256sum "$PLUG/hello-c.wasm" | cut -c1-64)

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

finish
