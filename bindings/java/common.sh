# Shared by test.sh and bench.sh: checks the toolchain and the environment,
# builds the binding with Maven (outside the source tree) and sets
#   BUILD   the build directory (~/.cache/wasmplug/java/<hash of this checkout>)
#   CP      the class path: the binding's classes and JNA
#   JAVA_LIB_OPT  -Djna.library.path=$WASMPLUG_PREFIX/lib
# Dependencies come from Maven Central into ~/.m2 on the first run.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "bindings/java: $*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17 or later (Debian: apt-get install openjdk-17-jdk-headless)"
command -v javac >/dev/null 2>&1 || die "javac not found: install a JDK 17 or later, not only a JRE"
command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven 3.8+ (Debian: apt-get install maven)"
jv=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
[ "${jv%%.*}" -ge 17 ] 2>/dev/null || die "java $jv is too old: the binding needs Java 17 or later"

: "${WASMPLUG_PREFIX:?bindings/java: set WASMPLUG_PREFIX to an installed wasmplug (make install PREFIX=...)}"
[ -e "$WASMPLUG_PREFIX/lib/libwasmplug.so" ] || die "no $WASMPLUG_PREFIX/lib/libwasmplug.so: WASMPLUG_PREFIX must be an installed tree"
export WASMPLUG_PREFIX
JAVA_LIB_OPT="-Djna.library.path=$WASMPLUG_PREFIX/lib"

key=$(printf '%s' "$HERE" | sha1sum | cut -c1-12)
BUILD="${XDG_CACHE_HOME:-$HOME/.cache}/wasmplug/java/$key"
mkdir -p "$BUILD"
MVN="mvn -B -q -Dstyle.color=never -f $HERE/pom.xml -Dwasmplug.buildDir=$BUILD/target"

# A JDK with java.lang.foreign (22+), on which the hot calls skip JNA: $WASMPLUG_FFM_JAVA, else
# the newest under /usr/lib/jvm; empty when there is none.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }
FFM_JAVA=""
for j in ${WASMPLUG_FFM_JAVA:-} /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v=$(java_major "$j"); [ -n "$v" ] && [ "$v" -ge 22 ] || continue
  if [ -z "$FFM_JAVA" ] || [ "$v" -gt "$(java_major "$FFM_JAVA")" ]; then FFM_JAVA=$j; fi
  [ -n "${WASMPLUG_FFM_JAVA:-}" ] && break
done
JAVA_OPTS="$JAVA_LIB_OPT --enable-native-access=ALL-UNNAMED"
