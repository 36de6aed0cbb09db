#!/bin/sh
# Builds the Java binding against $WASMPLUG_PREFIX and runs its JUnit tests
# (mvn test), then the example program (example/Host.java) on the callback
# plugin. Env: WASMPLUG_PREFIX, WP_PLUGINS, WP_FIXTURES (see bindings/CMakeLists.txt).
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
: "${WP_PLUGINS:?bindings/java: set WP_PLUGINS (build/plugins)}"
: "${WP_FIXTURES:?bindings/java: set WP_FIXTURES (tests/fixtures)}"
export WP_PLUGINS WP_FIXTURES

# The tests (JUnit 5 through surefire); a failure fails this script.
$MVN package
reports="$BUILD/target/surefire-reports"
total=0; failed=0
for f in "$reports"/TEST-*.xml; do
  t=$(sed -n 's/.*<testsuite [^>]*tests="\([0-9]*\)".*/\1/p' "$f" | head -1)
  s=$(sed -n 's/.*<testsuite [^>]*skipped="\([0-9]*\)".*/\1/p' "$f" | head -1)
  total=$((total + t)); [ "${s:-0}" = 0 ] || failed=$((failed + s))
done
[ "$total" -gt 0 ] || die "no tests ran"
[ "$failed" = 0 ] || die "$failed tests were skipped"
echo "bindings/java: $total tests passed on $(java -version 2>&1 | head -1)"

count_tests() { cat "$reports"/TEST-*.xml | sed -n 's/.*<testsuite [^>]*tests="\([0-9]*\)".*/\1/p' | awk '{s+=$1} END {print s}'; }

# Again with the foreign function API, which the hot calls take instead of JNA
# when the JVM has it: Java 17's incubating one (a module to add) ...
if [ "$(java_major java)" = 17 ]; then
  rm -rf "$reports"
  $MVN surefire:test "-Dwasmplug.jvmArgs=--add-modules jdk.incubator.foreign"
  [ "$(count_tests)" = "$total" ] || die "not all tests ran with jdk.incubator.foreign"
  echo "bindings/java: $total tests passed again with jdk.incubator.foreign for the hot calls"
fi
# ... and the final one of a JDK 22+.
if [ -n "$FFM_JAVA" ]; then
  rm -rf "$reports"
  $MVN surefire:test -Djvm="$FFM_JAVA"
  [ "$(count_tests)" = "$total" ] || die "not all tests ran on $FFM_JAVA"
  echo "bindings/java: $total tests passed again on $FFM_JAVA (java.lang.foreign for the hot calls)"
else
  echo "bindings/java: no JDK 22+ found (set WASMPLUG_FFM_JAVA): the java.lang.foreign path was not tested"
fi

# The example, as examples/host/host.c is run.
$MVN dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" -Dmdep.includeScope=runtime
CP="$BUILD/target/classes:$(cat "$BUILD/cp.txt")"
out=$(java $JAVA_OPTS -cp "$CP" "$HERE/example/Host.java" "$WP_PLUGINS/callback-c.wasm" callback Java 2>"$BUILD/example.err") \
  || { cat "$BUILD/example.err" >&2; die "example/Host.java failed"; }
[ "$out" = "Hello Java" ] || die "example/Host.java printed '$out', not 'Hello Java'"
out=$(java $JAVA_OPTS -cp "$CP" "$HERE/example/Host.java" "$WP_PLUGINS/hello-c.wasm" greet world 2>"$BUILD/example.err")
[ "$out" = "Hello, world!" ] || die "example/Host.java on hello-c printed '$out'"
grep -q "\[info\] hello-c.wasm: greeting world" "$BUILD/example.err" || { cat "$BUILD/example.err" >&2; die "the example did not print the plugin's log"; }
if java $JAVA_OPTS -cp "$CP" "$HERE/example/Host.java" "$WP_PLUGINS/hello-c.wasm" nope 2>"$BUILD/example.err" >/dev/null; then
  die "example/Host.java succeeded on a missing export"
fi
grep -q "error (not found)" "$BUILD/example.err" || { cat "$BUILD/example.err" >&2; die "the example's error report is wrong"; }
echo "bindings/java: example ok"
