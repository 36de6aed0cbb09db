#!/usr/bin/env bash
# Instructions per operation of the benchmark rows with targets, counted by
# callgrind: repeatable where timings on a shared machine are not. Each row
# runs N1 and N2 times in wasmplug-callgrind-probe (probe.c), counting only
# inside its op_* functions (not the compiler's worker threads, whose spinning
# varies), and the difference over N2 - N1 is printed, so first calls (lazy
# lookups) cancel out. The component rows' baselines are the same calls
# through Wasmtime's Rust typed API (bench/rust --probe, probe_op_* functions),
# when make bench has built it.
#
#   bench/callgrind/run.sh BUILD_DIR [ROW...]     (make bench-callgrind)
#
# Prints one line per row (instructions, baseline, ratio) and writes
# BUILD_DIR/bench/callgrind.json.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [ROW...]}
shift
probe="$build/bin/wasmplug-callgrind-probe"
rust="$build/bin/wasmplug-bench-rust"
types="$build/plugins/types-c-component.wasm"
rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
  rows=(numeric_call bytes_echo_32B pooled_fresh_instance component_nop component_echo_32B
        component_echo_u32 component_echo_point component_pooled_fresh)
fi
command -v valgrind >/dev/null || { echo "bench-callgrind: valgrind is not installed" >&2; exit 1; }
n1=1000 n2=3000

# COUNT TOGGLE CMD... : instructions collected inside functions matching TOGGLE
collected() {
  local toggle=$1
  shift
  valgrind --tool=callgrind --toggle-collect="$toggle" --callgrind-out-file=/dev/null "$@" 2>&1 |
    sed -n 's/.*Collected : //p'
}

# PER TOGGLE CMD-WITHOUT-N... : instructions per operation
per_op() {
  local toggle=$1
  shift
  local a b
  a=$(collected "$toggle" "$@" $n1)
  b=$(collected "$toggle" "$@" $n2)
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "bench-callgrind: '$*' did not run" >&2
    exit 1
  fi
  echo $(( (b - a) / (n2 - n1) ))
}

baseline() { # ROW -> the baseline's instructions, or nothing
  case "$1" in
    numeric_call) per_op 'op_*' "$probe" numeric_call_raw ;;
    component_nop | component_echo_32B | component_echo_u32 | component_echo_point)
      if [ -x "$rust" ]; then per_op '*probe_op_*' "$rust" "$types" --probe "$1"; fi ;;
  esac
}

baseline_name() {
  case "$1" in
    numeric_call) echo numeric_call_raw ;;
    component_*) echo "${1}_rust_typed" ;;
  esac
}

mkdir -p "$build/bench"
json=""
printf '%-24s %12s  %-32s %12s  %s\n' row instructions baseline instructions ratio
for row in "${rows[@]}"; do
  ours=$(per_op 'op_*' "$probe" "$row")
  base=$(baseline "$row")
  json="$json\"$row\": $ours, "
  if [ -n "$base" ]; then
    name=$(baseline_name "$row")
    ratio=$(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
    printf '%-24s %12d  %-32s %12d  %s\n' "$row" "$ours" "$name" "$base" "$ratio"
    json="$json\"$name\": $base, "
  else
    printf '%-24s %12d  %-32s %12s  %s\n' "$row" "$ours" - - -
  fi
done
echo "{${json%, }}" > "$build/bench/callgrind.json"
