#!/bin/sh
# The Java rows of `make bench-bindings` (protocol: bench/bindings/run.py).
#   bench.sh --batch N --reps R
# The rows come from the default `java` (or $WASMPLUG_BENCH_JAVA). On Java 17
# the hot calls take the incubating foreign function API (the bench adds the
# module jdk.incubator.foreign, as README.md advises); the figures of plain JNA
# direct mapping follow on stderr, and those of a JDK 22+ (java.lang.foreign)
# when there is one.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
: "${WP_FIXTURES:?bindings/java: set WP_FIXTURES (tests/fixtures)}"
export WP_FIXTURES
$MVN compile dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" -Dmdep.includeScope=runtime >&2
CP="$BUILD/target/classes:$(cat "$BUILD/cp.txt")"
mkdir -p "$BUILD/bench-classes"
javac --release 17 -d "$BUILD/bench-classes" -cp "$CP" "$HERE"/src/bench/java/dev/wasmplug/bench/*.java >&2
JAVA=${WASMPLUG_BENCH_JAVA:-java}
incubator=""
[ "$(java_major "$JAVA")" = 17 ] && incubator="--add-modules jdk.incubator.foreign"
"$JAVA" $JAVA_OPTS $incubator -cp "$BUILD/bench-classes:$CP" dev.wasmplug.bench.Bench "$@"
if [ -n "$incubator" ]; then
  echo "bindings/java: the same through JNA direct mapping only:" >&2
  "$JAVA" $JAVA_OPTS -cp "$BUILD/bench-classes:$CP" dev.wasmplug.bench.Bench "$@" | sed 's/^/  /' >&2
fi
if [ -n "$FFM_JAVA" ] && [ "$FFM_JAVA" != "$JAVA" ] && [ "$(java_major "$JAVA")" -lt 22 ]; then
  echo "bindings/java: the same on $FFM_JAVA (java.lang.foreign):" >&2
  "$FFM_JAVA" $JAVA_OPTS -cp "$BUILD/bench-classes:$CP" dev.wasmplug.bench.Bench "$@" | sed 's/^/  /' >&2
fi
