#!/usr/bin/env bash
# test_help.sh - the wasmplug command's help texts and usage errors:
# --help, -h, help, --version, each command without its arguments.
#
# usage: test_help.sh CLI FIXTURES_DIR PLUGINS_DIR (see lib.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

finish
