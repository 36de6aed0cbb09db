#!/usr/bin/env bash
# Every public header compiles on its own, so that a user may include any one
# of them alone: include/wasmplug.h and each include/wasmplug/*.h, included
# twice (the include guard), as C11 or as C++11, with -Wall -Wextra -Werror
# -pedantic. Then all of them together in reverse order, with warnings for a
# function or typedef declared in two headers (C11 and C++ both allow it, so
# only the warnings catch it), and checks that <wasmplug.h> includes every
# header and that each exports what it declares (its visibility push and pop).
#   test_headers.sh SOURCE_DIR c COMPILER     as C11
#   test_headers.sh SOURCE_DIR c++ COMPILER   as C++11 (COMPILER empty: skip)
set -euo pipefail
src=$(cd "$1" && pwd) lang=$2 compiler=${3:-}
if [ -z "$compiler" ]; then
  echo "SKIP: no C++ compiler found (install g++ to check the headers as C++)"
  exit 77
fi
inc=$src/include
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

flags=(-Wall -Wextra -Werror -pedantic -Wredundant-decls -fsyntax-only -I "$inc")
if [ "$lang" = c ]; then
  flags+=(-std=c11 -x c)
  # GCC's name for "a typedef repeated" (legal in C11, so otherwise silent).
  if echo 'int x;' | "$compiler" -Werror -Wc99-c11-compat -fsyntax-only -x c - 2>/dev/null; then
    flags+=(-Wc99-c11-compat)
  fi
else
  flags+=(-std=c++11 -x c++)
fi

headers=(wasmplug.h)
for h in "$inc"/wasmplug/*.h; do headers+=("wasmplug/${h##*/}"); done
[ ${#headers[@]} -gt 1 ] || fail "no headers in $inc/wasmplug/"

for h in "${headers[@]}"; do
  printf '#include <%s>\n#include <%s>\n' "$h" "$h" > "$tmp/tu"
  "$compiler" "${flags[@]}" "$tmp/tu" || fail "<$h> does not compile on its own as $lang"
done

# All together, the focused headers in reverse order (so that each one's own
# includes come first), then the umbrella.
: > "$tmp/all"
for ((i = ${#headers[@]} - 1; i >= 0; i--)); do echo "#include <${headers[i]}>" >> "$tmp/all"; done
"$compiler" "${flags[@]}" "$tmp/all" || fail "the headers together do not compile as $lang"

if [ "$lang" = c ]; then
  for h in "${headers[@]:1}"; do
    # The server is a library of its own (libwasmplug_server), not part of libwasmplug.
    [ "$h" = wasmplug/server.h ] && continue
    grep -qx "#include \"$h\"" "$inc/wasmplug.h" || fail "<wasmplug.h> does not include <$h>"
    for line in '#pragma GCC visibility push(default)' '#pragma GCC visibility pop' \
                'extern "C" {'; do
      grep -qxF "$line" "$inc/$h" || fail "<$h> lacks '$line'"
    done
  done
fi

[ $failed = 0 ] || exit 1
echo "headers ($lang): ${#headers[@]} ok"
