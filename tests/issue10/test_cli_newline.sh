#!/usr/bin/env bash
# test_cli_newline.sh - `wasmplug call` of a bytes export (issue 10): on a
# terminal the output ends with a newline (added when the plugin's output
# lacks one); piped or redirected, the bytes come out exactly as the plugin
# returned them. script(1) (util-linux) gives the command a terminal.
# shellcheck source-path=SCRIPTDIR source=../cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

if ! command -v script >/dev/null; then
  echo "skipped: script(1) (util-linux) is not installed"
  exit 77
fi

# tty_run ARGS...: runs "$CLI ARGS..." with a terminal as stdout (script -q -c
# with the typescript thrown away) and leaves what the terminal got in $OUT,
# with the terminal's CR LF turned back into LF; stderr goes to $ERR, not to
# the terminal. Input comes from /dev/null.
tty_run() {
  CMD="(on a terminal) wasmplug$(printf ' %q' "$@")"
  local cmd
  cmd="$(printf '%q ' "$CLI" "$@")</dev/null 2>$(printf %q "$ERR")"
  timeout -k 2 30 script -q -e -c "$cmd" /dev/null </dev/null >"$T/tty"
  RC=$?
  sed 's/\r$//' "$T/tty" >"$OUT"
}

HELLO=$PLUG/hello-c.wasm

t "terminal: a newline is added after output without one"
tty_run call "$HELLO" greet --input world
rc 0
out_is $'Hello, world!\n'

t "pipe: no newline is added"
run call "$HELLO" greet --input world
rc 0
out_is 'Hello, world!'

t "pipe: output through a real pipe is unchanged"
CMD="wasmplug call $HELLO greet --input world | cat"
"$CLI" call "$HELLO" greet --input world </dev/null 2>"$ERR" | cat >"$OUT"
RC=${PIPESTATUS[0]}
rc 0
out_is 'Hello, world!'

t "terminal: output that ends with a newline gets no second one"
printf 'line\n' >"$T/in.txt"
tty_run call "$ECHO" echo --input-file "$T/in.txt"
rc 0
out_is $'line\n'

t "terminal: empty output prints nothing"
tty_run call "$ECHO" echo
rc 0
out_is ''

finish
