# shellcheck shell=bash
# lib.sh - what the CLI test scripts (tests/cli/test_*.sh) share: their
# arguments, a private temporary directory and compile cache, the run and
# assertion helpers, and the summary. Each script tests one command or area
# and is its own ctest entry; scripts run in parallel without sharing files.
#
# A script is run as
#   bash test_NAME.sh CLI FIXTURES_DIR PLUGINS_DIR
#     CLI           the wasmplug binary (build/bin/wasmplug)
#     FIXTURES_DIR  tests/fixtures (numeric.wat, echo.wat, command.wat, ...)
#     PLUGINS_DIR   build/plugins (hello-c.wasm, hello-go.wasm, callback-c.wasm)
# and looks like
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   t "what is checked"; run call "$NUM" add 2 3; rc 0; out_is $'5\n'
#   ...
#   finish
#
# Every check runs the CLI and compares its exit code, stdout and stderr with
# what the README, the --help texts and docs/abi.md promise. A failing check
# prints the command, what was expected and what came out; a script exits 1
# if any check failed, 2 if it could not start.
set -u

SCRIPT=$(basename "$0")
if [ $# -ne 3 ]; then
  echo "usage: $0 CLI FIXTURES_DIR PLUGINS_DIR" >&2
  exit 2
fi
CLI=$1 FIX=$2 PLUG=$3
for f in "$FIX/numeric.wat" "$FIX/echo.wat" "$FIX/command.wat" "$FIX/wasi_read.wat" \
  "$FIX/missing.wat" "$PLUG/hello-c.wasm" "$PLUG/hello-go.wasm"; do
  [ -f "$f" ] || { echo "$SCRIPT: missing $f" >&2; exit 2; }
done
[ -x "$CLI" ] || { echo "$SCRIPT: $CLI is not an executable" >&2; exit 2; }

# One directory per script run: parallel scripts never share a file.
T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-cli-${SCRIPT%.sh}.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# A private compile cache: no state from earlier runs, none left behind.
export XDG_CACHE_HOME="$T/cache"
# A variable the plugins must not see unless granted with --env.
export WASMPLUG_TEST_HOST_ONLY=leak

checks=0 failures=0
NAME="" CMD="" RC=0
OUT="$T/stdout" ERR="$T/stderr"
# shellcheck disable=SC2034 # the fixtures most scripts call
NUM=$FIX/numeric.wat ECHO=$FIX/echo.wat

# ---- the assertion helper ----------------------------------------------------

# t NAME: starts a test case; its checks are reported under NAME.
t() { NAME=$1; }

# run [--stdin FILE] [--limit SECONDS] [--] ARGS...: runs "$CLI ARGS...",
# stdin from FILE (default /dev/null), stdout and stderr to $OUT and $ERR,
# exit code in RC. A run that takes longer than the limit (default 30 s) is
# killed and gets RC 124 (timeout(1)), which no check expects.
run() {
  local stdin=/dev/null limit=30
  while [ $# -gt 0 ]; do
    case $1 in
    --stdin) stdin=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
    esac
  done
  CMD="wasmplug$(printf ' %q' "$@")"
  timeout -k 2 "$limit" "$CLI" "$@" <"$stdin" >"$OUT" 2>"$ERR"
  RC=$?
}

# At most 800 bytes of a file, shown indented, non-printing bytes escaped.
show() {
  if [ ! -s "$1" ]; then printf '      (empty)\n'; return; fi
  head -c 800 "$1" | cat -v | awk '{ print "      | " $0 }'
  [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || printf '      (no newline at the end)\n'
  [ "$(wc -c <"$1")" -le 800 ] || printf '      | ... (%s bytes in all)\n' "$(wc -c <"$1")"
}

pass() { checks=$((checks + 1)); }
fail() {
  checks=$((checks + 1)) failures=$((failures + 1))
  [ -n "${QUIET:-}" ] && return
  printf 'FAIL [%s] %s\n' "$NAME" "$1"
  printf '    command: %s\n' "$CMD"
  printf '    exit code: %s\n    stdout:\n' "$RC"
  show "$OUT"
  printf '    stderr:\n'
  show "$ERR"
}

# rc N: the exit code is N.
rc() {
  if [ "$RC" = "$1" ]; then pass; return; fi
  if [ "$RC" = 124 ]; then fail "expected exit code $1, got 124: killed after its time limit"
  else fail "expected exit code $1, got $RC"; fi
}

# out_is TEXT: stdout is exactly TEXT (byte for byte; use $'...\n' for newlines).
out_is() {
  local got
  got=$(cat "$OUT"; printf x) # the x keeps trailing newlines
  got=${got%x}
  if [ "$got" = "$1" ]; then pass; else fail "expected stdout exactly $(printf %q "$1"), got $(printf %q "$got")"; fi
}

# out_bytes FORMAT [ARGS...]: stdout is exactly the bytes printf FORMAT ARGS
# makes (for output with NUL bytes).
out_bytes() {
  # shellcheck disable=SC2059
  printf "$@" >"$T/expected"
  if cmp -s "$T/expected" "$OUT"; then pass; else
    fail "expected stdout bytes $(od -An -c "$T/expected" | tr -s ' ' | head -c 300)"
  fi
}

# out_same_as FILE: stdout is byte for byte FILE.
out_same_as() {
  if cmp -s "$1" "$OUT"; then pass; else
    fail "expected stdout identical to $1 ($(wc -c <"$1") bytes): $(cmp "$1" "$OUT" 2>&1 | head -1)"
  fi
}

# out_byte N: stdout is the single byte N (decimal).
out_byte() {
  local got
  got=$(od -An -tu1 "$OUT" | tr -d ' \n')
  if [ "$got" = "$1" ]; then pass; else fail "expected stdout to be the one byte $1, got '${got}'"; fi
}

# out_byte_nonzero: stdout is one byte other than 0.
out_byte_nonzero() {
  local got
  got=$(od -An -tu1 "$OUT" | tr -d ' \n')
  if [[ "$(wc -c <"$OUT")" -eq 1 && "$got" != 0 ]]; then pass; else
    fail "expected stdout to be one non-zero byte (an errno), got '${got}'"
  fi
}

# out_has / err_has TEXT: stdout / stderr contains TEXT (fixed string).
out_has() { if grep -qF -- "$1" "$OUT"; then pass; else fail "expected stdout to contain '$1'"; fi; }
err_has() { if grep -qF -- "$1" "$ERR"; then pass; else fail "expected stderr to contain '$1'"; fi; }
# out_lacks / err_lacks TEXT: ... does not contain TEXT.
out_lacks() { if grep -qF -- "$1" "$OUT"; then fail "expected stdout not to contain '$1'"; else pass; fi; }
err_lacks() { if grep -qF -- "$1" "$ERR"; then fail "expected stderr not to contain '$1'"; else pass; fi; }
# out_line LINE: stdout has a line that is exactly LINE.
out_line() { if grep -qxF -- "$1" "$OUT"; then pass; else fail "expected a stdout line exactly '$1'"; fi; }
out_empty() { if [ ! -s "$OUT" ]; then pass; else fail "expected empty stdout"; fi; }
err_empty() { if [ ! -s "$ERR" ]; then pass; else fail "expected empty stderr"; fi; }
# ok COND_DESCRIPTION CMD...: a check on something other than the last run.
ok() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}

# ---- the helper catches what it should ---------------------------------------
# Each assertion must be able to fail: feed each a result that is wrong for it
# and count that it failed.
self_test() {
  local before=$failures expect=0
  QUIET=1
  printf 'x\n' >"$OUT"
  printf 'y\n' >"$ERR"
  RC=0
  rc 1; expect=$((expect + 1))
  out_is 'x'; expect=$((expect + 1)) # the newline is missing
  out_is $'x\n\n'; expect=$((expect + 1))
  out_bytes 'x\0'; expect=$((expect + 1))
  out_same_as "$ERR"; expect=$((expect + 1))
  out_byte 0; expect=$((expect + 1))
  out_byte_nonzero; expect=$((expect + 1)) # two bytes
  out_has 'z'; expect=$((expect + 1))
  err_has 'x'; expect=$((expect + 1))
  out_lacks 'x'; expect=$((expect + 1))
  err_lacks 'y'; expect=$((expect + 1))
  out_line ''; expect=$((expect + 1))
  out_empty; expect=$((expect + 1))
  err_empty; expect=$((expect + 1))
  ok "false" false; expect=$((expect + 1))
  # ... and passes what is right.
  rc 0; out_is $'x\n'; out_has x; err_has y; out_lacks y; err_lacks x; out_line x
  out_bytes 'x\n'
  QUIET=
  local got=$((failures - before))
  checks=$((checks - expect - 8))
  failures=$before
  if [ "$got" -ne "$expect" ]; then
    NAME=self-test CMD="(none)"
    fail "the assertion helper caught $got of $expect planted failures (and passes must not fail)"
  fi
}
self_test

# ---- the summary -------------------------------------------------------------

# finish: reports the checks and exits 0 if all passed, else 1.
finish() {
  if [ "$checks" -eq 0 ]; then
    printf '%s: no checks ran\n' "$SCRIPT"
    exit 1
  fi
  if [ "$failures" -eq 0 ]; then
    printf '%s: all %d checks passed\n' "$SCRIPT" "$checks"
    exit 0
  fi
  printf '%s: %d of %d checks FAILED\n' "$SCRIPT" "$failures" "$checks"
  exit 1
}
