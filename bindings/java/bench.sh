#!/bin/sh
# The Java rows of `make bench-bindings` (protocol: bench/bindings/run.py).
#   bench.sh --batch N --reps R
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
: "${WP_FIXTURES:?bindings/java: set WP_FIXTURES (tests/fixtures)}"
export WP_FIXTURES
$MVN compile dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" -Dmdep.includeScope=runtime >&2
CP="$BUILD/target/classes:$(cat "$BUILD/cp.txt")"
mkdir -p "$BUILD/bench-classes"
javac -d "$BUILD/bench-classes" -cp "$CP" "$HERE"/src/bench/java/dev/wasmplug/bench/*.java >&2
exec java "$JAVA_LIB_OPT" -cp "$BUILD/bench-classes:$CP" dev.wasmplug.bench.Bench "$@"
