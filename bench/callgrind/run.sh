#!/usr/bin/env bash
# Instructions per operation of the benchmark rows with targets, counted by
# callgrind: repeatable where timings on a shared machine are not. Each row
# runs N1 and N2 times in wasmplug-callgrind-probe (probe.c) and the
# difference over N2 - N1 is printed, so loading, compiling and teardown
# cancel out.
#
#   bench/callgrind/run.sh BUILD_DIR [ROW...]     (make bench-callgrind)
#
# Prints "ROW  INSTRUCTIONS" lines, then writes BUILD_DIR/bench/callgrind.json.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [ROW...]}
shift
probe="$build/bin/wasmplug-callgrind-probe"
rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
  rows=(numeric_call_raw numeric_call bytes_echo_32B pooled_fresh_instance
        component_nop component_echo_32B component_echo_u32 component_echo_point
        component_pooled_fresh)
fi
command -v valgrind >/dev/null || { echo "bench-callgrind: valgrind is not installed" >&2; exit 1; }
n1=1000 n2=3000
count() { # ROW N -> total instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$probe" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : //p'
}
mkdir -p "$build/bench"
json="{"
for row in "${rows[@]}"; do
  a=$(count "$row" $n1)
  b=$(count "$row" $n2)
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "bench-callgrind: $row did not run" >&2
    exit 1
  fi
  per=$(( (b - a) / (n2 - n1) ))
  printf '%-26s %8d instructions\n' "$row" "$per"
  json="$json\"$row\": $per, "
done
echo "${json%, }}" > "$build/bench/callgrind.json"
