#!/usr/bin/env bash
# The C sources follow .clang-format (HACKING.md): fails listing the files
# that clang-format-19 would change. Skips (77) when clang-format-19 is not
# installed (deps/setup.sh installs it).
set -uo pipefail
root=${1:?usage: check_format.sh SOURCE_DIR}
cd "$root" || exit 2
command -v clang-format-19 >/dev/null || { echo "skipped: clang-format-19 is not installed"; exit 77; }
files=$(git ls-files 'src/*.[ch]' 'cli/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' 'fuzz/*.[ch]' 'include/*.h' 2>/dev/null |
        grep -v -F -f .clang-format-ignore)
[ -n "$files" ] || { echo "skipped: not a git checkout"; exit 77; }
bad=$(for f in $files; do clang-format-19 --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "not formatted (run: clang-format-19 -i FILE):"
  echo "$bad"
  exit 1
fi
echo "format: ok ($(echo "$files" | wc -l) files)"
